// expect-error: llmetrics: native_\* options belong to histograms
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::gauge<"g", "h", lm::labels<>, lm::native_max_buckets<10>>;
int main() { lm::registry<f> r; (void)r; }

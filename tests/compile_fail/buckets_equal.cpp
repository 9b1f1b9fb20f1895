// expect-error: llmetrics: bucket bounds must be strictly increasing
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::histogram<"h_seconds", "h", lm::labels<>, lm::buckets<1, "1.0", 2>>;
int main() { lm::registry<f> r; (void)r; }

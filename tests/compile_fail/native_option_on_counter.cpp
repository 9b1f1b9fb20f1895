// expect-error: llmetrics: native_\* options belong to histograms
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::counter<"c_total", "h", lm::labels<>, lm::native_schema<3>>;
int main() { lm::registry<f> r; (void)r; }

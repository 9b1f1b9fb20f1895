// expect: compiles
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::native_histogram<"h_seconds", "h", lm::labels<>, lm::native_zero_threshold<"0.001">>;
int main() { lm::registry<f> r; (void)r; }

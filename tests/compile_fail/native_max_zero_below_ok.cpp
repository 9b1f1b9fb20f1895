// expect: compiles
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::histogram<"h_seconds", "h", lm::labels<>, lm::buckets<1, 2>, lm::native_zero_threshold<"0.01">, lm::native_max_zero_threshold<"0.1">>;
int main() { lm::registry<f> r; (void)r; }

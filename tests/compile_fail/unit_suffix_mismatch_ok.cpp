// expect: compiles
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::gauge<"temperature_celsius", "h", lm::labels<>, lm::unit<"celsius">>;
int main() { lm::registry<f> r; (void)r; }

// expect: compiles
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::counter<"c_total", "h", lm::labels<>, lm::max_series<5>>;
int main() { lm::registry<f> r; (void)r; }

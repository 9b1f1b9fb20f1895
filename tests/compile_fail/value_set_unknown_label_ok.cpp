// expect: compiles
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::counter<"c_total", "h", lm::labels<"state">, lm::value_set<"state", "a", "b">>;
int main() { lm::registry<f> r; (void)r; }

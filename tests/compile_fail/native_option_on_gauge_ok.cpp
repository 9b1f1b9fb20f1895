// expect: compiles
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::gauge<"g", "h", lm::labels<>>;
int main() { lm::registry<f> r; (void)r; }

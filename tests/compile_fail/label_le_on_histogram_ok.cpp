// expect: compiles
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::histogram<"h_seconds", "h", lm::labels<"level">, lm::buckets<1, 2>>;
int main() { lm::registry<f> r; (void)r; }

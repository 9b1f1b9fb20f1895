// expect-error: llmetrics: .{0,2}le.{0,2} is reserved for histogram buckets
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::histogram<"h_seconds", "h", lm::labels<"le">, lm::buckets<1, 2>>;
int main() { lm::registry<f> r; (void)r; }

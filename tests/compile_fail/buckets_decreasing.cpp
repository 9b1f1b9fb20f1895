// expect-error: llmetrics: bucket bounds must be strictly increasing
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::histogram<"h_seconds", "h", lm::labels<>, lm::buckets<0.5, 0.1, 1>>;
int main() { lm::registry<f> r; (void)r; }

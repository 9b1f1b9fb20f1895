// expect-error: llmetrics: label names starting with '__' are reserved
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::gauge<"g", "h", lm::labels<"__name">>;
int main() { lm::registry<f> r; (void)r; }

// expect-error: llmetrics: too few label values
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::counter<"c_total", "h", lm::labels<"a", "b">>;
int main() { lm::registry<f> r; r.get<f>().labels("x").inc(); }

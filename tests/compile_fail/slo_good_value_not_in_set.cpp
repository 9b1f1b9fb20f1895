// expect-error: llmetrics: the good value is not in the label's value_set
#include <llmetrics/operate/slo.hpp>
namespace lm = llmetrics;
using c = lm::counter<"calls_total", "h", lm::labels<"status">, lm::value_set<"status", "success", "error">>;
using ok = lm::availability<c, "status", "ok">;
int main() { return ok::good_value.empty() ? 1 : 0; }

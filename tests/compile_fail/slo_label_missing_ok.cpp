// expect: compiles
#include <llmetrics/operate/slo.hpp>
namespace lm = llmetrics;
using c = lm::counter<"calls_total", "h", lm::labels<"status", "tenant_id">>;
using ok = lm::availability<c, "status", "success">;
int main() { return ok::good_value.empty() ? 1 : 0; }

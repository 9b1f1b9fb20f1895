// expect: compiles
#include <llmetrics/operate/slo.hpp>
namespace lm = llmetrics;
using h = lm::histogram<"d_seconds", "h", lm::labels<"tenant_id">, lm::buckets<0.1, 0.5, 1>, lm::native_schema<3>>;
using fast = lm::latency<h, 0.5, lm::by<"tenant_id">>;
int main() { return fast::threshold > 0 ? 0 : 1; }

// expect-error: llmetrics: a latency SLO reads the share under its threshold from a classic bucket
#include <llmetrics/operate/slo.hpp>
namespace lm = llmetrics;
using h = lm::native_histogram<"d_seconds", "h", lm::labels<"tenant_id">>;
using fast = lm::latency<h, 0.5, lm::by<"tenant_id">>;
int main() { return fast::threshold > 0 ? 0 : 1; }

// expect-error: llmetrics: a latency SLO's threshold must be one of the histogram's bucket bounds
#include <llmetrics/operate/slo.hpp>
namespace lm = llmetrics;
using h = lm::histogram<"d_seconds", "h", lm::labels<"tenant_id">, lm::buckets<0.1, 0.5, 1, 2.5>>;
using fast = lm::latency<h, 0.3, lm::by<"tenant_id">>;
int main() { return fast::threshold > 0 ? 0 : 1; }

// expect-error: llmetrics: by<...> names a label that is not a label of the family
#include <llmetrics/operate/slo.hpp>
namespace lm = llmetrics;
using h = lm::histogram<"d_seconds", "h", lm::labels<"model_id">, lm::buckets<0.1, 0.5, 1>>;
using fast = lm::latency<h, 1, lm::by<"tenant_id">>;
int main() { return fast::threshold > 0 ? 0 : 1; }

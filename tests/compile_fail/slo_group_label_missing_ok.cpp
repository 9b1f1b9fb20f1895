// expect: compiles
#include <llmetrics/operate/slo.hpp>
namespace lm = llmetrics;
using h = lm::histogram<"d_seconds", "h", lm::labels<"model_id">, lm::buckets<0.1, 0.5, 1>>;
using fast = lm::latency<h, 1, lm::by<"model_id">>;
int main() { return fast::threshold > 0 ? 0 : 1; }

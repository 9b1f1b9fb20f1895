// expect-error: llmetrics: series_ttl<S> needs S >= 1 \(seconds\)
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::histogram<"tenant_latency_seconds", "h", lm::labels<"tenant">, lm::buckets<1, 2>, lm::series_ttl<-30>>;
int main() { lm::registry<f> r; (void)r; }

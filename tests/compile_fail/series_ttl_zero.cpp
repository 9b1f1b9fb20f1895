// expect-error: llmetrics: series_ttl<S> needs S >= 1 \(seconds\)
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::counter<"tenant_requests_total", "h", lm::labels<"tenant">, lm::series_ttl<0>>;
int main() { lm::registry<f> r; (void)r; }

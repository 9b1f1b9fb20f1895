// expect: compiles
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::counter<"tenant_requests_total", "h", lm::labels<"tenant">, lm::series_ttl<1>>;
int main() { lm::registry<f> r; (void)r; }

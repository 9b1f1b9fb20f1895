// (a) The core umbrella: one counter and one histogram, rendered.
#include <llmetrics/llmetrics.hpp>

#include <cstdio>

namespace lm = llmetrics;

struct requests_total : lm::counter<"app_requests_total", "Requests", lm::labels<"method">> {};
struct latency_seconds : lm::histogram<"app_latency_seconds", "Latency", lm::labels<>, lm::buckets<0.1, 1, 10>> {};

int main() {
    lm::registry<requests_total, latency_seconds> metrics;
    metrics.get<requests_total>().labels("GET").inc();
    metrics.get<latency_seconds>().labels().observe(0.5);
    std::fputs(lm::render(metrics, lm::format::prometheus).c_str(), stdout);
}

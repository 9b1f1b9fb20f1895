// Built against single_include/ only: proves the amalgamated header stands alone.
#include <llmetrics.hpp>

#include <cstdio>
#include <string>
#include <string_view>

namespace lm = llmetrics;

using requests_total = lm::counter<"app_requests_total", "Requests", lm::labels<"method">>;
using latency_seconds = lm::histogram<"app_latency_seconds", "Latency", lm::labels<>,
                                      lm::buckets<0.1, 1, 10>>;

int main() {
    lm::registry<requests_total, latency_seconds> metrics;
    metrics.get<requests_total>().labels("GET").inc(3);
    metrics.get<latency_seconds>().labels().observe(0.5);

    const std::string text = lm::render(metrics, lm::format::prometheus);
    const std::string om = lm::render(metrics, lm::format::openmetrics);
    const bool ok = text.find("app_requests_total{method=\"GET\"} 3\n") != std::string::npos &&
                    text.find("app_latency_seconds_count 1\n") != std::string::npos &&
                    om.ends_with("# EOF\n") && lm::version_string == LLMETRICS_VERSION;
    std::fputs(text.c_str(), stdout);
    if (!ok) {
        std::puts("single header: unexpected exposition");
        return 1;
    }
    std::puts("single header OK");
    return 0;
}

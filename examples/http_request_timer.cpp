// Timing HTTP requests in any server framework. Start an http_request_timer
// when a request arrives and finish() it when the response is sent: it records
// http_requests_total and http_request_duration_seconds of the catalog. Pass the
// route pattern, not the raw path, to keep cardinality bounded; an empty tenant
// is recorded as "unknown". A timer records once, and never if not finished.
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include <llmetrics/instrument.hpp>

namespace lm = llmetrics;
using namespace std::chrono_literals;

struct manual_clock {
    std::chrono::milliseconds t{0};
    std::chrono::milliseconds now() const { return t; }
};

int main() {
    manual_clock clock;  // the real server leaves this out: steady_clock is the default
    lm::catalog_registry metrics;

    lm::http_request_timer ok{metrics, lm::time_source::of(clock)};
    clock.t += 40ms;
    ok.finish("GET", "/users/:id", 200, "tenant-a");
    const bool again = ok.finish("GET", "/users/:id", 200, "tenant-a");  // false: recorded already

    lm::http_request_timer failed{metrics, lm::time_source::of(clock)};
    clock.t += 2500ms;
    failed.finish("POST", "/v1/chat/completions", 504);  // no tenant: "unknown"

    { lm::http_request_timer abandoned{metrics}; }  // never finished: records nothing

    std::printf("second finish recorded: %s\n", again ? "yes" : "no");
    const std::string body = lm::render(metrics, lm::format::prometheus);
    for (std::size_t pos = 0, end; pos < body.size(); pos = end + 1) {
        end = body.find('\n', pos);
        const std::string_view line(body.data() + pos, end - pos);
        if (line.starts_with("llm_router_http_requests_total") ||
            line.starts_with("llm_router_http_request_duration_seconds_sum") ||
            line.starts_with("llm_router_http_request_duration_seconds_count"))
            std::printf("%.*s\n", static_cast<int>(line.size()), line.data());
    }
}

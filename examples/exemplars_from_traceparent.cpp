// Exemplars link a sample to the trace that produced it. A request carrying a
// W3C `traceparent` header is parsed with parse_traceparent(); while a
// scoped_trace_context is alive on the thread, the instrumentation
// (http_request_timer, monitored_router) attaches {trace_id="..."} to what it
// records. OpenMetrics shows exemplars; Prometheus text 0.0.4 has none.
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include <llmetrics/instrument.hpp>

namespace lm = llmetrics;

struct manual_clock {
    std::chrono::milliseconds t{0};
    std::chrono::milliseconds now() const { return t; }
};

void handle(lm::catalog_registry& metrics, manual_clock& clock, std::string_view traceparent) {
    const std::optional<lm::trace_context> parent = lm::parse_traceparent(traceparent);
    std::printf("traceparent %-12.12s... %s\n", traceparent.data(),
                parent ? ("trace " + parent->trace_id_hex()).c_str() : "invalid: a new trace, no exemplar");
    std::optional<lm::scoped_trace_context> scope;
    if (parent) scope.emplace(parent->child());  // this request: a span of the caller's trace
    lm::http_request_timer timer{metrics, lm::time_source::of(clock)};
    clock.t += std::chrono::milliseconds(250);
    timer.finish("POST", "/v1/chat/completions", 200, "tenant-a");
}

int main() {
    lm::catalog_registry metrics;
    manual_clock clock;
    handle(metrics, clock, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    handle(metrics, clock, "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01");  // upper case: refused

    // The samples that carry an exemplar; its last field (the time it was
    // recorded, unix seconds) is cut so that the output is the same every run.
    const std::string body = lm::render(metrics, lm::format::openmetrics);
    for (std::size_t pos = 0, end; pos < body.size(); pos = end + 1) {
        end = body.find('\n', pos);
        const std::string_view line(body.data() + pos, end - pos);
        if (line.find(" # {") == std::string_view::npos) continue;
        const std::string_view shown = line.substr(0, line.rfind(' '));
        std::printf("%.*s\n", static_cast<int>(shown.size()), shown.data());
    }
}

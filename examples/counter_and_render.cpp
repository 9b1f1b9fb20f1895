// Count requests and render them. A metric family is a type: its name, help
// text and label names are checked when compiling. A registry holds a fixed set
// of families; render() writes them in the Prometheus text format.
#include <cstdio>
#include <string>

#include <llmetrics/llmetrics.hpp>

namespace lm = llmetrics;

// snippet-begin
struct http_requests_total : lm::counter<"http_requests_total", "Total number of HTTP requests",
                                         lm::labels<"method", "route", "status_code">> {};
struct restarts_total : lm::counter<"restarts_total", "Restarts of the service"> {};  // no labels
struct queue_depth : lm::gauge<"queue_depth", "Requests waiting for a worker", lm::labels<"queue_type">> {};

int main() {
    lm::registry<http_requests_total, restarts_total, queue_depth> metrics;  // a family twice: compile error

    auto& ok = metrics.get<http_requests_total>().labels("GET", "/chat", "200");  // a handle: keep it
    ok.inc();   // hot path: no lookup, no lock, no allocation
    ok.inc(2);  // integer or floating amounts: inc(), inc(3), inc(2.5)
    metrics.get<http_requests_total>().labels("POST", "/chat", "500").inc();
    metrics.get<restarts_total>().labels().inc();
    metrics.get<queue_depth>().labels("inference").set(4);

    const std::string body = lm::render(metrics, lm::format::prometheus);  // or ::openmetrics, ::json
    std::fputs(body.c_str(), stdout);
}
// snippet-end

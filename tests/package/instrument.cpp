// Consumer of llmetrics::instrument.
#include <llmetrics/instrument.hpp>

#include <cstdio>
#include <string>

#include "common.hpp"

namespace lm = llmetrics;

struct calls_total : lm::counter<"consumer_calls_total", "Calls", lm::labels<"sampled">> {};

int main() {
    const auto parent = lm::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    if (!parent) {
        std::puts("instrument: a valid traceparent did not parse");
        return 1;
    }
    lm::registry<calls_total> metrics;
    metrics.get<calls_total>().labels("yes").inc();
    if (!expect_in(lm::render(metrics, lm::format::prometheus), "consumer_calls_total{sampled=\"yes\"} 1\n",
                   "instrument"))
        return 1;
    std::puts("llmetrics::instrument package OK");
    return 0;
}

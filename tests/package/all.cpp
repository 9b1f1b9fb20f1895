// Consumer of llmetrics::llmetrics: every layer through <llmetrics/all.hpp>.
#include <llmetrics/all.hpp>

#include <cstdio>

#include "common.hpp"

namespace lm = llmetrics;

struct requests_total : lm::counter<"consumer_all_requests_total", "Requests", lm::labels<"route">> {};

int main() {
    lm::registry<requests_total> metrics;
    metrics.get<requests_total>().labels("/").inc();
    lm::exposer exposer{metrics, {.port = 0}};
    const bool listening = exposer.port() != 0;
    exposer.stop();
    if (!listening || !expect_in(lm::render(metrics, lm::format::prometheus),
                                 "consumer_all_requests_total{route=\"/\"} 1\n", "all"))
        return 1;
    std::puts("llmetrics::llmetrics package OK");
    return 0;
}

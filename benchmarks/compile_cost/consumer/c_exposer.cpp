// (c) An exposer serving a registry on 127.0.0.1:0.
#include <llmetrics/llmetrics.hpp>
#include <llmetrics/serve.hpp>

#include <cstdio>

namespace lm = llmetrics;

struct requests_total : lm::counter<"app_requests_total", "Requests", lm::labels<"method">> {};

int main() {
    lm::registry<requests_total> metrics;
    metrics.get<requests_total>().labels("GET").inc();
    lm::exposer exposer{metrics, {.address = "127.0.0.1", .port = 0}};
    std::printf("listening on port %u\n", static_cast<unsigned>(exposer.port()));
    exposer.stop();
}

// Consumer of llmetrics::serve from an installed llmetrics: the compiled library
// links, and the headers need neither Beast nor nlohmann_json (the package test
// also configures this program alone with nlohmann_json made unfindable).
#include <llmetrics/serve.hpp>

#include <cstdio>

#include <zlib.h>

namespace lm = llmetrics;

struct scrapes_seen_total : lm::counter<"consumer_scrapes_seen_total", "Scrapes", lm::labels<>> {};

int main() {
#if defined(BOOST_BEAST_VERSION) && !defined(LLMETRICS_SERVE_HEADER_ONLY)
    std::puts("serve: <llmetrics/serve.hpp> included Boost.Beast; it must only declare the exposer");
    return 1;
#endif
    lm::registry<scrapes_seen_total> metrics;
    lm::exposer exposer{metrics, {.address = "127.0.0.1", .port = 0}};
    exposer.add_readiness_check("always", [] { return true; });
    const lm::readiness_report report = exposer.readiness_checks().run();
    const bool ok = exposer.port() != 0 && report.ok && report.to_json().find(R"("name":"always")") != std::string::npos;
    exposer.stop();
    if (!ok) {
        std::puts("serve: the exposer did not listen or its readiness check did not pass");
        return 1;
    }
    #ifdef LLMETRICS_SERVE_HEADER_ONLY
    std::printf("llmetrics serve header-only OK (zlib %s)\n", zlibVersion());
#else
    std::printf("llmetrics::serve package OK (zlib %s)\n", zlibVersion());
#endif
    return 0;
}

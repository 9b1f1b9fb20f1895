// Consumer of llmetrics::core (Boost.Hana headers and Threads only).
#include <llmetrics/llmetrics.hpp>

#include <cstdio>
#include <string>
#include <string_view>

namespace lm = llmetrics;

using jobs_total = lm::counter<"consumer_jobs_total", "Jobs run", lm::labels<"queue">>;

int main() {
    lm::registry<jobs_total> metrics;
    metrics.get<jobs_total>().labels("default").inc();
    const std::string body = lm::render(metrics, lm::format::prometheus);
    if (body.find("consumer_jobs_total{queue=\"default\"} 1\n") == std::string::npos) {
        std::fputs(body.c_str(), stdout);
        std::puts("package: unexpected exposition");
        return 1;
    }
#ifdef LLMETRICS_PACKAGE_VERSION  // from find_package; add_subdirectory has no package version
    // The CMake package and the headers must agree on the version.
    if (lm::version_string != std::string_view{LLMETRICS_PACKAGE_VERSION}) {
        std::printf("package: headers say %s, CMake package says %s\n",
                    std::string(lm::version_string).c_str(), LLMETRICS_PACKAGE_VERSION);
        return 1;
    }
#endif
    std::printf("llmetrics::core %s package OK\n", std::string(lm::version_string).c_str());
    return 0;
}

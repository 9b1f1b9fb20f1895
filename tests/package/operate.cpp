// Consumer of llmetrics::operate: instrument plus nlohmann_json.
#include <llmetrics/operate.hpp>

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "common.hpp"

namespace lm = llmetrics;

struct jobs_total : lm::counter<"consumer_operate_jobs_total", "Jobs", lm::labels<>> {};

int main() {
    lm::registry<jobs_total> metrics;
    metrics.get<jobs_total>().labels().inc(2);
    if (!expect_in(lm::render(metrics, lm::format::prometheus), "consumer_operate_jobs_total 2\n", "operate"))
        return 1;
    if (nlohmann::json::parse(R"({"groups":[]})")["groups"].size() != 0) return 1;
    std::puts("llmetrics::operate package OK");
    return 0;
}

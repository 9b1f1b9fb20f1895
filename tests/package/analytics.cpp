// Consumer of llmetrics::analytics: its target brings nlohmann_json too.
#include <llmetrics/analytics.hpp>

#include <cstdio>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

namespace lm = llmetrics;

static_assert(std::is_base_of_v<lm::collector, lm::analytics_collector>,
              "llmetrics: the analytics collector is a collector a registry can hold");

int main() {
    const std::string dumped = nlohmann::json{{"events", 1}}.dump();
    if (dumped != R"({"events":1})") {
        std::printf("analytics: nlohmann_json dumped %s\n", dumped.c_str());
        return 1;
    }
    std::puts("llmetrics::analytics package OK");
    return 0;
}

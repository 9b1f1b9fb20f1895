// (b) The yardstick for (a): nlohmann/json only, a small object dumped.
#include <nlohmann/json.hpp>

#include <cstdio>

int main() {
    const nlohmann::json j{{"name", "app_requests_total"}, {"value", 1}, {"labels", {{"method", "GET"}}}};
    std::puts(j.dump().c_str());
}

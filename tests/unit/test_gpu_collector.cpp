#include <llmetrics/collectors/gpu_collector.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace lm = llmetrics;

TEST_CASE("gpu collector without NVML contributes nothing", "[gpu_collector]") {
    lm::gpu_collector c("llm_router_", "/nonexistent/libnvidia-ml-llmetrics-test.so.1");
    CHECK_FALSE(c.available());
    CHECK_FALSE(c.error().empty());
    CHECK(c.device_count() == 0);
    std::vector<lm::family_snapshot> out;
    c.collect(out);
    CHECK(out.empty());
}

TEST_CASE("gpu collector rejects a library that is not NVML", "[gpu_collector]") {
    // libm loads fine but has none of NVML's symbols.
    lm::gpu_collector c("", "libm.so.6");
    CHECK_FALSE(c.available());
    CHECK(c.error().find("nvmlInit_v2") != std::string::npos);
    std::vector<lm::family_snapshot> out;
    c.collect(out);
    CHECK(out.empty());
}

TEST_CASE("gpu collector with the system NVML, when there is one", "[gpu_collector]") {
    lm::gpu_collector c;
    std::vector<lm::family_snapshot> out;
    c.collect(out);
    if (!c.available()) {
        CHECK(out.empty());
        return;
    }
    // On a machine with an NVIDIA driver: every series carries gpu and uuid labels.
    for (const auto& family : out) {
        CHECK(family.name.rfind("gpu_", 0) == 0);
        CHECK(family.type == lm::metric_type::gauge);
        for (const auto& series : family.series) {
            REQUIRE(series.labels.size() >= 2);
            CHECK(series.labels[0].first == "gpu");
            CHECK(series.labels[1].first == "uuid");
        }
    }
}

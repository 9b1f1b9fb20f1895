#pragma once
// --emit-rules and --emit-dashboard: the demo's SLOs as Prometheus rules and a
// Grafana dashboard.

#include <cstdio>
#include <fstream>
#include <string>

#include <llmetrics/operate.hpp>

#include "demo_registry.hpp"
#include "cli.hpp"

namespace llmetrics_demo {

namespace lm = llmetrics;

inline lm::slo_set<demo_registry> demo_slos() {
    namespace cat = lm::catalog;
    lm::slo_set<demo_registry> slos;
    slos.add(lm::slo<lm::availability<cat::model_inference_total, "status", "success", lm::by<"tenant_id">>>{
            .name = "inference-availability", .objective = 0.999})
        .add(lm::slo<lm::latency<inference_duration_seconds, 10>>{.name = "inference-latency",
                                                                            .objective = 0.99});
    return slos;
}

// Writes the files --emit-rules and --emit-dashboard ask for; false on an I/O error.
inline bool emit_operate_files(const demo_options& options) {
    const auto write = [](const std::string& path, const std::string& text) {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << text;
        out.close();
        if (!out) std::fprintf(stderr, "llmetrics-demo: cannot write %s\n", path.c_str());
        return static_cast<bool>(out);
    };
    bool ok = true;
    if (!options.emit_rules.empty()) {
        lm::rules_options rules{.dashboard_url = "http://localhost:3000/d/llm-router", .job = "llm-router"};
        if (options.rules_scale != 1) rules = lm::scaled(rules, options.rules_scale);
        ok = write(options.emit_rules, lm::prometheus_rules(demo_slos(), rules)) && ok;
    }
    if (!options.emit_dashboard.empty())
        ok = write(options.emit_dashboard, lm::grafana_dashboard(demo_slos()).dump(2) + "\n") && ok;
    return ok;
}

}  // namespace llmetrics_demo

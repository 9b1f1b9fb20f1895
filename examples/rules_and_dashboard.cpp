// Alerting rules and a dashboard generated from the families themselves. An SLO
// names a family type, a label and a value (availability) or a bucket bound
// (latency), so it cannot refer to a series that does not exist: a wrong label
// or a threshold that is not a bucket bound is a compile error. prometheus_rules()
// writes the recording rules and multi-window burn-rate alerts as YAML,
// grafana_dashboard() a Grafana dashboard as JSON.
#include <cstdio>
#include <string>

#include <llmetrics/operate.hpp>

namespace lm = llmetrics;
namespace cat = lm::catalog;

int main() {
    using inference_ok = lm::availability<cat::model_inference_total, "status", "success", lm::by<"tenant_id">>;
    using inference_fast = lm::latency<cat::model_inference_duration_seconds, 10>;  // 10 is a bucket bound

    lm::slo_set<lm::catalog_registry> slos;
    slos.add(lm::slo<inference_ok>{.name = "inference-availability", .objective = 0.999})
        .add(lm::slo<inference_fast>{.name = "inference-latency", .objective = 0.99});

    const std::string rules = lm::prometheus_rules(slos, {.job = "llm-router"});
    const std::size_t second_rule = rules.find("- record:", rules.find("- record:") + 1);
    std::printf("%s...\n", rules.substr(0, rules.rfind('\n', second_rule) + 1).c_str());  // the first rule
    for (std::size_t pos = 0, end; pos < rules.size(); pos = end + 1) {  // then each alert's name
        end = rules.find('\n', pos);
        if (const std::size_t at = rules.find("- alert: ", pos); at < end)
            std::printf("alert %s\n", rules.substr(at + 9, end - at - 9).c_str());
    }

    const nlohmann::json dashboard = lm::grafana_dashboard(slos, {.title = "LLM Router"});
    const std::string title = dashboard["title"];
    std::printf("dashboard \"%s\": %zu panels\n", title.c_str(), dashboard["panels"].size());
    for (const auto& panel : dashboard["panels"])
        std::printf("  %s\n", panel["title"].get<std::string>().c_str());
}

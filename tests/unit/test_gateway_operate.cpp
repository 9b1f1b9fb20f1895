// The operate layer over the gateway families (instrument/gateway_catalog.hpp):
// the alerts (fallback ratio, upstream down, budget spent) and the dashboard's
// Gateway row appear exactly when the registry holds those families.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <llmetrics/operate.hpp>

namespace lm = llmetrics;
using namespace std::chrono_literals;

namespace {

const lm::prometheus_rule* find_alert(const std::vector<lm::prometheus_rule_group>& groups, std::string_view name) {
    for (const auto& g : groups)
        for (const auto& r : g.rules)
            if (r.alert == name) return &r;
    return nullptr;
}

std::vector<std::string> panel_titles(const nlohmann::json& dashboard) {
    std::vector<std::string> out;
    for (const auto& p : dashboard["panels"]) out.push_back(p["title"]);
    return out;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("gateway rules: fallback ratio, upstream down and budget exhaustion", "[gateway][operate]") {
    const auto groups = lm::prometheus_rule_groups(lm::slo_set<lm::llm_router_gateway_registry>{});
    const lm::prometheus_rule* fallback = find_alert(groups, "FallbackRateHigh");
    REQUIRE(fallback);
    CHECK(fallback->expr ==
          "sum by (model_id) (label_replace(rate(llm_router_fallbacks_total[5m]), \"model_id\", \"$1\", "
          "\"from_model\", \"(.*)\"))\n/\nsum by (model_id) (rate(llm_router_model_inference_total[5m]))\n> 0.1");
    CHECK(fallback->for_duration == 10min);
    const lm::prometheus_rule* down = find_alert(groups, "UpstreamDown");
    REQUIRE(down);
    CHECK(down->expr ==
          "max by (model_id, upstream) (llm_router_upstream_health{state=\"cooling_down\"}) == 1");
    CHECK(down->for_duration == 2min);
    const lm::prometheus_rule* budget = find_alert(groups, "TenantBudgetExhausted");
    REQUIRE(budget);
    CHECK(budget->expr == "max by (tenant_id) (llm_router_tenant_budget_remaining_cents) <= 0");

    // scaled() shrinks their durations too.
    lm::rules_options o = lm::scaled(lm::rules_options{}, 1.0 / 60);
    const auto short_groups = lm::prometheus_rule_groups(lm::slo_set<lm::llm_router_gateway_registry>{}, o);
    CHECK(find_alert(short_groups, "UpstreamDown")->for_duration == 2s);
    CHECK(find_alert(short_groups, "FallbackRateHigh")->expr.find("[5s]") != std::string::npos);

    // Not held, not written.
    const auto tutorial = lm::prometheus_rule_groups(lm::slo_set<lm::catalog_registry>{});
    CHECK(!find_alert(tutorial, "FallbackRateHigh"));
    CHECK(!find_alert(tutorial, "UpstreamDown"));
    CHECK(!find_alert(tutorial, "TenantBudgetExhausted"));
    CHECK(find_alert(tutorial, "TargetDown"));
}

TEST_CASE("gateway dashboard: a Gateway row with a panel per family held", "[gateway][operate]") {
    const nlohmann::json d = lm::grafana_dashboard<lm::llm_router_gateway_registry>();
    const auto titles = panel_titles(d);
    for (const char* t : {"Gateway", "Upstream attempts by result", "Retries, fallbacks and retries exhausted",
                          "Upstream health", "Upstream rate limits remaining", "Tokens by type",
                          "Spend and budget per tenant", "Router overhead", "Request size", "Response size",
                          "In flight and queued by model"})
        CHECK(contains(titles, t));

    const auto queries = lm::dashboard_queries<lm::llm_router_gateway_registry>();
    const auto find_query = [&](std::string_view panel, std::size_t n = 0) -> std::string {
        for (const auto& q : queries)
            if (q.panel == panel && n-- == 0) return q.expr;
        return {};
    };
    CHECK(find_query("Upstream attempts by result") ==
          "sum by (model_id, upstream, result) (rate(llm_router_upstream_attempts_total{model_id=~\"$model\"}"
          "[$__rate_interval]))");
    CHECK(find_query("Retries, fallbacks and retries exhausted", 1) ==
          "sum by (from_model, to_model, reason) (rate(llm_router_fallbacks_total[$__rate_interval]))");
    CHECK(find_query("Upstream health") ==
          "sum by (model_id, upstream, state) (llm_router_upstream_health{model_id=~\"$model\"}) == 1");
    CHECK(find_query("Spend and budget per tenant", 1) ==
          "sum by (tenant_id) (llm_router_tenant_budget_remaining_cents{tenant_id=~\"$tenant\"})");
    CHECK(find_query("Router overhead").find("llm_router_router_overhead_seconds_bucket") != std::string::npos);

    // The tutorial's registry: no Gateway row.
    const auto plain = panel_titles(lm::grafana_dashboard<lm::catalog_registry>());
    CHECK(!contains(plain, "Gateway"));
    CHECK(!contains(plain, "Upstream health"));
    // The gateway registry holds the streaming families too: their row (3 panels), then the Gateway row's 11.
    for (const char* t : {"Streaming", "Time to first token", "Time per output token"}) CHECK(contains(titles, t));
    CHECK(plain.size() + 3 + 11 == titles.size());
}

// Operate: SLOs, generated Prometheus rules (exact expressions and thresholds),
// the Grafana dashboard's structure, W3C traceparent vectors and the JSON-lines
// request log (concurrent writers, drops counted, logs agreeing with metrics).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <llmetrics/exposition/render.hpp>
#include <llmetrics/instrument/catalog.hpp>
#include <llmetrics/operate/dashboard.hpp>
#include <llmetrics/instrument/request_log.hpp>
#include <llmetrics/operate/rules.hpp>
#include <llmetrics/operate/slo.hpp>
#include <llmetrics/instrument/trace_context.hpp>

namespace lm = llmetrics;
namespace cat = lm::catalog;
using namespace std::chrono_literals;

namespace {

using inference_ok = lm::availability<cat::model_inference_total, "status", "success", lm::by<"tenant_id">>;
using inference_fast = lm::latency<cat::model_inference_duration_seconds, 10>;
using http_fast = lm::latency<cat::http_request_duration_seconds, 0.5, lm::by<"tenant_id", "route">>;

lm::slo_set<lm::catalog_registry> catalog_slos() {
    lm::slo_set<lm::catalog_registry> slos;
    slos.add(lm::slo<inference_ok>{.name = "inference-availability", .objective = 0.999})
        .add(lm::slo<inference_fast>{.name = "inference-latency", .objective = 0.99, .description = "Users wait."});
    return slos;
}

const lm::prometheus_rule& find_rule(const std::vector<lm::prometheus_rule_group>& groups, std::string_view group,
                                     std::string_view name, std::string_view slo = {}) {
    for (const auto& g : groups) {
        if (g.name != group) continue;
        for (const auto& r : g.rules) {
            if (r.record != name && r.alert != name) continue;
            if (slo.empty()) return r;
            for (const auto& [k, v] : r.labels)
                if (k == "slo" && v == slo) return r;
        }
    }
    throw std::runtime_error("no rule " + std::string(name) + " in " + std::string(group));
}

std::string label(const lm::prometheus_rule& r, std::string_view key, bool annotation = false) {
    for (const auto& [k, v] : annotation ? r.annotations : r.labels)
        if (k == key) return v;
    return "<absent>";
}

}  // namespace

// --- SLOs -------------------------------------------------------------------------

TEST_CASE("slo: indicators are resolved against the registry's full names", "[operate]") {
    STATIC_REQUIRE(inference_ok::kind == lm::slo_kind::availability);
    STATIC_REQUIRE(inference_ok::good_value == "success");
    STATIC_REQUIRE(inference_fast::threshold == 10.0);
    STATIC_REQUIRE(http_fast::threshold == 0.5);

    lm::slo_set<lm::catalog_registry> slos = catalog_slos();
    slos.add(lm::slo<http_fast>{.name = "http-latency", .objective = 0.995});
    REQUIRE(slos.specs().size() == 3);
    const lm::slo_spec& a = slos.specs()[0];
    CHECK(a.metric() == "llm_router_model_inference_total");
    CHECK(a.label() == "status");
    CHECK(a.good_value() == "success");
    CHECK(a.group_by() == std::vector<std::string>{"tenant_id"});
    CHECK(a.budget() == Approx(0.001));
    const lm::slo_spec& l = slos.specs()[1];
    CHECK(l.metric() == "llm_router_model_inference_duration_seconds");
    CHECK(l.threshold_le() == "10.0");  // the exposition's spelling, not "10"
    CHECK(l.group_by().empty());
    CHECK(slos.specs()[2].threshold_le() == "0.5");
    CHECK(slos.specs()[2].group_by() == std::vector<std::string>{"tenant_id", "route"});
}

TEST_CASE("slo: names and objectives are checked when added", "[operate]") {
    lm::slo_set<lm::catalog_registry> slos;
    CHECK_THROWS_AS(slos.add(lm::slo<inference_ok>{.name = "", .objective = 0.99}), std::invalid_argument);
    CHECK_THROWS_AS(slos.add(lm::slo<inference_ok>{.name = "has space", .objective = 0.99}), std::invalid_argument);
    CHECK_THROWS_AS(slos.add(lm::slo<inference_ok>{.name = "a", .objective = 1.0}), std::invalid_argument);
    CHECK_THROWS_AS(slos.add(lm::slo<inference_ok>{.name = "a", .objective = 0.0}), std::invalid_argument);
    slos.add(lm::slo<inference_ok>{.name = "a", .objective = 0.9});
    CHECK_THROWS_AS(slos.add(lm::slo<inference_fast>{.name = "a", .objective = 0.9}), std::invalid_argument);
    CHECK(slos.specs().size() == 1);
}

// --- rules ------------------------------------------------------------------------

TEST_CASE("rules: durations are written in their largest exact unit", "[operate]") {
    CHECK(lm::prometheus_duration(5min) == "5m");
    CHECK(lm::prometheus_duration(30min) == "30m");
    CHECK(lm::prometheus_duration(1h) == "1h");
    CHECK(lm::prometheus_duration(24h) == "1d");
    CHECK(lm::prometheus_duration(72h) == "3d");
    CHECK(lm::prometheus_duration(90s) == "90s");
    CHECK(lm::prometheus_duration(4320s) == "72m");
}

TEST_CASE("rules: recording rules hold each SLO's error ratio over the seven windows", "[operate]") {
    const auto groups = lm::prometheus_rule_groups(catalog_slos());
    REQUIRE(groups.size() == 3);
    CHECK(groups[0].name == "llm_router-slo-recording");
    CHECK(groups[1].name == "llm_router-slo-alerts");
    CHECK(groups[2].name == "llm_router-alerts");

    std::vector<std::string> windows;
    for (const auto& r : groups[0].rules)
        if (label(r, "slo") == "inference-availability") windows.push_back(r.record);
    CHECK(windows ==
          std::vector<std::string>{"slo:llm_router_sli_error:ratio_rate5m", "slo:llm_router_sli_error:ratio_rate30m",
                                   "slo:llm_router_sli_error:ratio_rate1h", "slo:llm_router_sli_error:ratio_rate2h",
                                   "slo:llm_router_sli_error:ratio_rate6h", "slo:llm_router_sli_error:ratio_rate1d",
                                   "slo:llm_router_sli_error:ratio_rate3d"});
    CHECK(groups[0].rules.size() == 14);

    const auto& availability = find_rule(groups, "llm_router-slo-recording", "slo:llm_router_sli_error:ratio_rate5m",
                                         "inference-availability");
    CHECK(availability.expr ==
          "(\n"
          "  sum by (tenant_id) (rate(llm_router_model_inference_total{status!=\"success\"}[5m]))\n"
          "  or\n"
          "  0 * sum by (tenant_id) (rate(llm_router_model_inference_total[5m]))\n"
          ")\n"
          "/\n"
          "sum by (tenant_id) (rate(llm_router_model_inference_total[5m]))");
    const auto& latency =
        find_rule(groups, "llm_router-slo-recording", "slo:llm_router_sli_error:ratio_rate3d", "inference-latency");
    CHECK(latency.expr ==
          "1 - (\n"
          "  sum(rate(llm_router_model_inference_duration_seconds_bucket{le=\"10.0\"}[3d]))\n"
          "  /\n"
          "  sum(rate(llm_router_model_inference_duration_seconds_count[3d]))\n"
          ")");
}

TEST_CASE("rules: multi-window multi-burn-rate alerts as in the SRE workbook", "[operate]") {
    const auto groups = lm::prometheus_rule_groups(catalog_slos(), {.dashboard_url = "https://grafana.example/d/llm"});
    const auto& page = find_rule(groups, "llm_router-slo-alerts", "ErrorBudgetBurnFast", "inference-availability");
    CHECK(page.expr ==
          "(\n"
          "  slo:llm_router_sli_error:ratio_rate1h{slo=\"inference-availability\"} > (14.4 * 0.001)\n"
          "and\n"
          "  slo:llm_router_sli_error:ratio_rate5m{slo=\"inference-availability\"} > (14.4 * 0.001)\n"
          ")\n"
          "or\n"
          "(\n"
          "  slo:llm_router_sli_error:ratio_rate6h{slo=\"inference-availability\"} > (6 * 0.001)\n"
          "and\n"
          "  slo:llm_router_sli_error:ratio_rate30m{slo=\"inference-availability\"} > (6 * 0.001)\n"
          ")");
    CHECK(label(page, "severity") == "page");
    CHECK(page.for_duration == 0s);
    CHECK(label(page, "dashboard", true) == "https://grafana.example/d/llm?var-tenant={{ $labels.tenant_id }}");
    CHECK(label(page, "summary", true) ==
          "SLO inference-availability (tenant_id={{ $labels.tenant_id }}): error budget burning (page)");
    CHECK(label(page, "description", true) ==
          "The error budget of SLO inference-availability (99.9% of llm_router_model_inference_total events have "
          "status=\"success\", per tenant_id; budget 0.1% bad) burned at 14.4x the sustainable rate over both 1h "
          "and 5m, or 6x over both 6h and 30m.");

    const auto& ticket = find_rule(groups, "llm_router-slo-alerts", "ErrorBudgetBurnSlow", "inference-latency");
    CHECK(label(ticket, "severity") == "ticket");
    CHECK(ticket.expr ==
          "(\n"
          "  slo:llm_router_sli_error:ratio_rate1d{slo=\"inference-latency\"} > (3 * 0.01)\n"
          "and\n"
          "  slo:llm_router_sli_error:ratio_rate2h{slo=\"inference-latency\"} > (3 * 0.01)\n"
          ")\n"
          "or\n"
          "(\n"
          "  slo:llm_router_sli_error:ratio_rate3d{slo=\"inference-latency\"} > (1 * 0.01)\n"
          "and\n"
          "  slo:llm_router_sli_error:ratio_rate6h{slo=\"inference-latency\"} > (1 * 0.01)\n"
          ")");
    CHECK(label(ticket, "dashboard", true) == "https://grafana.example/d/llm");
    CHECK(label(ticket, "description", true).ends_with("Users wait."));
}

TEST_CASE("rules: plain alerts for the catalog families", "[operate]") {
    const auto groups = lm::prometheus_rule_groups(catalog_slos(), {.job = "llm-router"});
    const auto& errors = find_rule(groups, "llm_router-alerts", "ModelErrorRateHigh");
    CHECK(errors.expr ==
          "sum by (model_id) (rate(llm_router_model_inference_total{status!=\"success\"}[5m]))\n"
          "/\n"
          "sum by (model_id) (rate(llm_router_model_inference_total[5m]))\n"
          "> 0.05");
    CHECK(errors.for_duration == 5min);
    const auto& p95 = find_rule(groups, "llm_router-alerts", "InferenceLatencyP95High");
    CHECK(p95.expr ==
          "histogram_quantile(0.95, sum by (model_id, le) "
          "(rate(llm_router_model_inference_duration_seconds_bucket[5m])))\n> 10");
    CHECK(find_rule(groups, "llm_router-alerts", "QueueDepthHigh").expr ==
          "sum by (queue_type) (llm_router_queue_depth) > 100");
    const auto& down = find_rule(groups, "llm_router-alerts", "TargetDown");
    CHECK(down.expr == "up{job=\"llm-router\"} == 0");
    CHECK(down.for_duration == 1min);
    CHECK(label(down, "severity") == "page");
}

// The catalog's inference duration with classic buckets and native ones in one family.
struct inference_duration_both : lm::histogram<
    "model_inference_duration_seconds", "Duration of model inference in seconds",
    lm::labels<"model_id", "strategy", "tenant_id">, lm::buckets<0.1, 0.5, 1, 2, 5, 10, 30, 60>, lm::native_schema<3>> {};
using both_registry = lm::registry<lm::prefix<"llm_router_">, cat::http_requests_total, cat::http_request_duration_seconds,
                                   cat::model_inference_total, inference_duration_both, cat::model_inference_tokens,
                                   cat::active_connections, cat::queue_depth, cat::cache_hits_total,
                                   cat::cache_misses_total, cat::request_cost_cents, cat::model_load_time_seconds,
                                   cat::errors_total>;

template <class R>
lm::slo_set<R> availability_only() {
    lm::slo_set<R> slos;
    slos.add(lm::slo<lm::availability<cat::model_inference_total, "status", "success">>{
        .name = "inference-availability", .objective = 0.999});
    return slos;
}

std::string panel_query(const nlohmann::json& dashboard, std::string_view title, std::size_t target = 0) {
    for (const auto& p : dashboard["panels"])
        if (p["title"] == title) return p["targets"][target]["expr"];
    throw std::runtime_error("no panel " + std::string(title));
}
std::string panel_description(const nlohmann::json& dashboard, std::string_view title) {
    for (const auto& p : dashboard["panels"])
        if (p["title"] == title) return p["description"];
    throw std::runtime_error("no panel " + std::string(title));
}

TEST_CASE("rules and dashboard: native histograms get native PromQL, both kinds get both", "[operate][native]") {
    {
        const auto groups = lm::prometheus_rule_groups(availability_only<lm::llm_router_native_registry>(), {.job = "r"});
        const auto& p95 = find_rule(groups, "llm_router-alerts", "InferenceLatencyP95High");
        CHECK(p95.expr ==
              "histogram_quantile(0.95, sum by (model_id) "
              "(rate(llm_router_model_inference_duration_seconds[5m])))\n> 10");
        bool says_flag = false;
        for (const auto& [k, v] : p95.annotations)
            says_flag |= k == "prometheus" && v.find("--enable-feature=native-histograms") != std::string::npos;
        CHECK(says_flag);
        const nlohmann::json d = lm::grafana_dashboard(availability_only<lm::llm_router_native_registry>(), {});
        CHECK(panel_query(d, "Inference latency by model", 2) ==
              "histogram_quantile(0.99, sum by (model_id) (rate(llm_router_model_inference_duration_seconds"
              "{tenant_id=~\"$tenant\", model_id=~\"$model\"}[$__rate_interval])))");
        CHECK(panel_description(d, "Inference latency by model").find("native-histograms") != std::string::npos);
        // Classic families of the same registry keep the classic form.
        CHECK(panel_query(d, "HTTP request latency").find("_bucket") != std::string::npos);
        CHECK(panel_description(d, "HTTP request latency").find("native") == std::string::npos);
    }
    {
        const auto groups = lm::prometheus_rule_groups(availability_only<both_registry>(), {.job = "r"});
        CHECK(find_rule(groups, "llm_router-alerts", "InferenceLatencyP95High").expr ==
              "(\n"
              "histogram_quantile(0.95, sum by (model_id) (rate(llm_router_model_inference_duration_seconds[5m])))\n"
              "or\n"
              "histogram_quantile(0.95, sum by (model_id, le) (rate(llm_router_model_inference_duration_seconds_bucket[5m])))\n"
              ")\n> 10");
    }
    {
        // The classic catalog is unchanged: no annotation, the _bucket form only.
        const auto groups = lm::prometheus_rule_groups(catalog_slos(), {.job = "r"});
        for (const auto& [k, v] : find_rule(groups, "llm_router-alerts", "InferenceLatencyP95High").annotations)
            CHECK(k != "prometheus");
    }
}

TEST_CASE("rules: a registry without the catalog gets SLO rules and TargetDown only", "[operate]") {
    using jobs_total = lm::counter<"jobs_total", "Jobs", lm::labels<"outcome">>;
    using other = lm::registry<jobs_total>;
    lm::slo_set<other> slos;
    slos.add(lm::slo<lm::availability<jobs_total, "outcome", "ok">>{.name = "jobs", .objective = 0.95});
    const auto groups = lm::prometheus_rule_groups(slos);
    REQUIRE(groups.size() == 3);
    CHECK(groups[0].name == "llmetrics-slo-recording");
    CHECK(groups[0].rules[0].record == "slo:sli_error:ratio_rate5m");
    CHECK(groups[0].rules[0].expr ==
          "(\n  sum(rate(jobs_total{outcome!=\"ok\"}[5m]))\n  or\n  0 * sum(rate(jobs_total[5m]))\n)\n/\n"
          "sum(rate(jobs_total[5m]))");
    REQUIRE(groups[2].rules.size() == 1);
    CHECK(groups[2].rules[0].alert == "TargetDown");
    CHECK(groups[2].rules[0].expr == "up == 0");
}

TEST_CASE("rules: scaled() shrinks every window for short tests", "[operate]") {
    const auto o = lm::scaled({}, 1.0 / 60);
    const auto groups = lm::prometheus_rule_groups(catalog_slos(), o);
    std::vector<std::string> windows;
    for (const auto& r : groups[0].rules)
        if (label(r, "slo") == "inference-latency") windows.push_back(r.record.substr(r.record.rfind('_') + 1));
    CHECK(windows == std::vector<std::string>{"rate5s", "rate30s", "rate1m", "rate2m", "rate6m", "rate24m", "rate72m"});
    CHECK(o.model_error_for == 5s);
    CHECK(o.target_down_for == 1s);
    const auto& page = find_rule(groups, "llm_router-slo-alerts", "ErrorBudgetBurnFast", "inference-availability");
    CHECK(page.expr.find("ratio_rate1m{slo=\"inference-availability\"} > (14.4 * 0.001)") != std::string::npos);
}

TEST_CASE("rules: the YAML text", "[operate]") {
    const std::string yaml = lm::prometheus_rules(
        catalog_slos(), {.evaluation_interval = 30s, .alert_labels = {{"team", "llm \"platform\""}}});
    CHECK(yaml.starts_with("# Generated by llmetrics"));
    CHECK(yaml.find(
              "groups:\n  - name: \"llm_router-slo-recording\"\n    interval: 30s\n    rules:\n"
              "      - record: \"slo:llm_router_sli_error:ratio_rate5m\"\n        expr: |-\n          (\n"
              "            sum by (tenant_id) (rate(llm_router_model_inference_total{status!=\"success\"}[5m]))\n") !=
          std::string::npos);
    CHECK(yaml.find("        labels:\n          severity: \"page\"\n          slo: \"inference-availability\"\n"
                    "          team: \"llm \\\"platform\\\"\"\n") != std::string::npos);
    CHECK(yaml.find("        expr: \"sum by (queue_type) (llm_router_queue_depth) > 100\"\n        for: 5m\n") !=
          std::string::npos);
    CHECK(yaml.find('\t') == std::string::npos);
}

// --- dashboard --------------------------------------------------------------------

TEST_CASE("dashboard: Grafana schema, variables and panel layout", "[operate]") {
    const auto slos = catalog_slos();
    const nlohmann::json d = lm::grafana_dashboard(slos, {.title = "LLM Router"});
    CHECK(d["schemaVersion"] == 39);
    CHECK(d["title"] == "LLM Router");
    CHECK(d["uid"] == "llm-router");
    CHECK(d["id"].is_null());

    const auto& vars = d["templating"]["list"];
    REQUIRE(vars.size() == 3);
    CHECK(vars[0]["name"] == "datasource");
    CHECK(vars[0]["type"] == "datasource");
    CHECK(vars[0]["query"] == "prometheus");
    CHECK(vars[1]["name"] == "tenant");
    CHECK(vars[1]["query"]["query"] == "label_values(llm_router_http_requests_total, tenant_id)");
    CHECK(vars[1]["includeAll"] == true);
    CHECK(vars[1]["allValue"] == ".*");
    CHECK(vars[2]["name"] == "model");
    CHECK(vars[2]["query"]["query"] == "label_values(llm_router_model_inference_total, model_id)");

    std::set<int> ids;
    std::set<std::string> titles;
    std::vector<std::array<int, 4>> boxes;
    std::size_t targets = 0;
    for (const auto& p : d["panels"]) {
        const std::string type = p["type"];
        CHECK((type == "row" || type == "timeseries" || type == "stat"));
        CHECK(ids.insert(p["id"].get<int>()).second);
        titles.insert(p["title"].get<std::string>());
        const auto& g = p["gridPos"];
        const int x = g["x"], y = g["y"], w = g["w"], h = g["h"];
        CHECK(x >= 0);
        CHECK(x + w <= 24);
        for (const auto& b : boxes) {  // no two panels overlap
            const bool apart = x >= b[0] + b[2] || b[0] >= x + w || y >= b[1] + b[3] || b[1] >= y + h;
            CHECK(apart);
        }
        boxes.push_back({x, y, w, h});
        if (type == "row") continue;
        CHECK(p["datasource"]["uid"] == "${datasource}");
        CHECK(!p["targets"].empty());
        for (const auto& t : p["targets"]) {
            CHECK(t["datasource"]["uid"] == "${datasource}");
            CHECK(!t["expr"].get<std::string>().empty());
            ++targets;
        }
    }
    for (const char* t : {"Request rate", "HTTP request latency", "Inference latency by model",
                          "Errors by type and model", "Tokens per second by model", "Cost per tenant",
                          "Cache hit ratio", "Active connections", "Queue depth", "Model load time", "Process CPU",
                          "Process memory", "Burn rate: inference-availability", "Burn rate: inference-latency"})
        CHECK(titles.count(t) == 1);

    const auto queries = lm::dashboard_queries(slos);
    CHECK(queries.size() == targets);
    const auto has = [&](std::string_view expr) {
        return std::any_of(queries.begin(), queries.end(), [&](const auto& q) { return q.expr == expr; });
    };
    CHECK(
        has("histogram_quantile(0.95, sum by (model_id, le) (rate(llm_router_model_inference_duration_seconds_bucket"
            "{tenant_id=~\"$tenant\", model_id=~\"$model\"}[$__rate_interval])))"));
    CHECK(
        has("histogram_quantile(0.99, sum by (le) (rate(llm_router_http_request_duration_seconds_bucket"
            "{tenant_id=~\"$tenant\"}[$__rate_interval])))"));
    CHECK(has("rate(llm_router_process_cpu_seconds_total[$__rate_interval])"));
    CHECK(has("llm_router_process_resident_memory_bytes"));
    CHECK(has("slo:llm_router_sli_error:ratio_rate1h{slo=\"inference-availability\", tenant_id=~\"$tenant\"} / 0.001"));
    CHECK(has("slo:llm_router_sli_error:ratio_rate3d{slo=\"inference-latency\"} / 0.01"));
    CHECK(
        has("sum by (tenant_id) (rate(llm_router_request_cost_cents_sum{tenant_id=~\"$tenant\", "
            "model_id=~\"$model\"}[$__rate_interval])) * 3600"));
    for (const auto& q : queries) CHECK(!q.metrics.empty());

    // Without SLOs: no SLO row; another process prefix.
    const auto plain = lm::dashboard_queries<lm::catalog_registry>({.process_prefix = ""});
    CHECK(plain.size() + 8 == queries.size());
    CHECK(std::any_of(plain.begin(), plain.end(),
                      [](const auto& q) { return q.expr == "process_resident_memory_bytes"; }));
}

// --- traceparent ------------------------------------------------------------------

TEST_CASE("traceparent: valid headers from the W3C specification", "[operate]") {
    const auto c = lm::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    REQUIRE(c);
    CHECK(c->trace_id_hex() == "4bf92f3577b34da6a3ce929d0e0e4736");
    CHECK(c->parent_id_hex() == "00f067aa0ba902b7");
    CHECK(c->sampled());
    CHECK(c->to_traceparent() == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");

    const auto unsampled = lm::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
    REQUIRE(unsampled);
    CHECK(!unsampled->sampled());
    // Reserved flags are dropped; optional whitespace around the value is not an error.
    CHECK(lm::parse_traceparent(" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff\t")->flags == 1);

    // A later version: the same fields, then the end or '-' and more.
    const auto v1 =
        lm::parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds");
    REQUIRE(v1);
    CHECK(v1->to_traceparent() == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    CHECK(lm::parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09"));
}

TEST_CASE("traceparent: invalid headers are rejected, never repaired", "[operate]") {
    for (const char* bad : {
             "", "00",
             "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // version ff
             "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // zero trace id
             "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // zero parent id
             "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // upper case
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",    // upper case
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",    // upper case flags
             "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // not hex
             "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",    // not hex
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",   // 00 with more
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",   // 00 too long
             "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",    // dash misplaced
             "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",    // wrong separator
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",     // short flags
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",     // short parent id
             "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.x",  // later version, no dash after flags
             "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",     // later version, too short
         }) {
        INFO(bad);
        CHECK(!lm::parse_traceparent(bad));
    }
}

TEST_CASE("traceparent: generation, children and the current context", "[operate]") {
    const lm::trace_context a = lm::generate_trace_context();
    const lm::trace_context b = lm::generate_trace_context(false);
    CHECK(a.trace_id != b.trace_id);
    CHECK(a.sampled());
    CHECK(!b.sampled());
    const auto round_trip = lm::parse_traceparent(a.to_traceparent());
    REQUIRE(round_trip);
    CHECK(*round_trip == a);

    const lm::trace_context child = a.child();
    CHECK(child.trace_id == a.trace_id);
    CHECK(child.parent_id != a.parent_id);

    const auto continued = lm::continue_or_start_trace("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    CHECK(continued.trace_id_hex() == "4bf92f3577b34da6a3ce929d0e0e4736");
    CHECK(continued.parent_id_hex() != "00f067aa0ba902b7");
    CHECK(lm::continue_or_start_trace("garbage").trace_id_hex() != "4bf92f3577b34da6a3ce929d0e0e4736");

    CHECK(!lm::current_trace_context());
    CHECK(lm::current_trace_id().empty());
    {
        lm::scoped_trace_context outer(a);
        CHECK(lm::current_trace_id() == a.trace_id_hex());
        {
            lm::scoped_trace_context inner(b);
            CHECK(lm::current_trace_id() == b.trace_id_hex());
            std::string other_thread = "unset";
            std::thread([&] { other_thread = lm::current_trace_id(); }).join();
            CHECK(other_thread.empty());  // thread-local
        }
        CHECK(lm::current_trace_id() == a.trace_id_hex());
    }
    CHECK(!lm::current_trace_context());
}

// --- request log ------------------------------------------------------------------

namespace {

struct temp_file {
    std::filesystem::path path;
    explicit temp_file(std::string_view name)
        : path(std::filesystem::temp_directory_path() /
               (std::string(name) + "-" +
                std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))) {}
    ~temp_file() {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
    std::vector<std::string> lines() const {
        std::ifstream in(path);
        std::vector<std::string> out;
        for (std::string line; std::getline(in, line);) out.push_back(line);
        return out;
    }
};

}  // namespace

TEST_CASE("request log: one JSON object a line, with every field", "[operate]") {
    temp_file file("llmetrics-request-log");
    const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1714564800123));  // 2024-05-01
    const lm::trace_context trace = *lm::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    {
        lm::request_log log(file.path);
        CHECK(log.log({.time = t,
                       .tenant = "tenant-a",
                       .model = "gpt-4",
                       .strategy = "balanced",
                       .status = "success",
                       .duration_seconds = 1.25,
                       .tokens = 420,
                       .cost_cents = 0.8,
                       .trace_id = "abc"}));
        // Hostile text stays valid JSON; invalid UTF-8 becomes U+FFFD; no trace: null.
        CHECK(log.log({.time = t,
                       .tenant = "a\"b\\c\nd\x01",
                       .model = "bad\xff",
                       .status = "error",
                       .duration_seconds = std::numeric_limits<double>::infinity()}));
        lm::scoped_trace_context scope(trace);
        CHECK(log.log({.time = t, .tenant = "traced"}));
    }
    const auto lines = file.lines();
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] ==
          "{\"time\":\"2024-05-01T12:00:00.123Z\",\"tenant\":\"tenant-a\",\"model\":\"gpt-4\",\"strategy\":"
          "\"balanced\",\"status\":\"success\",\"duration_seconds\":1.25,\"tokens\":420,\"cost_cents\":0.8,"
          "\"trace_id\":\"abc\"}");
    const auto second = nlohmann::json::parse(lines[1]);
    CHECK(second["tenant"] == "a\"b\\c\nd\x01");
    CHECK(second["model"] == "bad\xEF\xBF\xBD");
    CHECK(second["duration_seconds"].is_null());
    CHECK(second["trace_id"].is_null());
    CHECK(nlohmann::json::parse(lines[2])["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST_CASE("request log: concurrent writers; lines + dropped == sent, and logs agree with metrics", "[operate]") {
    using requests_total = lm::counter<"requests_total", "Requests", lm::labels<"tenant_id">>;
    lm::registry<lm::prefix<"llm_router_">, requests_total> metrics;
    temp_file file("llmetrics-request-log-mt");
    constexpr int threads = 8, per_thread = 5000;
    std::shared_ptr<lm::collector> exported;
    std::uint64_t written = 0, dropped = 0;
    {
        // A small queue, so some lines are dropped while the writer runs.
        lm::request_log log(file.path, {.capacity = 64, .flush_interval = 1ms});
        exported = log.make_collector("llm_router_");
        metrics.add_collector(exported);
        std::atomic<bool> go{false};
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t)
            pool.emplace_back([&, t] {
                while (!go.load()) std::this_thread::yield();
                const std::string tenant = "tenant-" + std::to_string(t);
                auto& counter = metrics.get<requests_total>().labels(tenant);
                for (int i = 0; i < per_thread; ++i) {
                    counter.inc();
                    log.log({.tenant = tenant, .model = "m", .status = "success", .tokens = std::uint64_t(i)});
                }
            });
        go = true;
        for (auto& th : pool) th.join();
    }  // destruction writes what is queued
    const std::string text = lm::render(metrics);
    const auto lines = file.lines();
    for (const std::string& l : lines) {
        const auto j = nlohmann::json::parse(l);  // throws on invalid JSON
        CHECK(j["model"] == "m");
    }
    // The collector outlives the log and still reads its final counts.
    std::vector<lm::family_snapshot> snap;
    exported->collect(snap);
    REQUIRE(snap.size() == 2);
    written = std::get<lm::counter_value>(snap[0].series[0].value).integral;
    dropped = std::get<lm::counter_value>(snap[1].series[0].value).integral;
    CHECK(snap[0].name == "llm_router_request_log_lines_total");
    CHECK(snap[1].name == "llm_router_request_log_dropped_total");
    CHECK(written == lines.size());
    CHECK(written + dropped == std::uint64_t(threads) * per_thread);
    CHECK(written > 0);
    CHECK(text.find("llm_router_request_log_lines_total ") != std::string::npos);
    double counted = 0;
    for (int t = 0; t < threads; ++t)
        counted += double(metrics.get<requests_total>().labels("tenant-" + std::to_string(t)).value().integral);
    CHECK(counted == double(threads) * per_thread);
}

TEST_CASE("request log: a full queue drops instead of blocking", "[operate]") {
    std::FILE* sink = std::tmpfile();
    REQUIRE(sink);
    {
        lm::request_log log(sink, {.capacity = 4, .flush_interval = 1h});
        // The writer sleeps up to an hour between drains: at most 4 lines (and
        // whatever it drained before its first sleep) fit; the rest drop at once.
        const auto start = std::chrono::steady_clock::now();
        int accepted = 0;
        for (int i = 0; i < 1000; ++i) accepted += log.log({.tenant = "t"});
        CHECK(std::chrono::steady_clock::now() - start < 1s);
        CHECK(log.dropped() == std::uint64_t(1000 - accepted));
        CHECK(accepted >= 4);
    }  // stop wakes the writer at once: the destructor does not wait the hour
    std::fseek(sink, 0, SEEK_END);
    CHECK(std::ftell(sink) > 0);
    std::fclose(sink);
}

TEST_CASE("dashboard: a Streaming row where the registry holds the streaming families", "[operate]") {
    using streaming_registry =
        lm::llm_router_registry<cat::streaming::time_to_first_token_seconds,
                                cat::streaming::time_per_output_token_seconds,
                                cat::streaming::client_cancellations_total>;
    const nlohmann::json d = lm::grafana_dashboard(availability_only<streaming_registry>(), {});
    CHECK(panel_query(d, "Client cancellations by stage") ==
          "sum by (stage) (rate(llm_router_client_cancellations_total{tenant_id=~\"$tenant\", "
          "model_id=~\"$model\"}[$__rate_interval]))");
    CHECK(panel_query(d, "Time to first token", 1) ==
          "histogram_quantile(0.95, sum by (le) (rate(llm_router_time_to_first_token_seconds_bucket"
          "{tenant_id=~\"$tenant\", model_id=~\"$model\"}[$__rate_interval])))");
    CHECK(panel_query(d, "Time per output token").find("llm_router_time_per_output_token_seconds_bucket") !=
          std::string::npos);

    // The tutorial's twelve alone: no Streaming row.
    const nlohmann::json plain = lm::grafana_dashboard(availability_only<lm::catalog_registry>(), {});
    for (const auto& p : plain["panels"]) {
        CHECK(p["title"] != "Streaming");
        CHECK(p["title"] != "Client cancellations by stage");
    }
}

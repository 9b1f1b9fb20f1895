#pragma once
// A Grafana dashboard for a registry holding the tutorial's catalog, and its SLOs:
//
//     nlohmann::json d = lm::grafana_dashboard(slos, {.title = "LLM Router"});
//     std::ofstream("llm-router.json") << d.dump(2);     // Dashboards > New > Import
//
// Schema 39 (Grafana 10/11): rows of `timeseries` and `stat` panels placed with
// gridPos on the 24-column grid, a Prometheus data source variable, and `tenant`
// and `model` variables (multi-value, "All" = `.*`) that filter every panel over
// a family with a tenant_id or model_id label. Every metric name comes from the
// registry (process metrics take the registry prefix unless told otherwise);
// the SLO panels read the series recorded by prometheus_rules().
//
// dashboard_queries() lists every panel query, so a test can run each one
// against a real Prometheus (after replacing $tenant, $model and
// $__rate_interval, which Grafana fills in).

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../instrument/catalog.hpp"
#include "../instrument/gateway_catalog.hpp"
#include "../registry/holds.hpp"
#include "detail/family_label.hpp"
#include "detail/histogram_query.hpp"
#include "promql.hpp"
#include "rules.hpp"
#include "slo.hpp"

namespace llmetrics {

struct dashboard_options {
    std::string title = "LLM Router";
    std::string uid{};  // empty: derived from the registry prefix ("llm-router")
    std::vector<std::string> tags{"llmetrics"};
    std::string refresh = "30s";
    std::string time_from = "now-6h";
    // Prefix of process_cpu_seconds_total and process_resident_memory_bytes (from
    // process_collector); empty optional: the registry prefix.
    std::optional<std::string> process_prefix{};
    // The burn-rate policy the rules use: each SLO panel plots its long windows
    // with their thresholds.
    std::vector<burn_rate_alert> burn_rate_alerts = workbook_burn_rate_alerts();
};

// One query of one panel.
struct dashboard_query {
    std::string panel;                 // panel title
    std::string ref_id;                // "A", "B", ...
    std::string expr;                  // PromQL with Grafana variables ($tenant, $model, $__rate_interval)
    std::string legend;                // legendFormat
    std::vector<std::string> metrics;  // the series names it reads (recorded ones for SLO panels)
};

namespace detail {

struct dashboard_panel {
    std::string title;
    std::string type;  // "timeseries" | "stat" | "row"
    std::string unit;
    std::string description;
    int width = 12;
    int height = 8;
    std::vector<dashboard_query> queries;
    std::vector<double> thresholds;  // drawn as lines (timeseries) or colours (stat)
};

template <class R>
struct dashboard_builder {
    std::vector<dashboard_panel> panels;

    // The exposed name of the registry's family in F's role.
    template <class F>
    static std::string name() {
        return std::string(R::template name_of<registry_role_t<R, F>>());
    }

    // `<name><suffix>{extra..., tenant_id=~"$tenant", model_id=~"$model"}`,
    // filtering on whichever of the two labels the family has.
    template <class F>
    static std::string sel(std::string_view suffix = {}, std::vector<std::string> extra = {}) {
        if constexpr (F::label_names::index_of("tenant_id") < F::label_names::size)
            extra.push_back("tenant_id=~\"$tenant\"");
        if constexpr (F::label_names::index_of("model_id") < F::label_names::size)
            extra.push_back("model_id=~\"$model\"");
        return selector(name<F>() + std::string(suffix), extra);
    }
    template <class F>
    static std::string rate(std::string_view suffix = {}, std::vector<std::string> extra = {}) {
        return std::string("rate(") + sel<F>(suffix, std::move(extra)) + "[$__rate_interval])";
    }

    // sum by (labels of F) (rate(F<suffix>...)).
    template <class F, fixed_string... Labels>
    static std::string sum_rate_by(std::string_view suffix = {}) {
        return sum_by(labels_of<F, Labels...>(), rate<F>(suffix));
    }

    void row(std::string title) { panels.push_back({std::move(title), "row", "", "", 24, 1, {}, {}}); }

    dashboard_panel& panel(std::string title, std::string type, std::string unit, std::string description,
                           int width = 12, int height = 8) {
        panels.push_back(
            {std::move(title), std::move(type), std::move(unit), std::move(description), width, height, {}, {}});
        return panels.back();
    }

    static void query(dashboard_panel& p, std::string expr, std::string legend, std::vector<std::string> metrics) {
        const std::string ref(1, static_cast<char>('A' + p.queries.size()));
        p.queries.push_back({p.title, ref, std::move(expr), std::move(legend), std::move(metrics)});
    }

    // The registry's family in H's role (H itself, or e.g. a native twin of it),
    // queried by its kind of buckets (detail/histogram_query.hpp).
    template <class H>
    static void quantiles(dashboard_panel& p, const std::vector<std::string>& by, std::string_view legend_suffix) {
        using F = registry_role_t<R, H>;
        for (const char* q : {"0.5", "0.95", "0.99"}) {
            const std::string pq = q == std::string_view("0.5") ? "p50" : q == std::string_view("0.95") ? "p95" : "p99";
            query(p, quantile_query<F>(q, by, [](std::string_view suffix) { return rate<F>(suffix); }),
                  pq + std::string(legend_suffix), {name<H>()});
        }
        if (const std::string_view needs = histogram_requirement<F>(); !needs.empty())
            p.description += std::string(" Native histogram: ") + std::string(needs) + ".";
    }

    // Per-second sum of H's observations, summed by H's labels `Labels`.
    template <class H, fixed_string... Labels>
    static std::string observed_sum_rate() {
        using F = registry_role_t<R, H>;
        return rate_of_total<F>("sum", labels_of<F, Labels...>(), [](std::string_view suffix) { return rate<F>(suffix); });
    }

    template <class F>
    static constexpr bool holds = registry_has_role_v<R, F>;

    // A "Gateway" row with a panel per gateway family the registry holds
    // (instrument/gateway_catalog.hpp); nothing when it holds none.
    void gateway_panels() {
        namespace gw = catalog::gateway;
        if constexpr (holds<gw::upstream_attempts_total> || holds<gw::retries_total> || holds<gw::fallbacks_total> ||
                      holds<gw::retries_exhausted_total> || holds<gw::upstream_health> ||
                      holds<gw::upstream_remaining_requests> || holds<gw::upstream_remaining_tokens> ||
                      holds<gw::tokens_total> || holds<gw::tenant_spend_cents_total> ||
                      holds<gw::tenant_budget_remaining_cents> || holds<gw::router_overhead_seconds> ||
                      holds<gw::request_tokens> || holds<gw::response_tokens> || holds<gw::requests_in_flight> ||
                      holds<gw::requests_queued>)
            row("Gateway");
        if constexpr (holds<gw::upstream_attempts_total>) {
            auto& p = panel("Upstream attempts by result", "timeseries", "reqps",
                            "Attempts per second at each upstream (deployment or endpoint), by result.");
            query(p, sum_rate_by<gw::upstream_attempts_total, "model_id", "upstream", "result">(),
                  "{{model_id}} {{upstream}} {{result}}", {name<gw::upstream_attempts_total>()});
        }
        if constexpr (holds<gw::retries_total> || holds<gw::fallbacks_total> || holds<gw::retries_exhausted_total>) {
            auto& p = panel("Retries, fallbacks and retries exhausted", "timeseries", "reqps",
                            "Per second: attempts repeated on a model, requests moved to another model, and models "
                            "given up on after their last attempt failed.");
            if constexpr (holds<gw::retries_total>)
                query(p, sum_rate_by<gw::retries_total, "model_id", "reason">(), "retry {{model_id}} {{reason}}",
                      {name<gw::retries_total>()});
            if constexpr (holds<gw::fallbacks_total>)
                query(p, sum_rate_by<gw::fallbacks_total, "from_model", "to_model", "reason">(),
                      "fallback {{from_model}} -> {{to_model}} {{reason}}", {name<gw::fallbacks_total>()});
            if constexpr (holds<gw::retries_exhausted_total>)
                query(p, sum_rate_by<gw::retries_exhausted_total, "model_id">(), "exhausted {{model_id}}",
                      {name<gw::retries_exhausted_total>()});
        }
        if constexpr (holds<gw::upstream_health>) {
            using F = gw::upstream_health;
            auto& p = panel("Upstream health", "timeseries", "short",
                            "The state each upstream is in (1 for the current one of up, degraded, cooling_down).");
            query(p, sum_by(labels_of<F, "model_id", "upstream", "state">(), sel<F>()) + " == 1",
                  "{{model_id}} {{upstream}} {{state}}", {name<F>()});
        }
        if constexpr (holds<gw::upstream_remaining_requests> || holds<gw::upstream_remaining_tokens>) {
            auto& p = panel("Upstream rate limits remaining", "timeseries", "short",
                            "Requests and tokens left in each upstream's rate-limit window, as it last reported.");
            if constexpr (holds<gw::upstream_remaining_requests>) {
                using F = gw::upstream_remaining_requests;
                query(p, sum_by(labels_of<F, "model_id", "upstream">(), sel<F>()), "requests {{upstream}}",
                      {name<F>()});
            }
            if constexpr (holds<gw::upstream_remaining_tokens>) {
                using F = gw::upstream_remaining_tokens;
                query(p, sum_by(labels_of<F, "model_id", "upstream">(), sel<F>()), "tokens {{upstream}}", {name<F>()});
            }
        }
        if constexpr (holds<gw::tokens_total>) {
            auto& p = panel("Tokens by type", "timeseries", "short",
                            "Tokens per second by type (cached_input is part of input, reasoning_output of output).");
            query(p, sum_rate_by<gw::tokens_total, "token_type">(), "{{token_type}}", {name<gw::tokens_total>()});
        }
        if constexpr (holds<gw::tenant_spend_cents_total> || holds<gw::tenant_budget_remaining_cents>) {
            auto& p = panel("Spend and budget per tenant", "timeseries", "short",
                            "Spend in cents per hour, and the budget left in cents (tenants given one).");
            if constexpr (holds<gw::tenant_spend_cents_total>)
                query(p, sum_rate_by<gw::tenant_spend_cents_total, "tenant_id">() + " * 3600", "spent/h {{tenant_id}}",
                      {name<gw::tenant_spend_cents_total>()});
            if constexpr (holds<gw::tenant_budget_remaining_cents>) {
                using F = gw::tenant_budget_remaining_cents;
                query(p, sum_by(labels_of<F, "tenant_id">(), sel<F>()), "left {{tenant_id}}", {name<F>()});
                p.thresholds = {0};
            }
        }
        if constexpr (holds<gw::router_overhead_seconds>) {
            auto& p = panel("Router overhead", "timeseries", "s",
                            "p50, p95 and p99 of the time spent in the router itself, excluding upstream calls.", 8);
            using F = gw::router_overhead_seconds;
            quantiles<F>(p, labels_of<F, "model_id">(), " {{model_id}}");
        }
        if constexpr (holds<gw::request_tokens>) {
            auto& p = panel("Request size", "timeseries", "short", "p50, p95 and p99 of input tokens per request.", 8);
            using F = gw::request_tokens;
            quantiles<F>(p, labels_of<F, "model_id">(), " {{model_id}}");
        }
        if constexpr (holds<gw::response_tokens>) {
            auto& p =
                panel("Response size", "timeseries", "short", "p50, p95 and p99 of output tokens per response.", 8);
            using F = gw::response_tokens;
            quantiles<F>(p, labels_of<F, "model_id">(), " {{model_id}}");
        }
        if constexpr (holds<gw::requests_in_flight> || holds<gw::requests_queued>) {
            auto& p = panel("In flight and queued by model", "timeseries", "short",
                            "Requests being processed by the router, and waiting in its queue, now.");
            if constexpr (holds<gw::requests_in_flight>) {
                using F = gw::requests_in_flight;
                query(p, sum_by(labels_of<F, "model_id">(), sel<F>()), "in flight {{model_id}}", {name<F>()});
            }
            if constexpr (holds<gw::requests_queued>) {
                using F = gw::requests_queued;
                query(p, sum_by(labels_of<F, "model_id">(), sel<F>()), "queued {{model_id}}", {name<F>()});
            }
        }
    }

    void build(const slo_set<R>& slos, const dashboard_options& o) {
        namespace cat = catalog;
        const std::string http = name<cat::http_requests_total>();
        const std::string inference = name<cat::model_inference_total>();
        const std::string bad_inference = rate<cat::model_inference_total>(
            "", {matcher(label_of<cat::model_inference_total, "status">(), "!=", "success")});
        const std::string hits = name<cat::cache_hits_total>(), misses = name<cat::cache_misses_total>();
        const std::string process_prefix = o.process_prefix.value_or(std::string(R::prefix()));

        row("Overview");
        {
            auto& p = panel("Request rate", "stat", "reqps", "HTTP requests per second.", 6, 4);
            query(p, std::string("sum(") + rate<cat::http_requests_total>() + ")", "requests/s", {http});
        }
        {
            auto& p = panel("Inference error ratio", "stat", "percentunit",
                            "Share of model inferences whose status is not \"success\".", 6, 4);
            query(p,
                  std::string("(sum(") + bad_inference + ") or vector(0))\n/\nsum(" +
                      rate<cat::model_inference_total>() + ")",
                  "errors", {inference});
            p.thresholds = {0.01, 0.05};
        }
        {
            auto& p = panel("Active connections", "stat", "short", "Connections open now.", 6, 4);
            query(p, std::string("sum(") + sel<cat::active_connections>() + ")", "connections",
                  {name<cat::active_connections>()});
        }
        {
            auto& p = panel("Cache hit ratio", "stat", "percentunit", "Cache hits / (hits + misses).", 6, 4);
            const std::string h = std::string("sum(") + rate<cat::cache_hits_total>() + ")";
            query(p, h + "\n/\n(" + h + " + (sum(" + rate<cat::cache_misses_total>() + ") or vector(0)))", "hit ratio",
                  {hits});
        }

        row("Traffic");
        {
            auto& p = panel("HTTP requests by route and status", "timeseries", "reqps", "HTTP requests per second.");
            query(p, sum_rate_by<cat::http_requests_total, "route", "status_code">(), "{{route}} {{status_code}}",
                  {http});
        }
        {
            auto& p = panel("Inferences by model and status", "timeseries", "reqps", "Model inferences per second.");
            query(p, sum_rate_by<cat::model_inference_total, "model_id", "status">(), "{{model_id}} {{status}}",
                  {inference});
        }

        row("Latency");
        {
            auto& p = panel("HTTP request latency", "timeseries", "s",
                            "p50, p95 and p99 of HTTP request duration (histogram_quantile).", 8);
            quantiles<cat::http_request_duration_seconds>(p, {}, "");
        }
        {
            auto& p = panel("Inference latency by model", "timeseries", "s",
                            "p50, p95 and p99 of model inference duration per model.", 8);
            using F = cat::model_inference_duration_seconds;
            quantiles<F>(p, labels_of<F, "model_id">(), " {{model_id}}");
        }
        {
            auto& p = panel("Model load time", "timeseries", "s",
                            "p50, p95 and p99 of the time taken to load each model.", 8);
            using F = cat::model_load_time_seconds;
            quantiles<F>(p, labels_of<F, "model_id">(), " {{model_id}}");
        }

        row("Errors");
        {
            auto& p = panel("Errors by type and model", "timeseries", "short", "Errors per second.");
            query(p, sum_rate_by<cat::errors_total, "error_type", "model_id">(), "{{error_type}} {{model_id}}",
                  {name<cat::errors_total>()});
        }
        {
            auto& p = panel("Inference error ratio by model", "timeseries", "percentunit",
                            "Share of each model's inferences whose status is not \"success\".");
            const std::string all = sum_rate_by<cat::model_inference_total, "model_id">();
            query(
                p,
                std::string("(\n  ") + sum_by(labels_of<cat::model_inference_total, "model_id">(), bad_inference) +
                    "\n  or\n  0 * " + all + "\n)\n/\n" + all,
                "{{model_id}}", {inference});
            p.thresholds = {0.05};
        }

        row("Tokens and cost");
        {
            auto& p = panel("Tokens per second by model", "timeseries", "short",
                            "Tokens generated per second (sum of model_inference_tokens).", 8);
            query(p, observed_sum_rate<cat::model_inference_tokens, "model_id">(), "{{model_id}}",
                  {name<cat::model_inference_tokens>()});
        }
        {
            auto& p = panel("Cost per tenant", "timeseries", "short", "Request cost in cents per hour.", 8);
            query(p,
                  as_operand<registry_role_t<R, cat::request_cost_cents>>(
                      observed_sum_rate<cat::request_cost_cents, "tenant_id">()) + " * 3600",
                  "{{tenant_id}}",
                  {name<cat::request_cost_cents>()});
        }
        {
            auto& p =
                panel("Cache hit ratio by cache", "timeseries", "percentunit", "Hits / (hits + misses) per cache.", 8);
            const std::string h = sum_rate_by<cat::cache_hits_total, "cache_type">();
            query(p,
                  h + "\n/\n(\n  " + h + "\n  +\n  (" + sum_rate_by<cat::cache_misses_total, "cache_type">() +
                      std::string(" or 0 * ") + h + ")\n)",
                  "{{cache_type}}", {hits});
        }

        // Streaming (catalog::streaming), where the registry holds the families.
        constexpr bool ttft = registry_has_role_v<R, cat::streaming::time_to_first_token_seconds>;
        constexpr bool tpot = registry_has_role_v<R, cat::streaming::time_per_output_token_seconds>;
        constexpr bool cancellations = registry_has_role_v<R, cat::streaming::client_cancellations_total>;
        if constexpr (ttft || tpot || cancellations) row("Streaming");
        if constexpr (ttft) {
            auto& p = panel("Time to first token", "timeseries", "s",
                            "Time from the request to the first chunk handed to the client.", 8);
            quantiles<cat::streaming::time_to_first_token_seconds>(p, {}, "");
        }
        if constexpr (tpot) {
            auto& p = panel("Time per output token", "timeseries", "s", "Time per output token after the first.", 8);
            quantiles<cat::streaming::time_per_output_token_seconds>(p, {}, "");
        }
        if constexpr (cancellations) {
            using F = cat::streaming::client_cancellations_total;
            auto& p = panel("Client cancellations by stage", "timeseries", "short",
                            "Requests per second whose client disconnected: while queued, before the first token, "
                            "or mid-stream.", 8);
            query(p, sum_rate_by<F, "stage">(), "{{stage}}", {name<F>()});
        }

        row("Capacity");
        {
            auto& p = panel("Active connections by tenant", "timeseries", "short", "Connections open now.");
            using F = cat::active_connections;
            query(p, sum_by(labels_of<F, "tenant_id">(), sel<F>()), "{{tenant_id}}",
                  {name<cat::active_connections>()});
        }
        {
            auto& p = panel("Queue depth", "timeseries", "short", "Requests waiting, per queue type.");
            using F = cat::queue_depth;
            query(p, sum_by(labels_of<F, "queue_type">(), sel<F>()), "{{queue_type}}", {name<F>()});
        }

        gateway_panels();

        row("Process");
        {
            const std::string cpu = process_prefix + "process_cpu_seconds_total";
            auto& p = panel("Process CPU", "timeseries", "short", "CPU seconds used per second (cores busy).");
            query(p, std::string("rate(") + cpu + "[$__rate_interval])", "{{instance}}", {cpu});
        }
        {
            const std::string rss = process_prefix + "process_resident_memory_bytes";
            auto& p = panel("Process memory", "timeseries", "bytes", "Resident set size.");
            query(p, rss, "{{instance}}", {rss});
        }

        if (slos.empty()) return;
        row("SLOs");
        for (const slo_spec& s : slos.specs()) {
            auto& p = panel(std::string("Burn rate: ") + s.name(), "timeseries", "short",
                            slo_promise(s) + ". Burn rate = error ratio / budget (" + short_number(s.budget()) +
                                std::string("); 1 spends the budget exactly.") +
                                (s.description().empty() ? "" : std::string(" ") + s.description()));
            std::vector<std::string> filter{matcher("slo", "=", s.name())};
            std::string legend_groups;
            for (const std::string& l : s.group_by()) {
                if (l == "tenant_id") filter.push_back("tenant_id=~\"$tenant\"");
                if (l == "model_id") filter.push_back("model_id=~\"$model\"");
                legend_groups += std::string(" {{") + l + "}}";
            }
            for (const burn_rate_alert& a : o.burn_rate_alerts)
                for (const burn_window& w : a.windows) {
                    const std::string rec = slo_record_name(R::prefix(), w.long_window);
                    query(p, selector(rec, filter) + " / " + short_number(s.budget()),
                          prometheus_duration(w.long_window) + legend_groups, {rec});
                    p.thresholds.push_back(w.burn_rate);
                }
        }
    }
};

inline nlohmann::json datasource_ref() { return {{"type", "prometheus"}, {"uid", "${datasource}"}}; }

inline nlohmann::json panel_json(const dashboard_panel& p, int id, int x, int y) {
    using nlohmann::json;
    json out = {{"id", id},
                {"type", p.type},
                {"title", p.title},
                {"gridPos", {{"h", p.height}, {"w", p.width}, {"x", x}, {"y", y}}}};
    if (p.type == "row") {
        out["collapsed"] = false;
        out["panels"] = json::array();
        return out;
    }
    out["description"] = p.description;
    out["datasource"] = datasource_ref();
    // Ascending steps: green below the first threshold, red from the last.
    std::vector<double> thresholds = p.thresholds;
    std::sort(thresholds.begin(), thresholds.end());
    thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
    json steps = json::array();
    steps.push_back({{"color", "green"}, {"value", nullptr}});
    for (std::size_t i = 0; i < thresholds.size(); ++i)
        steps.push_back({{"color", i + 1 == thresholds.size() ? "red" : "orange"}, {"value", thresholds[i]}});
    json defaults = {{"unit", p.unit}, {"thresholds", {{"mode", "absolute"}, {"steps", steps}}}};
    if (p.type == "timeseries") {
        defaults["color"] = {{"mode", "palette-classic"}};
        defaults["custom"] = {
            {"drawStyle", "line"}, {"lineWidth", 1},
            {"fillOpacity", 10},   {"showPoints", "never"},
            {"spanNulls", false},  {"thresholdsStyle", {{"mode", p.thresholds.empty() ? "off" : "line"}}}};
        out["options"] = {
            {"legend",
             {{"displayMode", "list"}, {"placement", "bottom"}, {"showLegend", true}, {"calcs", json::array()}}},
            {"tooltip", {{"mode", "multi"}, {"sort", "desc"}}}};
    } else {
        defaults["color"] = {{"mode", "thresholds"}};
        out["options"] = {
            {"reduceOptions", {{"calcs", json::array({"lastNotNull"})}, {"fields", ""}, {"values", false}}},
            {"colorMode", "value"},
            {"graphMode", "area"},
            {"justifyMode", "auto"},
            {"orientation", "auto"},
            {"textMode", "auto"}};
    }
    out["fieldConfig"] = {{"defaults", defaults}, {"overrides", json::array()}};
    json targets = json::array();
    for (const dashboard_query& q : p.queries)
        targets.push_back({{"refId", q.ref_id},
                           {"datasource", datasource_ref()},
                           {"editorMode", "code"},
                           {"expr", q.expr},
                           {"legendFormat", q.legend},
                           {"range", true}});
    out["targets"] = std::move(targets);
    return out;
}

inline nlohmann::json query_variable(std::string name, std::string label, std::string query) {
    return {
        {"name", std::move(name)},
        {"label", std::move(label)},
        {"type", "query"},
        {"datasource", datasource_ref()},
        {"definition", query},
        {"query", {{"query", query}, {"refId", "PrometheusVariableQueryEditor-VariableQuery"}}},
        {"refresh", 2},
        {"includeAll", true},
        {"allValue", ".*"},
        {"multi", true},
        {"sort", 1},
        {"regex", ""},
        {"hide", 0},
        {"current",
         {{"selected", true}, {"text", nlohmann::json::array({"All"})}, {"value", nlohmann::json::array({"$__all"})}}},
        {"options", nlohmann::json::array()}};
}

template <class R>
void require_catalog() {
    namespace cat = catalog;
    // Roles: a family of the same kind, labels and name plays a catalog one
    // (registry/holds.hpp), e.g. a native twin of a catalog histogram.
    static_assert(
        registry_has_role_v<R, cat::http_requests_total> && registry_has_role_v<R, cat::http_request_duration_seconds> &&
            registry_has_role_v<R, cat::model_inference_total> &&
            registry_has_role_v<R, cat::model_inference_duration_seconds> &&
            registry_has_role_v<R, cat::model_inference_tokens> && registry_has_role_v<R, cat::active_connections> &&
            registry_has_role_v<R, cat::queue_depth> && registry_has_role_v<R, cat::cache_hits_total> &&
            registry_has_role_v<R, cat::cache_misses_total> && registry_has_role_v<R, cat::request_cost_cents> &&
            registry_has_role_v<R, cat::model_load_time_seconds> && registry_has_role_v<R, cat::errors_total>,
        "llmetrics: the dashboard draws the catalog's twelve families; use a registry that holds "
        "them (catalog_registry or llm_router_registry<...>)");
}

}  // namespace detail

// Every query of every panel, in panel order.
template <class Registry>
std::vector<dashboard_query> dashboard_queries(const slo_set<Registry>& slos, const dashboard_options& o = {}) {
    detail::require_catalog<Registry>();
    detail::dashboard_builder<Registry> b;
    b.build(slos, o);
    std::vector<dashboard_query> out;
    for (const auto& p : b.panels) out.insert(out.end(), p.queries.begin(), p.queries.end());
    return out;
}

template <class Registry>
nlohmann::json grafana_dashboard(const slo_set<Registry>& slos, const dashboard_options& o = {}) {
    using nlohmann::json;
    detail::require_catalog<Registry>();
    namespace cat = catalog;
    detail::dashboard_builder<Registry> b;
    b.build(slos, o);

    json panels = json::array();
    int id = 1, x = 0, y = 0, row_height = 0;
    for (const detail::dashboard_panel& p : b.panels) {
        if (p.type == "row" || x + p.width > 24) {  // a new line of panels
            y += row_height;
            x = 0;
            row_height = 0;
        }
        panels.push_back(detail::panel_json(p, id++, x, y));
        x += p.width;
        row_height = std::max(row_height, p.height);
        if (p.type == "row") {
            y += p.height;
            x = 0;
            row_height = 0;
        }
    }

    std::string uid = o.uid;
    if (uid.empty()) {
        uid = detail::group_name(Registry::prefix(), "");
        for (char& c : uid)
            if (c == '_' || c == ':') c = '-';
        if (uid.size() > 40) uid.resize(40);  // Grafana's limit
    }

    const std::string tenants = std::string("label_values(") +
                                std::string(Registry::template name_of<cat::http_requests_total>()) + ", tenant_id)";
    const std::string models = std::string("label_values(") +
                               std::string(Registry::template name_of<cat::model_inference_total>()) + ", model_id)";
    const json builtin_annotations = {{"builtIn", 1},
                                      {"datasource", {{"type", "grafana"}, {"uid", "-- Grafana --"}}},
                                      {"enable", true},
                                      {"hide", true},
                                      {"iconColor", "rgba(0, 211, 255, 1)"},
                                      {"name", "Annotations & Alerts"},
                                      {"type", "dashboard"}};
    json templating = json::array();
    templating.push_back({{"name", "datasource"},
                          {"label", "Data source"},
                          {"type", "datasource"},
                          {"query", "prometheus"},
                          {"refresh", 1},
                          {"regex", ""},
                          {"hide", 0},
                          {"current", json::object()},
                          {"options", json::array()}});
    templating.push_back(detail::query_variable("tenant", "Tenant", tenants));
    templating.push_back(detail::query_variable("model", "Model", models));

    return {{"id", nullptr},
            {"uid", uid},
            {"title", o.title},
            {"tags", o.tags},
            {"timezone", "browser"},
            {"editable", true},
            {"graphTooltip", 1},
            {"schemaVersion", 39},
            {"version", 1},
            {"refresh", o.refresh},
            {"time", {{"from", o.time_from}, {"to", "now"}}},
            {"timepicker", json::object()},
            {"fiscalYearStartMonth", 0},
            {"liveNow", false},
            {"weekStart", ""},
            {"links", json::array()},
            {"annotations", {{"list", json::array({builtin_annotations})}}},
            {"templating", {{"list", templating}}},
            {"panels", panels}};
}

// A dashboard without SLO panels.
template <class Registry>
nlohmann::json grafana_dashboard(const dashboard_options& o = {}) {
    return grafana_dashboard(slo_set<Registry>{}, o);
}

template <class Registry>
std::vector<dashboard_query> dashboard_queries(const dashboard_options& o = {}) {
    return dashboard_queries(slo_set<Registry>{}, o);
}

}  // namespace llmetrics

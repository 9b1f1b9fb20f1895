#pragma once
// Prometheus rules for a registry's SLOs and for the catalog families it holds:
//
//     std::string yaml = lm::prometheus_rules(slos, {.dashboard_url = "https://grafana/d/llm-router"});
//
// Three groups:
//   <group>-slo-recording  the error ratio of each SLO over each window
//                          (5m 30m 1h 2h 6h 1d 3d by default), recorded as
//                          slo:<prefix>sli_error:ratio_rate<window>{slo="<name>", <by labels>}
//   <group>-slo-alerts     multi-window, multi-burn-rate alerts (Google SRE workbook,
//                          "Alerting on SLOs", 6th iteration): with budget = 1 - objective,
//                            page   (ErrorBudgetBurnFast): 14.4x over 1h and 5m, or 6x over 6h and 30m
//                            ticket (ErrorBudgetBurnSlow):  3x over 1d and 2h, or  1x over 3d and 6h
//                          The long window says the budget really burned, the short one
//                          that it still burns, so an alert resets soon after a fix.
//   <group>-alerts         what operators of the tutorial's router expect: error rate by
//                          model, p95 inference latency, queue depth, target down;
//                          and over the gateway families (instrument/gateway_catalog.hpp):
//                          fallback ratio per model, an upstream cooling down, a
//                          tenant budget spent. An alert over a catalog family is
//                          written only when the registry holds that family.
//
// Every metric name comes from the registry (prefix included), so a rule can
// never name a series that the registry does not expose. scaled() shrinks every
// window and duration, for tests that cannot wait an hour.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../instrument/catalog.hpp"
#include "../instrument/gateway_catalog.hpp"
#include "../registry/holds.hpp"
#include "detail/family_label.hpp"
#include "detail/histogram_query.hpp"
#include "promql.hpp"
#include "slo.hpp"

namespace llmetrics {

// Both windows above `burn_rate` times the budget: the alert fires.
struct burn_window {
    std::chrono::seconds long_window;
    std::chrono::seconds short_window;
    double burn_rate;
};

// One alert per SLO and severity; any of its window pairs fires it.
struct burn_rate_alert {
    std::string alert;     // alertname
    std::string severity;  // `severity` label
    std::vector<burn_window> windows;
    std::chrono::seconds for_duration{0};  // 0: fire on the first evaluation that matches
};

// The SRE workbook's policy for a 30-day budget: page on 2% of it spent in an
// hour or 5% in six hours, ticket on 10% in a day or three days.
inline std::vector<burn_rate_alert> workbook_burn_rate_alerts() {
    using namespace std::chrono_literals;
    return {
        {"ErrorBudgetBurnFast", "page", {{1h, 5min, 14.4}, {6h, 30min, 6}}, 0s},
        {"ErrorBudgetBurnSlow", "ticket", {{24h, 2h, 3}, {72h, 6h, 1}}, 0s},
    };
}

struct rules_options {
    std::vector<burn_rate_alert> burn_rate_alerts = workbook_burn_rate_alerts();
    // Group names are "<group>-slo-recording" etc.; empty: the registry prefix
    // without its trailing '_' ("llm_router"), or "llmetrics" without a prefix.
    std::string group{};
    std::chrono::seconds evaluation_interval{0};                      // 0: Prometheus's global interval
    std::string dashboard_url{};                                      // linked from every annotation when set
    std::vector<std::pair<std::string, std::string>> alert_labels{};  // added to every alert, e.g. team

    // Plain alerts.
    bool plain_alerts = true;
    std::chrono::seconds rate_window{std::chrono::minutes(5)};
    double model_error_ratio = 0.05;  // errors / inferences per model
    std::chrono::seconds model_error_for{std::chrono::minutes(5)};
    double p95_latency_seconds = 10;  // p95 of model inference duration per model
    std::chrono::seconds latency_for{std::chrono::minutes(10)};
    double queue_depth = 100;  // summed per queue type
    std::chrono::seconds queue_depth_for{std::chrono::minutes(5)};
    std::string job{};  // TargetDown watches up{job="<job>"}; empty: every target
    std::chrono::seconds target_down_for{std::chrono::minutes(1)};

    // Gateway alerts.
    double fallback_ratio = 0.1;  // fallbacks away from a model / its inferences
    std::chrono::seconds fallback_for{std::chrono::minutes(10)};
    std::chrono::seconds upstream_down_for{std::chrono::minutes(2)};  // cooling down this long
    std::chrono::seconds budget_exhausted_for{std::chrono::minutes(1)};
};

// Every window and `for` duration multiplied by `factor` (at least 1s each):
// scaled(options, 1.0 / 60) turns hours into minutes for an end-to-end test.
inline rules_options scaled(rules_options o, double factor) {
    const auto scale = [factor](std::chrono::seconds& d) {
        if (d.count() == 0) return;
        const auto s = static_cast<long long>(std::llround(static_cast<double>(d.count()) * factor));
        d = std::chrono::seconds(std::max(1LL, s));
    };
    for (burn_rate_alert& a : o.burn_rate_alerts) {
        scale(a.for_duration);
        for (burn_window& w : a.windows) {
            scale(w.long_window);
            scale(w.short_window);
        }
    }
    for (auto* d : {&o.rate_window, &o.model_error_for, &o.latency_for, &o.queue_depth_for, &o.target_down_for,
                    &o.fallback_for, &o.upstream_down_for, &o.budget_exhausted_for})
        scale(*d);
    return o;
}

// A rule as Prometheus reads it: `record` or `alert` is set.
struct prometheus_rule {
    std::string record;
    std::string alert;
    std::string expr;
    std::chrono::seconds for_duration{0};
    std::vector<std::pair<std::string, std::string>> labels;
    std::vector<std::pair<std::string, std::string>> annotations;
};

struct prometheus_rule_group {
    std::string name{};
    std::chrono::seconds interval{0};
    std::vector<prometheus_rule> rules;
};

namespace detail {

// The windows recorded for a policy: every long and short window, ascending.
inline std::vector<std::chrono::seconds> recorded_windows(const std::vector<burn_rate_alert>& alerts) {
    std::vector<std::chrono::seconds> out;
    for (const burn_rate_alert& a : alerts)
        for (const burn_window& w : a.windows) {
            out.push_back(w.long_window);
            out.push_back(w.short_window);
        }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

inline std::string group_name(std::string_view prefix, const std::string& chosen) {
    if (!chosen.empty()) return chosen;
    std::string p(prefix);
    while (!p.empty() && (p.back() == '_' || p.back() == ':')) p.pop_back();
    return p.empty() ? "llmetrics" : p;
}

// "(tenant_id={{ $labels.tenant_id }})" for grouped objectives, "" for global ones.
inline std::string group_text(const std::vector<std::string>& labels) {
    if (labels.empty()) return {};
    std::vector<std::string> parts;
    for (const std::string& l : labels) parts.push_back(l + "={{ $labels." + l + " }}");
    return std::string(" (") + join(parts, ", ") + ")";
}

// The dashboard link, narrowed to the alert's tenant or model when it has one.
inline std::string dashboard_link(const std::string& url, const std::vector<std::string>& labels) {
    std::string out = url;
    for (const std::string& l : labels) {
        std::string_view var = l == "tenant_id" ? "tenant" : l == "model_id" ? "model" : "";
        if (var.empty()) continue;
        out += out.find('?') == std::string::npos ? '?' : '&';
        out += std::string("var-") + std::string(var) + "={{ $labels." + l + " }}";
    }
    return out;
}

inline std::string burn_condition(std::string_view prefix, const slo_spec& s, const burn_window& w) {
    const std::string slo = std::string("{slo=") + promql_string(s.name()) + "}";
    const std::string threshold =
        std::string(" > (") + short_number(w.burn_rate) + " * " + short_number(s.budget()) + ")";
    return std::string("(\n  ") + slo_record_name(prefix, w.long_window) + slo + threshold + "\nand\n  " +
           slo_record_name(prefix, w.short_window) + slo + threshold + "\n)";
}

// "14.4x the sustainable rate over both 1h and 5m, or 6x over both 6h and 30m"
inline std::string burn_windows_text(const std::vector<burn_window>& windows) {
    std::string out;
    for (std::size_t i = 0; i < windows.size(); ++i) {
        if (i) out += ", or ";
        out += short_number(windows[i].burn_rate) + (i ? "x" : "x the sustainable rate") + " over both " +
               prometheus_duration(windows[i].long_window) + " and " + prometheus_duration(windows[i].short_window);
    }
    return out;
}

inline prometheus_rule burn_rate_rule(std::string_view prefix, const slo_spec& s, const burn_rate_alert& a,
                                      const rules_options& o) {
    prometheus_rule r;
    r.alert = a.alert;
    for (std::size_t i = 0; i < a.windows.size(); ++i)
        r.expr += (i ? "\nor\n" : "") + burn_condition(prefix, s, a.windows[i]);
    r.for_duration = a.for_duration;
    r.labels.emplace_back("severity", a.severity);
    r.labels.emplace_back("slo", s.name());
    r.labels.insert(r.labels.end(), o.alert_labels.begin(), o.alert_labels.end());
    r.annotations.emplace_back("summary", std::string("SLO ") + s.name() + group_text(s.group_by()) +
                                              ": error budget burning (" + a.severity + ")");
    std::string d = std::string("The error budget of SLO ") + s.name() + " (" + slo_promise(s) + "; budget " +
                    short_number(s.budget() * 100) + "% bad) burned at " + burn_windows_text(a.windows) + ".";
    if (!s.description().empty()) d += std::string(" ") + s.description();
    r.annotations.emplace_back("description", std::move(d));
    if (!o.dashboard_url.empty())
        r.annotations.emplace_back("dashboard", dashboard_link(o.dashboard_url, s.group_by()));
    return r;
}

inline void add_common(prometheus_rule& r, std::string_view severity, const rules_options& o,
                       const std::vector<std::string>& labels) {
    r.labels.emplace_back("severity", std::string(severity));
    r.labels.insert(r.labels.end(), o.alert_labels.begin(), o.alert_labels.end());
    if (!o.dashboard_url.empty()) r.annotations.emplace_back("dashboard", dashboard_link(o.dashboard_url, labels));
}

// Alerts over the gateway families the registry holds.
template <class R>
void gateway_alerts(const rules_options& o, std::vector<prometheus_rule>& out) {
    namespace cat = catalog;
    namespace gw = catalog::gateway;
    const std::string w = std::string("[") + prometheus_duration(o.rate_window) + "]";
    if constexpr (registry_has_role_v<R, gw::fallbacks_total> && registry_has_role_v<R, cat::model_inference_total>) {
        using F = registry_role_t<R, gw::fallbacks_total>;
        using I = registry_role_t<R, cat::model_inference_total>;
        const std::string f(R::template name_of<F>()), m(R::template name_of<I>());
        const std::string model = label_of<I, "model_id">();
        // Fallbacks are labelled by the model they left: renamed to model_id to
        // divide by that model's inferences.
        const std::string away = sum_by({model}, std::string("label_replace(rate(") + f + w + "), " +
                                                     promql_string(model) + ", \"$1\", " +
                                                     promql_string(label_of<F, "from_model">()) + ", \"(.*)\")");
        prometheus_rule r;
        r.alert = "FallbackRateHigh";
        r.expr = away + "\n/\n" + sum_by({model}, std::string("rate(") + m + w + ")") + "\n> " +
                 short_number(o.fallback_ratio);
        r.for_duration = o.fallback_for;
        r.annotations.emplace_back("summary", "Model {{ $labels.model_id }}: {{ $value | humanizePercentage }} of "
                                              "requests fall back to another model");
        r.annotations.emplace_back("description", std::string("Fallbacks away from model {{ $labels.model_id }} (") +
                                                      f + ") were more than " + short_number(o.fallback_ratio * 100) +
                                                      "% of its inferences (" + m + ") over " +
                                                      prometheus_duration(o.rate_window) + ", for " +
                                                      prometheus_duration(o.fallback_for) + ".");
        add_common(r, "ticket", o, {model});
        out.push_back(std::move(r));
    }
    if constexpr (registry_has_role_v<R, gw::upstream_health>) {
        using F = registry_role_t<R, gw::upstream_health>;
        const std::string h(R::template name_of<F>());
        prometheus_rule r;
        r.alert = "UpstreamDown";
        r.expr = std::string("max by (") + label_of<F, "model_id">() + ", " + label_of<F, "upstream">() + ") (" +
                 selector(h, {matcher(label_of<F, "state">(), "=", "cooling_down")}) + ") == 1";
        r.for_duration = o.upstream_down_for;
        r.annotations.emplace_back("summary",
                                   "Upstream {{ $labels.upstream }} of model {{ $labels.model_id }} is cooling down");
        r.annotations.emplace_back("description", std::string("The router took upstream {{ $labels.upstream }} of "
                                                              "model {{ $labels.model_id }} out of rotation (") +
                                                      h + "{state=\"cooling_down\"} == 1) for " +
                                                      prometheus_duration(o.upstream_down_for) + ".");
        add_common(r, "page", o, labels_of<F, "model_id">());
        out.push_back(std::move(r));
    }
    if constexpr (registry_has_role_v<R, gw::tenant_budget_remaining_cents>) {
        using F = registry_role_t<R, gw::tenant_budget_remaining_cents>;
        const std::string b(R::template name_of<F>());
        const std::vector<std::string> by_tenant = labels_of<F, "tenant_id">();
        prometheus_rule r;
        r.alert = "TenantBudgetExhausted";
        r.expr = std::string("max by (") + by_tenant[0] + ") (" + b + ") <= 0";
        r.for_duration = o.budget_exhausted_for;
        r.annotations.emplace_back("summary", "Tenant {{ $labels.tenant_id }} has spent its budget");
        r.annotations.emplace_back("description", std::string("The remaining budget of tenant "
                                                              "{{ $labels.tenant_id }} (") +
                                                      b + ") is {{ $value }} cents, for " +
                                                      prometheus_duration(o.budget_exhausted_for) + ".");
        add_common(r, "ticket", o, by_tenant);
        out.push_back(std::move(r));
    }
}

template <class R>
std::vector<prometheus_rule> plain_alerts(const rules_options& o) {
    namespace cat = catalog;
    std::vector<prometheus_rule> out;
    const std::string w = std::string("[") + prometheus_duration(o.rate_window) + "]";
    if constexpr (registry_has_role_v<R, cat::model_inference_total>) {
        using F = registry_role_t<R, cat::model_inference_total>;
        const std::string m(R::template name_of<F>());
        const std::vector<std::string> by_model = labels_of<F, "model_id">();
        const std::string all = sum_by(by_model, std::string("rate(") + m + w + ")");
        const std::string not_success = matcher(label_of<F, "status">(), "!=", "success");
        const std::string bad = sum_by(by_model, std::string("rate(") + selector(m, {not_success}) + w + ")");
        prometheus_rule r;
        r.alert = "ModelErrorRateHigh";
        r.expr = bad + "\n/\n" + all + "\n> " + short_number(o.model_error_ratio);
        r.for_duration = o.model_error_for;
        r.annotations.emplace_back("summary",
                                   "Model {{ $labels.model_id }}: {{ $value | humanizePercentage }} of "
                                   "inferences fail");
        r.annotations.emplace_back("description", std::string("More than ") + short_number(o.model_error_ratio * 100) +
                                                      std::string("% of ") + m +
                                                      " for model {{ $labels.model_id }} had a status "
                                                      "other than \"success\" over " +
                                                      prometheus_duration(o.rate_window) + std::string(", for ") +
                                                      prometheus_duration(o.model_error_for) + ".");
        add_common(r, "page", o, by_model);
        out.push_back(std::move(r));
    }
    if constexpr (registry_has_role_v<R, cat::model_inference_duration_seconds>) {
        // A native twin of the catalog family plays its role (registry/holds.hpp);
        // the query follows its kind of buckets (detail/histogram_query.hpp).
        using F = registry_role_t<R, cat::model_inference_duration_seconds>;
        const std::string m(R::template name_of<F>());
        const std::vector<std::string> by_model = labels_of<F, "model_id">();
        prometheus_rule r;
        r.alert = "InferenceLatencyP95High";
        const std::string p95 =
            quantile_query<F>("0.95", by_model, [&](std::string_view suffix) { return "rate(" + m + std::string(suffix) + w + ")"; });
        r.expr = as_operand<F>(p95) + "\n> " +
                 short_number(o.p95_latency_seconds);
        r.for_duration = o.latency_for;
        r.annotations.emplace_back("summary",
                                   "Model {{ $labels.model_id }}: p95 inference latency "
                                   "{{ $value | humanizeDuration }}");
        r.annotations.emplace_back("description", std::string("The 95th percentile of ") + m +
                                                      " for model {{ $labels.model_id }} "
                                                      "was above " +
                                                      short_number(o.p95_latency_seconds) + std::string("s over ") +
                                                      prometheus_duration(o.rate_window) + ", for " +
                                                      prometheus_duration(o.latency_for) + ".");
        if (const std::string_view needs = histogram_requirement<F>(); !needs.empty())
            r.annotations.emplace_back("prometheus", std::string("Native histogram: ") + std::string(needs) + ".");
        add_common(r, "ticket", o, by_model);
        out.push_back(std::move(r));
    }
    if constexpr (registry_has_role_v<R, cat::queue_depth>) {
        using F = registry_role_t<R, cat::queue_depth>;
        const std::string m(R::template name_of<F>());
        prometheus_rule r;
        r.alert = "QueueDepthHigh";
        r.expr = sum_by(labels_of<F, "queue_type">(), m) + " > " + short_number(o.queue_depth);
        r.for_duration = o.queue_depth_for;
        r.annotations.emplace_back("summary", "Queue {{ $labels.queue_type }}: {{ $value }} waiting");
        r.annotations.emplace_back("description", std::string("The ") + m +
                                                      " of queue {{ $labels.queue_type }}, summed over "
                                                      "tenants, stayed above " +
                                                      short_number(o.queue_depth) + std::string(" for ") +
                                                      prometheus_duration(o.queue_depth_for) + ".");
        add_common(r, "ticket", o, {});
        out.push_back(std::move(r));
    }
    gateway_alerts<R>(o, out);
    {
        prometheus_rule r;
        r.alert = "TargetDown";
        r.expr = selector("up", o.job.empty() ? std::vector<std::string>{} : std::vector{matcher("job", "=", o.job)}) +
                 " == 0";
        r.for_duration = o.target_down_for;
        r.annotations.emplace_back("summary", "Target {{ $labels.instance }} of job {{ $labels.job }} is down");
        r.annotations.emplace_back("description",
                                   "Prometheus could not scrape {{ $labels.instance }} (job "
                                   "{{ $labels.job }}) for " +
                                       prometheus_duration(o.target_down_for) + ".");
        add_common(r, "page", o, {});
        out.push_back(std::move(r));
    }
    return out;
}

// --- YAML ---------------------------------------------------------------------

// A YAML double-quoted scalar (a superset of JSON strings).
inline std::string yaml_string(std::string_view v) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (char ch : v) {
        const auto c = static_cast<unsigned char>(ch);
        switch (ch) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    out += "\\x";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += ch;
                }
        }
    }
    return out + "\"";
}

// `key: value` for one line, `key: |-` and an indented block for several.
inline void yaml_text(std::string& out, std::string_view indent, std::string_view key, std::string_view text) {
    out += indent;
    out += key;
    if (text.find('\n') == std::string_view::npos) {
        out += std::string(": ") + yaml_string(text) + "\n";
        return;
    }
    out += ": |-\n";
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t nl = std::min(text.find('\n', start), text.size());
        out += indent;
        out += "  ";
        out += text.substr(start, nl - start);
        out += '\n';
        start = nl + 1;
    }
}

inline void yaml_map(std::string& out, std::string_view indent, std::string_view key,
                     const std::vector<std::pair<std::string, std::string>>& entries) {
    if (entries.empty()) return;
    out += std::string(indent) + std::string(key) + ":\n";
    for (const auto& [k, v] : entries) out += std::string(indent) + "  " + k + ": " + yaml_string(v) + "\n";
}

}  // namespace detail

// The rule groups, as data (to_yaml() writes them).
template <class Registry>
std::vector<prometheus_rule_group> prometheus_rule_groups(const slo_set<Registry>& slos, const rules_options& o = {}) {
    constexpr std::string_view prefix = Registry::prefix();
    const std::string group = detail::group_name(prefix, o.group);
    std::vector<prometheus_rule_group> out;
    if (!slos.empty()) {
        prometheus_rule_group recording{group + "-slo-recording", o.evaluation_interval, {}};
        for (const slo_spec& s : slos.specs())
            for (std::chrono::seconds w : detail::recorded_windows(o.burn_rate_alerts)) {
                prometheus_rule r;
                r.record = detail::slo_record_name(prefix, w);
                r.expr = detail::slo_error_ratio(s, w);
                r.labels.emplace_back("slo", s.name());
                recording.rules.push_back(std::move(r));
            }
        out.push_back(std::move(recording));

        prometheus_rule_group alerts{group + "-slo-alerts", o.evaluation_interval, {}};
        for (const slo_spec& s : slos.specs())
            for (const burn_rate_alert& a : o.burn_rate_alerts)
                if (!a.windows.empty()) alerts.rules.push_back(detail::burn_rate_rule(prefix, s, a, o));
        out.push_back(std::move(alerts));
    }
    if (o.plain_alerts) out.push_back({group + "-alerts", o.evaluation_interval, detail::plain_alerts<Registry>(o)});
    return out;
}

// A Prometheus rule file (rule_files: in prometheus.yml; `promtool check rules`).
inline std::string to_yaml(const std::vector<prometheus_rule_group>& groups) {
    using detail::yaml_string;
    std::string out = "# Generated by llmetrics from the registry's family types; do not edit.\ngroups:\n";
    for (const prometheus_rule_group& g : groups) {
        out += std::string("  - name: ") + yaml_string(g.name) + "\n";
        if (g.interval.count() > 0) out += std::string("    interval: ") + prometheus_duration(g.interval) + "\n";
        out += "    rules:\n";
        for (const prometheus_rule& r : g.rules) {
            if (!r.record.empty())
                out += std::string("      - record: ") + yaml_string(r.record) + "\n";
            else
                out += std::string("      - alert: ") + yaml_string(r.alert) + "\n";
            detail::yaml_text(out, "        ", "expr", r.expr);
            if (r.for_duration.count() > 0)
                out += std::string("        for: ") + prometheus_duration(r.for_duration) + "\n";
            detail::yaml_map(out, "        ", "labels", r.labels);
            detail::yaml_map(out, "        ", "annotations", r.annotations);
        }
    }
    return out;
}

template <class Registry>
std::string prometheus_rules(const slo_set<Registry>& slos, const rules_options& o = {}) {
    return to_yaml(prometheus_rule_groups(slos, o));
}

}  // namespace llmetrics

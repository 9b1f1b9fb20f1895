#pragma once
// PromQL building blocks shared by the rules and the dashboard: durations,
// quoted strings, and the error-ratio expression of an SLO. Everything here
// writes text; names come from slo_specs and registries, never from callers.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "slo.hpp"

namespace llmetrics {

// A duration as Prometheus writes it, in its largest exact unit: 5m, 1h, 3d, 90s.
inline std::string prometheus_duration(std::chrono::seconds d) {
    const long long s = d.count() < 1 ? 1 : static_cast<long long>(d.count());
    long long n = s;
    char unit = 's';
    if (s % 86400 == 0)
        n = s / 86400, unit = 'd';
    else if (s % 3600 == 0)
        n = s / 3600, unit = 'h';
    else if (s % 60 == 0)
        n = s / 60, unit = 'm';
    char buf[24];
    char* end = std::to_chars(buf, buf + sizeof buf - 1, n).ptr;
    *end++ = unit;
    return std::string(buf, end);
}

namespace detail {

// A PromQL double-quoted string literal.
inline std::string promql_string(std::string_view v) {
    std::string out;
    out.reserve(v.size() + 2);
    out += '"';
    for (char c : v) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += c;
        }
    }
    out += '"';
    return out;
}

// A number for people and PromQL alike: at most 12 significant digits, so
// 1 - 0.999 reads 0.001 rather than 0.0010000000000000009.
inline std::string short_number(double v) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 12);
    return std::string(buf, r.ptr);
}

inline std::string join(const std::vector<std::string>& parts, std::string_view sep) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i) out += sep;
        out += parts[i];
    }
    return out;
}

// `metric{a="x", b!="y"}`, or `metric` without matchers.
inline std::string selector(std::string_view metric, const std::vector<std::string>& matchers = {}) {
    std::string out(metric);
    if (!matchers.empty()) out += std::string("{") + join(matchers, ", ") + "}";
    return out;
}

inline std::string matcher(std::string_view label, std::string_view op, std::string_view value) {
    return std::string(label) + std::string(op) + promql_string(value);
}

// `sum by (a, b) (inner)`, or `sum(inner)` without grouping.
inline std::string sum_by(const std::vector<std::string>& labels, const std::string& inner) {
    if (labels.empty()) return std::string("sum(") + inner + ")";
    return std::string("sum by (") + join(labels, ", ") + ") (" + inner + ")";
}

// The recorded error ratio of every SLO of a registry over one window:
// slo:<prefix>sli_error:ratio_rate<window>, told apart by the `slo` label.
inline std::string slo_record_name(std::string_view prefix, std::chrono::seconds window) {
    return std::string("slo:") + std::string(prefix) + "sli_error:ratio_rate" + prometheus_duration(window);
}

// The share of bad events over `window`, one series per group. Availability:
// bad / total, where a group without any bad series yet reads 0 rather than
// nothing (`or 0 * total`). Latency: 1 - (at or under the bound) / all.
inline std::string slo_error_ratio(const slo_spec& s, std::chrono::seconds window) {
    const std::string w = std::string("[") + prometheus_duration(window) + "]";
    if (s.kind() == slo_kind::availability) {
        const std::string total = sum_by(s.group_by(), std::string("rate(") + selector(s.metric()) + w + ")");
        const std::string bad =
            sum_by(s.group_by(),
                   std::string("rate(") + selector(s.metric(), {matcher(s.label(), "!=", s.good_value())}) + w + ")");
        return std::string("(\n  ") + bad + "\n  or\n  0 * " + total + "\n)\n/\n" + total;
    }
    const std::string good =
        sum_by(s.group_by(), std::string("rate(") +
                                 selector(s.metric() + "_bucket", {matcher("le", "=", s.threshold_le())}) + w + ")");
    const std::string all = sum_by(s.group_by(), std::string("rate(") + selector(s.metric() + "_count") + w + ")");
    return std::string("1 - (\n  ") + good + "\n  /\n  " + all + "\n)";
}

// What an SLO promises, in words: `99.9% of llm_router_model_inference_total
// events have status="success"`.
inline std::string slo_promise(const slo_spec& s) {
    std::string out = short_number(s.objective() * 100) + "% of ";
    if (s.kind() == slo_kind::availability)
        out += s.metric() + " events have " + s.label() + "=" + promql_string(s.good_value());
    else
        out += s.metric() + " observations are at most " + s.threshold_le() +
               " (bucket le=" + promql_string(s.threshold_le()) + ")";
    if (!s.group_by().empty()) out += std::string(", per ") + join(s.group_by(), ", ");
    return out;
}

}  // namespace detail
}  // namespace llmetrics

#pragma once
// PromQL over a histogram family, by the kind of buckets it has. A native
// histogram is one series per label set, read with histogram_quantile over
// rate(x) and histogram_count / histogram_sum; a classic one is `_bucket`
// series with `le`, `_count` and `_sum`. A family with both gets both queries
// joined by `or`: Prometheus started with --enable-feature=native-histograms
// keeps only the native part of such a family (unless the scrape config asks
// for the classic one too), one without the flag only the classic part, and
// the query answers in either case.
//
// `rate_of(suffix)` returns the rate expression of the family's series with
// that suffix ("" for the native series), so the rules (fixed windows) and the
// dashboard (Grafana variables) share the layout.

#include <string>
#include <string_view>
#include <vector>

#include "../promql.hpp"
#include "histogram_kind.hpp"

namespace llmetrics::detail {

// What a generated rule or panel needs from Prometheus for F, to say so.
template <class F>
std::string_view histogram_requirement() {
    if constexpr (!histogram_has_native<F>) return {};
    else if constexpr (histogram_has_classic<F>)
        return "with --enable-feature=native-histograms Prometheus keeps this family's native part, without it the "
               "classic one; the query reads either";
    else
        return "needs Prometheus 2.40 or later started with --enable-feature=native-histograms (a protobuf scrape)";
}

inline std::string either(const std::string& native, const std::string& classic) {
    if (native.empty()) return classic;
    if (classic.empty()) return native;
    return native + "\nor\n" + classic;
}

// A query of F's as the operand of a binary operator: `or` binds loosest, so
// the two-kind form needs parentheses.
template <class F>
std::string as_operand(const std::string& query) {
    if constexpr (histogram_has_native<F> && histogram_has_classic<F>) return "(\n" + query + "\n)";
    else return query;
}

// histogram_quantile(q, sum by (by) (...)) for each kind F has.
template <class F, class RateOf>
std::string quantile_query(std::string_view q, const std::vector<std::string>& by, RateOf&& rate_of) {
    std::string native, classic;
    if constexpr (histogram_has_native<F>)
        native = std::string("histogram_quantile(") + std::string(q) + ", " + sum_by(by, rate_of("")) + ")";
    if constexpr (histogram_has_classic<F>) {
        std::vector<std::string> with_le = by;
        with_le.push_back("le");
        classic = std::string("histogram_quantile(") + std::string(q) + ", " + sum_by(with_le, rate_of("_bucket")) + ")";
    }
    return either(native, classic);
}

// sum by (by) of the per-second rate of the observations' sum (`what` "sum")
// or count (`what` "count").
template <class F, class RateOf>
std::string rate_of_total(std::string_view what, const std::vector<std::string>& by, RateOf&& rate_of) {
    std::string native, classic;
    if constexpr (histogram_has_native<F>)
        native = sum_by(by, std::string("histogram_") + std::string(what) + "(" + rate_of("") + ")");
    if constexpr (histogram_has_classic<F>) classic = sum_by(by, rate_of(std::string("_") + std::string(what)));
    return either(native, classic);
}

}  // namespace llmetrics::detail

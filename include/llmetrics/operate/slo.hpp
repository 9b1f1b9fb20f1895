#pragma once
// Service level objectives declared against family types, so an objective can
// only name a family, label, value or bucket that exists:
//
//     namespace cat = llmetrics::catalog;
//     using inference_ok = lm::availability<cat::model_inference_total, "status", "success",
//                                           lm::by<"tenant_id">>;
//     using inference_fast = lm::latency<cat::model_inference_duration_seconds, 10>;
//
//     lm::slo_set<lm::catalog_registry> slos;
//     slos.add(lm::slo<inference_ok>{.name = "inference-availability", .objective = 0.999})
//         .add(lm::slo<inference_fast>{.name = "inference-latency", .objective = 0.99});
//
// An availability indicator counts good events (the label has the good value)
// against all events of a counter. A latency indicator counts the observations
// of a histogram at or under a threshold, which must be one of its bucket
// bounds: that share is read from the bucket, whose `le` text is the canonical
// spelling every exposition format uses (canonical_number()), so the rule
// matches the series byte for byte. `by<...>` groups the objective by labels
// (one error budget per tenant, say); without it the objective is global.
//
// slo_set::add() turns each objective into a slo_spec with the registry's full
// (prefixed) names; rules.hpp and dashboard.hpp read only slo_specs.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/buckets.hpp"
#include "../core/family.hpp"
#include "../core/fixed_string.hpp"
#include "../core/metric_type.hpp"
#include "../exposition/canonical_number.hpp"
#include "detail/histogram_kind.hpp"

namespace llmetrics {

// Labels an objective is grouped by; by<> (the default) is one global objective.
template <fixed_string... Labels>
struct by {
    static constexpr std::size_t size = sizeof...(Labels);
    static constexpr std::array<std::string_view, size> names{Labels.view()...};
};

enum class slo_kind { availability, latency };

namespace detail {

template <class T>
struct is_by : std::false_type {};
template <fixed_string... L>
struct is_by<by<L...>> : std::true_type {};

template <class F>
constexpr bool has_label(std::string_view name) {
    return F::label_names::index_of(name) < F::label_names::size;
}

template <class F, class By>
constexpr bool has_group_labels() {
    for (std::string_view l : By::names)
        if (!has_label<F>(l)) return false;
    return true;
}

template <class By>
constexpr bool group_labels_unique() {
    for (std::size_t i = 0; i < By::size; ++i)
        for (std::size_t j = i + 1; j < By::size; ++j)
            if (By::names[i] == By::names[j]) return false;
    return true;
}

// True when the label has no value_set, or `value` is in it. A missing label is
// reported by its own assertion, so it counts as true here.
template <class F>
constexpr bool value_allowed(std::string_view label, std::string_view value) {
    const std::size_t pos = F::label_names::index_of(label);
    if (pos >= F::label_names::size) return true;
    const std::size_t closed = F::layout::closed_sizes[pos];
    return closed == 0 || F::layout::closed_index(pos, value) < closed;
}

template <class F>
constexpr bool is_bucket_bound(double v) {
    for (double b : F::bounds)
        if (b == v) return true;
    return false;
}

template <class F>
constexpr bool is_histogram_family() {
    if constexpr (family_descriptor<F>)
        return F::type == metric_type::histogram;
    else
        return false;
}

template <class F>
constexpr bool is_counter_family() {
    if constexpr (family_descriptor<F>)
        return F::type == metric_type::counter;
    else
        return false;
}

}  // namespace detail

// Good events: samples of `Counter` whose label `Label` equals `Good`; total
// events: all its samples.
template <class Counter, fixed_string Label, fixed_string Good, class By = by<>>
struct availability {
    static_assert(detail::is_counter_family<Counter>(),
                  "llmetrics: availability<F, \"label\", \"good\"> needs a counter family (its label "
                  "tells good events from bad); for a histogram use latency<F, threshold>");
    static_assert(detail::is_by<By>::value,
                  "llmetrics: the last argument of availability<...> must be by<\"label\", ...>");

    using family = Counter;
    using group_by = By;
    static constexpr slo_kind kind = slo_kind::availability;
    static constexpr std::string_view label = Label.view();
    static constexpr std::string_view good_value = Good.view();

    static_assert(detail::has_label<Counter>(Label.view()),
                  "llmetrics: the availability label is not a label of the counter; name one of its "
                  "labels (e.g. \"status\")");
    static_assert(detail::value_allowed<Counter>(Label.view(), Good.view()),
                  "llmetrics: the good value is not in the label's value_set; use one of the values "
                  "the family declares (e.g. \"success\")");
    static_assert(!Good.view().empty(), "llmetrics: the good value of an availability SLO must not be empty");
    static_assert(detail::has_group_labels<Counter, By>(),
                  "llmetrics: by<...> names a label that is not a label of the family; group by "
                  "labels the family declares");
    static_assert(detail::group_labels_unique<By>(), "llmetrics: by<...> names a label twice");
    static_assert(
        [] {
            for (std::string_view l : By::names)
                if (l == Label.view()) return false;
            return true;
        }(),
        "llmetrics: an availability SLO cannot be grouped by its own good/bad label; drop it from by<...>");
};

// Good events: observations of `Histogram` at or under `Threshold` (a bucket
// bound); total events: all its observations.
template <class Histogram, bound Threshold, class By = by<>>
struct latency {
    static_assert(detail::is_histogram_family<Histogram>(),
                  "llmetrics: latency<F, threshold> needs a histogram family; for a counter use "
                  "availability<F, \"label\", \"good\">");
    static_assert(detail::is_by<By>::value, "llmetrics: the last argument of latency<...> must be by<\"label\", ...>");

    using family = Histogram;
    using group_by = By;
    static constexpr slo_kind kind = slo_kind::latency;
    static constexpr double threshold = Threshold.value();

    static_assert(detail::histogram_has_classic<Histogram>,
                  "llmetrics: a latency SLO reads the share under its threshold from a classic bucket "
                  "(le); declare the family with buckets<...> (native_* options may stay beside them)");
    static_assert(!detail::histogram_has_classic<Histogram> || detail::is_bucket_bound<Histogram>(Threshold.value()),
                  "llmetrics: a latency SLO's threshold must be one of the histogram's bucket bounds "
                  "(the share under it is read from that bucket); pick a listed bound or add it to "
                  "buckets<...>");
    static_assert(detail::has_group_labels<Histogram, By>(),
                  "llmetrics: by<...> names a label that is not a label of the family; group by "
                  "labels the family declares");
    static_assert(detail::group_labels_unique<By>(), "llmetrics: by<...> names a label twice");
};

namespace detail {
template <class T>
concept slo_indicator = requires {
    typename T::family;
    typename T::group_by;
    { T::kind } -> std::convertible_to<slo_kind>;
};
}  // namespace detail

// One objective: `objective` of the indicator's events are good, e.g. 0.999.
template <class Indicator>
struct slo {
    static_assert(detail::slo_indicator<Indicator>, "llmetrics: slo<I> takes availability<...> or latency<...>");
    using indicator = Indicator;

    std::string name{};         // the `slo` label of recorded series and alerts: [a-zA-Z0-9_.-]+
    double objective = 0.999;   // 0 < objective < 1; the error budget is 1 - objective
    std::string description{};  // optional, quoted in alert annotations and panel descriptions
};

// An objective resolved against a registry: full metric names, ready to write
// as PromQL. Only slo_set makes them, so every name in one exists.
class slo_spec {
public:
    const std::string& name() const noexcept { return name_; }
    const std::string& description() const noexcept { return description_; }
    double objective() const noexcept { return objective_; }
    double budget() const noexcept { return 1.0 - objective_; }
    slo_kind kind() const noexcept { return kind_; }
    // The family's full name (counters with `_total`, histograms without a suffix).
    const std::string& metric() const noexcept { return metric_; }
    const std::vector<std::string>& group_by() const noexcept { return group_by_; }
    // Availability: the label and its good value.
    const std::string& label() const noexcept { return label_; }
    const std::string& good_value() const noexcept { return good_value_; }
    // Latency: the bound, and its `le` text as every exposition writes it.
    double threshold() const noexcept { return threshold_; }
    const std::string& threshold_le() const noexcept { return threshold_le_; }

private:
    template <class R>
    friend class slo_set;
    slo_spec() = default;

    std::string name_, description_, metric_, label_, good_value_, threshold_le_;
    double objective_ = 0, threshold_ = 0;
    slo_kind kind_ = slo_kind::availability;
    std::vector<std::string> group_by_;
};

namespace detail {
inline bool valid_slo_name(std::string_view s) noexcept {
    if (s.empty()) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '.';
    });
}
}  // namespace detail

// The objectives of one registry type. add() checks at compile time that the
// registry holds the indicator's family, and at run time the name and objective
// (std::invalid_argument).
template <class Registry>
class slo_set {
public:
    using registry_type = Registry;

    template <class Indicator>
    slo_set& add(const slo<Indicator>& s) {
        using F = typename Indicator::family;
        if (!detail::valid_slo_name(s.name))
            throw std::invalid_argument(
                "llmetrics: an SLO name must be non-empty and use only "
                "[a-zA-Z0-9_.-], not '" +
                s.name + "'");
        if (!(s.objective > 0.0 && s.objective < 1.0))
            throw std::invalid_argument(std::string("llmetrics: SLO '") + s.name +
                                        "' needs an objective between 0 and 1 "
                                        "(exclusive), e.g. 0.999");
        for (const slo_spec& e : specs_)
            if (e.name() == s.name)
                throw std::invalid_argument(std::string("llmetrics: two SLOs are named '") + s.name + "'; rename one");
        slo_spec spec;
        spec.name_ = s.name;
        spec.description_ = s.description;
        spec.objective_ = s.objective;
        spec.kind_ = Indicator::kind;
        spec.metric_ = std::string(Registry::template name_of<F>());
        for (std::string_view l : Indicator::group_by::names) spec.group_by_.emplace_back(l);
        if constexpr (Indicator::kind == slo_kind::availability) {
            spec.label_ = std::string(Indicator::label);
            spec.good_value_ = std::string(Indicator::good_value);
        } else {
            spec.threshold_ = Indicator::threshold;
            spec.threshold_le_ = canonical_number(Indicator::threshold);
        }
        specs_.push_back(std::move(spec));
        return *this;
    }

    const std::vector<slo_spec>& specs() const noexcept { return specs_; }
    bool empty() const noexcept { return specs_.empty(); }
    static constexpr std::string_view prefix() noexcept { return Registry::prefix(); }

private:
    std::vector<slo_spec> specs_;
};

}  // namespace llmetrics

#pragma once
// Per-family options given after the labels (and buckets): a cardinality bound,
// a time-to-live for series, a unit, and closed value sets for labels
// (core/labels.hpp).

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "fixed_string.hpp"
#include "labels.hpp"

namespace llmetrics {

inline constexpr std::size_t default_max_series = 10'000;

// Label values longer than this are cut (at a UTF-8 boundary) before they are
// stored: the bound on what one series can cost, whoever picks its label values.
inline constexpr std::size_t max_label_value_bytes = 4096;

// The label value of the series that label sets past max_series<N> share.
inline constexpr std::string_view overflow_label_value = "__overflow__";

// At most N distinct label sets; further ones share one `__overflow__` series.
template <std::size_t N>
struct max_series {
    static_assert(N >= 1, "llmetrics: max_series<N> needs N >= 1");
    static constexpr std::size_t value = N;
};

// Label sets whose value has not changed for Seconds leave the exposition and
// give their storage to new label sets; handles kept by callers stay valid
// (storage/detail/series_map.hpp, "Expiry", says what is guaranteed).
// S >= 1 is checked with the family's other rules (core/family.hpp).
template <long long Seconds>
struct series_ttl {
    static constexpr std::int64_t seconds = Seconds;
};

// OpenMetrics unit; the family name must end in `_<unit>`.
template <fixed_string Unit>
struct unit {
    static constexpr std::string_view value = Unit.view();
};

namespace detail {

template <class T>
struct is_max_series : std::false_type {};
template <std::size_t N>
struct is_max_series<max_series<N>> : std::true_type {};

template <class T>
struct is_series_ttl : std::false_type {};
template <long long S>
struct is_series_ttl<series_ttl<S>> : std::true_type {};

template <class T>
struct is_unit : std::false_type {};
template <fixed_string U>
struct is_unit<unit<U>> : std::true_type {};

template <class T>
struct is_value_set : std::false_type {};
template <fixed_string L, fixed_string... V>
struct is_value_set<value_set<L, V...>> : std::true_type {};

template <class T>
inline constexpr bool is_option_v = is_max_series<T>::value || is_series_ttl<T>::value || is_unit<T>::value || is_value_set<T>::value;

template <class Option>
constexpr std::size_t max_series_of_one(std::size_t fallback) {
    if constexpr (is_max_series<Option>::value) return Option::value;
    else return fallback;
}
template <class... Options>
constexpr std::size_t max_series_of() {
    std::size_t n = default_max_series;
    ((n = max_series_of_one<Options>(n)), ...);
    return n;
}

// 0: the series never expire.
template <class Option>
constexpr std::int64_t series_ttl_of_one(std::int64_t fallback) {
    if constexpr (is_series_ttl<Option>::value) return Option::seconds;
    else return fallback;
}
template <class... Options>
constexpr bool series_ttl_valid() {
    return ((!is_series_ttl<Options>::value || series_ttl_of_one<Options>(0) >= 1) && ...);
}
template <class... Options>
constexpr std::int64_t series_ttl_of() {
    std::int64_t s = 0;
    ((s = series_ttl_of_one<Options>(s)), ...);
    return s;
}

template <class Option>
constexpr std::string_view unit_of_one() {
    if constexpr (is_unit<Option>::value) return Option::value;
    else return {};
}
template <class... Options>
constexpr std::string_view unit_of() {
    std::string_view u;
    ((u = unit_of_one<Options>().empty() ? u : unit_of_one<Options>()), ...);
    return u;
}

}  // namespace detail
}  // namespace llmetrics

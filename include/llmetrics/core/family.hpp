#pragma once
// Family descriptors: `counter<Name, Help, labels<...>, Options...>`, `gauge<...>`
// and `histogram<Name, Help, labels<...>, buckets<...>, Options...>`. A descriptor
// is a type with no state; every rule of the Prometheus data model that can be
// checked when it is declared is checked here, with a message saying how to fix it.
// (There is no summary: client-side quantiles cannot be aggregated across
// instances, and histograms cover the tutorial's needs.)

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "buckets.hpp"
#include "detail/name_rules.hpp"
#include "fixed_string.hpp"
#include "labels.hpp"
#include "metric_type.hpp"
#include "native_options.hpp"
#include "options.hpp"

namespace llmetrics {

namespace detail {

template <class T>
struct is_labels : std::false_type {};
template <fixed_string... N>
struct is_labels<labels<N...>> : std::true_type {};

template <class O>
constexpr std::string_view value_set_label() {
    if constexpr (is_value_set<O>::value) return O::label;
    else return {};
}

// Maps each label position to its value_set (or none), and sizes the fixed table
// of closed-set combinations.
template <class Labels, class... Options>
struct label_layout {
    static constexpr std::size_t size = Labels::size;

    template <class O>
    static constexpr bool set_for(std::string_view name) {
        if constexpr (is_value_set<O>::value) return O::label == name;
        else return false;
    }
    template <class O>
    static constexpr std::size_t set_size() {
        if constexpr (is_value_set<O>::value) return O::size;
        else return 0;
    }

    // Number of closed values for each position (0 = free-form).
    static constexpr std::array<std::size_t, size> closed_sizes = [] {
        std::array<std::size_t, size> out{};
        for (std::size_t i = 0; i < size; ++i)
            ((out[i] = set_for<Options>(Labels::names[i]) ? set_size<Options>() : out[i]), ...);
        return out;
    }();

    static constexpr std::size_t closed_count = [] {
        std::size_t n = 0;
        for (std::size_t s : closed_sizes) n += s != 0;
        return n;
    }();
    static constexpr std::size_t dynamic_count = size - closed_count;

    static constexpr std::size_t combinations = [] {
        std::size_t n = 1;
        for (std::size_t s : closed_sizes)
            if (s) n *= s;
        return n;
    }();

    // Every value_set names a declared label, and each label has at most one set.
    static constexpr bool sets_match_labels = [] {
        bool ok = true;
        ((ok = ok && (!is_value_set<Options>::value ||
                      Labels::index_of(value_set_label<Options>()) < size)),
         ...);
        return ok;
    }();
    static constexpr bool sets_unique = [] {
        std::size_t declared = (std::size_t{0} + ... + std::size_t{is_value_set<Options>::value});
        return declared == closed_count;
    }();

    // Value text of closed value `v` at label position `pos`.
    static constexpr std::string_view closed_value([[maybe_unused]] std::size_t pos, [[maybe_unused]] std::size_t v) {
        std::string_view out;
        ((out = set_for<Options>(Labels::names[pos]) ? closed_value_of<Options>(v) : out), ...);
        return out;
    }
    template <class O>
    static constexpr std::string_view closed_value_of([[maybe_unused]] std::size_t v) {
        if constexpr (is_value_set<O>::value) return v < O::size ? O::values[v] : std::string_view{};
        else return {};
    }
    // Index of `value` in the set of label position `pos`; set size when absent.
    static constexpr std::size_t closed_index(std::size_t pos, std::string_view value) {
        for (std::size_t v = 0; v < closed_sizes[pos]; ++v)
            if (closed_value(pos, v) == value) return v;
        return closed_sizes[pos];
    }
};

// Which family rule a declaration breaks first (0: none). The descriptors below
// assert on it in their own body, so an error names the family, comes once, and
// the registry that instantiates it adds one note only.
enum class family_error {
    none, not_labels, unknown_option, series_ttl_range, metric_name, label_name, label_reserved, label_duplicate,
    set_unknown_label, set_repeated, set_combinations, unit_suffix, counter_suffix,
    not_buckets, label_le, histogram_suffix, buckets_order, native_not_histogram, native_schema_range,
    native_max_buckets_range, native_zero_negative, native_max_zero_below
};

// The "buckets" of a native-only histogram: no classic part.
struct no_classic_buckets {
    static constexpr std::array<double, 0> bounds{};
};

template <class T>
struct is_bucket_list : std::false_type {};
template <bound... B>
struct is_bucket_list<buckets<B...>> : std::true_type {};
template <bound S, bound W, std::size_t C>
struct is_bucket_list<linear_buckets<S, W, C>> : std::true_type {};
template <bound S, bound F, std::size_t C>
struct is_bucket_list<exponential_buckets<S, F, C>> : std::true_type {};
template <>
struct is_bucket_list<no_classic_buckets> : std::true_type {};

template <fixed_string Name, class Labels, metric_type Type, class Buckets, class... Options>
constexpr family_error first_family_error() {
    using E = family_error;
    if constexpr (!is_labels<Labels>::value) {
        return E::not_labels;
    } else if constexpr (!((is_option_v<Options> || is_native_option_v<Options>) && ...)) {
        return E::unknown_option;
    } else if constexpr (!series_ttl_valid<Options...>()) {
        return E::series_ttl_range;
    } else if constexpr (Type != metric_type::histogram && native_config<Options...>::any) {
        return E::native_not_histogram;
    } else {
        using layout = label_layout<Labels, Options...>;
        constexpr std::string_view name = Name.view();
        constexpr std::string_view unit = unit_of<Options...>();
        if (!is_valid_metric_name(name)) return E::metric_name;
        for (std::string_view l : Labels::names)
            if (!is_valid_label_name(l)) return E::label_name;
        for (std::string_view l : Labels::names)
            if (is_reserved_label_name(l)) return E::label_reserved;
        if (!Labels::unique) return E::label_duplicate;
        if (!layout::sets_match_labels) return E::set_unknown_label;
        if (!layout::sets_unique) return E::set_repeated;
        if (layout::combinations > 4096) return E::set_combinations;
        if (!unit.empty() && !ends_with(name, unit)) return E::unit_suffix;
        if (Type == metric_type::counter && !(ends_with(name, "_total") && name.size() > 6))
            return E::counter_suffix;
        if constexpr (Type == metric_type::histogram) {
            if constexpr (!is_bucket_list<Buckets>::value) {
                return E::not_buckets;
            } else {
                if (Labels::index_of("le") != Labels::size) return E::label_le;
                if (ends_with(name, "_bucket") || ends_with(name, "_count") || ends_with(name, "_sum") ||
                    ends_with(name, "_total"))
                    return E::histogram_suffix;
                if (!strictly_increasing(Buckets::bounds)) return E::buckets_order;
                using native = native_config<Options...>;
                if (native::schema < native_min_schema || native::schema > native_max_schema)
                    return E::native_schema_range;
                if (native::max_buckets < 1 || native::max_buckets > 65536) return E::native_max_buckets_range;
                if (!(native::zero_threshold >= 0)) return E::native_zero_negative;
                if (native::max_zero_threshold < native::zero_threshold) return E::native_max_zero_below;
            }
        }
        return E::none;
    }
}

template <fixed_string Name, fixed_string Help, class Labels, metric_type Type, class... Options>
struct family_base {
    static constexpr auto name_string = Name;
    static constexpr std::string_view name = Name.view();
    static constexpr std::string_view help = Help.view();
    static constexpr metric_type type = Type;
    using label_names = Labels;
    using layout = label_layout<Labels, Options...>;
    static constexpr std::size_t max_series = max_series_of<Options...>();
    static constexpr std::int64_t series_ttl_seconds = series_ttl_of<Options...>();
    static constexpr std::string_view unit = unit_of<Options...>();
};

}  // namespace detail

// The checks shared by every family, repeated in each descriptor's body (not in
// family_base) so that a failing one is a single instantiation away from the user.
template <fixed_string Name, fixed_string Help, class Labels = labels<>, class... Options>
struct counter : detail::family_base<Name, Help, Labels, metric_type::counter, Options...> {
    static constexpr detail::family_error llmetrics_error =
        detail::first_family_error<Name, Labels, metric_type::counter, void, Options...>();
    static_assert(llmetrics_error != detail::family_error::not_labels,
                  "llmetrics: the third template argument of a family must be labels<...> "
                  "(use labels<> for a family without labels)");
    static_assert(llmetrics_error != detail::family_error::unknown_option,
                  "llmetrics: unknown family option; use max_series<N>, series_ttl<S>, unit<\"...\"> or "
                  "value_set<\"label\", \"value\"...>");
    static_assert(llmetrics_error != detail::family_error::series_ttl_range,
                  "llmetrics: series_ttl<S> needs S >= 1 (seconds); leave the option out for series "
                  "that never expire");
    static_assert(llmetrics_error != detail::family_error::native_not_histogram,
                  "llmetrics: native_* options belong to histograms; declare the family as "
                  "native_histogram<...> or histogram<...>, or remove the option");
    static_assert(llmetrics_error != detail::family_error::metric_name,
                  "llmetrics: a metric name must match [a-zA-Z_:][a-zA-Z0-9_:]* (no leading "
                  "digit, no spaces or dashes); rename the family");
    static_assert(llmetrics_error != detail::family_error::label_name,
                  "llmetrics: a label name must match [a-zA-Z_][a-zA-Z0-9_]* (no colons, no "
                  "leading digit, no spaces); rename the label");
    static_assert(llmetrics_error != detail::family_error::label_reserved,
                  "llmetrics: label names starting with '__' are reserved for Prometheus; "
                  "rename the label");
    static_assert(llmetrics_error != detail::family_error::label_duplicate,
                  "llmetrics: a label name appears twice in labels<...>; declare each label once");
    static_assert(llmetrics_error != detail::family_error::set_unknown_label,
                  "llmetrics: value_set<\"label\", ...> names a label that is not in labels<...>");
    static_assert(llmetrics_error != detail::family_error::set_repeated,
                  "llmetrics: a label has more than one value_set; merge them into one");
    static_assert(llmetrics_error != detail::family_error::set_combinations,
                  "llmetrics: the value sets allow more than 4096 combinations; declare fewer "
                  "closed labels");
    static_assert(llmetrics_error != detail::family_error::unit_suffix,
                  "llmetrics: with unit<\"u\">, the metric name must end in \"_u\" (OpenMetrics)");
    static_assert(llmetrics_error != detail::family_error::counter_suffix,
                  "llmetrics: a counter's name must end in \"_total\"; rename it, e.g. "
                  "\"requests\" -> \"requests_total\"");
};

template <fixed_string Name, fixed_string Help, class Labels = labels<>, class... Options>
struct gauge : detail::family_base<Name, Help, Labels, metric_type::gauge, Options...> {
    static constexpr detail::family_error llmetrics_error =
        detail::first_family_error<Name, Labels, metric_type::gauge, void, Options...>();
    static_assert(llmetrics_error != detail::family_error::not_labels,
                  "llmetrics: the third template argument of a family must be labels<...> "
                  "(use labels<> for a family without labels)");
    static_assert(llmetrics_error != detail::family_error::unknown_option,
                  "llmetrics: unknown family option; use max_series<N>, series_ttl<S>, unit<\"...\"> or "
                  "value_set<\"label\", \"value\"...>");
    static_assert(llmetrics_error != detail::family_error::series_ttl_range,
                  "llmetrics: series_ttl<S> needs S >= 1 (seconds); leave the option out for series "
                  "that never expire");
    static_assert(llmetrics_error != detail::family_error::native_not_histogram,
                  "llmetrics: native_* options belong to histograms; declare the family as "
                  "native_histogram<...> or histogram<...>, or remove the option");
    static_assert(llmetrics_error != detail::family_error::metric_name,
                  "llmetrics: a metric name must match [a-zA-Z_:][a-zA-Z0-9_:]* (no leading "
                  "digit, no spaces or dashes); rename the family");
    static_assert(llmetrics_error != detail::family_error::label_name,
                  "llmetrics: a label name must match [a-zA-Z_][a-zA-Z0-9_]* (no colons, no "
                  "leading digit, no spaces); rename the label");
    static_assert(llmetrics_error != detail::family_error::label_reserved,
                  "llmetrics: label names starting with '__' are reserved for Prometheus; "
                  "rename the label");
    static_assert(llmetrics_error != detail::family_error::label_duplicate,
                  "llmetrics: a label name appears twice in labels<...>; declare each label once");
    static_assert(llmetrics_error != detail::family_error::set_unknown_label,
                  "llmetrics: value_set<\"label\", ...> names a label that is not in labels<...>");
    static_assert(llmetrics_error != detail::family_error::set_repeated,
                  "llmetrics: a label has more than one value_set; merge them into one");
    static_assert(llmetrics_error != detail::family_error::set_combinations,
                  "llmetrics: the value sets allow more than 4096 combinations; declare fewer "
                  "closed labels");
    static_assert(llmetrics_error != detail::family_error::unit_suffix,
                  "llmetrics: with unit<\"u\">, the metric name must end in \"_u\" (OpenMetrics)");
};

template <fixed_string Name, fixed_string Help, class Labels, class Buckets, class... Options>
struct histogram : detail::family_base<Name, Help, Labels, metric_type::histogram, Options...> {
    static constexpr detail::family_error llmetrics_error =
        detail::first_family_error<Name, Labels, metric_type::histogram, Buckets, Options...>();
    static_assert(llmetrics_error != detail::family_error::not_labels,
                  "llmetrics: the third template argument of a family must be labels<...> "
                  "(use labels<> for a family without labels)");
    static_assert(llmetrics_error != detail::family_error::unknown_option,
                  "llmetrics: unknown family option; use max_series<N>, series_ttl<S>, unit<\"...\">, "
                  "value_set<\"label\", \"value\"...> or a native_* option (core/native_options.hpp)");
    static_assert(llmetrics_error != detail::family_error::series_ttl_range,
                  "llmetrics: series_ttl<S> needs S >= 1 (seconds); leave the option out for series "
                  "that never expire");
    static_assert(llmetrics_error != detail::family_error::metric_name,
                  "llmetrics: a metric name must match [a-zA-Z_:][a-zA-Z0-9_:]* (no leading "
                  "digit, no spaces or dashes); rename the family");
    static_assert(llmetrics_error != detail::family_error::label_name,
                  "llmetrics: a label name must match [a-zA-Z_][a-zA-Z0-9_]* (no colons, no "
                  "leading digit, no spaces); rename the label");
    static_assert(llmetrics_error != detail::family_error::label_reserved,
                  "llmetrics: label names starting with '__' are reserved for Prometheus; "
                  "rename the label");
    static_assert(llmetrics_error != detail::family_error::label_duplicate,
                  "llmetrics: a label name appears twice in labels<...>; declare each label once");
    static_assert(llmetrics_error != detail::family_error::set_unknown_label,
                  "llmetrics: value_set<\"label\", ...> names a label that is not in labels<...>");
    static_assert(llmetrics_error != detail::family_error::set_repeated,
                  "llmetrics: a label has more than one value_set; merge them into one");
    static_assert(llmetrics_error != detail::family_error::set_combinations,
                  "llmetrics: the value sets allow more than 4096 combinations; declare fewer "
                  "closed labels");
    static_assert(llmetrics_error != detail::family_error::unit_suffix,
                  "llmetrics: with unit<\"u\">, the metric name must end in \"_u\" (OpenMetrics)");
    static_assert(llmetrics_error != detail::family_error::not_buckets,
                  "llmetrics: the fourth template argument of a histogram must be buckets<...>, "
                  "linear_buckets<...> or exponential_buckets<...>");
    static_assert(llmetrics_error != detail::family_error::label_le,
                  "llmetrics: \"le\" is reserved for histogram buckets; rename the label");
    static_assert(llmetrics_error != detail::family_error::histogram_suffix,
                  "llmetrics: a histogram's name must not end in _bucket, _count, _sum or _total "
                  "(those suffixes name its samples)");
    static_assert(llmetrics_error != detail::family_error::buckets_order,
                  "llmetrics: bucket bounds must be strictly increasing (no repeats); sort them "
                  "and remove duplicates");
    static_assert(llmetrics_error != detail::family_error::native_schema_range,
                  "llmetrics: native_schema<S> needs S in -4 ... 8 (3: 8 buckets per octave)");
    static_assert(llmetrics_error != detail::family_error::native_max_buckets_range,
                  "llmetrics: native_max_buckets<N> needs 1 <= N <= 65536 (160 is the usual limit)");
    static_assert(llmetrics_error != detail::family_error::native_zero_negative,
                  "llmetrics: native_zero_threshold needs a threshold >= 0");
    static_assert(llmetrics_error != detail::family_error::native_max_zero_below,
                  "llmetrics: native_max_zero_threshold is below native_zero_threshold; raise it");
    // Through is_bucket_list, so a wrong fourth argument gives only the message above.
    static constexpr auto bounds = [] {
        if constexpr (detail::is_bucket_list<Buckets>::value) return Buckets::bounds;
        else return std::array<double, 0>{};
    }();
    // The native part (storage reads these): present with any native_* option.
    using native_options = detail::native_config<Options...>;
    static constexpr bool native = native_options::any || std::is_same_v<Buckets, detail::no_classic_buckets>;
    static constexpr bool classic = !std::is_same_v<Buckets, detail::no_classic_buckets>;
    static constexpr int native_schema = native_options::schema;
    static constexpr std::size_t native_max_buckets = native_options::max_buckets;
    static constexpr double native_zero_threshold = native_options::zero_threshold;
    static constexpr double native_max_zero_threshold = native_options::max_zero_threshold;
    static constexpr std::uint32_t native_min_reset_seconds = native_options::min_reset_seconds;
};

// A histogram with native buckets only (core/native_options.hpp lists its
// options); the same rules as histogram<...> apply to its name and labels. An
// alias, so a mistake is reported by histogram<...> itself, one note from the user.
template <fixed_string Name, fixed_string Help, class Labels = labels<>, class... Options>
using native_histogram = histogram<Name, Help, Labels, detail::no_classic_buckets, Options...>;

namespace detail {
// A cheap test the registry can use: it reads members, it checks no rule again.
template <class F>
concept family_descriptor = requires {
    { F::name } -> std::convertible_to<std::string_view>;
    { F::type } -> std::convertible_to<metric_type>;
    typename F::layout;
};
}  // namespace detail

}  // namespace llmetrics

#pragma once
// Family descriptors: `counter<Name, Help, labels<...>, Options...>`, `gauge<...>`
// and `histogram<Name, Help, labels<...>, buckets<...>, Options...>`. A descriptor
// is a type with no state; every rule of the Prometheus data model that can be
// checked when it is declared is checked here, with a message saying how to fix it.
// (There is no summary: client-side quantiles cannot be aggregated across
// instances, and histograms cover the tutorial's needs.)

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "buckets.hpp"
#include "detail/name_rules.hpp"
#include "fixed_string.hpp"
#include "labels.hpp"
#include "metric_type.hpp"
#include "options.hpp"

namespace llmetrics {

namespace detail {

template <class T>
struct is_labels : std::false_type {};
template <fixed_string... N>
struct is_labels<labels<N...>> : std::true_type {};

template <class T>
concept bucket_list = requires {
    { T::bounds.size() } -> std::convertible_to<std::size_t>;
    { T::bounds[0] } -> std::convertible_to<double>;
};

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

template <fixed_string Name, fixed_string Help, class Labels, metric_type Type, class... Options>
struct family_base {
    static constexpr auto name_string = Name;
    static constexpr std::string_view name = Name.view();
    static constexpr std::string_view help = Help.view();
    static constexpr metric_type type = Type;
    using label_names = Labels;
    using layout = label_layout<Labels, Options...>;
    static constexpr std::size_t max_series = max_series_of<Options...>();
    static constexpr std::string_view unit = unit_of<Options...>();

    static_assert(is_labels<Labels>::value,
                  "llmetrics: the third template argument of a family must be labels<...> "
                  "(use labels<> for a family without labels)");
    static_assert((is_option_v<Options> && ...),
                  "llmetrics: unknown family option; use max_series<N>, unit<\"...\"> or "
                  "value_set<\"label\", \"value\"...>");
    static_assert(is_valid_metric_name(Name.view()),
                  "llmetrics: a metric name must match [a-zA-Z_:][a-zA-Z0-9_:]* (no leading "
                  "digit, no spaces or dashes); rename the family");
    static_assert(layout::sets_match_labels,
                  "llmetrics: value_set<\"label\", ...> names a label that is not in labels<...>");
    static_assert(layout::sets_unique,
                  "llmetrics: a label has more than one value_set; merge them into one");
    static_assert(layout::combinations <= 4096,
                  "llmetrics: the value sets allow more than 4096 combinations; declare fewer "
                  "closed labels");
    static_assert(unit.empty() || ends_with(Name.view(), unit),
                  "llmetrics: with unit<\"u\">, the metric name must end in \"_u\" (OpenMetrics)");
};

}  // namespace detail

template <fixed_string Name, fixed_string Help, class Labels = labels<>, class... Options>
struct counter : detail::family_base<Name, Help, Labels, metric_type::counter, Options...> {
    static_assert(detail::ends_with(Name.view(), "_total") && Name.size() > 6,
                  "llmetrics: a counter's name must end in \"_total\"; rename it, e.g. "
                  "\"requests\" -> \"requests_total\"");
};

template <fixed_string Name, fixed_string Help, class Labels = labels<>, class... Options>
struct gauge : detail::family_base<Name, Help, Labels, metric_type::gauge, Options...> {};

template <fixed_string Name, fixed_string Help, class Labels, class Buckets, class... Options>
struct histogram : detail::family_base<Name, Help, Labels, metric_type::histogram, Options...> {
    static_assert(detail::bucket_list<Buckets>,
                  "llmetrics: the fourth template argument of a histogram must be buckets<...>, "
                  "linear_buckets<...> or exponential_buckets<...>");
    static_assert(Labels::index_of("le") == Labels::size,
                  "llmetrics: \"le\" is reserved for histogram buckets; rename the label");
    static_assert(!detail::ends_with(Name.view(), "_bucket") && !detail::ends_with(Name.view(), "_count") &&
                      !detail::ends_with(Name.view(), "_sum") && !detail::ends_with(Name.view(), "_total"),
                  "llmetrics: a histogram's name must not end in _bucket, _count, _sum or _total "
                  "(those suffixes name its samples)");
    static constexpr auto bounds = Buckets::bounds;
};

namespace detail {
template <class F>
concept family_descriptor = requires {
    { F::name } -> std::convertible_to<std::string_view>;
    { F::type } -> std::convertible_to<metric_type>;
    typename F::layout;
};
}  // namespace detail

}  // namespace llmetrics

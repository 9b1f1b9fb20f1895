// llmetrics 0.1.0: compile-time typed Prometheus metrics for C++20.
//
// GENERATED FILE, DO NOT EDIT. This is include/llmetrics/llmetrics.hpp with every
// llmetrics header inlined; regenerate it with `python3 scripts/amalgamate.py`
// after changing anything under include/ (a test fails while it is out of date).
// Needs Boost (Hana), {fmt} (define FMT_HEADER_ONLY or link fmt) and nlohmann_json.
// The HTTP exposer (serve/) is not included, as in the umbrella header.
#pragma once

// ---- begin llmetrics/llmetrics.hpp ----
// llmetrics: compile-time typed Prometheus metrics for C++20.
// Umbrella header: everything except the HTTP server (include
// <llmetrics/serve/exposer.hpp> for that; it needs Boost.Beast).


// ---- begin llmetrics/core/metric_type.hpp ----
// The metric types llmetrics stores and exposes.

#include <string_view>

namespace llmetrics {

enum class metric_type { counter, gauge, histogram, info, unknown };

constexpr std::string_view to_string(metric_type type) noexcept {
    switch (type) {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
    case metric_type::histogram: return "histogram";
    case metric_type::info: return "info";
    case metric_type::unknown: break;
    }
    return "unknown";
}

}  // namespace llmetrics
// ---- end llmetrics/core/metric_type.hpp ----

// ---- begin llmetrics/core/fixed_string.hpp ----
// A string usable as a template argument: how family names, help texts and label
// names become part of a family's type.

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace llmetrics {

template <std::size_t N>
struct fixed_string {
    char data[N + 1]{};

    constexpr fixed_string() = default;
    constexpr fixed_string(const char (&text)[N + 1]) { std::copy_n(text, N + 1, data); }

    static constexpr std::size_t size() noexcept { return N; }
    constexpr std::string_view view() const noexcept { return {data, N}; }
    constexpr operator std::string_view() const noexcept { return view(); }
    constexpr const char* c_str() const noexcept { return data; }

    template <std::size_t M>
    constexpr fixed_string<N + M> operator+(const fixed_string<M>& rhs) const {
        fixed_string<N + M> out;
        std::copy_n(data, N, out.data);
        std::copy_n(rhs.data, M + 1, out.data + N);
        return out;
    }
    template <std::size_t M>
    constexpr bool operator==(const fixed_string<M>& rhs) const noexcept {
        return view() == rhs.view();
    }
};

template <std::size_t N>
fixed_string(const char (&)[N]) -> fixed_string<N - 1>;

}  // namespace llmetrics
// ---- end llmetrics/core/fixed_string.hpp ----

// ---- begin llmetrics/core/labels.hpp ----
// Label declarations. A family declares its label names in order with
// `labels<"method", "route">`; a label whose values form a closed set is declared
// with `value_set<"status", "success", "error">` beside it, which turns that label
// into an index into a fixed table instead of part of the lookup key.

#include <array>
#include <cstddef>
#include <string_view>


// ---- begin llmetrics/core/name_rules.hpp ----
// The Prometheus data model's rules for metric and label names, as constexpr
// predicates so families can be checked when they are declared.

#include <string_view>

namespace llmetrics::detail {

constexpr bool is_ascii_letter(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_ascii_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// [a-zA-Z_:][a-zA-Z0-9_:]*
constexpr bool is_valid_metric_name(std::string_view name) noexcept {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool ok = is_ascii_letter(c) || c == '_' || c == ':' || (i > 0 && is_ascii_digit(c));
        if (!ok) return false;
    }
    return true;
}

// [a-zA-Z_][a-zA-Z0-9_]*
constexpr bool is_valid_label_name(std::string_view name) noexcept {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool ok = is_ascii_letter(c) || c == '_' || (i > 0 && is_ascii_digit(c));
        if (!ok) return false;
    }
    return true;
}

constexpr bool is_reserved_label_name(std::string_view name) noexcept {
    return name.size() >= 2 && name[0] == '_' && name[1] == '_';
}

constexpr bool ends_with(std::string_view text, std::string_view suffix) noexcept {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace llmetrics::detail
// ---- end llmetrics/core/name_rules.hpp ----

namespace llmetrics {

template <fixed_string... Names>
struct labels {
    static constexpr std::size_t size = sizeof...(Names);
    static constexpr std::array<std::string_view, size> names{Names.view()...};

    static constexpr std::size_t index_of(std::string_view name) noexcept {
        for (std::size_t i = 0; i < size; ++i)
            if (names[i] == name) return i;
        return size;
    }

    static_assert((detail::is_valid_label_name(Names.view()) && ...),
                  "llmetrics: a label name must match [a-zA-Z_][a-zA-Z0-9_]* (no colons, no "
                  "leading digit, no spaces); rename the label");
    static_assert(!(detail::is_reserved_label_name(Names.view()) || ...),
                  "llmetrics: label names starting with '__' are reserved for Prometheus; "
                  "rename the label");
    static constexpr bool unique = [] {
        for (std::size_t i = 0; i < size; ++i)
            for (std::size_t j = i + 1; j < size; ++j)
                if (names[i] == names[j]) return false;
        return true;
    }();
    static_assert(unique, "llmetrics: a label name appears twice in labels<...>; "
                          "declare each label once");
};

// Declares the closed set of values a label may take.
template <fixed_string Label, fixed_string... Values>
struct value_set {
    static constexpr std::string_view label = Label.view();
    static constexpr std::size_t size = sizeof...(Values);
    static constexpr std::array<std::string_view, size> values{Values.view()...};

    static constexpr std::size_t index_of(std::string_view value) noexcept {
        for (std::size_t i = 0; i < size; ++i)
            if (values[i] == value) return i;
        return size;
    }

    static_assert(size > 0, "llmetrics: value_set<Label, Values...> needs at least one value");
    static constexpr bool unique = [] {
        for (std::size_t i = 0; i < size; ++i)
            for (std::size_t j = i + 1; j < size; ++j)
                if (values[i] == values[j]) return false;
        return true;
    }();
    static_assert(unique, "llmetrics: a value appears twice in value_set<...>; list each once");
};

// A label value known at compile time: `family.labels(lm::value<"success">)`.
// For a label with a value_set it is checked against the set when compiled.
template <fixed_string Value>
struct static_value {
    static constexpr std::string_view view = Value.view();
};
template <fixed_string Value>
inline constexpr static_value<Value> value{};

// A value given by label name: `family.labels(lm::label<"route">{"/chat"}, ...)`.
// Names are matched against the declaration at compile time, in any order.
template <fixed_string Name>
struct label {
    static constexpr std::string_view name = Name.view();
    std::string_view value;
};

}  // namespace llmetrics
// ---- end llmetrics/core/labels.hpp ----

// ---- begin llmetrics/core/buckets.hpp ----
// Histogram bucket bounds as template arguments. Clang 14 has no floating-point
// template parameters, so a bound is a structural decimal (mantissa x 10^exponent)
// that converts from an integer, a double (`buckets<0.1, 0.5, 1>`) or a decimal
// string (`buckets<"0.1", "0.5">`); all three give the same bounds. Bounds are
// exact for up to 17 significant digits and magnitudes from 1e-22 to 1e22;
// others that do not round-trip are rejected when compiling.

#include <array>
#include <cstddef>
#include <cstdint>

namespace llmetrics {

namespace detail {

// 10^n for n >= 0; exact up to 10^22, so m / pow10(n) is correctly rounded there.
constexpr double pow10(int n) noexcept {
    double r = 1.0;
    for (int i = 0; i < n && i < 308; ++i) r *= 10.0;  // no overflow to inf
    return r;
}

constexpr double decimal_to_double(std::int64_t mantissa, int exponent) noexcept {
    const double m = static_cast<double>(mantissa);
    return exponent >= 0 ? m * pow10(exponent) : m / pow10(-exponent);
}

// Whether 10^e <= a, for a > 0.
constexpr bool pow10_at_most(int e, double a) noexcept {
    return e >= 0 ? pow10(e) <= a : 1.0 <= a * pow10(-e);
}

constexpr bool is_finite(double v) noexcept {
    return v == v && v <= 1.7976931348623157e308 && v >= -1.7976931348623157e308;
}

[[noreturn]] inline void bucket_bound_error(const char*) { throw 0; }

}  // namespace detail

struct bound {
    std::int64_t mantissa = 0;
    int exponent = 0;

    constexpr bound(int v) : mantissa(v) {}
    constexpr bound(long v) : mantissa(v) {}
    constexpr bound(long long v) : mantissa(v) {}

    constexpr bound(double v) {
        if (!detail::is_finite(v))
            detail::bucket_bound_error("llmetrics: bucket bounds must be finite numbers");
        if (v == 0) return;
        const double a = v < 0 ? -v : v;
        int e10 = 0;  // about 10^(e10-1) <= a < 10^e10; the round trip below settles the rest
        while (e10 < 320 && detail::pow10_at_most(e10, a)) ++e10;
        while (e10 > -330 && !detail::pow10_at_most(e10 - 1, a)) --e10;
        for (int digits = 1; digits <= 17; ++digits) {
            const int exp = e10 - digits;
            const double scaled = exp >= 0 ? a / detail::pow10(exp) : a * detail::pow10(-exp);
            const auto m = static_cast<std::int64_t>(scaled + 0.5);
            for (std::int64_t c : {m, m - 1, m + 1}) {
                if (c > 0 && detail::decimal_to_double(c, exp) == a) {
                    mantissa = v < 0 ? -c : c;
                    exponent = exp;
                    return;
                }
            }
        }
        detail::bucket_bound_error("llmetrics: bucket bound cannot be represented exactly");
    }

    // A decimal such as "0.1", "-2.5", "1e-05" or "100000".
    template <std::size_t N>
    constexpr bound(const char (&text)[N]) {
        std::size_t i = 0;
        bool negative = false;
        if (i < N - 1 && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
        bool any_digit = false;
        bool after_point = false;
        for (; i < N - 1; ++i) {
            const char c = text[i];
            if (c >= '0' && c <= '9') {
                any_digit = true;
                if (mantissa > 99'999'999'999'999'999LL / 10)
                    detail::bucket_bound_error("llmetrics: bucket bound has too many digits");
                mantissa = mantissa * 10 + (c - '0');
                if (after_point) --exponent;
            } else if (c == '.' && !after_point) {
                after_point = true;
            } else {
                break;
            }
        }
        if (i < N - 1 && (text[i] == 'e' || text[i] == 'E')) {
            ++i;
            bool negative_exp = false;
            if (i < N - 1 && (text[i] == '-' || text[i] == '+')) negative_exp = text[i++] == '-';
            int e = 0;
            bool exp_digit = false;
            for (; i < N - 1 && text[i] >= '0' && text[i] <= '9'; ++i) {
                e = e * 10 + (text[i] - '0');
                exp_digit = true;
                if (e > 300) detail::bucket_bound_error("llmetrics: bucket bound out of range");
            }
            if (!exp_digit) detail::bucket_bound_error("llmetrics: malformed bucket bound");
            exponent += negative_exp ? -e : e;
        }
        if (!any_digit || i != N - 1)
            detail::bucket_bound_error("llmetrics: bucket bound strings must be decimals like \"0.5\" or \"1e-3\"");
        if (negative) mantissa = -mantissa;
    }

    constexpr double value() const noexcept { return detail::decimal_to_double(mantissa, exponent); }
};

namespace detail {

template <std::size_t N>
constexpr bool strictly_increasing(const std::array<double, N>& bounds) noexcept {
    for (std::size_t i = 1; i < N; ++i)
        if (!(bounds[i - 1] < bounds[i])) return false;
    return true;
}

template <std::size_t N>
constexpr bool all_finite(const std::array<double, N>& bounds) noexcept {
    for (double b : bounds)
        if (!is_finite(b)) return false;
    return true;
}

}  // namespace detail

// Upper bounds of a histogram's buckets, strictly increasing; +Inf is implied.
template <bound... Bounds>
struct buckets {
    static constexpr std::array<double, sizeof...(Bounds)> bounds{Bounds.value()...};
    static_assert(detail::strictly_increasing(bounds),
                  "llmetrics: bucket bounds must be strictly increasing (no repeats); sort them "
                  "and remove duplicates");
};

// start, start+width, ..., count bounds.
template <bound Start, bound Width, std::size_t Count>
struct linear_buckets {
    static_assert(Count >= 1, "llmetrics: linear_buckets needs a count of at least 1");
    static_assert(Width.value() > 0, "llmetrics: linear_buckets needs a positive width");
    static constexpr std::array<double, Count> bounds = [] {
        std::array<double, Count> out{};
        for (std::size_t i = 0; i < Count; ++i)
            out[i] = Start.value() + static_cast<double>(i) * Width.value();
        return out;
    }();
    static_assert(detail::strictly_increasing(bounds) && detail::all_finite(bounds),
                  "llmetrics: linear_buckets produced bounds that are not strictly increasing");
};

// start, start*factor, start*factor^2, ..., count bounds.
template <bound Start, bound Factor, std::size_t Count>
struct exponential_buckets {
    static_assert(Count >= 1, "llmetrics: exponential_buckets needs a count of at least 1");
    static_assert(Start.value() > 0, "llmetrics: exponential_buckets needs a positive start");
    static_assert(Factor.value() > 1, "llmetrics: exponential_buckets needs a factor above 1");
    static constexpr std::array<double, Count> bounds = [] {
        std::array<double, Count> out{};
        double v = Start.value();
        for (std::size_t i = 0; i < Count; ++i, v *= Factor.value()) out[i] = v;
        return out;
    }();
    static_assert(detail::strictly_increasing(bounds) && detail::all_finite(bounds),
                  "llmetrics: exponential_buckets overflowed; use fewer buckets or a smaller factor");
};

}  // namespace llmetrics
// ---- end llmetrics/core/buckets.hpp ----

// ---- begin llmetrics/core/options.hpp ----
// Per-family options given after the labels (and buckets): a cardinality bound,
// a unit, and closed value sets for labels (core/labels.hpp).

#include <cstddef>
#include <string_view>
#include <type_traits>


namespace llmetrics {

inline constexpr std::size_t default_max_series = 10'000;

// At most N distinct label sets; further ones share one `__overflow__` series.
template <std::size_t N>
struct max_series {
    static_assert(N >= 1, "llmetrics: max_series<N> needs N >= 1");
    static constexpr std::size_t value = N;
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
struct is_unit : std::false_type {};
template <fixed_string U>
struct is_unit<unit<U>> : std::true_type {};

template <class T>
struct is_value_set : std::false_type {};
template <fixed_string L, fixed_string... V>
struct is_value_set<value_set<L, V...>> : std::true_type {};

template <class T>
inline constexpr bool is_option_v = is_max_series<T>::value || is_unit<T>::value || is_value_set<T>::value;

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
// ---- end llmetrics/core/options.hpp ----

// ---- begin llmetrics/core/family.hpp ----
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
// ---- end llmetrics/core/family.hpp ----

// ---- begin llmetrics/storage/series.hpp ----
// Series handles: what `family.labels(...)` returns. A handle is a reference into
// storage that never moves, valid for the life of the registry that owns it; its
// operations are wait-free (one or two relaxed atomic operations on the calling
// thread's stripe), never lock and never allocate.
//
// Rejected input is ignored, never stored: a counter ignores negative and NaN
// increments, a histogram ignores NaN observations (a NaN would poison `_sum` for
// good). Each family counts what it ignored in llmetrics_rejected_values_total.

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>
#include <utility>


// ---- begin llmetrics/registry/snapshot.hpp ----
// A materialised copy of families, produced by runtime collectors (process, GPU,
// analytics) at scrape time. Compile-time families are streamed straight from
// storage instead; both reach an encoder through the same calls (see
// exposition/encoder.hpp).

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>


namespace llmetrics {

// Integer increments are kept apart from fractional ones so a counter stays exact
// past 2^53. The exposed value is integral + fractional.
struct counter_value {
    std::uint64_t integral = 0;
    double fractional = 0.0;
};

struct histogram_value {
    std::vector<double> bounds;         // finite upper bounds, strictly increasing; +Inf implied
    std::vector<std::uint64_t> counts;  // per bucket, NOT cumulative; size() == bounds.size() + 1
    double sum = 0.0;
};

// An exemplar as handed to an encoder (OpenMetrics renders it after its sample);
// the strings stay valid for the duration of the encoder call.
struct exemplar_view {
    std::span<const std::string_view> names;
    std::span<const std::string_view> values;
    double value = 0.0;
    double timestamp = std::numeric_limits<double>::quiet_NaN();
    bool present() const noexcept { return !names.empty(); }
};

struct series_snapshot {
    std::vector<std::pair<std::string, std::string>> labels;  // name, value; in declared order
    std::variant<counter_value, double, histogram_value> value;  // counter | gauge/info/unknown | histogram
    double created = std::numeric_limits<double>::quiet_NaN();  // unix seconds; NaN = unknown
};

struct family_snapshot {
    std::string name;  // counters include the `_total` suffix
    std::string help;
    std::string unit;  // empty when none is declared
    metric_type type = metric_type::gauge;
    std::vector<series_snapshot> series;
};

}  // namespace llmetrics
// ---- end llmetrics/registry/snapshot.hpp ----

// ---- begin llmetrics/storage/cells.hpp ----
// The values behind a series. Every write is a single relaxed atomic RMW on the
// writing thread's stripe: relaxed is enough because each cell is an independent
// monotonic tally; nothing else is published through it, and a scrape only needs
// each load to return some value that was written (atomicity), not an order
// between cells. Histogram counts are derived from bucket tallies at scrape time,
// so `_count` always equals the `+Inf` bucket and buckets stay cumulative.

#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace llmetrics::detail {

// Adds to an atomic double; used for fractional counter increments, histogram sums
// and gauges (C++20 fetch_add on atomic<double> is a CAS loop anyway).
inline void atomic_add(std::atomic<double>& target, double delta) noexcept {
    double current = target.load(std::memory_order_relaxed);
    while (!target.compare_exchange_weak(current, current + delta, std::memory_order_relaxed,
                                         std::memory_order_relaxed)) {
    }
}

// Integer increments and fractional ones are kept apart so a counter stays exact
// past 2^53 (a double-only counter silently stops counting there).
struct counter_cell {
    std::atomic<std::uint64_t> integral{0};
    std::atomic<double> fractional{0.0};
};
static_assert(sizeof(counter_cell) == 16);

template <std::size_t Bounds>
struct histogram_cell {
    std::array<std::atomic<std::uint64_t>, Bounds + 1> counts{};  // last one is +Inf
    std::atomic<double> sum{0.0};
};

}  // namespace llmetrics::detail
// ---- end llmetrics/storage/cells.hpp ----

// ---- begin llmetrics/storage/exemplar.hpp ----
// OpenMetrics exemplars: a sample of the label set (usually a trace id) behind a
// counter increment or a histogram observation.
//
//     requests.inc(lm::exemplar{{{"trace_id", trace}}});
//     latency.observe(0.42, lm::exemplar{{{"trace_id", trace}}});
//
// Each counter series keeps its latest exemplar, each histogram bucket its own.
// Storage is allocated the first time a series gets one, so a series that never
// sees an exemplar costs one null pointer. Recording is wait-free: a seqlock
// whose writer gives up (drops the exemplar) when another writer holds it; the
// text is kept in atomic words so a concurrent scrape never reads torn bytes
// (it retries, then leaves the exemplar out of that scrape).
//
// Limits: OpenMetrics allows 128 code points of label names and values in all;
// llmetrics also caps the encoded label set at 240 bytes and 8 labels. Exemplars
// over a limit, or with invalid label names, are dropped and counted as rejected.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <span>
#include <string_view>
#include <utility>


// ---- begin llmetrics/core/utf8.hpp ----
// UTF-8 validation and repair for label values. Label values come from outside
// (routes, tenant ids, model names), and an exposition with invalid UTF-8 is
// rejected whole by Prometheus, so the core repairs a value once, when it is
// first stored, and every encoder can then trust its input.
//
// Repair follows the Unicode "substitution of maximal subparts" practice
// (Unicode 15, §3.9, U+FFFD substitution): each maximal subpart of an
// ill-formed sequence becomes one U+FFFD. Overlong forms, surrogates
// (U+D800..U+DFFF) and code points above U+10FFFF are ill-formed.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace llmetrics::detail {

// Length of the well-formed sequence starting at s[i], or 0 when it is ill-formed.
// `consumed` receives the length of the maximal subpart in the ill-formed case
// (at least 1), so a caller replaces exactly that many bytes by one U+FFFD.
inline std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t& consumed) noexcept {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char lead = byte(i);
    std::size_t length;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (lead < 0x80) {
        consumed = 1;
        return 1;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) lo = 0xA0;       // overlong below U+0800
        else if (lead == 0xED) hi = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) lo = 0x90;       // overlong below U+10000
        else if (lead == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
        consumed = 1;  // 80..C1 (stray continuation or overlong lead), F5..FF
        return 0;
    }
    std::size_t k = 1;
    for (; k < length; ++k) {
        if (i + k >= s.size()) break;
        const unsigned char c = byte(i + k);
        const unsigned char min = k == 1 ? lo : 0x80;
        const unsigned char max = k == 1 ? hi : 0xBF;
        if (c < min || c > max) break;
    }
    consumed = k;
    return k == length ? length : 0;
}

// Index of the first byte >= 0x80, or s.size(). Eight bytes at a time.
inline std::size_t first_non_ascii(std::string_view s) noexcept {
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t word;
        std::memcpy(&word, s.data() + i, 8);
        if (word & 0x8080808080808080ULL) break;
    }
    for (; i < s.size(); ++i)
        if (static_cast<unsigned char>(s[i]) >= 0x80) break;
    return i;
}

inline bool is_valid_utf8(std::string_view s) noexcept {
    std::size_t i = first_non_ascii(s);
    while (i < s.size()) {
        std::size_t consumed;
        if (utf8_sequence(s, i, consumed) == 0) return false;
        i += consumed;
    }
    return true;
}

// Returns `s` with every maximal ill-formed subpart replaced by U+FFFD.
inline std::string sanitize_utf8(std::string_view s) {
    std::size_t i = first_non_ascii(s);
    if (i == s.size()) return std::string(s);
    std::string out;
    out.reserve(s.size() + 8);
    out.append(s.data(), i);
    while (i < s.size()) {
        std::size_t consumed;
        if (utf8_sequence(s, i, consumed) != 0)
            out.append(s.data() + i, consumed);
        else
            out.append("\xEF\xBF\xBD");
        i += consumed;
    }
    return out;
}

}  // namespace llmetrics::detail
// ---- end llmetrics/core/utf8.hpp ----

namespace llmetrics {

inline constexpr std::size_t max_exemplar_code_points = 128;
inline constexpr std::size_t max_exemplar_bytes = 240;
inline constexpr std::size_t max_exemplar_labels = 8;

struct exemplar_label {
    std::string_view name;
    std::string_view value;
};

// What a handle is given: labels, and a timestamp (unix seconds; NaN = "now").
struct exemplar {
    std::initializer_list<exemplar_label> labels;
    double timestamp = std::numeric_limits<double>::quiet_NaN();
};

namespace detail {

inline constexpr std::size_t exemplar_words = (max_exemplar_bytes + 1 + 7) / 8;

// Encodes labels as [n][len name len value]... ; false when over a limit.
inline bool encode_exemplar(std::initializer_list<exemplar_label> labels, std::array<char, exemplar_words * 8>& out,
                            std::size_t& size) noexcept {
    if (labels.size() == 0 || labels.size() > max_exemplar_labels) return false;
    std::size_t code_points = 0;
    std::size_t at = 1;
    out[0] = static_cast<char>(labels.size());
    for (const exemplar_label& l : labels) {
        if (!is_valid_label_name(l.name) || !is_valid_utf8(l.value)) return false;
        for (std::string_view s : {l.name, l.value}) {
            for (char c : s) code_points += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
            if (s.size() > 255 || at + 1 + s.size() > out.size()) return false;
            out[at++] = static_cast<char>(s.size());
            std::memcpy(out.data() + at, s.data(), s.size());
            at += s.size();
        }
    }
    if (code_points > max_exemplar_code_points || at > max_exemplar_bytes + 1) return false;
    size = at;
    return true;
}

class exemplar_cell {
public:
    // Wait-free: returns false (drops the exemplar) if another writer is busy.
    bool store(const std::array<char, exemplar_words * 8>& encoded, std::size_t size, double value,
               double timestamp) noexcept {
        std::uint32_t s = seq_.load(std::memory_order_relaxed);
        if ((s & 1) || !seq_.compare_exchange_strong(s, s + 1, std::memory_order_acquire, std::memory_order_relaxed))
            return false;
        for (std::size_t w = 0; w < (size + 7) / 8; ++w) {
            std::uint64_t word = 0;
            std::memcpy(&word, encoded.data() + w * 8, std::min<std::size_t>(8, size - w * 8));
            words_[w].store(word, std::memory_order_relaxed);
        }
        value_.store(value, std::memory_order_relaxed);
        timestamp_.store(timestamp, std::memory_order_relaxed);
        seq_.store(s + 2, std::memory_order_release);
        return true;
    }

    // Copies the exemplar out; false when none was stored or a writer kept it busy.
    bool load(std::array<char, exemplar_words * 8>& bytes, double& value, double& timestamp) const noexcept {
        for (int attempt = 0; attempt < 8; ++attempt) {
            const std::uint32_t before = seq_.load(std::memory_order_acquire);
            if (before == 0) return false;
            if (before & 1) continue;
            for (std::size_t w = 0; w < exemplar_words; ++w) {
                const std::uint64_t word = words_[w].load(std::memory_order_relaxed);
                std::memcpy(bytes.data() + w * 8, &word, 8);
            }
            value = value_.load(std::memory_order_relaxed);
            timestamp = timestamp_.load(std::memory_order_relaxed);
            // A release read-modify-write keeps the loads above before the re-check
            // (instead of a fence, which ThreadSanitizer does not model).
            if (seq_.fetch_add(0, std::memory_order_acq_rel) == before) return true;
        }
        return false;
    }

    void clear() noexcept {
        std::uint32_t s = seq_.load(std::memory_order_relaxed);
        if (s & 1) return;
        seq_.compare_exchange_strong(s, 0, std::memory_order_relaxed);
    }

private:
    mutable std::atomic<std::uint32_t> seq_{0};  // 0 = empty; odd = being written
    std::array<std::atomic<std::uint64_t>, exemplar_words> words_{};
    std::atomic<double> value_{0.0};
    std::atomic<double> timestamp_{0.0};
};

// The exemplars of one series: one cell, or one per histogram bucket.
class exemplar_slots {
public:
    bool record(std::size_t cell, const exemplar& e, double value, std::size_t cells) noexcept {
        std::array<char, exemplar_words * 8> encoded{};
        std::size_t size = 0;
        if (!encode_exemplar(e.labels, encoded, size)) return false;
        double ts = e.timestamp;
        if (ts != ts) {
            using namespace std::chrono;
            ts = duration<double>(system_clock::now().time_since_epoch()).count();
        }
        exemplar_cell* block = cells_.load(std::memory_order_acquire);
        if (!block) [[unlikely]] {
            auto fresh = std::unique_ptr<exemplar_cell[]>(new (std::nothrow) exemplar_cell[cells]);
            if (!fresh) return false;
            exemplar_cell* expected = nullptr;
            if (cells_.compare_exchange_strong(expected, fresh.get(), std::memory_order_acq_rel))
                block = fresh.release();
            else
                block = expected;
        }
        block[cell].store(encoded, size, value, ts);
        return true;
    }

    const exemplar_cell* cells() const noexcept { return cells_.load(std::memory_order_acquire); }

    void clear(std::size_t cells) noexcept {
        if (exemplar_cell* block = cells_.load(std::memory_order_acquire))
            for (std::size_t i = 0; i < cells; ++i) block[i].clear();
    }

    ~exemplar_slots() { delete[] cells_.load(std::memory_order_relaxed); }

private:
    std::atomic<exemplar_cell*> cells_{nullptr};
};

}  // namespace detail

// A decoded exemplar, owning its bytes; view() is valid while it lives.
class exemplar_reading {
public:
    bool load(const detail::exemplar_cell& cell) noexcept {
        count_ = 0;
        if (!cell.load(bytes_, value_, timestamp_)) return false;
        const std::size_t n = static_cast<unsigned char>(bytes_[0]);
        std::size_t at = 1;
        for (std::size_t i = 0; i < n && i < max_exemplar_labels; ++i) {
            const auto take = [&](std::string_view& out) {
                const std::size_t len = static_cast<unsigned char>(bytes_[at++]);
                out = std::string_view(bytes_.data() + at, len);
                at += len;
            };
            take(names_[i]);
            take(values_[i]);
            ++count_;
        }
        return count_ != 0;
    }
    exemplar_view view() const noexcept {
        return {std::span<const std::string_view>(names_.data(), count_),
                std::span<const std::string_view>(values_.data(), count_), value_, timestamp_};
    }

private:
    std::array<char, detail::exemplar_words * 8> bytes_{};
    std::array<std::string_view, max_exemplar_labels> names_{};
    std::array<std::string_view, max_exemplar_labels> values_{};
    std::size_t count_ = 0;
    double value_ = 0.0;
    double timestamp_ = 0.0;
};

}  // namespace llmetrics
// ---- end llmetrics/storage/exemplar.hpp ----

// ---- begin llmetrics/storage/stripes.hpp ----
// Striped cells: every series keeps `stripe_count` copies of its cell, and a thread
// always writes the copy of its own stripe, so two threads hitting one series do
// not fight over a cache line. A scrape sums the stripes.
//
// Stripes live in blocks laid out as cells[stripe][slot]: the cells one stripe
// owns for many series are contiguous, so a series costs stripe_count cells and no
// padding, while different stripes never share a cache line.

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <vector>

#ifndef LLMETRICS_STRIPES
#define LLMETRICS_STRIPES 4
#endif

namespace llmetrics::detail {

inline constexpr std::size_t stripe_count = LLMETRICS_STRIPES;
static_assert(stripe_count >= 1 && (stripe_count & (stripe_count - 1)) == 0,
              "llmetrics: LLMETRICS_STRIPES must be a power of two");

inline constexpr std::size_t cache_line = 64;

inline std::atomic<unsigned> next_thread_stripe{0};

// Threads take stripes round-robin on their first write: consecutive threads get
// different stripes, which is what matters on small machines.
inline std::size_t this_thread_stripe() noexcept {
    thread_local unsigned stripe_plus_one = 0;  // constant-initialised: no TLS guard
    if (stripe_plus_one == 0) [[unlikely]]
        stripe_plus_one = next_thread_stripe.fetch_add(1, std::memory_order_relaxed) % stripe_count + 1;
    return stripe_plus_one - 1;
}

// Hands out `Width` consecutive cells per series from blocks of Slots series.
// Allocation happens under the owning family's insert lock; cells are zeroed and
// never move, so handles stay valid for the pool's life.
template <class Cell, std::size_t Slots>
class cell_pool {
public:
    static constexpr std::size_t slots_per_block = Slots;

    struct alignas(cache_line) block {
        Cell cells[stripe_count][Slots];
    };
    static_assert(sizeof(Cell) * Slots % cache_line == 0,
                  "llmetrics: internal: a stripe row must fill whole cache lines");

    // Returns the stripe-0 cell of `width` consecutive cells; stripe s of cell i
    // is at result + s * Slots + i.
    Cell* allocate(std::size_t width) {
        if (blocks_.empty() || used_ + width > Slots) {
            blocks_.push_back(std::unique_ptr<block>(new block{}));
            used_ = 0;
        }
        Cell* first = &blocks_.back()->cells[0][used_];
        used_ += width;
        return first;
    }

    std::size_t bytes() const noexcept { return blocks_.size() * sizeof(block); }

private:
    std::vector<std::unique_ptr<block>> blocks_;
    std::size_t used_ = 0;
};

}  // namespace llmetrics::detail
// ---- end llmetrics/storage/stripes.hpp ----

namespace llmetrics {

namespace detail {
// Shared by the handles of one family; only touched on rejected input.
struct rejection_tally {
    std::atomic<std::uint64_t> count{0};
    void note() noexcept { count.fetch_add(1, std::memory_order_relaxed); }
};
}  // namespace detail

template <std::size_t Stride>
class counter_series {
public:
    counter_series(detail::counter_cell* stripe0, detail::rejection_tally* rejected) noexcept
        : base_(stripe0), rejected_(rejected) {}
    counter_series(const counter_series&) = delete;
    counter_series& operator=(const counter_series&) = delete;

    void inc() noexcept { mine().integral.fetch_add(1, std::memory_order_relaxed); }

    template <std::integral T>
    void inc(T amount) noexcept {
        if constexpr (std::is_signed_v<T>) {
            if (amount < 0) return rejected_->note();
        }
        mine().integral.fetch_add(static_cast<std::uint64_t>(amount), std::memory_order_relaxed);
    }

    // Whole amounts go to the integer slot (exact); the rest to the floating one.
    template <std::floating_point T>
    void inc(T amount) noexcept {
        const double v = static_cast<double>(amount);
        if (!(v >= 0.0)) return rejected_->note();  // negative or NaN
        if (v < 18446744073709551616.0 && v == std::floor(v))
            mine().integral.fetch_add(static_cast<std::uint64_t>(v), std::memory_order_relaxed);
        else
            detail::atomic_add(mine().fractional, v);
    }

    // The same increments, each with an exemplar (see storage/exemplar.hpp).
    void inc(const exemplar& e) noexcept {
        inc();
        note(e, 1.0);
    }
    template <class T>
        requires std::is_arithmetic_v<T>
    void inc(T amount, const exemplar& e) noexcept {
        if (!(static_cast<double>(amount) >= 0.0)) return rejected_->note();
        inc(amount);
        note(e, static_cast<double>(amount));
    }

    // The series' exemplar cell, or null while it never had one.
    const detail::exemplar_cell* exemplar_cells() const noexcept { return exemplars_.cells(); }

    counter_value value() const noexcept {
        counter_value out;
        for (std::size_t s = 0; s < detail::stripe_count; ++s) {
            out.integral += base_[s * Stride].integral.load(std::memory_order_relaxed);
            out.fractional += base_[s * Stride].fractional.load(std::memory_order_relaxed);
        }
        return out;
    }

    // Not linearisable with concurrent writers: used by remove() and reset().
    void clear() noexcept {
        for (std::size_t s = 0; s < detail::stripe_count; ++s) {
            base_[s * Stride].integral.store(0, std::memory_order_relaxed);
            base_[s * Stride].fractional.store(0.0, std::memory_order_relaxed);
        }
        exemplars_.clear(1);
    }

private:
    detail::counter_cell& mine() const noexcept { return base_[detail::this_thread_stripe() * Stride]; }
    void note(const exemplar& e, double amount) noexcept {
        if (!exemplars_.record(0, e, amount, 1)) rejected_->note();
    }

    detail::counter_cell* base_;
    detail::rejection_tally* rejected_;
    detail::exemplar_slots exemplars_;
};

// A gauge is one value that `set` overwrites, so it is not striped.
class gauge_series {
public:
    explicit gauge_series(detail::rejection_tally* = nullptr) noexcept {}
    gauge_series(const gauge_series&) = delete;
    gauge_series& operator=(const gauge_series&) = delete;

    void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    void inc() noexcept { detail::atomic_add(value_, 1.0); }
    void inc(double v) noexcept { detail::atomic_add(value_, v); }
    void dec() noexcept { detail::atomic_add(value_, -1.0); }
    void dec(double v) noexcept { detail::atomic_add(value_, -v); }
    void add(double v) noexcept { detail::atomic_add(value_, v); }
    void sub(double v) noexcept { detail::atomic_add(value_, -v); }
    void set_to_current_time() noexcept {
        using namespace std::chrono;
        set(duration<double>(system_clock::now().time_since_epoch()).count());
    }

    double value() const noexcept { return value_.load(std::memory_order_relaxed); }
    void clear() noexcept { set(0.0); }

private:
    std::atomic<double> value_{0.0};
};

template <std::size_t Bounds>
struct histogram_reading {
    std::array<std::uint64_t, Bounds + 1> counts{};  // per bucket, not cumulative; last is +Inf
    double sum = 0.0;
    std::uint64_t count() const noexcept {
        std::uint64_t n = 0;
        for (auto c : counts) n += c;
        return n;
    }
};

template <auto Bounds, std::size_t Stride>  // Bounds: std::array<double, N>
class histogram_series {
public:
    static constexpr std::size_t bucket_count = Bounds.size();
    using cell = detail::histogram_cell<bucket_count>;

    histogram_series(cell* stripe0, detail::rejection_tally* rejected) noexcept
        : base_(stripe0), rejected_(rejected) {}
    histogram_series(const histogram_series&) = delete;
    histogram_series& operator=(const histogram_series&) = delete;

    void observe(double v) noexcept {
        if (v != v) return rejected_->note();  // NaN
        cell& c = base_[detail::this_thread_stripe() * Stride];
        c.counts[bucket_of(v)].fetch_add(1, std::memory_order_relaxed);
        detail::atomic_add(c.sum, v);
    }

    template <class Rep, class Period>
    void observe(std::chrono::duration<Rep, Period> d) noexcept {
        observe(std::chrono::duration<double>(d).count());
    }

    // The same observation, kept as the exemplar of the bucket it falls in.
    void observe(double v, const exemplar& e) noexcept {
        if (v != v) return rejected_->note();
        observe(v);
        if (!exemplars_.record(bucket_of(v), e, v, bucket_count + 1)) rejected_->note();
    }
    template <class Rep, class Period>
    void observe(std::chrono::duration<Rep, Period> d, const exemplar& e) noexcept {
        observe(std::chrono::duration<double>(d).count(), e);
    }

    // bucket_count + 1 exemplar cells (one per bucket), or null while none was kept.
    const detail::exemplar_cell* exemplar_cells() const noexcept { return exemplars_.cells(); }

    histogram_reading<bucket_count> value() const noexcept {
        histogram_reading<bucket_count> out;
        for (std::size_t s = 0; s < detail::stripe_count; ++s) {
            const cell& c = base_[s * Stride];
            for (std::size_t b = 0; b <= bucket_count; ++b)
                out.counts[b] += c.counts[b].load(std::memory_order_relaxed);
            out.sum += c.sum.load(std::memory_order_relaxed);
        }
        return out;
    }

    void clear() noexcept {
        for (std::size_t s = 0; s < detail::stripe_count; ++s) {
            cell& c = base_[s * Stride];
            for (auto& n : c.counts) n.store(0, std::memory_order_relaxed);
            c.sum.store(0.0, std::memory_order_relaxed);
        }
        exemplars_.clear(bucket_count + 1);
    }

    static constexpr std::span<const double> bounds() noexcept { return {Bounds.data(), Bounds.size()}; }

private:
    // First bucket whose upper bound is >= v (Prometheus buckets are "le").
    // Branch-free for small bucket lists: observed values jump between buckets.
    static std::size_t bucket_of(double v) noexcept {
        if constexpr (bucket_count <= 16) {
            return [&]<std::size_t... I>(std::index_sequence<I...>) {
                return (std::size_t{0} + ... + static_cast<std::size_t>(v > Bounds[I]));
            }(std::make_index_sequence<bucket_count>{});
        } else {
            std::size_t lo = 0, hi = bucket_count;
            while (lo < hi) {
                const std::size_t mid = (lo + hi) / 2;
                if (v > Bounds[mid]) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }
    }

    cell* base_;
    detail::rejection_tally* rejected_;
    detail::exemplar_slots exemplars_;
};

}  // namespace llmetrics
// ---- end llmetrics/storage/series.hpp ----

// ---- begin llmetrics/storage/family.hpp ----
// `family<F>`: the storage of one family descriptor F (core/family.hpp): its
// series by label set, the handles `labels(...)` returns, and how it streams
// itself to an encoder.

#include <array>
#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>


// ---- begin llmetrics/exposition/encoder.hpp ----
// The calls every exposition format receives, from compile-time families streamed
// straight out of storage and from collector snapshots alike. An encoder sees
// families in their final order and each family's series in a stable order.
//
//   e.begin_family(const family_header&);
//   e.counter(labels_view, counter_value, double created);          // created: NaN if unknown
//   e.gauge(labels_view, double value);                             // gauge, info, unknown
//   e.histogram(labels_view, std::span<const double> bounds,        // finite, increasing
//               std::span<const std::uint64_t> counts,              // per bucket, bounds.size()+1, not cumulative
//               double sum, double created);
//   e.end_family();
//   e.finish();                                                     // once, after the last family
//
// Label values given to an encoder are valid UTF-8; escaping is the encoder's job.

#include <concepts>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>
#include <vector>


namespace llmetrics {

struct family_header {
    std::string_view name;  // full name; counters end in `_total`
    std::string_view help;
    std::string_view unit;  // empty when not declared
    metric_type type = metric_type::gauge;
};

struct labels_view {
    std::span<const std::string_view> names;
    std::span<const std::string_view> values;  // same size as names
};

template <class E>
concept encoder = requires(E& e, const family_header& h, labels_view l, counter_value c,
                           std::span<const double> b, std::span<const std::uint64_t> n, double d) {
    e.begin_family(h);
    e.counter(l, c, d);
    e.gauge(l, d);
    e.histogram(l, b, n, d, d);
    e.end_family();
    e.finish();
};

namespace detail {

// Feeds one collector snapshot to an encoder (begin_family .. end_family).
template <encoder E>
void emit_snapshot(E& e, const family_snapshot& family) {
    e.begin_family({family.name, family.help, family.unit, family.type});
    std::vector<std::string_view> names, values;
    for (const series_snapshot& s : family.series) {
        names.clear();
        values.clear();
        for (const auto& [name, value] : s.labels) {
            names.push_back(name);
            values.push_back(value);
        }
        const labels_view labels{names, values};
        if (const auto* c = std::get_if<counter_value>(&s.value))
            e.counter(labels, *c, s.created);
        else if (const auto* g = std::get_if<double>(&s.value))
            e.gauge(labels, *g);
        else if (const auto* h = std::get_if<histogram_value>(&s.value))
            e.histogram(labels, h->bounds, h->counts, h->sum, s.created);
    }
    e.end_family();
}

}  // namespace detail
}  // namespace llmetrics
// ---- end llmetrics/exposition/encoder.hpp ----

// ---- begin llmetrics/storage/series_map.hpp ----
// The label-set -> series index of one family.
//
// Reads are lock-free: an open-addressing table of atomic node pointers, probed
// with acquire loads. Writers (first use of a label set, remove, reset) serialise
// on one mutex, off the hot path. Nodes are never freed while the map lives, so a
// reader can never touch freed memory and handles never dangle: remove() only
// marks a node dead (and zeroes it); the same label set revives it. Dead nodes keep
// counting against the family's cardinality bound, so memory stays bounded by
// max_series nodes whatever label values arrive. A grown table replaces the old one
// for new readers; old tables are kept (at most as large as the live one in total)
// because a reader may still be probing them.

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>


namespace llmetrics {

// Label values longer than this are cut (at a UTF-8 boundary) before they are
// stored: the bound on what one series can cost, whoever picks its label values.
inline constexpr std::size_t max_label_value_bytes = 4096;

inline constexpr std::string_view overflow_label_value = "__overflow__";

namespace detail {

// Seeded per process so label values chosen by an attacker cannot be aimed at
// one probe chain.
inline const std::uint64_t hash_seed = [] {
    std::uint64_t x = static_cast<std::uint64_t>(
        std::chrono::steady_clock::now().time_since_epoch().count());
    x ^= reinterpret_cast<std::uintptr_t>(&x);
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ULL;
    return x | 1;
}();

inline std::uint64_t mix(std::uint64_t h) noexcept {
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 32;
    return h;
}

// Up to 8 bytes of p as one word; together with n it determines the bytes
// exactly (overlapping loads, no call to memcpy for a variable length).
inline std::uint64_t load_small(const char* p, std::size_t n) noexcept {
    if (n >= 4) {
        std::uint32_t first, last;
        std::memcpy(&first, p, 4);
        std::memcpy(&last, p + n - 4, 4);
        return (std::uint64_t{first} << 32) | last;
    }
    if (n == 0) return 0;
    const auto byte = [&](std::size_t i) { return std::uint64_t{static_cast<unsigned char>(p[i])}; };
    return (byte(0) << 16) | (byte(n / 2) << 8) | byte(n - 1);
}

inline std::uint64_t load_word(const char* p) noexcept {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
}

// Byte equality, inlined: label values are short and a libc call per value is
// most of a lookup's cost.
inline bool same_bytes(const char* a, const char* b, std::size_t n) noexcept {
    if (n < 4) return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
    if (n <= 8) {
        std::uint32_t a0, a1, b0, b1;
        std::memcpy(&a0, a, 4);
        std::memcpy(&b0, b, 4);
        std::memcpy(&a1, a + n - 4, 4);
        std::memcpy(&b1, b + n - 4, 4);
        return a0 == b0 && a1 == b1;
    }
    std::size_t i = 0;
    for (; i + 8 < n; i += 8)
        if (load_word(a + i) != load_word(b + i)) return false;
    return load_word(a + n - 8) == load_word(b + n - 8);
}

// One multiply per 8 bytes on the lookup path, one avalanche at the end. Each
// value's length is folded in, so ("a,b", "c") and ("a", "b,c") differ.
inline std::uint64_t hash_values(std::span<const std::string_view> values) noexcept {
    constexpr std::uint64_t k = 0x9e3779b97f4a7c15ULL;
    std::uint64_t h = hash_seed;
    for (std::string_view v : values) {
        const char* p = v.data();
        std::size_t n = v.size();
        for (; n > 8; p += 8, n -= 8) h = ((h ^ load_word(p)) * k) ^ (h >> 29);
        h = ((h ^ load_small(p, n)) * k) + v.size();
    }
    return mix(h);
}

inline double unix_now() noexcept {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

// Cuts at most max_label_value_bytes, backing off to a code point boundary.
inline std::string_view clamp_label_value(std::string_view v) noexcept {
    if (v.size() <= max_label_value_bytes) return v;
    std::size_t n = max_label_value_bytes;
    while (n > 0 && (static_cast<unsigned char>(v[n]) & 0xC0) == 0x80) --n;
    return v.substr(0, n);
}

// Bump allocator for nodes and their key bytes: no per-node malloc header.
class node_arena {
public:
    static constexpr std::size_t alignment = 8;  // nodes hold 8-byte atomics at most

    void* allocate(std::size_t bytes) {
        bytes = (bytes + alignment - 1) & ~(alignment - 1);
        if (chunks_.empty() || used_ + bytes > chunk_size_) {
            chunk_size_ = std::max<std::size_t>(bytes, 16 * 1024);
            chunks_.push_back(std::unique_ptr<std::byte[]>(new std::byte[chunk_size_]));
            used_ = 0;
            total_ += chunk_size_;
        }
        void* p = chunks_.back().get() + used_;
        used_ += bytes;
        return p;
    }
    std::size_t bytes() const noexcept { return total_; }

private:
    std::vector<std::unique_ptr<std::byte[]>> chunks_;
    std::size_t chunk_size_ = 0;
    std::size_t used_ = 0;
    std::size_t total_ = 0;
};

// One label set of free-form values, and the fixed table of `Slots` series for
// the family's closed-value combinations.
// Laid out in one arena allocation as [node][Slots slots][key bytes].
template <class Slot, std::size_t Values, std::size_t Slots>
struct series_node {
    // Offsets fit in 16 bits while every value is clamped to max_label_value_bytes.
    using offset = std::conditional_t<Values * max_label_value_bytes < 65536, std::uint16_t, std::uint32_t>;
    static constexpr std::size_t slots_offset() noexcept {
        return (sizeof(series_node) + alignof(Slot) - 1) / alignof(Slot) * alignof(Slot);
    }
    static constexpr std::size_t key_offset() noexcept { return slots_offset() + Slots * sizeof(Slot); }

    std::uint64_t hash = 0;
    std::atomic<series_node*> next{nullptr};  // creation order, for exposition
    std::atomic<double> created{0.0};
    std::array<offset, Values> ends{};  // end offset of each value in the key bytes
    std::atomic<bool> live{true};
    bool overflow = false;

    Slot* slots() noexcept { return reinterpret_cast<Slot*>(reinterpret_cast<std::byte*>(this) + slots_offset()); }
    const Slot* slots() const noexcept {
        return reinterpret_cast<const Slot*>(reinterpret_cast<const std::byte*>(this) + slots_offset());
    }
    const char* key() const noexcept { return reinterpret_cast<const char*>(this) + key_offset(); }

    std::string_view value(std::size_t i) const noexcept {
        const std::size_t begin = i == 0 ? 0 : ends[i - 1];
        return {key() + begin, ends[i] - begin};
    }
    bool matches(std::uint64_t h, std::span<const std::string_view> values) const noexcept {
        if (h != hash) return false;
        for (std::size_t i = 0; i < Values; ++i) {
            const std::string_view mine = value(i);
            if (mine.size() != values[i].size() || !same_bytes(mine.data(), values[i].data(), mine.size()))
                return false;
        }
        return true;
    }
};

// SlotFactory::construct(Slot* first, std::size_t n) placement-constructs the n
// slots of a new node (called under the map's lock).
template <class Slot, std::size_t Values, std::size_t Slots, class SlotFactory>
class series_map {
public:
    using node = series_node<Slot, Values, Slots>;

    explicit series_map(std::size_t max_series, SlotFactory factory = {})
        : max_series_(max_series), factory_(std::move(factory)) {
        publish_table(16);
    }
    series_map(const series_map&) = delete;
    series_map& operator=(const series_map&) = delete;

    ~series_map() {
        for (node* n = head_.load(std::memory_order_relaxed); n;) {
            node* next = n->next.load(std::memory_order_relaxed);
            for (std::size_t i = 0; i < Slots; ++i) n->slots()[i].~Slot();
            n->~node();
            n = next;
        }
    }

    // The node for `values`, created on first use. Past the cardinality bound it
    // is the overflow node, and `dropped` grows by one.
    node* find_or_create(std::span<const std::string_view> raw) {
        // Stored keys are valid UTF-8 and clamped, so raw values that match one
        // need no repair: only a miss pays for validation.
        const std::uint64_t raw_hash = hash_values(raw);
        if (node* n = find(raw_hash, raw); n && n->live.load(std::memory_order_acquire)) [[likely]]
            return n;
        return find_or_create_slow(raw);
    }

    node* overflow_node() {
        std::lock_guard lock(mutex_);
        return overflow_locked();
    }

    // Marks a label set dead and zeroes it; returns whether it was live.
    bool remove(std::span<const std::string_view> raw) {
        std::array<std::string_view, Values> values;
        std::array<std::string, Values> repaired;
        normalize(raw, values, repaired);
        std::lock_guard lock(mutex_);
        node* n = find(hash_values(values), values);
        if (!n || n->overflow || !n->live.load(std::memory_order_relaxed)) return false;
        kill(n);
        return true;
    }

    void clear() {
        std::lock_guard lock(mutex_);
        for (node* n = head_.load(std::memory_order_relaxed); n; n = n->next.load(std::memory_order_relaxed))
            if (n->live.load(std::memory_order_relaxed)) kill(n);
    }

    // Every node in creation order, removed ones included (see family::visit).
    template <class F>
    void for_each(F&& f) const {
        for (node* n = head_.load(std::memory_order_acquire); n; n = n->next.load(std::memory_order_acquire)) f(*n);
    }

    std::size_t size() const noexcept { return count_.load(std::memory_order_relaxed); }
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
    std::size_t bytes() const noexcept {
        std::lock_guard lock(mutex_);
        std::size_t tables = 0;
        for (const auto& t : tables_) tables += (t->mask + 1) * sizeof(std::atomic<node*>);
        return arena_.bytes() + tables + factory_.bytes();
    }

private:
    struct table {
        std::size_t mask;
        std::unique_ptr<std::atomic<node*>[]> slots;
    };

    // What is stored for raw values: clamped, then UTF-8 repaired.
    static void normalize(std::span<const std::string_view> raw, std::array<std::string_view, Values>& values,
                          std::array<std::string, Values>& repaired) {
        for (std::size_t i = 0; i < Values; ++i) {
            std::string_view v = clamp_label_value(raw[i]);
            if (!is_valid_utf8(v)) {
                repaired[i] = sanitize_utf8(v);
                v = repaired[i];
            }
            values[i] = v;
        }
    }

    node* find_or_create_slow(std::span<const std::string_view> raw) {
        std::array<std::string_view, Values> values;
        std::array<std::string, Values> repaired;
        normalize(raw, values, repaired);
        return create_slow(hash_values(values), values);
    }

    node* find(std::uint64_t h, std::span<const std::string_view> values) const noexcept {
        const table* t = table_.load(std::memory_order_acquire);
        for (std::size_t i = h & t->mask;; i = (i + 1) & t->mask) {
            node* n = t->slots[i].load(std::memory_order_acquire);
            if (!n) return nullptr;
            if (!n->overflow && n->matches(h, values)) return n;
        }
    }

    node* create_slow(std::uint64_t h, std::span<const std::string_view> values) {
        std::lock_guard lock(mutex_);
        if (node* n = find(h, values)) {
            if (!n->live.load(std::memory_order_relaxed)) {
                n->created.store(unix_now(), std::memory_order_relaxed);
                n->live.store(true, std::memory_order_release);
            }
            return n;
        }
        if (count_.load(std::memory_order_relaxed) >= max_series_) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return overflow_locked();
        }
        node* n = build(h, values, false);
        insert(n);
        return n;
    }

    node* overflow_locked() {
        if (!overflow_) {
            std::array<std::string_view, Values> values;
            values.fill(overflow_label_value);
            overflow_ = build(hash_values(values), values, true);
        }
        return overflow_;
    }

    node* build(std::uint64_t h, std::span<const std::string_view> values, bool overflow) {
        std::size_t key_bytes = 0;
        for (std::string_view v : values) key_bytes += v.size();
        auto* raw = static_cast<std::byte*>(arena_.allocate(node::key_offset() + key_bytes));
        node* n = new (raw) node{};
        n->hash = h;
        n->overflow = overflow;
        n->created.store(unix_now(), std::memory_order_relaxed);
        char* key = reinterpret_cast<char*>(raw + node::key_offset());
        std::size_t at = 0;
        for (std::size_t i = 0; i < Values; ++i) {
            if (!values[i].empty()) std::memcpy(key + at, values[i].data(), values[i].size());
            at += values[i].size();
            n->ends[i] = static_cast<typename node::offset>(at);
        }
        factory_.construct(n->slots(), Slots);
        // Append to the creation-order list; readers see a complete node.
        if (node* tail = tail_) tail->next.store(n, std::memory_order_release);
        else head_.store(n, std::memory_order_release);
        tail_ = n;
        return n;
    }

    void insert(node* n) {
        table* t = table_.load(std::memory_order_relaxed);
        if ((count_.load(std::memory_order_relaxed) + 1) * 4 > (t->mask + 1) * 3) {  // load factor 3/4
            publish_table((t->mask + 1) * 2);
            t = table_.load(std::memory_order_relaxed);
        }
        place(*t, n);
        count_.fetch_add(1, std::memory_order_relaxed);
    }

    static void place(table& t, node* n) {
        std::size_t i = n->hash & t.mask;
        while (t.slots[i].load(std::memory_order_relaxed)) i = (i + 1) & t.mask;
        t.slots[i].store(n, std::memory_order_release);
    }

    void publish_table(std::size_t capacity) {
        auto t = std::make_unique<table>();
        t->mask = capacity - 1;
        t->slots = std::make_unique<std::atomic<node*>[]>(capacity);
        for (std::size_t i = 0; i < capacity; ++i) t->slots[i].store(nullptr, std::memory_order_relaxed);
        if (table* old = table_.load(std::memory_order_relaxed))
            for (std::size_t i = 0; i <= old->mask; ++i)
                if (node* n = old->slots[i].load(std::memory_order_relaxed)) place(*t, n);
        table_.store(t.get(), std::memory_order_release);
        tables_.push_back(std::move(t));
    }

    void kill(node* n) {
        n->created.store(unix_now(), std::memory_order_relaxed);  // a write after this restarts from zero
        n->live.store(false, std::memory_order_release);
        for (std::size_t i = 0; i < Slots; ++i) n->slots()[i].clear();
    }

    const std::size_t max_series_;
    mutable std::mutex mutex_;
    std::atomic<table*> table_{nullptr};
    std::vector<std::unique_ptr<table>> tables_;
    std::atomic<node*> head_{nullptr};
    node* tail_ = nullptr;
    node* overflow_ = nullptr;
    std::atomic<std::size_t> count_{0};
    std::atomic<std::uint64_t> dropped_{0};
    node_arena arena_;
    SlotFactory factory_;
};

}  // namespace detail
}  // namespace llmetrics
// ---- end llmetrics/storage/series_map.hpp ----

namespace llmetrics {

namespace detail {

template <class A>
struct is_named_label : std::false_type {};
template <fixed_string N>
struct is_named_label<label<N>> : std::true_type {};

template <class A>
struct is_static_value : std::false_type {};
template <fixed_string V>
struct is_static_value<static_value<V>> : std::true_type {};

template <class A>
concept label_argument = std::is_convertible_v<const A&, std::string_view> || is_static_value<A>::value;

template <class A>
std::string_view label_argument_view(const A& a) noexcept {
    if constexpr (is_static_value<A>::value) return A::view;
    else return std::string_view(a);
}

constexpr std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

// Striped cells for counters and histograms.
template <class Slot, class Cell, std::size_t Stride>
struct striped_slot_factory {
    cell_pool<Cell, Stride> pool;
    rejection_tally* rejected = nullptr;

    void construct(Slot* first, std::size_t n) {
        Cell* base = pool.allocate(n);
        for (std::size_t i = 0; i < n; ++i) new (first + i) Slot(base + i, rejected);
    }
    std::size_t bytes() const noexcept { return pool.bytes(); }
};

struct gauge_slot_factory {
    rejection_tally* rejected = nullptr;
    void construct(gauge_series* first, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) new (first + i) gauge_series(rejected);
    }
    std::size_t bytes() const noexcept { return 0; }
};

template <class F, std::size_t Stride, metric_type = F::type>
struct slot_types;
template <class F, std::size_t Stride>
struct slot_types<F, Stride, metric_type::counter> {
    using slot = counter_series<Stride>;
    using factory = striped_slot_factory<slot, counter_cell, Stride>;
};
template <class F, std::size_t Stride>
struct slot_types<F, Stride, metric_type::gauge> {
    using slot = gauge_series;
    using factory = gauge_slot_factory;
};
template <class F, std::size_t Stride>
struct slot_types<F, Stride, metric_type::histogram> {
    using slot = histogram_series<F::bounds, Stride>;
    using factory = striped_slot_factory<slot, histogram_cell<F::bounds.size()>, Stride>;
};

}  // namespace detail

template <detail::family_descriptor F>
class family {
    using layout = typename F::layout;
    static constexpr std::size_t label_count = layout::size;
    static constexpr std::size_t free_count = layout::dynamic_count;
    static constexpr std::size_t combinations = layout::combinations;
    static constexpr std::size_t stride = detail::round_up(combinations, 32);
    using types = detail::slot_types<F, stride>;

public:
    using descriptor = F;
    using series_type = typename types::slot;

    family() : series_(F::max_series, make_factory(&rejected_)) {
        if constexpr (free_count == 0) fixed_ = series_.find_or_create({});
    }
    family(const family&) = delete;
    family& operator=(const family&) = delete;

    // The series for one label set: values positionally in declared order (strings
    // or lm::value<"...">), or all by name with lm::label<"name">{value}. The
    // reference stays valid for the family's life; keep it for the hot path.
    template <class... A>
    series_type& labels(const A&... args) {
        const auto [values, closed_ok] = resolve(args...);
        return series_for(values, closed_ok);
    }

    // Removes a label set from exposition and zeroes it. Handles to it stay valid:
    // the series comes back (from zero) when labels(...) asks for it again or when
    // a handle kept from before writes to it (a gauge: sets it to non-zero), so
    // cached handles never write into the void. With value sets, every combination
    // sharing the free-form values goes. Returns whether it existed.
    template <class... A>
    bool remove(const A&... args) {
        const auto [values, closed_ok] = resolve(args...);
        if (!closed_ok) return false;
        const auto free = free_values(values);
        return series_.remove(free);
    }

    // Removes every series (as remove() does for each); handles stay valid.
    void reset() { series_.clear(); }

    // Label sets in use (removed ones included, up to max_series).
    std::size_t size() const noexcept { return series_.size(); }
    // Label sets that went to the overflow series because the bound was reached
    // or a value was outside its value_set.
    std::uint64_t dropped() const noexcept { return series_.dropped() + bad_values_.count.load(std::memory_order_relaxed); }
    // Increments and observations ignored (negative, NaN).
    std::uint64_t rejected() const noexcept { return rejected_.count.load(std::memory_order_relaxed); }
    // Heap bytes held by this family's series.
    std::size_t memory_bytes() const noexcept { return series_.bytes(); }

    template <class E>
    void visit(E& e, std::string_view name) const {
        e.begin_family({name, F::help, F::unit, F::type});
        std::array<std::string_view, label_count> values;
        const labels_view view{std::span<const std::string_view>(F::label_names::names), values};
        series_.for_each([&](const node_type& n) {
            if (!n.live.load(std::memory_order_acquire) && !has_data(n)) return;
            const double created = n.created.load(std::memory_order_relaxed);
            if (n.overflow) {
                values.fill(overflow_label_value);
                emit(e, view, n.slots()[0], created);
                return;
            }
            for (std::size_t combo = 0; combo < combinations; ++combo) {
                std::size_t free = 0;
                for (std::size_t pos = 0; pos < label_count; ++pos) {
                    if (layout::closed_sizes[pos] == 0) values[pos] = n.value(free++);
                    else values[pos] = layout::closed_value(pos, combo / radix[pos] % layout::closed_sizes[pos]);
                }
                emit(e, view, n.slots()[combo], created);
            }
        });
        e.end_family();
    }

private:
    using map_type = detail::series_map<series_type, free_count, combinations, typename types::factory>;
    using node_type = typename map_type::node;

    static constexpr std::array<std::size_t, label_count> radix = [] {
        std::array<std::size_t, label_count> out{};
        std::size_t r = 1;
        for (std::size_t pos = 0; pos < label_count; ++pos) {
            out[pos] = r;
            if (layout::closed_sizes[pos]) r *= layout::closed_sizes[pos];
        }
        return out;
    }();

    static typename types::factory make_factory(detail::rejection_tally* rejected) {
        typename types::factory f{};
        f.rejected = rejected;
        return f;
    }

    struct resolved {
        std::array<std::string_view, label_count> values;
        bool closed_ok;
    };

    template <class... A>
    static resolved resolve(const A&... args) {
        constexpr bool all_named = (detail::is_named_label<A>::value && ...) && sizeof...(A) > 0;
        constexpr bool any_named = (detail::is_named_label<A>::value || ...);
        static_assert(all_named || !any_named,
                      "llmetrics: labels(...) takes either all values by position or all as "
                      "lm::label<\"name\">{value}, not a mix");
        static_assert(sizeof...(A) >= label_count,
                      "llmetrics: too few label values in labels(...); pass one value per label "
                      "declared in labels<...>, in declared order");
        static_assert(sizeof...(A) <= label_count,
                      "llmetrics: too many label values in labels(...); pass one value per label "
                      "declared in labels<...>, in declared order");
        resolved out{};
        if constexpr (all_named) {
            static_assert(names_match<A...>(),
                          "llmetrics: lm::label<\"name\"> names must be exactly the declared label "
                          "names, each once");
            ((out.values[F::label_names::index_of(A::name)] = args.value), ...);
        } else {
            static_assert((detail::label_argument<A> && ...),
                          "llmetrics: a label value must be a string (convertible to "
                          "std::string_view) or lm::value<\"...\">");
            static_assert(static_values_allowed<A...>(std::make_index_sequence<sizeof...(A)>{}),
                          "llmetrics: lm::value<\"...\"> is not in the value_set declared for that "
                          "label");
            std::size_t i = 0;
            ((out.values[i++] = detail::label_argument_view(args)), ...);
        }
        out.closed_ok = true;
        if constexpr (layout::closed_count > 0)
            for (std::size_t pos = 0; pos < label_count; ++pos)
                if (layout::closed_sizes[pos] && layout::closed_index(pos, out.values[pos]) == layout::closed_sizes[pos])
                    out.closed_ok = false;
        return out;
    }

    template <class... A>
    static constexpr bool names_match() {
        if constexpr (sizeof...(A) != label_count) {
            return true;  // the count checks above report it
        } else {
            constexpr std::array<std::string_view, sizeof...(A)> given{A::name...};
            for (std::size_t i = 0; i < label_count; ++i) {
                std::size_t seen = 0;
                for (std::string_view g : given) seen += g == F::label_names::names[i];
                if (seen != 1) return false;
            }
            return true;
        }
    }

    template <class... A, std::size_t... I>
    static constexpr bool static_values_allowed(std::index_sequence<I...>) {
        return (static_value_allowed<I, A>() && ...);
    }
    template <std::size_t Pos, class A>
    static constexpr bool static_value_allowed() {
        if constexpr (!detail::is_static_value<A>::value || Pos >= label_count) return true;
        else if constexpr (layout::closed_sizes[Pos] == 0) return true;
        else return layout::closed_index(Pos, A::view) < layout::closed_sizes[Pos];
    }

    static std::array<std::string_view, free_count> free_values(const std::array<std::string_view, label_count>& values) {
        if constexpr (layout::closed_count == 0) return values;
        std::array<std::string_view, free_count> out{};
        std::size_t free = 0;
        for (std::size_t pos = 0; pos < label_count; ++pos)
            if (layout::closed_sizes[pos] == 0) out[free++] = values[pos];
        return out;
    }

    series_type& series_for(const std::array<std::string_view, label_count>& values, bool closed_ok) {
        if constexpr (layout::closed_count > 0) {
            if (!closed_ok) [[unlikely]] {
                bad_values_.note();
                return series_.overflow_node()->slots()[0];
            }
        }
        node_type* n;
        if constexpr (free_count == 0) {
            n = fixed_;
            if (!n->live.load(std::memory_order_acquire)) [[unlikely]] n = series_.find_or_create({});
        } else if constexpr (layout::closed_count == 0) {
            n = series_.find_or_create(values);
        } else {
            n = series_.find_or_create(free_values(values));
        }
        if (n->overflow) return n->slots()[0];
        std::size_t combo = 0;
        if constexpr (combinations > 1)
            for (std::size_t pos = 0; pos < label_count; ++pos)
                if (layout::closed_sizes[pos]) combo += layout::closed_index(pos, values[pos]) * radix[pos];
        return n->slots()[combo];
    }

    // Whether a removed node was written through a handle kept from before.
    static bool has_data(const node_type& n) noexcept {
        for (std::size_t i = 0; i < (n.overflow ? 1 : combinations); ++i) {
            const series_type& s = n.slots()[i];
            if constexpr (F::type == metric_type::counter) {
                const counter_value v = s.value();
                if (v.integral != 0 || v.fractional != 0.0) return true;
            } else if constexpr (F::type == metric_type::gauge) {
                if (s.value() != 0.0) return true;
            } else {
                if (s.value().count() != 0) return true;
            }
        }
        return false;
    }

    // Encoders that take exemplars (OpenMetrics) get them through the longer
    // overloads; the others never pay for reading them.
    template <class E>
    static void emit(E& e, const labels_view& view, const series_type& s, double created) {
        if constexpr (F::type == metric_type::counter) {
            if constexpr (requires { e.counter(view, counter_value{}, created, (const exemplar_view*)nullptr); }) {
                exemplar_reading reading;
                exemplar_view ex;
                const exemplar_view* given = nullptr;
                if (const auto* cell = s.exemplar_cells(); cell && reading.load(*cell)) {
                    ex = reading.view();
                    given = &ex;
                }
                e.counter(view, s.value(), created, given);
            } else {
                e.counter(view, s.value(), created);
            }
        } else if constexpr (F::type == metric_type::gauge) {
            e.gauge(view, s.value());
        } else {
            const auto reading = s.value();
            const std::span<const std::uint64_t> counts(reading.counts);
            constexpr std::size_t cells = series_type::bucket_count + 1;
            if constexpr (requires(std::span<const exemplar_view> x) {
                              e.histogram(view, series_type::bounds(), counts, reading.sum, created, x);
                          }) {
                if (const auto* cell = s.exemplar_cells()) {
                    std::array<exemplar_reading, cells> readings;
                    std::array<exemplar_view, cells> views{};
                    for (std::size_t i = 0; i < cells; ++i)
                        if (readings[i].load(cell[i])) views[i] = readings[i].view();
                    e.histogram(view, series_type::bounds(), counts, reading.sum, created,
                                std::span<const exemplar_view>(views));
                    return;
                }
            }
            e.histogram(view, series_type::bounds(), counts, reading.sum, created);
        }
    }

    detail::rejection_tally rejected_;
    detail::rejection_tally bad_values_;
    map_type series_;
    node_type* fixed_ = nullptr;
};

}  // namespace llmetrics
// ---- end llmetrics/storage/family.hpp ----

// ---- begin llmetrics/registry/registry.hpp ----
// `registry<F...>`: a compile-time set of families (stored in a Boost.Hana tuple,
// so `get<F>()` is an index known when compiling), plus collectors registered at
// run time that contribute families at scrape time. An optional first argument
// `prefix<"llm_router_">` prefixes every family name; the joined names are
// checked like any name.
//
//     lm::registry<lm::prefix<"llm_router_">, requests_total, latency_seconds> metrics;
//     metrics.get<requests_total>().labels("GET").inc();
//     metrics.add_collector(std::make_shared<lm::process_collector>("llm_router_"));
//     std::string body = lm::render(metrics, lm::format::openmetrics);
//
// Exposition order: families sorted by full name, each family's series in the
// order they were first created. A collector family whose name is already taken
// (by a declared family or an earlier collector) is left out, and a collector that
// throws contributes nothing to that scrape; both are counted in
// llmetrics_collector_errors_total.

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/hana/at.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/tuple.hpp>


// ---- begin llmetrics/registry/collector.hpp ----
// Runtime collectors contribute whole families at scrape time (process metrics,
// GPU metrics, analytics). They are registered on a registry and called from the
// scraping thread; an implementation must be safe to call concurrently with the
// application's own threads, and should leave out a series it cannot read rather
// than report a made-up value.

#include <vector>


namespace llmetrics {

class collector {
public:
    virtual ~collector() = default;
    // Appends this collector's families to `out`. Must not throw for ordinary
    // read failures (skip the series instead).
    virtual void collect(std::vector<family_snapshot>& out) = 0;
};

}  // namespace llmetrics
// ---- end llmetrics/registry/collector.hpp ----

namespace llmetrics {

template <fixed_string Prefix>
struct prefix {
    static constexpr auto value = Prefix;
};

namespace detail {

template <class T>
struct is_prefix : std::false_type {};
template <fixed_string P>
struct is_prefix<prefix<P>> : std::true_type {};

template <fixed_string Prefix, class F>
inline constexpr auto joined_name = Prefix + F::name_string;

template <class F, class... Fs>
constexpr std::size_t index_of_family() {
    constexpr std::array<bool, sizeof...(Fs)> same{std::is_same_v<F, Fs>...};
    for (std::size_t i = 0; i < sizeof...(Fs); ++i)
        if (same[i]) return i;
    return sizeof...(Fs);
}

template <std::size_t N>
constexpr bool all_distinct(const std::array<std::string_view, N>& names) {
    for (std::size_t i = 0; i < N; ++i)
        for (std::size_t j = i + 1; j < N; ++j)
            if (names[i] == names[j]) return false;
    return true;
}

template <fixed_string Prefix, class... Fs>
class registry_base {
public:
    static constexpr std::size_t family_count = sizeof...(Fs);
    static constexpr std::array<std::string_view, family_count> names{joined_name<Prefix, Fs>.view()...};

    static_assert((family_descriptor<Fs> && ...),
                  "llmetrics: registry<...> takes family types (counter<...>, gauge<...>, "
                  "histogram<...>), optionally after one prefix<\"...\">");
    static_assert((!is_prefix<Fs>::value && ...),
                  "llmetrics: prefix<\"...\"> must be the first argument of registry<...>, and only one");
    static_assert(Prefix.size() == 0 || is_valid_metric_name(Prefix.view()),
                  "llmetrics: a registry prefix must match [a-zA-Z_:][a-zA-Z0-9_:]*");
    static_assert((is_valid_metric_name(joined_name<Prefix, Fs>.view()) && ...),
                  "llmetrics: a prefixed family name is not a valid metric name");
    static_assert(all_distinct(names),
                  "llmetrics: two families in one registry have the same name; rename one or "
                  "drop the duplicate");

    registry_base() = default;
    registry_base(const registry_base&) = delete;
    registry_base& operator=(const registry_base&) = delete;

    template <class F>
    family<F>& get() noexcept {
        constexpr std::size_t i = index_of_family<F, Fs...>();
        static_assert(i < family_count,
                      "llmetrics: this registry does not hold that family; add it to registry<...>");
        if constexpr (i < family_count) return boost::hana::at_c<i>(families_);
    }
    template <class F>
    const family<F>& get() const noexcept {
        return const_cast<registry_base*>(this)->template get<F>();
    }

    template <class F>
    static constexpr std::string_view name_of() noexcept {
        static_assert(index_of_family<F, Fs...>() < family_count,
                      "llmetrics: this registry does not hold that family; add it to registry<...>");
        return joined_name<Prefix, F>.view();
    }
    static constexpr std::string_view prefix() noexcept { return Prefix.view(); }

    void add_collector(std::shared_ptr<collector> c) {
        if (!c) return;
        std::lock_guard lock(collectors_mutex_);
        collectors_.push_back(std::move(c));
    }
    void remove_collector(const collector* c) {
        std::lock_guard lock(collectors_mutex_);
        std::erase_if(collectors_, [&](const auto& p) { return p.get() == c; });
    }

    // Calls f(family<F>&) for each declared family, in declaration order.
    template <class Fn>
    void for_each_family(Fn&& fn) {
        boost::hana::for_each(families_, [&](auto& fam) { fn(fam); });
    }

    template <class E>
    void visit(E& e) const {
        std::vector<family_snapshot> gathered = collect_runtime();
        drop_taken_names(gathered);
        append_self_metrics(gathered);

        struct entry {
            std::string_view name;
            std::size_t declared;  // index into families_, or family_count
            const family_snapshot* snapshot;
        };
        std::vector<entry> order;
        order.reserve(family_count + gathered.size());
        for (std::size_t i = 0; i < family_count; ++i) order.push_back({names[i], i, nullptr});
        for (const family_snapshot& s : gathered) order.push_back({s.name, family_count, &s});
        std::sort(order.begin(), order.end(), [](const entry& a, const entry& b) { return a.name < b.name; });

        static constexpr auto emitters = emitter_table<E>(std::make_index_sequence<family_count>{});
        for (const entry& en : order) {
            if (en.snapshot) detail::emit_snapshot(e, *en.snapshot);
            else emitters[en.declared](*this, e);
        }
    }

private:
    template <class E, std::size_t... I>
    static constexpr auto emitter_table(std::index_sequence<I...>) {
        using emit_fn = void (*)(const registry_base&, E&);
        return std::array<emit_fn, sizeof...(I)>{+[](const registry_base& r, E& e) {
            boost::hana::at_c<I>(r.families_).visit(e, names[I]);
        }...};
    }

    std::vector<family_snapshot> collect_runtime() const {
        std::vector<std::shared_ptr<collector>> collectors;
        {
            std::lock_guard lock(collectors_mutex_);
            collectors = collectors_;
        }
        std::vector<family_snapshot> out;
        for (const auto& c : collectors) {
            const std::size_t before = out.size();
            try {
                c->collect(out);
            } catch (...) {
                out.resize(before);
                collector_errors_.fetch_add(1, std::memory_order_relaxed);
            }
        }
        return out;
    }

    // Keeps the first family of each name; declared families always win.
    void drop_taken_names(std::vector<family_snapshot>& gathered) const {
        std::vector<std::string_view> taken(names.begin(), names.end());
        std::vector<family_snapshot> kept;
        kept.reserve(gathered.size());
        for (family_snapshot& s : gathered) {
            if (std::find(taken.begin(), taken.end(), s.name) != taken.end()) {
                collector_errors_.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            kept.push_back(std::move(s));
            taken.push_back(kept.back().name);
        }
        gathered = std::move(kept);
    }

    void append_self_metrics(std::vector<family_snapshot>& out) const {
        if constexpr (family_count > 0) {
            family_snapshot dropped{"llmetrics_series_dropped_total",
                                    "Label sets that did not get a series of their own (cardinality "
                                    "bound reached, or a value outside its value_set)",
                                    "", metric_type::counter, {}};
            family_snapshot rejected{"llmetrics_rejected_values_total",
                                     "Increments and observations ignored (negative or NaN)", "",
                                     metric_type::counter, {}};
            std::size_t i = 0;
            boost::hana::for_each(families_, [&](const auto& fam) {
                const std::string name(names[i++]);
                dropped.series.push_back({{{"family", name}}, counter_value{fam.dropped(), 0.0}});
                rejected.series.push_back({{{"family", name}}, counter_value{fam.rejected(), 0.0}});
            });
            out.push_back(std::move(dropped));
            out.push_back(std::move(rejected));
        }
        out.push_back({"llmetrics_collector_errors_total",
                       "Collector families left out of a scrape (name taken, or the collector threw)",
                       "",
                       metric_type::counter,
                       {{{}, counter_value{collector_errors_.load(std::memory_order_relaxed), 0.0}}}});
    }

    boost::hana::tuple<family<Fs>...> families_;
    mutable std::mutex collectors_mutex_;
    std::vector<std::shared_ptr<collector>> collectors_;
    mutable std::atomic<std::uint64_t> collector_errors_{0};
};

}  // namespace detail

template <class... Ts>
class registry : public detail::registry_base<fixed_string<0>{""}, Ts...> {};

template <fixed_string P, class... Fs>
class registry<prefix<P>, Fs...> : public detail::registry_base<P, Fs...> {};

}  // namespace llmetrics
// ---- end llmetrics/registry/registry.hpp ----

// ---- begin llmetrics/core/version.hpp ----
// The library's version, and the compiler that built the including translation
// unit (header-only: that is the compiler that built the user's program).

#include <string_view>

#define LLMETRICS_VERSION_MAJOR 0
#define LLMETRICS_VERSION_MINOR 1
#define LLMETRICS_VERSION_PATCH 0

#define LLMETRICS_DETAIL_STR2(x) #x
#define LLMETRICS_DETAIL_STR(x) LLMETRICS_DETAIL_STR2(x)

#define LLMETRICS_VERSION                          \
    LLMETRICS_DETAIL_STR(LLMETRICS_VERSION_MAJOR)  \
    "." LLMETRICS_DETAIL_STR(LLMETRICS_VERSION_MINOR) \
    "." LLMETRICS_DETAIL_STR(LLMETRICS_VERSION_PATCH)

// Encoded as major * 10000 + minor * 100 + patch, for #if comparisons.
#define LLMETRICS_VERSION_NUMBER \
    (LLMETRICS_VERSION_MAJOR * 10000 + LLMETRICS_VERSION_MINOR * 100 + LLMETRICS_VERSION_PATCH)

// clang also defines __GNUC__, so it is tested first.
#if defined(__clang__)
#define LLMETRICS_COMPILER                                                  \
    "clang " LLMETRICS_DETAIL_STR(__clang_major__) "." LLMETRICS_DETAIL_STR( \
        __clang_minor__) "." LLMETRICS_DETAIL_STR(__clang_patchlevel__)
#elif defined(__GNUC__)
#define LLMETRICS_COMPILER                                                               \
    "gcc " LLMETRICS_DETAIL_STR(__GNUC__) "." LLMETRICS_DETAIL_STR(__GNUC_MINOR__) "." \
        LLMETRICS_DETAIL_STR(__GNUC_PATCHLEVEL__)
#elif defined(_MSC_VER)
#define LLMETRICS_COMPILER "msvc " LLMETRICS_DETAIL_STR(_MSC_FULL_VER)
#else
#define LLMETRICS_COMPILER "unknown"
#endif

namespace llmetrics {

inline constexpr std::string_view version_string = LLMETRICS_VERSION;
inline constexpr std::string_view compiler_string = LLMETRICS_COMPILER;

// The value of __cplusplus the including code was compiled with, e.g. "202002"
// (the macro is spelled with a trailing L, which is dropped here).
inline constexpr std::string_view cplusplus_string = [] {
    std::string_view text = LLMETRICS_DETAIL_STR(__cplusplus);
    if (!text.empty() && text.back() == 'L')
        text.remove_suffix(1);
    return text;
}();

}  // namespace llmetrics
// ---- end llmetrics/core/version.hpp ----

// ---- begin llmetrics/exposition/output.hpp ----
// Where rendered text goes: any buffer that can append characters. Supported out
// of the box: std::string, fmt::memory_buffer (anything with append(first, last)),
// and std::ostream (anything with write(ptr, n)).

#include <concepts>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace llmetrics {

template <class Out>
concept text_output = requires(Out& out, const char* p, std::size_t n) {
    out.append(p, p + n);
} || requires(Out& out, const char* p, std::size_t n) {
    out.write(p, static_cast<std::streamsize>(n));
};

namespace detail {

// Collects the many small pieces of an exposition in a local buffer and hands
// them to the real output in large blocks: an encoder writes ~20 pieces per
// sample line, and a call into std::string or a stream per piece dominated
// rendering time.
template <class Out>
class buffered_output {
public:
    explicit buffered_output(Out& out) noexcept : out_(out) {}
    buffered_output(const buffered_output&) = delete;
    buffered_output& operator=(const buffered_output&) = delete;
    ~buffered_output() { flush(); }

    void append(const char* first, const char* last) { write(first, static_cast<std::size_t>(last - first)); }

    void write(const char* p, std::size_t n) {
        // Most pieces are a few bytes: copy them with fixed-size moves, not a call.
        if (n <= 16 && sizeof(buffer_) - used_ >= 16) [[likely]] {
            char* d = buffer_ + used_;
            if (n >= 8) {
                std::memcpy(d, p, 8);
                std::memcpy(d + n - 8, p + n - 8, 8);
            } else if (n >= 4) {
                std::memcpy(d, p, 4);
                std::memcpy(d + n - 4, p + n - 4, 4);
            } else if (n > 0) {
                d[0] = p[0];
                d[n / 2] = p[n / 2];
                d[n - 1] = p[n - 1];
            }
            used_ += n;
            return;
        }
        if (n > sizeof(buffer_) - used_) [[unlikely]] {
            flush();
            if (n >= sizeof(buffer_)) return forward(p, n);
        }
        std::memcpy(buffer_ + used_, p, n);
        used_ += n;
    }

    void flush() {
        if (used_ != 0) forward(buffer_, used_);
        used_ = 0;
    }

private:
    void forward(const char* p, std::size_t n);

    Out& out_;
    std::size_t used_ = 0;
    char buffer_[16 * 1024];
};

template <class T>
struct is_buffered_output : std::false_type {};
template <class T>
struct is_buffered_output<buffered_output<T>> : std::true_type {};

template <text_output Out>
inline void put(Out& out, std::string_view text) {
    if constexpr (is_buffered_output<Out>::value)
        out.write(text.data(), text.size());
    else
    // std::string's (pointer, size) append is the fast one; its iterator-range
    // overload goes through replace() and costs several times more.
    if constexpr (std::is_same_v<Out, std::string>)
        out.append(text.data(), text.size());
    else if constexpr (requires { out.append(text.data(), text.data() + text.size()); })
        out.append(text.data(), text.data() + text.size());
    else
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

template <text_output Out>
inline void put(Out& out, char c) {
    put(out, std::string_view(&c, 1));
}

template <class Out>
void buffered_output<Out>::forward(const char* p, std::size_t n) {
    put(out_, std::string_view(p, n));
}

}  // namespace detail
}  // namespace llmetrics
// ---- end llmetrics/exposition/output.hpp ----

// ---- begin llmetrics/exposition/format.hpp ----
// The exposition formats llmetrics writes, and the HTTP content type of each.

#include <string_view>

namespace llmetrics {

enum class format { prometheus, openmetrics, json };

constexpr std::string_view content_type(format f) noexcept {
    switch (f) {
    case format::openmetrics: return "application/openmetrics-text; version=1.0.0; charset=utf-8";
    case format::json: return "application/json";
    case format::prometheus: break;
    }
    return "text/plain; version=0.0.4; charset=utf-8";
}

constexpr std::string_view to_string(format f) noexcept {
    switch (f) {
    case format::openmetrics: return "openmetrics";
    case format::json: return "json";
    case format::prometheus: break;
    }
    return "prometheus";
}

}  // namespace llmetrics
// ---- end llmetrics/exposition/format.hpp ----

// ---- begin llmetrics/exposition/number_format.hpp ----
// Number spellings shared by every exposition format. Nothing here allocates:
// digits go through a small stack buffer straight into the output.
//
// Sample values: the shortest text that reads back as the same double
// (std::to_chars), so set(0.1 + 0.2) shows 0.30000000000000004; non-finite
// values are spelled NaN, +Inf and -Inf as both text formats require.
//
// Bucket bounds (`le`) and quantiles: the OpenMetrics canonical form, i.e. what
// Go's strconv.FormatFloat(v, 'g', -1, 64) prints (exponent form when the
// decimal exponent is below -4 or at least 6, exponent with a sign and at
// least two digits), plus ".0" when that text has neither a '.' nor an 'e':
//     0.0  0.001  0.1  1.0  2.5  10.0  100000.0  1e+06  1e-05  0.0001  +Inf
// Prometheus text 0.0.4 uses the very same spelling, so an alert rule or SLO
// that matches `le="0.5"` or `le="1.0"` matches every family in every format.

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>


namespace llmetrics {
namespace detail {

// Large enough for any double in either spelling ("-2.2250738585072014e-308" is 24).
inline constexpr std::size_t number_buffer_size = 40;

inline std::string_view non_finite_spelling(double v) noexcept {
    if (std::isnan(v)) return "NaN";
    return v > 0 ? "+Inf" : "-Inf";
}

// Shortest round-trip text of v; returns the number of characters written.
inline std::size_t format_double(char (&buf)[number_buffer_size], double v) noexcept {
    if (!std::isfinite(v)) {
        const std::string_view s = non_finite_spelling(v);
        s.copy(buf, s.size());
        return s.size();
    }
    const auto result = std::to_chars(buf, buf + number_buffer_size, v);
    return static_cast<std::size_t>(result.ptr - buf);
}

inline std::size_t format_uint(char (&buf)[number_buffer_size], std::uint64_t v) noexcept {
    const auto result = std::to_chars(buf, buf + number_buffer_size, v);
    return static_cast<std::size_t>(result.ptr - buf);
}

// The canonical (Go %g plus ".0") spelling described at the top of this file.
inline std::size_t format_canonical(char (&buf)[number_buffer_size], double v) noexcept {
    if (!std::isfinite(v)) return format_double(buf, v);
    std::size_t n = 0;
    if (std::signbit(v)) buf[n++] = '-';
    if (v == 0) {
        buf[n++] = '0';
        buf[n++] = '.';
        buf[n++] = '0';
        return n;
    }
    // Shortest digits in scientific form, e.g. "1.2345e-05"; split into the digit
    // string and the decimal exponent of the first digit, then lay out as Go does.
    char sci[number_buffer_size];
    const auto r = std::to_chars(sci, sci + number_buffer_size, std::fabs(v), std::chars_format::scientific);
    const char* end = r.ptr;
    char digits[24];
    int nd = 0;
    const char* p = sci;
    for (; p != end && *p != 'e'; ++p)
        if (*p != '.') digits[nd++] = *p;
    int exp = 0;
    std::from_chars(p + 1 + (p[1] == '+'), end, exp);

    if (exp < -4 || exp >= 6) {
        buf[n++] = digits[0];
        if (nd > 1) {
            buf[n++] = '.';
            for (int i = 1; i < nd; ++i) buf[n++] = digits[i];
        }
        buf[n++] = 'e';
        buf[n++] = exp < 0 ? '-' : '+';
        const int a = exp < 0 ? -exp : exp;
        if (a < 10) buf[n++] = '0';
        n += static_cast<std::size_t>(std::to_chars(buf + n, buf + number_buffer_size, a).ptr - (buf + n));
        return n;
    }
    if (exp >= 0) {
        for (int i = 0; i <= exp; ++i) buf[n++] = i < nd ? digits[i] : '0';
        buf[n++] = '.';
        if (nd > exp + 1)
            for (int i = exp + 1; i < nd; ++i) buf[n++] = digits[i];
        else
            buf[n++] = '0';  // integral: Go prints "100000", the canonical form adds ".0"
        return n;
    }
    buf[n++] = '0';
    buf[n++] = '.';
    for (int i = -1; i > exp; --i) buf[n++] = '0';
    for (int i = 0; i < nd; ++i) buf[n++] = digits[i];
    return n;
}

template <text_output Out>
void write_double(Out& out, double v) {
    char buf[number_buffer_size];
    put(out, std::string_view(buf, format_double(buf, v)));
}

template <text_output Out>
void write_uint(Out& out, std::uint64_t v) {
    char buf[number_buffer_size];
    put(out, std::string_view(buf, format_uint(buf, v)));
}

template <text_output Out>
void write_canonical(Out& out, double v) {
    char buf[number_buffer_size];
    put(out, std::string_view(buf, format_canonical(buf, v)));
}

// Counters stay exact while they only received integer increments; once a
// fractional amount was added the value is the (rounded) double sum.
inline double counter_as_double(const counter_value& c) noexcept {
    return static_cast<double>(c.integral) + c.fractional;
}

template <text_output Out>
void write_counter(Out& out, const counter_value& c) {
    if (c.fractional == 0)
        write_uint(out, c.integral);
    else
        write_double(out, counter_as_double(c));
}

}  // namespace detail

// The spelling of a bucket bound or quantile in every format llmetrics writes
// (see the top of this file): use it to build alert rules and dashboards that
// match `le` label values byte for byte.
inline std::string canonical_number(double v) {
    char buf[detail::number_buffer_size];
    return std::string(buf, detail::format_canonical(buf, v));
}

}  // namespace llmetrics
// ---- end llmetrics/exposition/number_format.hpp ----

// ---- begin llmetrics/exposition/prometheus_text.hpp ----
// Prometheus text exposition format 0.0.4
// (content type `text/plain; version=0.0.4; charset=utf-8`).
//
//   # HELP <name> <help, with \ and newline escaped>
//   # TYPE <name> counter|gauge|histogram|untyped
//   <name>{<label>="<value, with \ " and newline escaped>",...} <value>
//
// Counters keep their `_total` name; info families become a gauge named
// `<name>_info` (the suffix is not doubled when the name has it already);
// unknown families are `untyped`. Histogram bounds use the
// canonical spelling of number_format.hpp (`le="1.0"`, `le="0.25"`, `le="+Inf"`).
// The format has no units and no created timestamps, so both are left out.

#include <cstdint>
#include <span>
#include <string_view>


// ---- begin llmetrics/exposition/text_common.hpp ----
// Pieces shared by the exposition formats, mostly by the two line-based ones
// (Prometheus text 0.0.4 and OpenMetrics 1.0): escaping and the
// `name{labels} value` sample line.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>


namespace llmetrics::detail {

// An info family's name without its `_info` suffix: the formats add it to
// the sample (OpenMetrics) or family (Prometheus text, JSON) name themselves.
constexpr std::string_view info_base_name(std::string_view name) noexcept {
    if (name.ends_with("_info")) name.remove_suffix(sizeof("_info") - 1);
    return name;
}

// Whether any byte is a backslash, a newline or (when quoting) a double quote.
inline bool needs_escaping(std::string_view text, bool quote) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    const auto has_byte = [](std::uint64_t w, std::uint64_t pattern) {
        const std::uint64_t x = w ^ pattern;
        return ((x - ones) & ~x & highs) != 0;
    };
    std::size_t i = 0;
    for (; i + 8 <= text.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, text.data() + i, 8);
        if (has_byte(w, ones * '\\') || has_byte(w, ones * '\n') || (quote && has_byte(w, ones * '"'))) return true;
    }
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\\' || c == '\n' || (quote && c == '"')) return true;
    }
    return false;
}

// Writes `text` with backslash and newline escaped, and the double quote too
// when `quote` is set. Unescaped runs go out in one piece.
template <text_output Out>
void write_escaped(Out& out, std::string_view text, bool quote) {
    // Fast path: most values need no escaping; find that out eight bytes at a time.
    if (!needs_escaping(text, quote)) return put(out, text);
    std::size_t run = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        std::string_view escape;
        if (c == '\\') escape = "\\\\";
        else if (c == '\n') escape = "\\n";
        else if (c == '"' && quote) escape = "\\\"";
        else continue;
        if (i > run) put(out, text.substr(run, i - run));
        put(out, escape);
        run = i + 1;
    }
    if (run < text.size()) put(out, text.substr(run));
}

// `a="x",b="y"` without braces. Label values are escaped the same way in both
// text formats.
template <text_output Out>
void write_label_pairs(Out& out, labels_view labels) {
    for (std::size_t i = 0; i < labels.names.size(); ++i) {
        if (i != 0) put(out, ',');
        put(out, labels.names[i]);
        put(out, "=\"");
        write_escaped(out, labels.values[i], true);
        put(out, '"');
    }
}

// `{a="x",b="y"[,extra_name="extra_value"]}`, or nothing when there is no label at all.
template <text_output Out>
void write_labels(Out& out, labels_view labels, std::string_view extra_name = {},
                  std::string_view extra_value = {}) {
    const bool extra = !extra_name.empty();
    if (labels.names.empty() && !extra) return;
    put(out, '{');
    write_label_pairs(out, labels);
    if (extra) {
        if (!labels.names.empty()) put(out, ',');
        put(out, extra_name);
        put(out, "=\"");
        put(out, extra_value);  // a number: never needs escaping
        put(out, '"');
    }
    put(out, '}');
}

// The start of a sample line: `<base><suffix><labels> `.
template <text_output Out>
void write_sample_start(Out& out, std::string_view base, std::string_view suffix, labels_view labels,
                        std::string_view extra_name = {}, std::string_view extra_value = {}) {
    put(out, base);
    put(out, suffix);
    write_labels(out, labels, extra_name, extra_value);
    put(out, ' ');
}

// A fixed-capacity text_output on the stack; remembers when something did not fit.
template <std::size_t N>
struct stack_text {
    char data[N];
    std::size_t size = 0;
    bool overflow = false;

    void append(const char* first, const char* last) noexcept {
        const auto n = static_cast<std::size_t>(last - first);
        if (overflow || n > N - size) {
            overflow = true;
            return;
        }
        std::memcpy(data + size, first, n);
        size += n;
    }
    std::string_view view() const noexcept { return {data, size}; }
};

// The canonical `le` texts of a histogram's bounds, kept from one series to the
// next: all series of a family share their bounds, and formatting a double costs
// more than the rest of a bucket line.
class le_cache {
public:
    static constexpr std::size_t max_bounds = 64;

    // Formats `bounds` unless they are the ones already held; false when there
    // are too many to hold (the caller then formats each bound itself).
    bool prepare(std::span<const double> bounds) noexcept {
        if (bounds.size() > max_bounds) return false;
        if (bounds.size() == size_ &&
            (size_ == 0 || std::memcmp(bounds.data(), values_, size_ * sizeof(double)) == 0))
            return true;
        size_ = bounds.size();
        for (std::size_t i = 0; i < size_; ++i) {
            values_[i] = bounds[i];
            lengths_[i] = static_cast<unsigned char>(format_canonical(text_[i], bounds[i]));
        }
        return true;
    }

    std::string_view operator[](std::size_t i) const noexcept { return {text_[i], lengths_[i]}; }

private:
    double values_[max_bounds];
    char text_[max_bounds][number_buffer_size];
    unsigned char lengths_[max_bounds];
    std::size_t size_ = max_bounds + 1;  // nothing held yet
};

// A series' labels, escaped once for the several lines that repeat them
// (buckets, _sum, _count, _created). Values too long for the stack buffer are
// escaped again on each line instead.
class series_labels {
public:
    explicit series_labels(labels_view labels) noexcept : labels_(labels) { write_label_pairs(pairs_, labels); }

    // `{a="x",b="y"[,extra_name="extra_value"]}`, or nothing when there is no label at all.
    template <text_output Out>
    void write(Out& out, std::string_view extra_name = {}, std::string_view extra_value = {}) const {
        if (pairs_.overflow) return write_labels(out, labels_, extra_name, extra_value);
        const bool extra = !extra_name.empty();
        if (labels_.names.empty() && !extra) return;
        put(out, '{');
        put(out, pairs_.view());
        if (extra) {
            if (!labels_.names.empty()) put(out, ',');
            put(out, extra_name);
            put(out, "=\"");
            put(out, extra_value);
            put(out, '"');
        }
        put(out, '}');
    }

private:
    labels_view labels_;
    stack_text<1024> pairs_;
};

template <text_output Out>
void write_sample_start(Out& out, std::string_view base, std::string_view suffix, const series_labels& labels,
                        std::string_view extra_name = {}, std::string_view extra_value = {}) {
    put(out, base);
    put(out, suffix);
    labels.write(out, extra_name, extra_value);
    put(out, ' ');
}

// The `_bucket` lines of a histogram (cumulative, ending with +Inf); returns the
// total count, which is what `_count` must show. Allocates nothing.
// `annotate(i)` may add to the end of bucket line i (OpenMetrics exemplars).
template <text_output Out, class Annotate>
std::uint64_t write_buckets(Out& out, le_cache& cache, std::string_view base, const series_labels& labels,
                            std::span<const double> bounds, std::span<const std::uint64_t> counts,
                            Annotate&& annotate) {
    const bool cached = cache.prepare(bounds);
    std::uint64_t cumulative = 0;
    char le[number_buffer_size];
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
        cumulative += i < counts.size() ? counts[i] : 0;
        std::string_view le_text = "+Inf";
        if (i < bounds.size()) le_text = cached ? cache[i] : std::string_view(le, format_canonical(le, bounds[i]));
        write_sample_start(out, base, "_bucket", labels, "le", le_text);
        write_uint(out, cumulative);
        annotate(i);
        put(out, '\n');
    }
    return cumulative;
}

template <text_output Out>
std::uint64_t write_buckets(Out& out, le_cache& cache, std::string_view base, const series_labels& labels,
                            std::span<const double> bounds, std::span<const std::uint64_t> counts) {
    return write_buckets(out, cache, base, labels, bounds, counts, [](std::size_t) {});
}

}  // namespace llmetrics::detail
// ---- end llmetrics/exposition/text_common.hpp ----

namespace llmetrics {

template <text_output Out>
class prometheus_text_encoder {
public:
    explicit prometheus_text_encoder(Out& out) noexcept : out_(&out) {}

    void begin_family(const family_header& h) {
        name_ = h.type == metric_type::info ? detail::info_base_name(h.name) : h.name;
        suffix_ = h.type == metric_type::info ? "_info" : "";
        if (!h.help.empty()) {
            detail::put(*out_, "# HELP ");
            write_name();
            detail::put(*out_, ' ');
            detail::write_escaped(*out_, h.help, false);
            detail::put(*out_, '\n');
        }
        detail::put(*out_, "# TYPE ");
        write_name();
        detail::put(*out_, ' ');
        detail::put(*out_, type_name(h.type));
        detail::put(*out_, '\n');
    }

    void counter(labels_view labels, counter_value value, double /*created*/) {
        detail::write_sample_start(*out_, name_, suffix_, labels);
        detail::write_counter(*out_, value);
        detail::put(*out_, '\n');
    }

    void gauge(labels_view labels, double value) {
        detail::write_sample_start(*out_, name_, suffix_, labels);
        detail::write_double(*out_, value);
        detail::put(*out_, '\n');
    }

    void histogram(labels_view labels, std::span<const double> bounds, std::span<const std::uint64_t> counts,
                   double sum, double /*created*/) {
        const detail::series_labels escaped{labels};
        const std::uint64_t total = detail::write_buckets(*out_, le_, name_, escaped, bounds, counts);
        detail::write_sample_start(*out_, name_, "_sum", escaped);
        detail::write_double(*out_, sum);
        detail::put(*out_, '\n');
        detail::write_sample_start(*out_, name_, "_count", escaped);
        detail::write_uint(*out_, total);
        detail::put(*out_, '\n');
    }

    void end_family() noexcept {}
    void finish() noexcept {}

private:
    static constexpr std::string_view type_name(metric_type t) noexcept {
        switch (t) {
        case metric_type::counter: return "counter";
        case metric_type::histogram: return "histogram";
        case metric_type::gauge:
        case metric_type::info: return "gauge";
        case metric_type::unknown: break;
        }
        return "untyped";
    }

    void write_name() {
        detail::put(*out_, name_);
        detail::put(*out_, suffix_);
    }

    Out* out_;
    detail::le_cache le_;
    std::string_view name_;
    std::string_view suffix_;
};

}  // namespace llmetrics
// ---- end llmetrics/exposition/prometheus_text.hpp ----

// ---- begin llmetrics/exposition/openmetrics.hpp ----
// OpenMetrics 1.0 text format
// (content type `application/openmetrics-text; version=1.0.0; charset=utf-8`).
//
//   # TYPE <family> counter|gauge|histogram|info|unknown
//   # UNIT <family> <unit>                      (when declared; never for info)
//   # HELP <family> <help, with \ " and newline escaped>
//   <family>_total{...} 42                     counters: the family name has no `_total`
//   <family>_created{...} 1700000000.25        when the creation time is known
//   ...
//   # EOF
//
// Exemplars (storage/exemplar.hpp) follow the `_total` line of a counter and the
// bucket line they fell into: `... 7 # {trace_id="abc"} 0.35 1700000000.5`.
// Info families are named without the `_info` suffix (a trailing `_info` is
// taken off) and always show the value 1.
// Histograms: cumulative `_bucket` lines (canonical `le`, ending with +Inf), then
// `_sum` and `_count`, then `_created`. The spec treats `_sum` as a counter, so a
// histogram with a negative bound, or whose sum is negative or NaN, shows only
// its buckets (the +Inf bucket still carries the count): `_sum` and `_count`
// appear together or not at all.

#include <cmath>
#include <cstdint>
#include <span>
#include <string_view>


namespace llmetrics {

template <text_output Out>
class openmetrics_encoder {
public:
    explicit openmetrics_encoder(Out& out) noexcept : out_(&out) {}

    void begin_family(const family_header& h) {
        type_ = h.type;
        name_ = h.name;
        if (h.type == metric_type::counter && name_.ends_with("_total"))
            name_.remove_suffix(sizeof("_total") - 1);
        if (h.type == metric_type::info) name_ = detail::info_base_name(name_);
        write_meta("TYPE", to_string(h.type));
        if (!h.unit.empty() && h.type != metric_type::info) write_meta("UNIT", h.unit);
        if (!h.help.empty()) {
            detail::put(*out_, "# HELP ");
            detail::put(*out_, name_);
            detail::put(*out_, ' ');
            detail::write_escaped(*out_, h.help, true);
            detail::put(*out_, '\n');
        }
    }

    void counter(labels_view labels, counter_value value, double created) {
        counter(labels, value, created, nullptr);
    }

    void counter(labels_view labels, counter_value value, double created, const exemplar_view* exemplar) {
        if (std::isnan(created)) {
            detail::write_sample_start(*out_, name_, "_total", labels);
            detail::write_counter(*out_, value);
            if (exemplar) write_exemplar(*exemplar);
            detail::put(*out_, '\n');
            return;
        }
        const detail::series_labels escaped{labels};
        detail::write_sample_start(*out_, name_, "_total", escaped);
        detail::write_counter(*out_, value);
        if (exemplar) write_exemplar(*exemplar);
        detail::put(*out_, '\n');
        write_created(escaped, created);
    }

    void gauge(labels_view labels, double value) {
        if (type_ == metric_type::info) {
            detail::write_sample_start(*out_, name_, "_info", labels);
            detail::put(*out_, "1\n");  // the spec allows no other value
            return;
        }
        detail::write_sample_start(*out_, name_, "", labels);
        detail::write_double(*out_, value);
        detail::put(*out_, '\n');
    }

    void histogram(labels_view labels, std::span<const double> bounds, std::span<const std::uint64_t> counts,
                   double sum, double created) {
        histogram(labels, bounds, counts, sum, created, {});
    }

    // `exemplars`: one per bucket (bounds.size() + 1, +Inf last), or empty.
    void histogram(labels_view labels, std::span<const double> bounds, std::span<const std::uint64_t> counts,
                   double sum, double created, std::span<const exemplar_view> exemplars) {
        const detail::series_labels escaped{labels};
        const std::uint64_t total =
            detail::write_buckets(*out_, le_, name_, escaped, bounds, counts, [&](std::size_t bucket) {
                if (bucket < exemplars.size()) write_exemplar(exemplars[bucket]);
            });
        const bool negative_buckets = !bounds.empty() && bounds.front() < 0;
        if (!negative_buckets && sum >= 0) {  // false for NaN too
            detail::write_sample_start(*out_, name_, "_sum", escaped);
            detail::write_double(*out_, sum);
            detail::put(*out_, '\n');
            detail::write_sample_start(*out_, name_, "_count", escaped);
            detail::write_uint(*out_, total);
            detail::put(*out_, '\n');
        }
        write_created(escaped, created);
    }

    void end_family() noexcept {}

    void finish() { detail::put(*out_, "# EOF\n"); }

private:
    void write_meta(std::string_view keyword, std::string_view text) {
        detail::put(*out_, "# ");
        detail::put(*out_, keyword);
        detail::put(*out_, ' ');
        detail::put(*out_, name_);
        detail::put(*out_, ' ');
        detail::put(*out_, text);
        detail::put(*out_, '\n');
    }

    void write_exemplar(const exemplar_view& e) {
        if (!e.present()) return;
        detail::put(*out_, " # {");
        detail::write_label_pairs(*out_, labels_view{e.names, e.values});
        detail::put(*out_, "} ");
        detail::write_double(*out_, e.value);
        if (!std::isnan(e.timestamp)) {
            detail::put(*out_, ' ');
            detail::write_double(*out_, e.timestamp);
        }
    }

    void write_created(const detail::series_labels& labels, double created) {
        if (std::isnan(created)) return;
        detail::write_sample_start(*out_, name_, "_created", labels);
        detail::write_double(*out_, created);
        detail::put(*out_, '\n');
    }

    Out* out_;
    detail::le_cache le_;
    std::string_view name_;
    metric_type type_ = metric_type::gauge;
};

}  // namespace llmetrics
// ---- end llmetrics/exposition/openmetrics.hpp ----

// ---- begin llmetrics/exposition/json.hpp ----
// JSON exposition (content type `application/json`). One document, no
// whitespace between tokens, a newline at the end:
//
//   {"families":[
//     {"name":"llm_router_http_requests_total",    names as in Prometheus text:
//      "type":"counter",                             counters keep `_total`, info
//      "help":"Total number of HTTP requests",       families end in `_info`
//      "unit":"seconds",                             only when one is declared
//      "series":[
//        {"labels":{"method":"GET","tenant_id":"a"},"value":42},
//        ...]},
//     {"name":"llm_router_request_duration_seconds","type":"histogram","help":"...",
//      "series":[
//        {"labels":{"route":"/chat"},
//         "buckets":[{"le":"0.1","count":1},{"le":"1.0","count":3},{"le":"+Inf","count":4}],
//         "sum":2.75,"count":4}]}]}
//
// - "type" is one of counter, gauge, histogram, info, unknown.
// - Families and series come in the same order as in the text formats; labels
//   keep their declared order.
// - Values are JSON numbers: counters that only saw integer increments as exact
//   integers (past 2^53 too), everything else as the shortest text that reads
//   back as the same double. JSON has no NaN or infinities, so those values
//   are the strings "NaN", "+Inf" and "-Inf" instead.
// - Bucket counts are cumulative, the last bucket is "+Inf", and "count"
//   equals it; "le" is a string in the canonical spelling of number_format.hpp.
// - Strings are escaped as RFC 8259 requires (`\"`, `\\`, \n \r \t \b \f and
//   \u00XX for the other control characters); everything else is UTF-8 as is.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>


namespace llmetrics {

namespace detail {

// The characters of a JSON string, without the surrounding quotes.
template <text_output Out>
void write_json_chars(Out& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    std::size_t run = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        if (i > run) put(out, text.substr(run, i - run));
        run = i + 1;
        switch (c) {
        case '"': put(out, "\\\""); break;
        case '\\': put(out, "\\\\"); break;
        case '\n': put(out, "\\n"); break;
        case '\r': put(out, "\\r"); break;
        case '\t': put(out, "\\t"); break;
        case '\b': put(out, "\\b"); break;
        case '\f': put(out, "\\f"); break;
        default: {
            const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
            put(out, std::string_view(esc, 6));
        }
        }
    }
    if (run < text.size()) put(out, text.substr(run));
}

template <text_output Out>
void write_json_string(Out& out, std::string_view text) {
    put(out, '"');
    write_json_chars(out, text);
    put(out, '"');
}

template <text_output Out>
void write_json_number(Out& out, double v) {
    if (std::isfinite(v)) {
        write_double(out, v);
    } else {
        put(out, '"');
        put(out, non_finite_spelling(v));
        put(out, '"');
    }
}

}  // namespace detail

template <text_output Out>
class json_encoder {
public:
    explicit json_encoder(Out& out) noexcept : out_(&out) {}

    void begin_family(const family_header& h) {
        detail::put(*out_, families_ == 0 ? "{\"families\":[" : ",");
        ++families_;
        series_ = 0;
        detail::put(*out_, "{\"name\":\"");
        if (h.type == metric_type::info) {
            detail::write_json_chars(*out_, detail::info_base_name(h.name));
            detail::put(*out_, "_info");
        } else {
            detail::write_json_chars(*out_, h.name);
        }
        detail::put(*out_, "\",\"type\":\"");
        detail::put(*out_, to_string(h.type));
        detail::put(*out_, "\",\"help\":");
        detail::write_json_string(*out_, h.help);
        if (!h.unit.empty()) {
            detail::put(*out_, ",\"unit\":");
            detail::write_json_string(*out_, h.unit);
        }
        detail::put(*out_, ",\"series\":[");
    }

    void counter(labels_view labels, counter_value value, double /*created*/) {
        begin_series(labels);
        detail::put(*out_, ",\"value\":");
        if (value.fractional == 0)
            detail::write_uint(*out_, value.integral);
        else
            detail::write_json_number(*out_, detail::counter_as_double(value));
        detail::put(*out_, '}');
    }

    void gauge(labels_view labels, double value) {
        begin_series(labels);
        detail::put(*out_, ",\"value\":");
        detail::write_json_number(*out_, value);
        detail::put(*out_, '}');
    }

    void histogram(labels_view labels, std::span<const double> bounds, std::span<const std::uint64_t> counts,
                   double sum, double /*created*/) {
        begin_series(labels);
        detail::put(*out_, ",\"buckets\":[");
        const bool cached = le_.prepare(bounds);
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i <= bounds.size(); ++i) {
            cumulative += i < counts.size() ? counts[i] : 0;
            detail::put(*out_, i == 0 ? "{\"le\":\"" : ",{\"le\":\"");
            if (i == bounds.size()) detail::put(*out_, "+Inf");
            else if (cached) detail::put(*out_, le_[i]);
            else detail::write_canonical(*out_, bounds[i]);
            detail::put(*out_, "\",\"count\":");
            detail::write_uint(*out_, cumulative);
            detail::put(*out_, '}');
        }
        detail::put(*out_, "],\"sum\":");
        detail::write_json_number(*out_, sum);
        detail::put(*out_, ",\"count\":");
        detail::write_uint(*out_, cumulative);
        detail::put(*out_, '}');
    }

    void end_family() { detail::put(*out_, "]}"); }

    void finish() { detail::put(*out_, families_ == 0 ? "{\"families\":[]}\n" : "]}\n"); }

private:
    void begin_series(labels_view labels) {
        detail::put(*out_, series_++ == 0 ? "{\"labels\":{" : ",{\"labels\":{");
        for (std::size_t i = 0; i < labels.names.size(); ++i) {
            if (i != 0) detail::put(*out_, ',');
            detail::write_json_string(*out_, labels.names[i]);
            detail::put(*out_, ':');
            detail::write_json_string(*out_, labels.values[i]);
        }
        detail::put(*out_, '}');
    }

    Out* out_;
    detail::le_cache le_;
    std::size_t families_ = 0;
    std::size_t series_ = 0;
};

}  // namespace llmetrics
// ---- end llmetrics/exposition/json.hpp ----

// ---- begin llmetrics/exposition/negotiate.hpp ----
// Picks an exposition format from an HTTP Accept header (RFC 9110 §12.5.1).
//
// Each format takes the quality of the most specific media range that matches
// it (`type/subtype;version=...` over `type/subtype` over `type/*` over `*/*`),
// and the highest quality above zero wins:
//   openmetrics   application/openmetrics-text, version 1.0.0 or no version
//                 (other versions, e.g. the 0.0.1 Prometheus also offers, do not match)
//   prometheus    text/plain, version 0.0.4 or no version
//   json          application/json
// Ties go to a format the header names explicitly, in the order openmetrics,
// prometheus, json; among formats reached only through a wildcard, to
// prometheus, so `*/*` (curl) gets Prometheus text. A missing header, one that
// matches nothing, or q=0 everywhere also gets Prometheus text, which every
// scraper reads. Types and parameter names are case-insensitive, whitespace is
// tolerated, a malformed media range is skipped, and nothing throws.

#include <charconv>
#include <cmath>
#include <cstddef>
#include <string_view>
#include <system_error>


namespace llmetrics {
namespace detail {

inline bool is_http_space(char c) noexcept { return c == ' ' || c == '\t'; }

inline std::string_view trim_http(std::string_view s) noexcept {
    while (!s.empty() && is_http_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_http_space(s.back())) s.remove_suffix(1);
    return s;
}

inline bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// Position of the next `sep` outside a quoted string, or s.size().
inline std::size_t find_unquoted(std::string_view s, char sep) noexcept {
    bool quoted = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (quoted) {
            if (c == '\\') ++i;
            else if (c == '"') quoted = false;
        } else if (c == '"') {
            quoted = true;
        } else if (c == sep) {
            return i;
        }
    }
    return s.size();
}

inline bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (const char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
        if (!ok) return false;
    }
    return true;
}

struct media_range {
    std::string_view type, subtype;
    std::string_view version;  // unquoted value without escapes; empty when absent
    bool has_version = false;
    double q = 1.0;
};

// Parses one media range; false when it is malformed.
inline bool parse_media_range(std::string_view text, media_range& r) noexcept {
    std::size_t semi = find_unquoted(text, ';');
    const std::string_view type = trim_http(text.substr(0, semi));
    if (type == "*") {  // old clients send a bare `*`
        r.type = r.subtype = "*";
    } else {
        const std::size_t slash = type.find('/');
        if (slash == std::string_view::npos) return false;
        r.type = trim_http(type.substr(0, slash));
        r.subtype = trim_http(type.substr(slash + 1));
        if (!is_token(r.type) || !is_token(r.subtype)) return false;
        if (r.type == "*" && r.subtype != "*") return false;
    }
    while (semi < text.size()) {
        text.remove_prefix(semi + 1);
        semi = find_unquoted(text, ';');
        const std::string_view param = trim_http(text.substr(0, semi));
        if (param.empty()) continue;
        const std::size_t eq = param.find('=');
        if (eq == std::string_view::npos) return false;
        const std::string_view name = trim_http(param.substr(0, eq));
        std::string_view value = trim_http(param.substr(eq + 1));
        if (!value.empty() && value.front() == '"') {
            if (value.size() < 2 || value.back() != '"') return false;  // unterminated
            value = value.substr(1, value.size() - 2);
        }
        if (iequals(name, "q")) {
            double q = -1;
            const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), q);
            if (ec != std::errc() || end != value.data() + value.size() || !(q >= 0 && q <= 1)) return false;
            r.q = q;
        } else if (iequals(name, "version")) {
            r.version = value;
            r.has_version = true;
        }
    }
    return true;
}

// How specifically `r` names format `f`: 0 no match, 1 `*/*`, 2 `type/*`,
// 3 `type/subtype`, 4 `type/subtype;version=<the one we write>`.
inline int match_specificity(const media_range& r, format f) noexcept {
    std::string_view type = "application", subtype, version;
    switch (f) {
    case format::openmetrics: subtype = "openmetrics-text"; version = "1.0.0"; break;
    case format::prometheus: type = "text"; subtype = "plain"; version = "0.0.4"; break;
    case format::json: subtype = "json"; break;
    }
    if (r.type == "*") return 1;
    if (!iequals(r.type, type)) return 0;
    if (r.subtype == "*") return 2;
    if (!iequals(r.subtype, subtype)) return 0;
    if (!r.has_version || version.empty()) return 3;
    return r.version == version ? 4 : 0;
}

}  // namespace detail

inline format negotiate(std::string_view accept_header) noexcept {
    constexpr format formats[] = {format::openmetrics, format::prometheus, format::json};
    double quality[3] = {0, 0, 0};
    int specificity[3] = {0, 0, 0};
    while (!accept_header.empty()) {
        const std::size_t comma = detail::find_unquoted(accept_header, ',');
        const std::string_view part = detail::trim_http(accept_header.substr(0, comma));
        accept_header.remove_prefix(comma < accept_header.size() ? comma + 1 : comma);
        detail::media_range r;
        if (part.empty() || !detail::parse_media_range(part, r)) continue;
        for (int i = 0; i < 3; ++i) {
            const int s = detail::match_specificity(r, formats[i]);
            if (s == 0 || s < specificity[i]) continue;
            if (s > specificity[i] || r.q > quality[i]) quality[i] = r.q;
            specificity[i] = s;
        }
    }
    // Explicitly named formats first (openmetrics, prometheus, json), then the
    // wildcard-only ones (prometheus, openmetrics, json); strictly higher q wins.
    constexpr int order[] = {0, 1, 2};
    constexpr int wildcard_order[] = {1, 0, 2};
    int best = -1;
    for (const bool explicit_pass : {true, false}) {
        for (const int i : explicit_pass ? order : wildcard_order) {
            if ((specificity[i] >= 3) != explicit_pass || quality[i] <= 0) continue;
            if (best < 0 || quality[i] > quality[best]) best = i;
        }
    }
    return best < 0 ? format::prometheus : formats[best];
}

}  // namespace llmetrics
// ---- end llmetrics/exposition/negotiate.hpp ----

// ---- begin llmetrics/exposition/render.hpp ----
// Rendering a source of families in one of the exposition formats.
//
// A source is anything with
//     template <encoder E> void visit(E& e) const;
// that calls e.begin_family(...), the sample calls and e.end_family() for each
// family, in the order they are to appear (registries sort by name). visit()
// does not call e.finish(); render_to() does, once, after visit() returns.
// The strings a family_header and a labels_view point to must stay valid until
// the matching end_family().
//
//     std::string body = llmetrics::render(metrics, llmetrics::format::openmetrics);
//     fmt::memory_buffer buf;
//     llmetrics::render_to(buf, metrics, llmetrics::negotiate(accept));

#include <algorithm>
#include <string>
#include <utility>
#include <vector>


namespace llmetrics {

template <class Source>
concept metrics_source = requires(const Source& s, prometheus_text_encoder<std::string>& p,
                                  openmetrics_encoder<std::string>& o, json_encoder<std::string>& j) {
    s.visit(p);
    s.visit(o);
    s.visit(j);
};

// Families taken from collectors (or built by hand, e.g. in tests): rendered
// sorted by family name, each family's series in the order given.
class snapshot_source {
public:
    snapshot_source() = default;
    explicit snapshot_source(std::vector<family_snapshot> families) : families_(std::move(families)) {}

    void add(family_snapshot family) { families_.push_back(std::move(family)); }
    std::vector<family_snapshot>& families() noexcept { return families_; }
    const std::vector<family_snapshot>& families() const noexcept { return families_; }

    template <encoder E>
    void visit(E& e) const {
        std::vector<const family_snapshot*> sorted;
        sorted.reserve(families_.size());
        for (const family_snapshot& f : families_) sorted.push_back(&f);
        std::stable_sort(sorted.begin(), sorted.end(),
                         [](const family_snapshot* a, const family_snapshot* b) { return a->name < b->name; });
        for (const family_snapshot* f : sorted) detail::emit_snapshot(e, *f);
    }

private:
    std::vector<family_snapshot> families_;
};

template <class Source, text_output Out>
void render_to(Out& out, const Source& source, format f) {
    static_assert(metrics_source<Source>,
                  "llmetrics: render() needs a source with `template <llmetrics::encoder E> void visit(E&) const`: "
                  "pass a registry or a llmetrics::snapshot_source");
    if constexpr (metrics_source<Source>) {
        using buffered = detail::buffered_output<Out>;
        buffered sink{out};
        const auto run = [&](auto&& e) {
            source.visit(e);
            e.finish();
        };
        switch (f) {
        case format::openmetrics: return run(openmetrics_encoder<buffered>{sink});
        case format::json: return run(json_encoder<buffered>{sink});
        case format::prometheus: break;
        }
        run(prometheus_text_encoder<buffered>{sink});
    }
}

template <class Source>
std::string render(const Source& source, format f = format::prometheus) {
    std::string out;
    render_to(out, source, f);
    return out;
}

}  // namespace llmetrics
// ---- end llmetrics/exposition/render.hpp ----

// ---- begin llmetrics/collectors/process_collector.hpp ----
// Default process metrics, as every Prometheus client exports them (prom-client's
// collectDefaultMetrics, client_golang's process collector), read from Linux /proc:
//
//   process_cpu_user_seconds_total     counter  utime  of /proc/self/stat / clock ticks
//   process_cpu_system_seconds_total   counter  stime  of /proc/self/stat / clock ticks
//   process_cpu_seconds_total          counter  utime + stime
//   process_start_time_seconds         gauge    btime of /proc/stat + starttime / clock ticks
//   process_resident_memory_bytes      gauge    rss of /proc/self/stat * page size
//   process_virtual_memory_bytes       gauge    vsize of /proc/self/stat
//   process_heap_bytes                 gauge    VmData of /proc/self/status (as prom-client)
//   process_open_fds                   gauge    entries of /proc/self/fd
//   process_max_fds                    gauge    soft "Max open files" of /proc/self/limits
//   process_threads                    gauge    num_threads of /proc/self/stat
//   llmetrics_build_info               gauge    1, labels version, compiler, cplusplus
//
// Every name gets the prefix given to the constructor (`llm_router_` gives
// `llm_router_process_cpu_seconds_total`, like prom-client's {prefix}). A value
// that cannot be read is left out, never reported as 0. A scrape reads each file
// with read(2) into a stack buffer and parses it in place: no heap allocation
// besides the snapshot itself, no iostreams, no locale.
//
// The /proc root is a constructor argument so tests can point the collector at
// a fake tree (<root>/self/stat, <root>/self/status, <root>/self/limits,
// <root>/self/fd/, <root>/stat).

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>
#endif


namespace llmetrics {

// One reading of the process, each value absent when it could not be read.
struct process_sample {
    std::optional<double> cpu_user_seconds;
    std::optional<double> cpu_system_seconds;
    std::optional<double> start_time_seconds;  // unix time
    std::optional<double> resident_memory_bytes;
    std::optional<double> virtual_memory_bytes;
    std::optional<double> heap_bytes;
    std::optional<double> open_fds;
    std::optional<double> max_fds;  // +Inf when the limit is "unlimited"
    std::optional<double> threads;
};

namespace detail {

#if defined(__linux__)

// Reads up to `cap` bytes of a file; returns the byte count, or -1 when the file
// cannot be opened or read. /proc files are generated on read, so a short read
// does not mean the end: keep reading until 0 or the buffer is full.
inline std::ptrdiff_t read_file_into(const char* path, char* buf, std::size_t cap) noexcept {
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    std::size_t len = 0;
    while (len < cap) {
        const ::ssize_t n = ::read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ::close(fd);
            return -1;
        }
        if (n == 0)
            break;
        len += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return static_cast<std::ptrdiff_t>(len);
}

#endif

// Parses a whole token as an unsigned decimal number.
inline std::optional<std::uint64_t> parse_u64(std::string_view token) noexcept {
    std::uint64_t value = 0;
    const char* end = token.data() + token.size();
    const auto [ptr, ec] = std::from_chars(token.data(), end, value);
    if (token.empty() || ec != std::errc{} || ptr != end)
        return std::nullopt;
    return value;
}

// Splits text on runs of blanks, one token per call.
class token_cursor {
public:
    explicit token_cursor(std::string_view text) noexcept : rest_(text) {}

    std::string_view next() noexcept {
        std::size_t i = 0;
        while (i < rest_.size() && (rest_[i] == ' ' || rest_[i] == '\t' || rest_[i] == '\n'))
            ++i;
        std::size_t j = i;
        while (j < rest_.size() && rest_[j] != ' ' && rest_[j] != '\t' && rest_[j] != '\n')
            ++j;
        const std::string_view token = rest_.substr(i, j - i);
        rest_.remove_prefix(j);
        return token;
    }

private:
    std::string_view rest_;
};

// The fields of /proc/<pid>/stat the collector uses, in their raw units.
struct proc_stat_fields {
    std::optional<std::uint64_t> utime;       // field 14, clock ticks
    std::optional<std::uint64_t> stime;       // field 15, clock ticks
    std::optional<std::uint64_t> threads;     // field 20
    std::optional<std::uint64_t> starttime;   // field 22, clock ticks after boot
    std::optional<std::uint64_t> vsize;       // field 23, bytes
    std::optional<std::uint64_t> rss_pages;   // field 24, pages
};

// The second field (comm) is the executable name in parentheses and may itself
// contain spaces and ')', so the numbered fields start after the LAST ')'.
inline proc_stat_fields parse_proc_stat(std::string_view text) noexcept {
    proc_stat_fields fields;
    const std::size_t close = text.rfind(')');
    if (close == std::string_view::npos)
        return fields;
    token_cursor cursor(text.substr(close + 1));
    // Field 3 (state) is the first token after ')'.
    for (int field = 3; field <= 24; ++field) {
        const std::string_view token = cursor.next();
        if (token.empty())
            break;
        switch (field) {
        case 14: fields.utime = parse_u64(token); break;
        case 15: fields.stime = parse_u64(token); break;
        case 20: fields.threads = parse_u64(token); break;
        case 22: fields.starttime = parse_u64(token); break;
        case 23: fields.vsize = parse_u64(token); break;
        case 24: fields.rss_pages = parse_u64(token); break;
        default: break;
        }
    }
    return fields;
}

// Finds a line starting with `key` (e.g. "VmData:") and returns the rest of it.
inline std::optional<std::string_view> find_line_value(std::string_view text,
                                                       std::string_view key) noexcept {
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos)
            eol = text.size();
        const std::string_view line = text.substr(pos, eol - pos);
        if (line.substr(0, key.size()) == key)
            return line.substr(key.size());
        pos = eol + 1;
    }
    return std::nullopt;
}

// "VmData:\t   1234 kB" -> 1234 * 1024.
inline std::optional<std::uint64_t> parse_status_kib(std::string_view text,
                                                     std::string_view key) noexcept {
    const auto rest = find_line_value(text, key);
    if (!rest)
        return std::nullopt;
    token_cursor cursor(*rest);
    const auto value = parse_u64(cursor.next());
    if (!value || cursor.next() != "kB")
        return std::nullopt;
    return *value * 1024u;
}

// The soft limit of "Max open files   <soft>   <hard>   files"; "unlimited" is +Inf.
inline std::optional<double> parse_limits_max_open_files(std::string_view text) noexcept {
    const auto rest = find_line_value(text, "Max open files");
    if (!rest)
        return std::nullopt;
    token_cursor cursor(*rest);
    const std::string_view soft = cursor.next();
    if (soft == "unlimited")
        return std::numeric_limits<double>::infinity();
    if (const auto value = parse_u64(soft))
        return static_cast<double>(*value);
    return std::nullopt;
}

// Scans /proc/stat for the "btime <seconds>" line in fixed-size chunks: the file
// grows with the CPU and interrupt count (tens of KB on large machines), and the
// line we want comes after the long "intr" line.
class btime_scanner {
public:
    // Feeds the next chunk; returns true once the value is complete.
    bool feed(std::string_view chunk) noexcept {
        static constexpr std::string_view pattern = "\nbtime ";
        for (const char c : chunk) {
            if (done_)
                return true;
            if (matched_ < pattern.size()) {
                if (c == pattern[matched_])
                    ++matched_;
                else
                    matched_ = (c == '\n') ? 1 : 0;
            } else if (c >= '0' && c <= '9') {
                value_ = value_ * 10 + static_cast<std::uint64_t>(c - '0');
                ++digits_;
            } else if (c == ' ' && digits_ == 0) {
                // tolerate extra spaces before the number
            } else {
                done_ = true;
            }
        }
        return done_;
    }

    // Call after the last chunk (the value may end at end of file).
    std::optional<std::uint64_t> finish() const noexcept {
        if (matched_ == 7 && digits_ > 0)
            return value_;
        return std::nullopt;
    }

private:
    std::size_t matched_ = 1;  // the file's start counts as a line start
    std::uint64_t value_ = 0;
    int digits_ = 0;
    bool done_ = false;
};

}  // namespace detail

class process_collector final : public collector {
public:
    explicit process_collector(std::string prefix = {}, std::string proc_root = "/proc")
        : prefix_(std::move(prefix)), root_(std::move(proc_root)) {
        while (root_.size() > 1 && root_.back() == '/')
            root_.pop_back();
        stat_path_ = root_ + "/self/stat";
        status_path_ = root_ + "/self/status";
        limits_path_ = root_ + "/self/limits";
        fd_path_ = root_ + "/self/fd";
        boot_stat_path_ = root_ + "/stat";
        for (std::size_t i = 0; i < family_count; ++i)
            names_[i] = prefix_ + std::string(specs[i].name);
#if defined(__linux__)
        const long ticks = ::sysconf(_SC_CLK_TCK);
        const long page = ::sysconf(_SC_PAGESIZE);
        ticks_per_second_ = ticks > 0 ? static_cast<double>(ticks) : 0.0;
        page_size_ = page > 0 ? static_cast<double>(page) : 0.0;
#endif
    }

    const std::string& prefix() const noexcept { return prefix_; }
    const std::string& proc_root() const noexcept { return root_; }

    // Reads everything the collector exports; safe to call from several threads.
    process_sample sample() const {
        process_sample s;
#if defined(__linux__)
        char buf[4096];

        const std::ptrdiff_t stat_len = detail::read_file_into(stat_path_.c_str(), buf, sizeof buf);
        if (stat_len > 0) {
            const auto f = detail::parse_proc_stat(std::string_view(buf, static_cast<std::size_t>(stat_len)));
            if (ticks_per_second_ > 0) {
                if (f.utime)
                    s.cpu_user_seconds = static_cast<double>(*f.utime) / ticks_per_second_;
                if (f.stime)
                    s.cpu_system_seconds = static_cast<double>(*f.stime) / ticks_per_second_;
                if (f.starttime)
                    s.start_time_seconds = start_time(*f.starttime);
            }
            if (f.threads)
                s.threads = static_cast<double>(*f.threads);
            if (f.vsize)
                s.virtual_memory_bytes = static_cast<double>(*f.vsize);
            if (f.rss_pages && page_size_ > 0)
                s.resident_memory_bytes = static_cast<double>(*f.rss_pages) * page_size_;
        }

        const std::ptrdiff_t status_len = detail::read_file_into(status_path_.c_str(), buf, sizeof buf);
        if (status_len > 0) {
            const std::string_view text(buf, static_cast<std::size_t>(status_len));
            if (const auto data = detail::parse_status_kib(text, "VmData:"))
                s.heap_bytes = static_cast<double>(*data);
        }

        const std::ptrdiff_t limits_len = detail::read_file_into(limits_path_.c_str(), buf, sizeof buf);
        if (limits_len > 0)
            s.max_fds = detail::parse_limits_max_open_files(
                std::string_view(buf, static_cast<std::size_t>(limits_len)));

        s.open_fds = count_open_fds(buf, sizeof buf);
#endif
        return s;
    }

    void collect(std::vector<family_snapshot>& out) override {
        const process_sample s = sample();
        // The CPU counters started counting when the process did.
        const double created = s.start_time_seconds.value_or(std::numeric_limits<double>::quiet_NaN());

        add_counter(out, 0, s.cpu_user_seconds, created);
        add_counter(out, 1, s.cpu_system_seconds, created);
        if (s.cpu_user_seconds && s.cpu_system_seconds)
            add_counter(out, 2, *s.cpu_user_seconds + *s.cpu_system_seconds, created);
        add_gauge(out, 3, s.start_time_seconds);
        add_gauge(out, 4, s.resident_memory_bytes);
        add_gauge(out, 5, s.virtual_memory_bytes);
        add_gauge(out, 6, s.heap_bytes);
        add_gauge(out, 7, s.open_fds);
        add_gauge(out, 8, s.max_fds);
        add_gauge(out, 9, s.threads);

        family_snapshot& info = begin(out, 10);
        series_snapshot series;
        series.labels = {{"version", std::string(version_string)},
                         {"compiler", std::string(compiler_string)},
                         {"cplusplus", std::string(cplusplus_string)}};
        series.value = 1.0;
        info.series.push_back(std::move(series));
    }

private:
    struct family_spec {
        std::string_view name;
        std::string_view help;
        metric_type type;
    };
    static constexpr std::size_t family_count = 11;
    static constexpr family_spec specs[family_count] = {
        {"process_cpu_user_seconds_total", "User CPU time spent by the process in seconds.", metric_type::counter},
        {"process_cpu_system_seconds_total", "System CPU time spent by the process in seconds.", metric_type::counter},
        {"process_cpu_seconds_total", "User plus system CPU time spent by the process in seconds.", metric_type::counter},
        {"process_start_time_seconds", "When the process started, in seconds since the Unix epoch.", metric_type::gauge},
        {"process_resident_memory_bytes", "Resident set size of the process in bytes.", metric_type::gauge},
        {"process_virtual_memory_bytes", "Virtual memory size of the process in bytes.", metric_type::gauge},
        {"process_heap_bytes", "Size of the process data segment (heap) in bytes.", metric_type::gauge},
        {"process_open_fds", "Number of file descriptors the process has open.", metric_type::gauge},
        {"process_max_fds", "Soft limit on the number of open file descriptors.", metric_type::gauge},
        {"process_threads", "Number of operating system threads in the process.", metric_type::gauge},
        {"llmetrics_build_info", "The llmetrics version and the compiler that built it; value is always 1.", metric_type::gauge},
    };

    family_snapshot& begin(std::vector<family_snapshot>& out, std::size_t i) const {
        family_snapshot& family = out.emplace_back();
        family.name = names_[i];
        family.help = std::string(specs[i].help);
        family.type = specs[i].type;
        return family;
    }

    void add_gauge(std::vector<family_snapshot>& out, std::size_t i, std::optional<double> value) const {
        if (!value)
            return;
        series_snapshot series;
        series.value = *value;
        begin(out, i).series.push_back(std::move(series));
    }

    void add_counter(std::vector<family_snapshot>& out, std::size_t i, std::optional<double> value,
                     double created) const {
        if (!value)
            return;
        series_snapshot series;
        series.value = counter_value{0, *value};
        series.created = created;
        begin(out, i).series.push_back(std::move(series));
    }

#if defined(__linux__)
    // starttime is fixed for the life of the process, and so is the boot time,
    // so /proc/stat is read once; until it has been read successfully, retry.
    std::optional<double> start_time(std::uint64_t starttime_ticks) const {
        double boot = boot_time_.load(std::memory_order_relaxed);
        if (std::isnan(boot)) {
            const auto read = read_boot_time();
            if (!read)
                return std::nullopt;
            boot = static_cast<double>(*read);
            boot_time_.store(boot, std::memory_order_relaxed);
        }
        return boot + static_cast<double>(starttime_ticks) / ticks_per_second_;
    }

    std::optional<std::uint64_t> read_boot_time() const noexcept {
        const int fd = ::open(boot_stat_path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return std::nullopt;
        detail::btime_scanner scanner;
        char chunk[1024];
        for (;;) {
            const ::ssize_t n = ::read(fd, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0 || scanner.feed(std::string_view(chunk, static_cast<std::size_t>(n))))
                break;
        }
        ::close(fd);
        return scanner.finish();
    }

    // Counts the entries of <root>/self/fd with getdents64 into a caller buffer
    // (opendir would malloc a 32 KB buffer per scrape). In the real procfs the
    // directory lists the descriptor opened to read it, which is not counted.
    std::optional<double> count_open_fds(char* buf, std::size_t cap) const noexcept {
        const int fd = ::open(fd_path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return std::nullopt;
        bool own_fd_listed = false;
        struct ::statfs fs {};
        if (::fstatfs(fd, &fs) == 0 && fs.f_type == 0x9fa0)  // PROC_SUPER_MAGIC
            own_fd_listed = true;
        char own_name[16];
        const auto own = std::to_chars(own_name, own_name + sizeof own_name, fd);
        const std::string_view own_fd_name(own_name, static_cast<std::size_t>(own.ptr - own_name));

        // Entries are struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, name.
        constexpr std::size_t reclen_at = 16, name_at = 19;
        std::uint64_t count = 0;
        bool ok = true;
        for (;;) {
            const long n = ::syscall(SYS_getdents64, fd, buf, cap);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                ok = false;
                break;
            }
            if (n == 0)
                break;
            for (std::size_t pos = 0; pos + name_at < static_cast<std::size_t>(n);) {
                std::uint16_t reclen = 0;
                std::memcpy(&reclen, buf + pos + reclen_at, sizeof reclen);
                if (reclen == 0 || pos + reclen > static_cast<std::size_t>(n)) {
                    ok = false;
                    break;
                }
                const char* name = buf + pos + name_at;
                const std::string_view entry(name, ::strnlen(name, reclen - name_at));
                if (entry != "." && entry != ".." && !(own_fd_listed && entry == own_fd_name))
                    ++count;
                pos += reclen;
            }
            if (!ok)
                break;
        }
        ::close(fd);
        if (!ok)
            return std::nullopt;
        return static_cast<double>(count);
    }
#endif

    std::string prefix_;
    std::string root_;
    std::string stat_path_, status_path_, limits_path_, fd_path_, boot_stat_path_;
    std::string names_[family_count];
    double ticks_per_second_ = 0.0;
    double page_size_ = 0.0;
    mutable std::atomic<double> boot_time_{std::numeric_limits<double>::quiet_NaN()};
};

}  // namespace llmetrics
// ---- end llmetrics/collectors/process_collector.hpp ----

// ---- begin llmetrics/collectors/scheduling_lag_collector.hpp ----
// Scheduling lag: the C++ counterpart of Node's event-loop lag (prom-client's
// nodejs_eventloop_lag_*). A background thread sleeps for a fixed period and
// records how much later than asked it woke up. Lag rises when the machine's
// CPUs are oversubscribed, when the process is throttled by its cgroup CPU quota,
// or when the kernel is slow to schedule it: the same conditions that delay every
// request the process serves.
//
// Exported gauges (all in seconds, prefix prepended):
//   scheduling_lag_seconds          the latest sample
//   scheduling_lag_min_seconds      over the window of the last `window` samples
//   scheduling_lag_max_seconds
//   scheduling_lag_mean_seconds
//   scheduling_lag_stddev_seconds   population standard deviation
//   scheduling_lag_p50_seconds      nearest-rank percentiles
//   scheduling_lag_p90_seconds
//   scheduling_lag_p99_seconds
// Nothing is exported before the first sample. Defaults: a 100 ms period (10
// wake-ups a second: negligible cost, fine enough to catch stalls that matter to
// request latency) and a 100-sample window, i.e. the last 10 s. Set the window
// to cover your scrape interval (150 for 15 s, 600 for 60 s at 100 ms) so no
// stall falls between two scrapes unseen by _max.
//
// On an idle Linux machine the floor is about 50-100 us: the kernel's default
// 50 us timer slack for normal threads plus the wake-up itself.
//
// The thread stops and is joined by stop() or the destructor; a stop request
// wakes it at once (condition_variable_any waiting on the stop_token).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>


namespace llmetrics {

// Every member has a default initializer, so designated initializers may name
// any subset: scheduling_lag_collector({.prefix = "llm_router_", .period = 10ms}).
struct scheduling_lag_options {
    std::string prefix = {};                                           // e.g. "llm_router_"
    std::chrono::nanoseconds period = std::chrono::milliseconds(100);  // sleep between samples
    std::size_t window = 100;                                          // samples kept for the statistics
};

struct scheduling_lag_stats {
    double last = 0, min = 0, max = 0, mean = 0, stddev = 0, p50 = 0, p90 = 0, p99 = 0;  // seconds
    std::size_t samples = 0;  // in the window
};

class scheduling_lag_collector final : public collector {
public:
    explicit scheduling_lag_collector(scheduling_lag_options options = {})
        : options_(std::move(options)) {
        if (options_.period <= std::chrono::nanoseconds::zero())
            options_.period = std::chrono::milliseconds(100);
        if (options_.window == 0)
            options_.window = 1;
        ring_.assign(options_.window, 0.0);
        thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
    }

    explicit scheduling_lag_collector(std::string prefix)
        : scheduling_lag_collector(scheduling_lag_options{std::move(prefix)}) {}

    scheduling_lag_collector(const scheduling_lag_collector&) = delete;
    scheduling_lag_collector& operator=(const scheduling_lag_collector&) = delete;

    ~scheduling_lag_collector() override { stop(); }

    // Stops sampling and joins the thread; what was measured stays exported.
    void stop() {
        if (thread_.joinable()) {
            thread_.request_stop();
            thread_.join();
        }
    }

    const scheduling_lag_options& options() const noexcept { return options_; }

    // Samples taken since construction.
    std::uint64_t total_samples() const {
        std::lock_guard lock(data_mutex_);
        return total_;
    }

    // Statistics over the window; empty before the first sample.
    std::optional<scheduling_lag_stats> stats() const {
        std::vector<double> values;
        scheduling_lag_stats s;
        {
            std::lock_guard lock(data_mutex_);
            if (total_ == 0)
                return std::nullopt;
            const std::size_t n = total_ < ring_.size() ? static_cast<std::size_t>(total_) : ring_.size();
            values.assign(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(n));
            s.last = last_;
        }
        std::sort(values.begin(), values.end());
        const std::size_t n = values.size();
        double sum = 0;
        for (const double v : values)
            sum += v;
        s.samples = n;
        s.min = values.front();
        s.max = values.back();
        s.mean = sum / static_cast<double>(n);
        double squares = 0;
        for (const double v : values)
            squares += (v - s.mean) * (v - s.mean);
        s.stddev = std::sqrt(squares / static_cast<double>(n));
        // Nearest rank: the smallest value with at least p% of samples at or below it.
        const auto rank = [&](double p) {
            const auto r = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
            return values[std::clamp<std::size_t>(r, 1, n) - 1];
        };
        s.p50 = rank(50);
        s.p90 = rank(90);
        s.p99 = rank(99);
        return s;
    }

    void collect(std::vector<family_snapshot>& out) override {
        const auto s = stats();
        if (!s)
            return;
        add(out, "scheduling_lag_seconds", "How late the latest periodic wake-up of a sampling thread fired, in seconds.", s->last);
        add(out, "scheduling_lag_min_seconds", "Smallest scheduling lag in the sample window, in seconds.", s->min);
        add(out, "scheduling_lag_max_seconds", "Largest scheduling lag in the sample window, in seconds.", s->max);
        add(out, "scheduling_lag_mean_seconds", "Mean scheduling lag over the sample window, in seconds.", s->mean);
        add(out, "scheduling_lag_stddev_seconds", "Standard deviation of scheduling lag over the sample window, in seconds.", s->stddev);
        add(out, "scheduling_lag_p50_seconds", "Median scheduling lag over the sample window, in seconds.", s->p50);
        add(out, "scheduling_lag_p90_seconds", "90th percentile of scheduling lag over the sample window, in seconds.", s->p90);
        add(out, "scheduling_lag_p99_seconds", "99th percentile of scheduling lag over the sample window, in seconds.", s->p99);
    }

private:
    void add(std::vector<family_snapshot>& out, std::string_view name, std::string_view help,
             double value) const {
        family_snapshot& family = out.emplace_back();
        family.name.reserve(options_.prefix.size() + name.size());
        family.name.append(options_.prefix).append(name);
        family.help = std::string(help);
        family.type = metric_type::gauge;
        series_snapshot series;
        series.value = value;
        family.series.push_back(std::move(series));
    }

    void run(std::stop_token stop) {
        using clock = std::chrono::steady_clock;
        std::mutex wait_mutex;  // only this thread waits; the cv needs a lock
        std::unique_lock lock(wait_mutex);
        auto deadline = clock::now() + options_.period;
        while (!stop.stop_requested()) {
            // Returns on timeout or when a stop is requested, never early otherwise.
            wake_.wait_until(lock, stop, deadline, [] { return false; });
            if (stop.stop_requested())
                break;
            const auto now = clock::now();
            const double lag = std::max(0.0, std::chrono::duration<double>(now - deadline).count());
            record(lag);
            // Measure each period from the actual wake-up, so one long stall gives
            // one large sample rather than a burst of catch-up wake-ups.
            deadline = now + options_.period;
        }
    }

    void record(double lag) {
        std::lock_guard lock(data_mutex_);
        ring_[static_cast<std::size_t>(total_ % ring_.size())] = lag;
        last_ = lag;
        ++total_;
    }

    scheduling_lag_options options_;
    mutable std::mutex data_mutex_;
    std::vector<double> ring_;  // window, written round-robin
    std::uint64_t total_ = 0;
    double last_ = 0;
    std::condition_variable_any wake_;
    std::jthread thread_;  // last: stopped and joined before the members it uses go away
};

}  // namespace llmetrics
// ---- end llmetrics/collectors/scheduling_lag_collector.hpp ----

// ---- begin llmetrics/collectors/gpu_collector.hpp ----
// NVIDIA GPU metrics through NVML, loaded with dlopen at run time: no build-time
// dependency on the CUDA toolkit or the driver. When the library is missing or
// nvmlInit fails (no driver, no device, a container without the GPU mounted),
// the collector is simply unavailable and contributes no families.
//
// Gauges, one series per device, labels gpu (index) and uuid, prefix prepended:
//   gpu_info                          1, with the device name as an extra label
//   gpu_utilization_ratio             fraction of the last sample period a kernel ran (0..1)
//   gpu_memory_utilization_ratio      fraction of that period device memory was read or written
//   gpu_memory_used_bytes
//   gpu_memory_total_bytes
//   gpu_temperature_celsius           GPU die temperature
//   gpu_power_watts                   board power draw
// A query a device does not support (power on some boards, for instance) leaves
// that series out. Devices are enumerated on every scrape; NVML is thread-safe.
//
// The library name is a constructor argument: a path loads a specific file
// (tests use it for a fake NVML and for the absent-library path).

#include <dlfcn.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


namespace llmetrics {

namespace detail::nvml {

// The subset of nvml.h the collector calls, declared here so that no NVIDIA
// header is needed to build. Layouts and signatures are NVML's stable C ABI.
using return_t = int;  // nvmlReturn_t; NVML_SUCCESS is 0
inline constexpr return_t success = 0;
struct device_st;
using device_t = device_st*;  // nvmlDevice_t
struct utilization_t {  // nvmlUtilization_t, percent
    unsigned int gpu;
    unsigned int memory;
};
struct memory_t {  // nvmlMemory_t, bytes
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
};
inline constexpr int temperature_gpu = 0;       // NVML_TEMPERATURE_GPU
inline constexpr unsigned int uuid_size = 96;   // NVML_DEVICE_UUID_V2_BUFFER_SIZE
inline constexpr unsigned int name_size = 96;   // NVML_DEVICE_NAME_V2_BUFFER_SIZE

extern "C" {
using init_fn = return_t (*)();
using shutdown_fn = return_t (*)();
using get_count_fn = return_t (*)(unsigned int*);
using get_handle_fn = return_t (*)(unsigned int, device_t*);
using get_string_fn = return_t (*)(device_t, char*, unsigned int);  // UUID, name
using get_utilization_fn = return_t (*)(device_t, utilization_t*);
using get_memory_fn = return_t (*)(device_t, memory_t*);
using get_temperature_fn = return_t (*)(device_t, int, unsigned int*);
using get_power_fn = return_t (*)(device_t, unsigned int*);  // milliwatts
}

}  // namespace detail::nvml

class gpu_collector final : public collector {
public:
    explicit gpu_collector(std::string prefix = {}, std::string library = "libnvidia-ml.so.1")
        : prefix_(std::move(prefix)) {
        load(library.c_str());
    }

    gpu_collector(const gpu_collector&) = delete;
    gpu_collector& operator=(const gpu_collector&) = delete;

    ~gpu_collector() override {
        if (available_)
            shutdown_();
        if (handle_)
            ::dlclose(handle_);
    }

    // Whether NVML was loaded and initialised; when false, collect() adds nothing.
    bool available() const noexcept { return available_; }

    // Why NVML is unavailable ("" when it is available), for logs and the probe.
    const std::string& error() const noexcept { return error_; }

    // Number of devices NVML reports now (0 when unavailable).
    unsigned int device_count() const noexcept {
        unsigned int count = 0;
        if (!available_ || get_count_(&count) != detail::nvml::success)
            return 0;
        return count;
    }

    void collect(std::vector<family_snapshot>& out) override {
        const unsigned int count = device_count();
        if (count == 0)
            return;

        family_snapshot families[family_count];
        for (std::size_t i = 0; i < family_count; ++i) {
            families[i].name = prefix_ + std::string(specs[i].name);
            families[i].help = std::string(specs[i].help);
            families[i].type = metric_type::gauge;
        }

        for (unsigned int index = 0; index < count; ++index) {
            detail::nvml::device_t device = nullptr;
            if (get_handle_(index, &device) != detail::nvml::success)
                continue;
            char uuid[detail::nvml::uuid_size] = {};
            if (get_uuid_(device, uuid, sizeof uuid) != detail::nvml::success)
                uuid[0] = '\0';  // keep the device; its uuid label is then empty
            const std::string gpu = std::to_string(index);

            const auto add = [&](std::size_t family, double value) {
                series_snapshot series;
                series.labels = {{"gpu", gpu}, {"uuid", terminated(uuid, sizeof uuid)}};
                series.value = value;
                families[family].series.push_back(std::move(series));
            };

            char name[detail::nvml::name_size] = {};
            if (get_name_(device, name, sizeof name) == detail::nvml::success) {
                add(0, 1.0);
                families[0].series.back().labels.emplace_back("name", terminated(name, sizeof name));
            }
            detail::nvml::utilization_t util{};
            if (get_utilization_(device, &util) == detail::nvml::success) {
                add(1, util.gpu / 100.0);
                add(2, util.memory / 100.0);
            }
            detail::nvml::memory_t memory{};
            if (get_memory_(device, &memory) == detail::nvml::success) {
                add(3, static_cast<double>(memory.used));
                add(4, static_cast<double>(memory.total));
            }
            unsigned int celsius = 0;
            if (get_temperature_(device, detail::nvml::temperature_gpu, &celsius) == detail::nvml::success)
                add(5, static_cast<double>(celsius));
            unsigned int milliwatts = 0;
            if (get_power_(device, &milliwatts) == detail::nvml::success)
                add(6, milliwatts / 1000.0);
        }

        for (family_snapshot& family : families)
            if (!family.series.empty())
                out.push_back(std::move(family));
    }

private:
    struct family_spec {
        std::string_view name;
        std::string_view help;
    };
    static constexpr std::size_t family_count = 7;
    static constexpr family_spec specs[family_count] = {
        {"gpu_info", "NVIDIA GPU present, with its name; value is always 1."},
        {"gpu_utilization_ratio", "Fraction of the last sample period during which a kernel ran on the GPU."},
        {"gpu_memory_utilization_ratio", "Fraction of the last sample period during which GPU memory was read or written."},
        {"gpu_memory_used_bytes", "GPU memory in use, in bytes."},
        {"gpu_memory_total_bytes", "Total GPU memory, in bytes."},
        {"gpu_temperature_celsius", "GPU temperature in degrees Celsius."},
        {"gpu_power_watts", "GPU board power draw in watts."},
    };

    // NVML writes NUL-terminated strings; stay within the buffer regardless.
    static std::string terminated(const char* text, std::size_t cap) {
        return std::string(text, ::strnlen(text, cap));
    }

    template <class Fn>
    bool bind(Fn& fn, const char* symbol) {
        void* address = ::dlsym(handle_, symbol);
        if (!address) {
            error_ = std::string("NVML symbol not found: ") + symbol;
            return false;
        }
        // POSIX guarantees a data pointer from dlsym can hold a function's address.
        static_assert(sizeof(Fn) == sizeof(void*), "llmetrics: function pointers must be pointer-sized for dlsym");
        std::memcpy(&fn, &address, sizeof fn);
        return true;
    }

    void load(const char* library) {
        handle_ = ::dlopen(library, RTLD_NOW | RTLD_LOCAL);
        if (!handle_) {
            const char* why = ::dlerror();
            error_ = why ? why : "dlopen failed";
            return;
        }
        detail::nvml::init_fn init = nullptr;
        const bool bound = bind(init, "nvmlInit_v2") && bind(shutdown_, "nvmlShutdown") &&
                           bind(get_count_, "nvmlDeviceGetCount_v2") &&
                           bind(get_handle_, "nvmlDeviceGetHandleByIndex_v2") &&
                           bind(get_uuid_, "nvmlDeviceGetUUID") && bind(get_name_, "nvmlDeviceGetName") &&
                           bind(get_utilization_, "nvmlDeviceGetUtilizationRates") &&
                           bind(get_memory_, "nvmlDeviceGetMemoryInfo") &&
                           bind(get_temperature_, "nvmlDeviceGetTemperature") &&
                           bind(get_power_, "nvmlDeviceGetPowerUsage");
        if (!bound) {
            ::dlclose(handle_);
            handle_ = nullptr;
            return;
        }
        const detail::nvml::return_t rc = init();
        if (rc != detail::nvml::success) {
            error_ = "nvmlInit_v2 failed with NVML error " + std::to_string(rc);
            ::dlclose(handle_);
            handle_ = nullptr;
            return;
        }
        available_ = true;
    }

    std::string prefix_;
    std::string error_;
    void* handle_ = nullptr;
    bool available_ = false;
    detail::nvml::shutdown_fn shutdown_ = nullptr;
    detail::nvml::get_count_fn get_count_ = nullptr;
    detail::nvml::get_handle_fn get_handle_ = nullptr;
    detail::nvml::get_string_fn get_uuid_ = nullptr;
    detail::nvml::get_string_fn get_name_ = nullptr;
    detail::nvml::get_utilization_fn get_utilization_ = nullptr;
    detail::nvml::get_memory_fn get_memory_ = nullptr;
    detail::nvml::get_temperature_fn get_temperature_ = nullptr;
    detail::nvml::get_power_fn get_power_ = nullptr;
};

}  // namespace llmetrics
// ---- end llmetrics/collectors/gpu_collector.hpp ----

// ---- begin llmetrics/instrument/catalog.hpp ----
// The tutorial's twelve metric families ("LLM Runner Router" monitoring, the
// prom-client `PrometheusMetrics` class), as family types. Names are given
// without the `llm_router_` prefix: the registry adds it at compile time, so
//
//     llmetrics::catalog_registry metrics;      // registry<prefix<"llm_router_">, the twelve>
//     metrics.get<llmetrics::catalog::errors_total>()       // exposed as llm_router_errors_total
//
// or pick families, or extend the set:
//
//     llmetrics::llm_router_registry<my_extra_family> metrics;   // the twelve + yours
//     llmetrics::llm_router_catalog::apply<my_registry_template>  // the list itself
//
// Help texts, label names (in order) and buckets are the tutorial's. `status`
// is a closed set {success, error}.
//
// Beyond the tutorial, `catalog::streaming` holds three families a router
// measures once it streams (time to first token, time per output token, input
// and output tokens apart), named after vLLM's and bucketed as the OpenTelemetry
// GenAI conventions advise; monitored_router fills them when the registry holds
// them (see llm_router_streaming_registry).


namespace llmetrics {

// A list of family types that can be spread into any variadic template.
template <class... Fs>
struct family_list {
    static constexpr std::size_t size = sizeof...(Fs);
    template <template <class...> class T, class... Before>
    using apply = T<Before..., Fs...>;
    template <class... More>
    using append = family_list<Fs..., More...>;
};

namespace catalog {

using http_requests_total = counter<"http_requests_total", "Total number of HTTP requests",
                                    labels<"method", "route", "status_code", "tenant_id">>;

using http_request_duration_seconds =
    histogram<"http_request_duration_seconds", "Duration of HTTP requests in seconds",
              labels<"method", "route", "tenant_id">, buckets<0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10>>;

using model_inference_total =
    counter<"model_inference_total", "Total number of model inferences",
            labels<"model_id", "strategy", "status", "tenant_id">, value_set<"status", "success", "error">>;

using model_inference_duration_seconds =
    histogram<"model_inference_duration_seconds", "Duration of model inference in seconds",
              labels<"model_id", "strategy", "tenant_id">, buckets<0.1, 0.5, 1, 2, 5, 10, 30, 60>>;

using model_inference_tokens =
    histogram<"model_inference_tokens", "Number of tokens generated per inference",
              labels<"model_id", "strategy", "tenant_id">, buckets<1, 10, 50, 100, 200, 500, 1000, 2000>>;

using active_connections = gauge<"active_connections", "Number of active connections", labels<"tenant_id">>;

using queue_depth = gauge<"queue_depth", "Current queue depth", labels<"queue_type", "tenant_id">>;

using cache_hits_total =
    counter<"cache_hits_total", "Total number of cache hits", labels<"cache_type", "tenant_id">>;

using cache_misses_total =
    counter<"cache_misses_total", "Total number of cache misses", labels<"cache_type", "tenant_id">>;

using request_cost_cents = histogram<"request_cost_cents", "Cost of requests in cents", labels<"model_id", "tenant_id">,
                                     buckets<0.1, 0.5, 1, 2, 5, 10, 20, 50>>;

using model_load_time_seconds =
    histogram<"model_load_time_seconds", "Time taken to load models", labels<"model_id", "format", "loader">,
              buckets<0.1, 0.5, 1, 2, 5, 10, 30, 60, 120>>;

using errors_total =
    counter<"errors_total", "Total number of errors", labels<"error_type", "model_id", "tenant_id">>;

// The twelve, in the tutorial's order.
using families = family_list<http_requests_total, http_request_duration_seconds, model_inference_total,
                             model_inference_duration_seconds, model_inference_tokens, active_connections,
                             queue_depth, cache_hits_total, cache_misses_total, request_cost_cents,
                             model_load_time_seconds, errors_total>;

// Streaming extensions (not in the tutorial).
namespace streaming {

using time_to_first_token_seconds =
    histogram<"time_to_first_token_seconds", "Time from request to the first output token in seconds",
              labels<"model_id", "strategy", "tenant_id">,
              buckets<0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10>>;

using time_per_output_token_seconds =
    histogram<"time_per_output_token_seconds", "Time per output token after the first in seconds",
              labels<"model_id", "strategy", "tenant_id">,
              buckets<0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5>>;

using tokens_total = counter<"tokens_total", "Total number of input and output tokens",
                             labels<"model_id", "tenant_id", "token_type">, value_set<"token_type", "input", "output">>;

using families = family_list<time_to_first_token_seconds, time_per_output_token_seconds, tokens_total>;

}  // namespace streaming

}  // namespace catalog

// The twelve as a list: `llm_router_catalog::apply<registry, prefix<"llm_router_">>`.
using llm_router_catalog = catalog::families;

// registry<prefix<"llm_router_">, the twelve, Extra...>.
template <class... Extra>
using llm_router_registry =
    typename llm_router_catalog::template append<Extra...>::template apply<registry, prefix<"llm_router_">>;

// The twelve under the tutorial's prefix.
using catalog_registry = llm_router_registry<>;

// The twelve and the streaming extensions under the tutorial's prefix.
using llm_router_streaming_registry =
    llm_router_registry<catalog::streaming::time_to_first_token_seconds,
                        catalog::streaming::time_per_output_token_seconds, catalog::streaming::tokens_total>;

}  // namespace llmetrics
// ---- end llmetrics/instrument/catalog.hpp ----

// ---- begin llmetrics/instrument/genai_catalog.hpp ----
// OpenTelemetry GenAI semantic-convention metrics, named as Prometheus renders
// them (dots become underscores, unit "s" becomes the `_seconds` suffix, the
// annotation unit "{token}" adds nothing), with the conventions' advised bucket
// boundaries, so dashboards and alerts written for those conventions work on a
// llmetrics registry unchanged:
//
//   gen_ai.client.operation.duration       -> gen_ai_client_operation_duration_seconds
//   gen_ai.client.token.usage              -> gen_ai_client_token_usage
//   gen_ai.server.time_to_first_token      -> gen_ai_server_time_to_first_token_seconds
//   gen_ai.server.time_per_output_token    -> gen_ai_server_time_per_output_token_seconds
//
// Attributes become labels the same way: gen_ai.operation.name ->
// gen_ai_operation_name, gen_ai.provider.name -> gen_ai_provider_name,
// gen_ai.request.model -> gen_ai_request_model, error.type -> error_type (empty,
// which Prometheus reads as absent, on success), gen_ai.token.type ->
// gen_ai_token_type (closed set: input, output). No name contains ':' (OpenMetrics
// keeps it for recording rules).
//
// These names carry no prefix: put them in a registry without one,
//
//     llmetrics::genai_registry genai;
//     llmetrics::monitored_router router{my_router, metrics, genai};   // both catalogs
//
// or use monitored_router with `genai` alone.


namespace llmetrics {
namespace genai {

using client_operation_duration =
    histogram<"gen_ai_client_operation_duration_seconds", "GenAI operation duration",
              labels<"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "error_type">,
              buckets<0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92>,
              unit<"seconds">>;

using client_token_usage =
    histogram<"gen_ai_client_token_usage", "Number of input and output tokens used",
              labels<"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "gen_ai_token_type">,
              buckets<1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864>,
              value_set<"gen_ai_token_type", "input", "output">>;

using server_time_to_first_token =
    histogram<"gen_ai_server_time_to_first_token_seconds", "Time to generate first token for successful responses",
              labels<"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model">,
              buckets<0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10>,
              unit<"seconds">>;

using server_time_per_output_token =
    histogram<"gen_ai_server_time_per_output_token_seconds",
              "Time per output token generated after the first token for successful responses",
              labels<"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model">,
              buckets<0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5>, unit<"seconds">>;

using families = family_list<client_operation_duration, client_token_usage, server_time_to_first_token,
                             server_time_per_output_token>;

}  // namespace genai

// The four GenAI families, unprefixed.
using genai_catalog = genai::families;
using genai_registry = genai_catalog::apply<registry>;

}  // namespace llmetrics
// ---- end llmetrics/instrument/genai_catalog.hpp ----

// ---- begin llmetrics/instrument/llm_router.hpp ----
// What an LLM router is to the instrumentation, after the tutorial's
// `LLMRouter`: `process(prompt, options)` returns a result that may carry token
// counts and a cost, `register_model(config)` loads a model described by an id,
// a format and a loader, and `initialize()` is optional.
//
// Nothing here asks a router to derive from anything or to use these types.
// Every access goes through a customization point that a user can specialise
// for a type they cannot change:
//
//   router_traits<R>        how to call process / register_model / initialize
//                           (and the optional process_stream / process_async);
//                           derive a specialisation from default_router_traits<R>
//                           and replace only what differs.
//   options_traits<O>       the labels of a call (model, strategy, tenant, GenAI
//                           operation and provider) read from its options.
//   result_traits<T>        token counts and cost read from a result.
//   model_config_traits<C>  id, format and loader read from a model config.
//
// Without a specialisation, options, results and configs are read by member
// name (see the defaults below), or through a free function found by ADL:
// `llmetrics_request_labels(const O&)`, `llmetrics_usage(const T&)`,
// `llmetrics_model_labels(const C&)`.
//
// Adapting a router that knows nothing of llmetrics:
//
//     namespace legacy {
//     struct Params { std::string modelName; std::string customer; };
//     struct Reply { std::string text; int prompt_len; int completion_len; double usd; };
//     struct Engine {
//         Reply Generate(const std::string& prompt, const Params& params);
//         void Load(const std::string& name);
//     };
//     }
//
//     template <>
//     struct llmetrics::router_traits<legacy::Engine> : llmetrics::default_router_traits<legacy::Engine> {
//         using options_type = legacy::Params;
//         static legacy::Reply process(legacy::Engine& e, std::string_view prompt, const legacy::Params& p) {
//             return e.Generate(std::string(prompt), p);
//         }
//         static void register_model(legacy::Engine& e, const llmetrics::model_config& c) { e.Load(c.id); }
//     };
//     template <>
//     struct llmetrics::options_traits<legacy::Params> {
//         static llmetrics::request_labels read(const legacy::Params& p) {
//             return {.model = p.modelName, .tenant_id = p.customer};
//         }
//     };
//     template <>
//     struct llmetrics::result_traits<legacy::Reply> {
//         static llmetrics::usage read(const legacy::Reply& r) {
//             return {.input_tokens = r.prompt_len, .output_tokens = r.completion_len, .cost = r.usd};
//         }
//     };
//
//     legacy::Engine engine;
//     llmetrics::monitored_router router{engine, metrics};   // llm_router<legacy::Engine> holds
//     router.process("Hello", legacy::Params{"gpt-4", "tenant-a"});

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>


// ---- begin llmetrics/instrument/error_type.hpp ----
// The `error_type` label of a failed call: the type name of the exception, as
// the tutorial's `error.constructor.name`. C++ type names are demangled
// (abi::__cxa_demangle) and shortened to the unqualified name, so
// `myapp::TimeoutError` gives "TimeoutError" and `std::runtime_error` gives
// "runtime_error"; template arguments are kept (`wrapexcept<std::bad_alloc>`).
// Names are computed once per exception type and cached, so a failure costs no
// allocation after the first of its type. A thrown value that is not of class
// type gives its type name too ("int", "char const*").

#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <typeindex>
#include <typeinfo>
#include <unordered_map>

#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#define LLMETRICS_HAS_CXXABI 1
#else
#define LLMETRICS_HAS_CXXABI 0
#endif

namespace llmetrics {

namespace detail {

// The part after the last "::" that is not inside template arguments or a
// parenthesised group such as "(anonymous namespace)".
inline std::string_view unqualified_type_name(std::string_view name) noexcept {
    int depth = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        if (c == '<' || c == '(') ++depth;
        else if ((c == '>' || c == ')') && depth > 0) --depth;
        else if (c == ':' && depth == 0 && i + 1 < name.size() && name[i + 1] == ':') start = i + 2;
    }
    return name.substr(start);
}

inline std::string demangled_type_name(const std::type_info& type) {
#if LLMETRICS_HAS_CXXABI
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                               std::free);
    if (status == 0 && out) return std::string(out.get());
#endif
    return std::string(type.name());
}

}  // namespace detail

// The short, demangled name of `type`; the view stays valid for the program's life.
inline std::string_view error_type_name(const std::type_info& type) {
    static std::mutex mutex;
    static std::unordered_map<std::type_index, std::string> names;
    std::lock_guard lock(mutex);
    auto it = names.find(std::type_index(type));
    if (it == names.end()) {
        const std::string full = detail::demangled_type_name(type);
        it = names.emplace(std::type_index(type), std::string(detail::unqualified_type_name(full))).first;
    }
    return it->second;
}

// The error_type of the exception being handled; call it inside a catch block.
// "Unknown" when no exception is being handled or the runtime cannot tell.
inline std::string_view current_error_type_name() {
#if LLMETRICS_HAS_CXXABI
    if (const std::type_info* type = abi::__cxa_current_exception_type()) return error_type_name(*type);
#else
    try {
        if (std::current_exception()) throw;
    } catch (const std::exception& e) {
        return error_type_name(typeid(e));
    } catch (...) {
    }
#endif
    return "Unknown";
}

}  // namespace llmetrics
// ---- end llmetrics/instrument/error_type.hpp ----

namespace llmetrics {

// ---------------------------------------------------------------------------
// Vocabulary types. A router written for llmetrics may use them directly.

// Options of one call. String views: the caller's strings are read during the
// call, never copied on the hot path. Empty means "use the default" (model
// "default", strategy "balanced", tenant "unknown", as the tutorial).
//
//     router.process("Hello", {.model = "gpt-4", .tenant_id = "tenant-a"});
struct request_options {
    std::string_view model{};
    std::string_view tenant_id{};
    std::string_view strategy{};
    std::size_t max_tokens = 0;  // 0: the router's default
    std::optional<double> temperature{};
    bool stream = false;
    std::string_view provider{};   // gen_ai.provider.name, e.g. "openai"
    std::string_view operation{};  // gen_ai.operation.name, e.g. "chat"
};

// A model to register, as the tutorial's modelConfig.
//
//     router.register_model({.id = "llama-2-7b", .format = "gguf", .source = "models/llama.gguf"});
struct model_config {
    std::string id{};
    std::string format{};
    std::string loader{};  // empty: "auto"
    std::string source{};  // path or URL
};

// Token counts and cost of one result; whatever the router does not report is
// absent (the tutorial records 0 tokens then, and no cost).
struct usage {
    std::optional<double> input_tokens{};
    std::optional<double> output_tokens{};
    std::optional<double> total_tokens{};
    std::optional<double> cost{};  // in currency units (dollars); recorded x100 as cents

    // total_tokens, else input + output when either is known.
    std::optional<double> total() const noexcept {
        if (total_tokens) return *total_tokens;  // (not `return total_tokens`: see add_usage_fields)
        if (input_tokens || output_tokens) return input_tokens.value_or(0.0) + output_tokens.value_or(0.0);
        return std::nullopt;
    }
};

// A result shaped like the tutorial's (`result.metrics.totalTokens`, `.cost`).
struct inference_result {
    std::string text{};
    std::string model{};
    struct metrics_type {
        std::optional<std::uint64_t> input_tokens{};
        std::optional<std::uint64_t> output_tokens{};
        std::optional<std::uint64_t> total_tokens{};
        std::optional<double> cost{};
    } metrics{};
};

// The label values of a call as read from its options (empty: default).
struct request_labels {
    std::string_view model{};
    std::string_view tenant_id{};
    std::string_view strategy{};
    std::string_view provider{};
    std::string_view operation{};
};

// The label values of a model registration (empty: "unknown"; loader: "auto").
struct model_labels {
    std::string_view id{};
    std::string_view format{};
    std::string_view loader{};
};

// ---------------------------------------------------------------------------
// Member-name readers behind the default traits.

namespace detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

// Sets `out` from a number or an engaged optional number; leaves it alone
// otherwise. Assigns a double, never a whole optional (see add_usage_fields).
template <class T>
void set_number(std::optional<double>& out, const T& v) noexcept {
    if constexpr (is_optional<T>::value) {
        if constexpr (std::is_arithmetic_v<typename T::value_type> && !std::is_same_v<typename T::value_type, bool>) {
            if (v) out = static_cast<double>(*v);
        }
    } else if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
        out = static_cast<double>(v);
    }
}

template <class T>
std::string_view text_of(const T& v) noexcept {
    if constexpr (is_optional<T>::value) {
        if (v) return text_of(*v);
        return {};
    } else if constexpr (std::is_same_v<std::decay_t<T>, const char*> || std::is_same_v<std::decay_t<T>, char*>) {
        return v ? std::string_view(v) : std::string_view{};
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
        return std::string_view(v);
    } else {
        return {};
    }
}

// Fills the fields of `u` still missing from one object, by the names routers
// commonly use. Filled in place, field by field: GCC copies a std::optional
// assigned from another optional as one 16-byte load right after two narrower
// stores, a store-forwarding stall that cost ~40 ns per call on the hot path.
template <class T>
void add_usage_fields(usage& u, const T& o) noexcept {
    if constexpr (std::is_class_v<T>) {
        if (!u.input_tokens) {
            if constexpr (requires { o.input_tokens; }) set_number(u.input_tokens, o.input_tokens);
            else if constexpr (requires { o.prompt_tokens; }) set_number(u.input_tokens, o.prompt_tokens);
            else if constexpr (requires { o.inputTokens; }) set_number(u.input_tokens, o.inputTokens);
        }
        if (!u.output_tokens) {
            if constexpr (requires { o.output_tokens; }) set_number(u.output_tokens, o.output_tokens);
            else if constexpr (requires { o.completion_tokens; }) set_number(u.output_tokens, o.completion_tokens);
            else if constexpr (requires { o.outputTokens; }) set_number(u.output_tokens, o.outputTokens);
        }
        if (!u.total_tokens) {
            if constexpr (requires { o.total_tokens; }) set_number(u.total_tokens, o.total_tokens);
            else if constexpr (requires { o.totalTokens; }) set_number(u.total_tokens, o.totalTokens);
        }
        if (!u.cost) {
            if constexpr (requires { o.cost; }) set_number(u.cost, o.cost);
        }
    }
}

template <class T>
concept has_adl_usage = requires(const T& r) {
    { llmetrics_usage(r) } -> std::convertible_to<usage>;
};
template <class T>
concept has_adl_request_labels = requires(const T& o) {
    { llmetrics_request_labels(o) } -> std::convertible_to<request_labels>;
};
template <class T>
concept has_adl_model_labels = requires(const T& c) {
    { llmetrics_model_labels(c) } -> std::convertible_to<model_labels>;
};

template <class T>
void fill_default_usage(const T& r, usage& u) noexcept {
    if constexpr (has_adl_usage<T>) {
        u = llmetrics_usage(r);
    } else if constexpr (std::is_same_v<T, usage>) {
        u = r;
    } else {
        // `result.metrics.*` (the tutorial), `result.usage.*` (OpenAI style), or
        // members of the result itself; the first one found wins per field.
        if constexpr (requires { r.metrics; }) {
            if constexpr (std::is_class_v<std::remove_cvref_t<decltype(r.metrics)>>) add_usage_fields(u, r.metrics);
        }
        if constexpr (requires { r.usage; }) {
            if constexpr (std::is_class_v<std::remove_cvref_t<decltype(r.usage)>>) add_usage_fields(u, r.usage);
        }
        add_usage_fields(u, r);
    }
}

template <class T>
usage default_usage(const T& r) noexcept {
    usage u;
    fill_default_usage(r, u);
    return u;
}

template <class O>
request_labels default_request_labels(const O& o) noexcept {
    if constexpr (has_adl_request_labels<O>) {
        return llmetrics_request_labels(o);
    } else {
        request_labels l;
        if constexpr (std::is_class_v<O>) {
            if constexpr (requires { o.model; }) l.model = text_of(o.model);
            else if constexpr (requires { o.model_id; }) l.model = text_of(o.model_id);
            else if constexpr (requires { o.modelId; }) l.model = text_of(o.modelId);
            if constexpr (requires { o.tenant_id; }) l.tenant_id = text_of(o.tenant_id);
            else if constexpr (requires { o.tenantId; }) l.tenant_id = text_of(o.tenantId);
            else if constexpr (requires { o.tenant; }) l.tenant_id = text_of(o.tenant);
            if constexpr (requires { o.strategy; }) l.strategy = text_of(o.strategy);
            if constexpr (requires { o.provider; }) l.provider = text_of(o.provider);
            if constexpr (requires { o.operation; }) l.operation = text_of(o.operation);
        }
        return l;
    }
}

template <class C>
model_labels default_model_labels(const C& c) noexcept {
    if constexpr (has_adl_model_labels<C>) {
        return llmetrics_model_labels(c);
    } else {
        model_labels l;
        if constexpr (std::is_class_v<C>) {
            if constexpr (requires { c.id; }) l.id = text_of(c.id);
            else if constexpr (requires { c.model_id; }) l.id = text_of(c.model_id);
            else if constexpr (requires { c.name; }) l.id = text_of(c.name);
            if constexpr (requires { c.format; }) l.format = text_of(c.format);
            if constexpr (requires { c.loader; }) l.loader = text_of(c.loader);
        }
        return l;
    }
}

template <class R>
auto options_type_of() {
    if constexpr (requires { typename R::options_type; }) return std::type_identity<typename R::options_type>{};
    else return std::type_identity<request_options>{};
}
template <class R>
auto model_config_type_of() {
    if constexpr (requires { typename R::model_config_type; })
        return std::type_identity<typename R::model_config_type>{};
    else return std::type_identity<model_config>{};
}

}  // namespace detail

// ---------------------------------------------------------------------------
// Customization points.

template <class T>
struct result_traits {
    using llmetrics_default_traits = void;  // marks the primary template
    static usage read(const T& result) noexcept { return detail::default_usage(result); }
};

template <class O>
struct options_traits {
    static request_labels read(const O& options) noexcept { return detail::default_request_labels(options); }
};

template <class C>
struct model_config_traits {
    static model_labels read(const C& config) noexcept { return detail::default_model_labels(config); }
};

template <class T>
usage read_usage(const T& result) noexcept {
    return result_traits<std::remove_cvref_t<T>>::read(result);
}
namespace detail {
// read_usage into an existing object: the hot path's form (no usage copies).
template <class T>
void read_usage_into(const T& result, usage& out) noexcept {
    using traits = result_traits<std::remove_cvref_t<T>>;
    if constexpr (requires { typename traits::llmetrics_default_traits; })
        fill_default_usage(result, out);
    else
        out = traits::read(result);
}
}  // namespace detail

template <class O>
request_labels read_request_labels(const O& options) noexcept {
    return options_traits<std::remove_cvref_t<O>>::read(options);
}
template <class C>
model_labels read_model_labels(const C& config) noexcept {
    return model_config_traits<std::remove_cvref_t<C>>::read(config);
}

// How the instrumentation calls a router R; by default, its members.
template <class R>
struct default_router_traits {
    // R::options_type / R::model_config_type when R declares them.
    using options_type = typename decltype(detail::options_type_of<R>())::type;
    using model_config_type = typename decltype(detail::model_config_type_of<R>())::type;

    // (Router = R keeps the member lookup dependent, so a router without the
    // member simply does not offer the operation.)
    template <class Prompt, class Options, class Router = R>
    static auto process(Router& r, Prompt&& prompt, const Options& options)
        -> decltype(r.process(std::forward<Prompt>(prompt), options)) {
        return r.process(std::forward<Prompt>(prompt), options);
    }

    template <class Config, class Router = R>
    static auto register_model(Router& r, const Config& config) -> decltype(r.register_model(config)) {
        return r.register_model(config);
    }

    template <class Router = R>
    static decltype(auto) initialize(Router& r) {
        if constexpr (requires { r.initialize(); }) return r.initialize();
    }

    // Optional: streaming calls `on_chunk(chunk)` for each chunk as it arrives.
    template <class Prompt, class Options, class OnChunk, class Router = R>
    static auto process_stream(Router& r, Prompt&& prompt, const Options& options, OnChunk&& on_chunk)
        -> decltype(r.process_stream(std::forward<Prompt>(prompt), options, std::forward<OnChunk>(on_chunk))) {
        return r.process_stream(std::forward<Prompt>(prompt), options, std::forward<OnChunk>(on_chunk));
    }

    // Optional: returns a std::future<T> or an awaitable.
    template <class Prompt, class Options, class Router = R>
    static auto process_async(Router& r, Prompt&& prompt, const Options& options)
        -> decltype(r.process_async(std::forward<Prompt>(prompt), options)) {
        return r.process_async(std::forward<Prompt>(prompt), options);
    }

    // The error_type label for the exception being handled (called inside a
    // catch block). The default is the exception's short type name.
    static std::string_view error_type() { return current_error_type_name(); }
};

template <class R>
struct router_traits : default_router_traits<R> {};

// A router the instrumentation can wrap: process(prompt, options) and
// register_model(config) callable through router_traits<R>.
template <class R>
concept llm_router = requires(R& r, const std::string& prompt, const typename router_traits<R>::options_type& options,
                              const typename router_traits<R>::model_config_type& config) {
    router_traits<R>::process(r, prompt, options);
    router_traits<R>::register_model(r, config);
};

namespace detail {
// Stands for a user's chunk callback when checking streaming_llm_router.
struct any_chunk_sink {
    template <class... A>
    void operator()(const A&...) const noexcept {}
};
}  // namespace detail

template <class R>
concept streaming_llm_router = llm_router<R> && requires(R& r, const std::string& prompt,
                                                         const typename router_traits<R>::options_type& options) {
    router_traits<R>::process_stream(r, prompt, options, detail::any_chunk_sink{});
};

template <class R>
concept async_llm_router = llm_router<R> && requires(R& r, const std::string& prompt,
                                                     const typename router_traits<R>::options_type& options) {
    router_traits<R>::process_async(r, prompt, options);
};

}  // namespace llmetrics
// ---- end llmetrics/instrument/llm_router.hpp ----

// ---- begin llmetrics/instrument/monitored_router.hpp ----
// `monitored_router`: the tutorial's `MonitoredLLMRouter` as a decorator over any
// type modelling llm_router (instrument/llm_router.hpp):
//
//     my_router engine;
//     llmetrics::catalog_registry metrics;
//     llmetrics::monitored_router router{engine, metrics};     // engine by reference
//     auto result = router.process("Hello", {.model = "gpt-4", .tenant_id = "tenant-a"});
//
// The router is held by reference (an lvalue, or std::reference_wrapper), by
// value (an rvalue: `monitored_router{my_router{}, metrics}`) or through a
// pointer (std::unique_ptr, std::shared_ptr, raw pointer). Registries are held
// by reference and must outlive the decorator.
//
// What a call records is exactly what the tutorial records, in whichever of
// these families the given registries hold (checked at compile time; a family a
// registry does not hold costs nothing). A registry holds a family when it
// declares the catalog type, or a family of the same kind and label names whose
// name ends in the catalog name (instrument/registry_holds.hpp), so families
// declared by hand as `llm_router_model_inference_total` etc. work too:
//
//   process() succeeds   model_inference_total{model_id, strategy, "success", tenant_id} + 1
//                        model_inference_duration_seconds{model_id, strategy, tenant_id} (seconds)
//                        model_inference_tokens{model_id, strategy, tenant_id} (total tokens, 0 if absent)
//                        request_cost_cents{model_id, tenant_id} (cost x 100, only if a cost is present)
//   process() throws     errors_total{<exception type>, model_id, tenant_id} + 1
//                        model_inference_total{..., "error", ...} + 1, then rethrows the same exception
//   register_model()     model_load_time_seconds{id, format, loader or "auto"} (seconds)
//     ...throws          errors_total{"ModelLoadError", id, "unknown"} + 1, then rethrows
//
// Label defaults as the tutorial: model "default", strategy "balanced", tenant
// "unknown" (change them with set_defaults()). The exception type is the short
// demangled name (instrument/error_type.hpp), overridable per router through
// router_traits<R>::error_type().
//
// Beyond the tutorial, when the registries hold them:
//   - catalog::streaming families: time to first token and time per output
//     token (streaming calls), input and output tokens apart (any call whose
//     result reports them);
//   - the OpenTelemetry GenAI families (instrument/genai_catalog.hpp), labelled
//     with gen_ai_operation_name / gen_ai_provider_name (from the options, else
//     the defaults "chat" / "unknown") and gen_ai_request_model: the operation
//     duration of every call (error_type empty, or the exception's type name),
//     input and output token usage, and on streaming calls the time to first
//     token and per output token. Pass a genai_registry beside or instead of the
//     tutorial's:
//         llmetrics::monitored_router router{engine, metrics, genai};
//
// Exemplars: while a trace context is current on the thread that records
// (scoped_trace_context, instrument/trace_context.hpp), every sample recorded
// for the call carries {trace_id="<32 hex digits>"} as its exemplar. Async
// results are recorded on the thread that obtains them, so scope the context
// there too.
//
// Durations come from std::chrono::steady_clock, or from the clock given to
// set_time_source() (tests and simulations: instrument/time_source.hpp).
//
// Paths:
//   process(prompt, options)                    synchronous
//   process_stream(prompt, options, on_chunk)   router's process_stream; each on_chunk call is an output
//                                               token (or the chunk's reported output tokens)
//   process_async(prompt, options)              router's process_async returning std::future<T> or an
//                                               awaitable; recorded when the result is obtained
//   track_async(options, callable)              same, for any callable returning a future or awaitable
//   start(options) -> scope                     manual: scope.token() per output token, then
//                                               scope.succeed(result) or scope.fail(); a scope left
//                                               unfinished records an error "Abandoned"
//
// Hot path: the label values of a call are matched against a small per-thread
// cache of resolved series handles (no hashing, no lock, no allocation once a
// label combination has been seen); a miss takes a mutex and resolves the handles
// once per (model, strategy, tenant, provider, operation). At most
// max_cached_label_sets combinations are cached per decorator; past that, calls
// still record correctly but resolve their series each time.
//
// Cached handles outlive family.remove() / reset(): the next write through them
// brings the removed series back from zero (storage/family.hpp), so no call is
// lost. clear_cache() only frees the cached handle sets.
//
// Thread safety: process(), process_stream(), process_async() and
// register_model() may be called from any number of threads at once;
// set_defaults(), set_time_source() and clear_cache() must not run concurrently
// with calls. A scope, future or awaitable it returns must not outlive it.

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>


// ---- begin llmetrics/instrument/registry_holds.hpp ----
// Which families a registry holds, at compile time. The instrumentation records
// into whichever catalog families a registry holds and skips the others.
//
//   registry_holds_v<Registry, F>   Registry (or a class derived from one) declares F itself.
//   registry_role_t<Registry, F>    the family of Registry that plays F's part: F itself if
//                                   declared, else the first family of the same type and label
//                                   names (in order) whose exposed name is F's name or ends in
//                                   "_" + F's name; void when none does.
//
// Roles let code written against the catalog record into families a user
// declared by hand, e.g. the README's
//     counter<"llm_router_model_inference_total", ..., labels<"model_id", "strategy", "status", "tenant_id">>
// plays catalog::model_inference_total in an unprefixed registry.

#include <cstddef>
#include <string_view>
#include <type_traits>


namespace llmetrics {

namespace detail {

template <class F, fixed_string P, class... Fs>
std::bool_constant<(std::is_same_v<F, Fs> || ...)> holds_family(const registry_base<P, Fs...>*);
template <class F>
std::false_type holds_family(const void*);

template <fixed_string P, class... Fs>
std::true_type registry_base_match(const registry_base<P, Fs...>*);
std::false_type registry_base_match(const void*);

template <class Role, fixed_string P, class F>
constexpr bool plays_role() {
    if constexpr (F::type != Role::type || !std::is_same_v<typename F::label_names, typename Role::label_names>) {
        return false;
    } else {
        constexpr std::string_view full = joined_name<P, F>.view();
        constexpr std::string_view role = Role::name;
        if constexpr (full == role) return true;
        else return full.size() > role.size() && full.substr(full.size() - role.size()) == role &&
                    full[full.size() - role.size() - 1] == '_';
    }
}

template <class Role, fixed_string P, class... Fs>
struct find_role {
    using type = void;
};
template <class Role, fixed_string P, class F, class... Fs>
struct find_role<Role, P, F, Fs...> {
    using type = std::conditional_t<plays_role<Role, P, F>(), F, typename find_role<Role, P, Fs...>::type>;
};

// Pointers, so that "no family" can be void.
template <class Role, fixed_string P, class... Fs>
auto role_family(const registry_base<P, Fs...>*)
    -> std::conditional_t<(std::is_same_v<Role, Fs> || ...), Role, typename find_role<Role, P, Fs...>::type>*;
template <class Role>
void* role_family(const void*);

}  // namespace detail

template <class Registry, class F>
inline constexpr bool registry_holds_v =
    decltype(detail::holds_family<F>(static_cast<const std::remove_cvref_t<Registry>*>(nullptr)))::value;

template <class Registry, class F>
using registry_role_t = std::remove_pointer_t<decltype(detail::role_family<F>(
    static_cast<const std::remove_cvref_t<Registry>*>(nullptr)))>;

template <class Registry, class F>
inline constexpr bool registry_has_role_v = !std::is_void_v<registry_role_t<Registry, F>>;

// Whether T is a llmetrics registry (or derives from one).
template <class T>
inline constexpr bool is_registry_v =
    decltype(detail::registry_base_match(static_cast<const std::remove_cvref_t<T>*>(nullptr)))::value;

}  // namespace llmetrics
// ---- end llmetrics/instrument/registry_holds.hpp ----

// ---- begin llmetrics/instrument/time_source.hpp ----
// Where the instrumentation reads the time. By default std::chrono::steady_clock;
// tests and simulations (the demo) hand in a clock of their own so that recorded
// durations are exact and runs are reproducible:
//
//     struct fake_clock { std::chrono::nanoseconds t{}; auto now() const { return t; } };
//     fake_clock clock;
//     router.set_time_source(llmetrics::time_source::of(clock));   // clock must outlive router
//     clock.t += 1500ms;                                           // "the call took 1.5 s"
//
// A time_source is two words (a function pointer and its context): the default
// path is a predictable branch to an inlined steady_clock::now(), so the hot
// path pays nothing for the option.

#include <chrono>
#include <cstdint>
#include <type_traits>

namespace llmetrics {

class time_source {
public:
    using now_fn = std::int64_t (*)(const void* context) noexcept;

    constexpr time_source() noexcept = default;
    constexpr time_source(now_fn fn, const void* context) noexcept : fn_(fn), context_(context) {}

    // Reads `clock.now()`, which returns a std::chrono::duration or time_point.
    // The clock is referenced, not copied.
    template <class Clock>
    static time_source of(const Clock& clock) noexcept {
        return time_source(
            [](const void* c) noexcept -> std::int64_t {
                const auto t = static_cast<const Clock*>(c)->now();
                if constexpr (requires { t.time_since_epoch(); })
                    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
                else
                    return std::chrono::duration_cast<std::chrono::nanoseconds>(t).count();
            },
            &clock);
    }

    // Nanoseconds since an arbitrary epoch; only differences are meaningful.
    std::int64_t now_ns() const noexcept {
        if (fn_) [[unlikely]]
            return fn_(context_);
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }

    double seconds_since(std::int64_t start_ns) const noexcept {
        return static_cast<double>(now_ns() - start_ns) * 1e-9;  // not / 1e9: a division costs nanoseconds on every call
    }

    bool is_steady_clock() const noexcept { return fn_ == nullptr; }

private:
    now_fn fn_ = nullptr;
    const void* context_ = nullptr;
};

}  // namespace llmetrics
// ---- end llmetrics/instrument/time_source.hpp ----

// ---- begin llmetrics/instrument/trace_context.hpp ----
// W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/):
//
//     00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
//     version trace-id (16 bytes)       parent-id (8 bytes) flags
//
// parse_traceparent() accepts a header only when it is well formed, and
// otherwise returns std::nullopt: a header from outside is never trusted, so
// a bad one starts a new trace instead of being repaired. Hex must be lower
// case; all-zero ids and version ff are invalid; version 00 must be exactly 55
// characters. A later version is read as the specification asks (the 00 fields
// at the same places, then the end or a '-'), and passed on as version 00.
// Flags other than `sampled` are reserved and dropped.
//
// generate_trace_context() makes fresh random ids (a per-thread generator, no
// lock); child() keeps the trace id and makes a new parent id. The "current"
// context is thread-local: set it for the duration of a request with
// scoped_trace_context, and read it anywhere below: monitored_router and
// http_request_timer attach its trace id as an exemplar ({trace_id="..."}) to
// what they record, and the request log writes it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>


namespace llmetrics {

struct trace_context {
    std::array<std::uint8_t, 16> trace_id{};
    std::array<std::uint8_t, 8> parent_id{};
    std::uint8_t flags = 0;

    static constexpr std::uint8_t sampled_flag = 0x01;
    bool sampled() const noexcept { return (flags & sampled_flag) != 0; }

    // 32 lower-case hex digits, as exemplars and logs carry it.
    std::string trace_id_hex() const;
    // 16 lower-case hex digits.
    std::string parent_id_hex() const;
    // The header to send downstream: always version 00.
    std::string to_traceparent() const;
    // Same trace, new parent id (the span this process starts).
    trace_context child() const;

    friend bool operator==(const trace_context&, const trace_context&) = default;
};

namespace detail {

constexpr int lower_hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// Reads 2*N lower-case hex digits into `out`; false on any other character.
template <std::size_t N>
constexpr bool read_hex(std::string_view s, std::array<std::uint8_t, N>& out) noexcept {
    for (std::size_t i = 0; i < N; ++i) {
        const int hi = lower_hex_value(s[2 * i]), lo = lower_hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return true;
}

template <std::size_t N>
constexpr bool all_zero(const std::array<std::uint8_t, N>& a) noexcept {
    for (std::uint8_t b : a)
        if (b) return false;
    return true;
}

template <std::size_t N>
std::string to_hex(const std::array<std::uint8_t, N>& a) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(2 * N, '0');
    for (std::size_t i = 0; i < N; ++i) {
        out[2 * i] = digits[a[i] >> 4];
        out[2 * i + 1] = digits[a[i] & 15];
    }
    return out;
}

inline std::mt19937_64& trace_random() {
    thread_local std::mt19937_64 engine = [] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
        return std::mt19937_64(seq);
    }();
    return engine;
}

// Random bytes, never all zero (an all-zero id is invalid).
template <std::size_t N>
void random_id(std::array<std::uint8_t, N>& out) {
    do {
        for (std::size_t i = 0; i < N; i += 8) {
            std::uint64_t r = trace_random()();
            for (std::size_t j = i; j < N && j < i + 8; ++j, r >>= 8) out[j] = static_cast<std::uint8_t>(r);
        }
    } while (all_zero(out));
}

inline std::optional<trace_context>& current_trace_slot() noexcept {
    thread_local std::optional<trace_context> current;
    return current;
}

}  // namespace detail

// The context a `traceparent` header carries, or std::nullopt when the header
// is not a valid one. Surrounding spaces and tabs (HTTP optional whitespace)
// are ignored.
inline std::optional<trace_context> parse_traceparent(std::string_view h) noexcept {
    while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
    while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
    // vv-<32>-<16>-ff: 2 + 1 + 32 + 1 + 16 + 1 + 2
    constexpr std::size_t v00_size = 55;
    if (h.size() < v00_size) return std::nullopt;
    std::array<std::uint8_t, 1> version{};
    if (!detail::read_hex(h.substr(0, 2), version) || version[0] == 0xff) return std::nullopt;
    if (version[0] == 0x00 && h.size() != v00_size) return std::nullopt;
    // A later version may append fields, each after a '-'.
    if (h.size() > v00_size && h[v00_size] != '-') return std::nullopt;
    if (h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;

    trace_context c;
    std::array<std::uint8_t, 1> flags{};
    if (!detail::read_hex(h.substr(3, 32), c.trace_id) || !detail::read_hex(h.substr(36, 16), c.parent_id) ||
        !detail::read_hex(h.substr(53, 2), flags))
        return std::nullopt;
    if (detail::all_zero(c.trace_id) || detail::all_zero(c.parent_id)) return std::nullopt;
    // Only the sampled bit is defined; the others are reserved and must be
    // sent as zero, so they are not passed on.
    c.flags = static_cast<std::uint8_t>(flags[0] & trace_context::sampled_flag);
    return c;
}

// A new trace: random trace and parent ids.
inline trace_context generate_trace_context(bool sampled = true) {
    trace_context c;
    detail::random_id(c.trace_id);
    detail::random_id(c.parent_id);
    c.flags = sampled ? trace_context::sampled_flag : 0;
    return c;
}

inline std::string trace_context::trace_id_hex() const { return detail::to_hex(trace_id); }
inline std::string trace_context::parent_id_hex() const { return detail::to_hex(parent_id); }

inline std::string trace_context::to_traceparent() const {
    const std::array<std::uint8_t, 1> f{flags};
    return std::string("00-") + trace_id_hex() + "-" + parent_id_hex() + "-" + detail::to_hex(f);
}

inline trace_context trace_context::child() const {
    trace_context c = *this;
    do detail::random_id(c.parent_id);
    while (c.parent_id == parent_id);
    return c;
}

// The continued trace of an incoming request: the header's trace as a child
// span when it is valid, a new trace otherwise.
inline trace_context continue_or_start_trace(std::string_view traceparent_header) {
    if (auto c = parse_traceparent(traceparent_header)) return c->child();
    return generate_trace_context();
}

// This thread's current trace context, if a scoped_trace_context set one.
inline const std::optional<trace_context>& current_trace_context() noexcept { return detail::current_trace_slot(); }

// The current trace id as 32 hex digits, or an empty string without a context.
inline std::string current_trace_id() {
    const auto& c = current_trace_context();
    return c ? c->trace_id_hex() : std::string();
}

// Makes `c` the current context until the end of the scope, then restores the
// one before (so scopes nest).
class scoped_trace_context {
public:
    explicit scoped_trace_context(const trace_context& c) noexcept : previous_(detail::current_trace_slot()) {
        detail::current_trace_slot() = c;
    }
    scoped_trace_context(const scoped_trace_context&) = delete;
    scoped_trace_context& operator=(const scoped_trace_context&) = delete;
    ~scoped_trace_context() { detail::current_trace_slot() = previous_; }

private:
    std::optional<trace_context> previous_;
};

namespace detail {

// Calls fn(&e) with e = {trace_id="<32 hex digits>"} while a trace context is
// current, and fn(nullptr) otherwise. fn is generic, so the common untraced
// call compiles to plain recording: one thread-local read is all it adds. The
// id is written on the stack: nothing is allocated.
template <class Fn>
decltype(auto) with_trace_exemplar(Fn&& fn) {
    const auto& c = current_trace_context();
    if (!c) [[likely]]
        return std::forward<Fn>(fn)(nullptr);
    static constexpr char digits[] = "0123456789abcdef";
    char hex[2 * 16];
    for (std::size_t i = 0; i < c->trace_id.size(); ++i) {
        hex[2 * i] = digits[c->trace_id[i] >> 4];
        hex[2 * i + 1] = digits[c->trace_id[i] & 15];
    }
    const exemplar e{{{"trace_id", std::string_view(hex, sizeof hex)}}};
    return std::forward<Fn>(fn)(&e);
}

// Record plainly (nullptr) or with the exemplar, as with_trace_exemplar passes it.
template <class Series>
void inc_traced(Series& s, std::nullptr_t) noexcept {
    s.inc();
}
template <class Series>
void inc_traced(Series& s, const exemplar* e) noexcept {
    s.inc(*e);
}
template <class Series, class T>
void inc_traced(Series& s, T amount, std::nullptr_t) noexcept {
    s.inc(amount);
}
template <class Series, class T>
void inc_traced(Series& s, T amount, const exemplar* e) noexcept {
    s.inc(amount, *e);
}
template <class Series>
void observe_traced(Series& s, double v, std::nullptr_t) noexcept {
    s.observe(v);
}
template <class Series>
void observe_traced(Series& s, double v, const exemplar* e) noexcept {
    s.observe(v, *e);
}

}  // namespace detail

}  // namespace llmetrics
// ---- end llmetrics/instrument/trace_context.hpp ----

namespace llmetrics {

// Label values used when a call's options leave one empty.
struct label_defaults {
    std::string model = "default";
    std::string strategy = "balanced";
    std::string tenant_id = "unknown";
    std::string provider = "unknown";  // gen_ai_provider_name
    std::string operation = "chat";    // gen_ai_operation_name
};

namespace detail {

// --- how the router is held ------------------------------------------------

template <class T>
struct is_reference_wrapper : std::false_type {};
template <class T>
struct is_reference_wrapper<std::reference_wrapper<T>> : std::true_type {};

template <class T>
struct is_router_pointer : std::is_pointer<T> {};
template <class T, class D>
struct is_router_pointer<std::unique_ptr<T, D>> : std::true_type {};
template <class T>
struct is_router_pointer<std::shared_ptr<T>> : std::true_type {};

template <class T>
struct is_shared_ptr : std::false_type {};
template <class T>
struct is_shared_ptr<std::shared_ptr<T>> : std::true_type {};

template <class S>
auto& unwrap_router(S& stored) noexcept {
    if constexpr (is_reference_wrapper<std::remove_cv_t<S>>::value) return stored.get();
    else if constexpr (is_router_pointer<std::remove_cv_t<S>>::value) return *stored;
    else return stored;
}

template <class S>
using unwrapped_router_t = std::remove_reference_t<decltype(unwrap_router(std::declval<std::remove_reference_t<S>&>()))>;

// What CTAD stores for a constructor argument of type A (as deduced by A&&):
// lvalues by reference (shared_ptr lvalues by copy: shared ownership), rvalues by value.
template <class A>
struct stored_router {
    using type = std::remove_cvref_t<A>;
};
template <class T>
struct stored_router<T&> {
    using type = std::conditional_t<is_shared_ptr<std::remove_cv_t<T>>::value, std::remove_cv_t<T>, T&>;
};

// --- series handles resolved on first use ----------------------------------

template <class F>
class lazy_series {
public:
    using series_type = typename family<F>::series_type;

    template <class Registry, class... A>
    series_type& get(Registry& metrics, const A&... values) {
        series_type* s = ptr_.load(std::memory_order_acquire);
        if (!s) [[unlikely]] {
            s = &metrics.template get<F>().labels(values...);
            ptr_.store(s, std::memory_order_release);  // a racing thread stores the same handle
        }
        return *s;
    }

private:
    std::atomic<series_type*> ptr_{nullptr};
};

struct no_series {};

template <class Registry, class F, bool = registry_has_role_v<Registry, F>>
struct lazy_for {
    using type = no_series;
};
template <class Registry, class F>
struct lazy_for<Registry, F, true> {
    using type = lazy_series<registry_role_t<Registry, F>>;
};
// The lazy handle of the family playing F's part in Registry, or nothing.
template <class Registry, class F>
using lazy_if = typename lazy_for<Registry, F>::type;

// The handles of one label combination in one registry.
template <class Registry>
struct registry_handles {
    lazy_if<Registry, catalog::model_inference_total> inference_ok;
    lazy_if<Registry, catalog::model_inference_total> inference_error;
    lazy_if<Registry, catalog::model_inference_duration_seconds> duration;
    lazy_if<Registry, catalog::model_inference_tokens> tokens;
    lazy_if<Registry, catalog::request_cost_cents> cost;
    lazy_if<Registry, catalog::streaming::time_to_first_token_seconds> first_token;
    lazy_if<Registry, catalog::streaming::time_per_output_token_seconds> per_output_token;
    lazy_if<Registry, catalog::streaming::tokens_total> input_tokens;
    lazy_if<Registry, catalog::streaming::tokens_total> output_tokens;
    lazy_if<Registry, genai::client_operation_duration> genai_duration;
    lazy_if<Registry, genai::client_token_usage> genai_input_tokens;
    lazy_if<Registry, genai::client_token_usage> genai_output_tokens;
    lazy_if<Registry, genai::server_time_to_first_token> genai_first_token;
    lazy_if<Registry, genai::server_time_per_output_token> genai_per_output_token;
};

template <class Registry>
inline constexpr bool records_anything =
    registry_has_role_v<Registry, catalog::model_inference_total> ||
    registry_has_role_v<Registry, catalog::model_inference_duration_seconds> ||
    registry_has_role_v<Registry, catalog::model_inference_tokens> || registry_has_role_v<Registry, catalog::request_cost_cents> ||
    registry_has_role_v<Registry, catalog::errors_total> || registry_has_role_v<Registry, catalog::model_load_time_seconds> ||
    registry_has_role_v<Registry, catalog::streaming::time_to_first_token_seconds> ||
    registry_has_role_v<Registry, catalog::streaming::time_per_output_token_seconds> ||
    registry_has_role_v<Registry, catalog::streaming::tokens_total> ||
    registry_has_role_v<Registry, genai::client_operation_duration> ||
    registry_has_role_v<Registry, genai::client_token_usage> ||
    registry_has_role_v<Registry, genai::server_time_to_first_token> ||
    registry_has_role_v<Registry, genai::server_time_per_output_token>;

inline std::atomic<std::uint64_t> next_router_id{1};

// Equality for the short label values of the cache: a few overlapping word
// loads instead of a call to memcmp (or a byte loop) per value.
inline std::uint64_t load8(const char* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
inline std::uint32_t load4(const char* p) noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
inline bool same_text(std::string_view a, std::string_view b) noexcept {
    std::size_t n = a.size();
    if (n != b.size()) return false;
    const char* p = a.data();
    const char* q = b.data();
    if (n >= 8) {
        for (; n > 8; n -= 8, p += 8, q += 8)
            if (load8(p) != load8(q)) return false;
        return load8(p + n - 8) == load8(q + n - 8);  // the last 8 bytes, overlapping what was compared
    }
    if (n >= 4) return load4(p) == load4(q) && load4(p + n - 4) == load4(q + n - 4);
    if (n == 0) return true;
    return p[0] == q[0] && p[n / 2] == q[n / 2] && p[n - 1] == q[n - 1];
}

// --- async results ----------------------------------------------------------

template <class T>
struct future_value {};
template <class T>
struct future_value<std::future<T>> {
    using type = T;
};
template <class T>
concept std_future = requires { typename future_value<std::remove_cvref_t<T>>::type; };

template <class A>
concept has_member_co_await = requires(A&& a) { static_cast<A&&>(a).operator co_await(); };
template <class A>
concept has_free_co_await = requires(A&& a) { operator co_await(static_cast<A&&>(a)); };
template <class A>
concept is_awaiter = requires(A& a) {
    { a.await_ready() } -> std::convertible_to<bool>;
    a.await_resume();
};
template <class A>
concept awaitable = has_member_co_await<A> || has_free_co_await<A> || is_awaiter<std::remove_reference_t<A>>;

template <class A>
decltype(auto) get_awaiter(A&& a) {
    if constexpr (has_member_co_await<A>) return static_cast<A&&>(a).operator co_await();
    else if constexpr (has_free_co_await<A>) return operator co_await(static_cast<A&&>(a));
    else return static_cast<A&&>(a);
}

// Returns fn()'s result as fn returned it (a reference stays a reference), after
// on_success(result) (or on_success() for void); when fn throws, on_failure()
// runs and the same exception propagates.
template <class Fn, class OnFailure, class OnSuccess>
decltype(auto) call_observed(Fn&& fn, OnFailure&& on_failure, OnSuccess&& on_success) {
    using result_t = decltype(std::forward<Fn>(fn)());
    if constexpr (std::is_void_v<result_t>) {
        try {
            std::forward<Fn>(fn)();
        } catch (...) {
            on_failure();
            throw;
        }
        on_success();
    } else {
        auto call = [&]() -> result_t {
            try {
                return std::forward<Fn>(fn)();
            } catch (...) {
                on_failure();
                throw;
            }
        };
        result_t result = call();
        on_success(result);
        if constexpr (std::is_reference_v<result_t>) return static_cast<result_t>(result);
        else return result;
    }
}

}  // namespace detail

template <class R, class... Registries>
class monitored_router {
    static_assert(sizeof...(Registries) > 0,
                  "llmetrics: monitored_router needs at least one registry: monitored_router{router, metrics}");
    static_assert((is_registry_v<Registries> && ...),
                  "llmetrics: monitored_router's arguments after the router must be llmetrics registries");
    static_assert((detail::records_anything<Registries> && ...),
                  "llmetrics: a registry given to monitored_router holds none of the families it records; use "
                  "llmetrics::catalog_registry, llmetrics::genai_registry, or add families from "
                  "llmetrics::catalog / llmetrics::genai");

public:
    using stored_type = R;
    using router_type = detail::unwrapped_router_t<R>;
    using traits = router_traits<std::remove_const_t<router_type>>;
    using options_type = typename traits::options_type;
    using model_config_type = typename traits::model_config_type;

    static_assert(llm_router<std::remove_const_t<router_type>>,
                  "llmetrics: the wrapped type does not model llmetrics::llm_router: give it "
                  "process(prompt, options) and register_model(config), or specialise "
                  "llmetrics::router_traits for it (see llmetrics/instrument/llm_router.hpp)");

    // Label combinations whose handles one decorator caches.
    static constexpr std::size_t max_cached_label_sets = 1024;

    template <class Router>
    explicit monitored_router(Router&& router, Registries&... registries)
        : router_(std::forward<Router>(router)), state_(std::make_unique<state>()) {
        state_->registries = std::tuple<Registries*...>(&registries...);
    }

    monitored_router(monitored_router&&) noexcept = default;
    monitored_router(const monitored_router&) = delete;
    monitored_router& operator=(const monitored_router&) = delete;
    monitored_router& operator=(monitored_router&&) = delete;

    router_type& router() noexcept { return detail::unwrap_router(router_); }
    const router_type& router() const noexcept { return detail::unwrap_router(router_); }

    void set_defaults(label_defaults defaults) { state_->defaults = std::move(defaults); }
    const label_defaults& defaults() const noexcept { return state_->defaults; }

    // Durations are read from `clock` from now on (see instrument/time_source.hpp).
    void set_time_source(time_source clock) noexcept { state_->clock = clock; }
    const time_source& clock() const noexcept { return state_->clock; }

    // Forgets every cached handle (and the per-thread cache entries pointing at
    // them): use after remove()/reset() on a family this decorator records. The
    // forgotten handle sets are kept (calls in flight may hold them) until the
    // decorator is destroyed, so call it rarely.
    void clear_cache() {
        std::lock_guard lock(state_->mutex);
        state_->retired.push_back(std::move(state_->bundles));  // threads may still hold pointers
        state_->bundles.clear();
        state_->id = detail::next_router_id.fetch_add(1, std::memory_order_relaxed);
    }

    decltype(auto) initialize() { return traits::initialize(router()); }

    class scope;
    template <class T>
    class future;
    template <class A>
    class awaitable;

    // --- synchronous ------------------------------------------------------

    template <class Prompt, class Options = options_type>
    auto process(Prompt&& prompt, const Options& options = Options{})
        -> decltype(traits::process(std::declval<router_type&>(), std::forward<Prompt>(prompt), options)) {
        const bundle_ref b = acquire(resolve(options));
        const state& st = *state_;
        const std::int64_t start = st.clock.now_ns();
        return detail::call_observed(
            [&]() -> decltype(auto) { return traits::process(router(), std::forward<Prompt>(prompt), options); },
            [&] { record_failure_current(st, *b, st.clock.seconds_since(start)); },
            [&](const auto&... result) {
                const double seconds = st.clock.seconds_since(start);  // before reading the result
                usage u;
                (detail::read_usage_into(result, u), ...);
                record_success(st, *b, seconds, u, nullptr);
            });
    }

    template <class Config = model_config_type>
    decltype(auto) register_model(const Config& config) {
        const model_labels labels = read_model_labels(config);
        const state& st = *state_;
        const std::int64_t start = st.clock.now_ns();
        return detail::call_observed([&]() -> decltype(auto) { return traits::register_model(router(), config); },
                                     [&] { record_load_failure(st, labels); },
                                     [&](const auto&...) { record_load(st, labels, st.clock.seconds_since(start)); });
    }

    // --- manual and streaming ------------------------------------------------

    // A call in progress, timed from now. Moves, never copies.
    template <class Options = options_type>
    scope start(const Options& options = Options{}) {
        bundle_ref b = acquire(resolve(options));
        return scope(*state_, std::move(b), state_->clock.now_ns());
    }

    template <class Prompt, class OnChunk, class Options = options_type>
    decltype(auto) process_stream(Prompt&& prompt, const Options& options, OnChunk&& on_chunk) {
        scope s = start(options);
        chunk_counter<std::remove_reference_t<OnChunk>> counting{&s, &on_chunk};
        return detail::call_observed(
            [&]() -> decltype(auto) {
                return traits::process_stream(router(), std::forward<Prompt>(prompt), options, counting);
            },
            [&] { s.fail(); }, [&](const auto&... result) { s.succeed(result...); });
    }

    // --- asynchronous --------------------------------------------------------

    // The router's process_async(prompt, options), whose std::future<T> becomes a
    // monitored_router::future<T> and whose awaitable becomes a
    // monitored_router::awaitable (co_await it as the original).
    template <class Prompt, class Options = options_type>
    auto process_async(Prompt&& prompt, const Options& options = Options{}) {
        return track_async(options, [&]() -> decltype(auto) {
            return traits::process_async(router(), std::forward<Prompt>(prompt), options);
        });
    }

    // Times `make()` (which starts the operation and returns a std::future or an
    // awaitable) and records the outcome when the result is obtained.
    template <class Options, class Make>
    auto track_async(const Options& options, Make&& make) {
        scope s = start(options);
        using pending_t = std::remove_cvref_t<decltype(std::invoke(std::forward<Make>(make)))>;
        static_assert(detail::std_future<pending_t> || detail::awaitable<pending_t>,
                      "llmetrics: an asynchronous call must return a std::future<T> or an awaitable");
        pending_t pending = detail::call_observed([&]() -> pending_t { return std::invoke(std::forward<Make>(make)); },
                                                  [&] { s.fail(); }, [](const auto&) {});
        if constexpr (detail::std_future<pending_t>)
            return future<typename detail::future_value<pending_t>::type>(std::move(pending), std::move(s));
        else
            return awaitable<pending_t>(std::move(pending), std::move(s));
    }

private:
    struct bundle {
        std::string model, tenant_id, strategy, provider, operation;
        std::tuple<detail::registry_handles<Registries>...> handles;

        explicit bundle(const request_labels& l)
            : model(l.model), tenant_id(l.tenant_id), strategy(l.strategy), provider(l.provider), operation(l.operation) {}

        bool matches(const request_labels& l) const noexcept {
            return detail::same_text(l.model, model) && detail::same_text(l.tenant_id, tenant_id) &&
                   detail::same_text(l.strategy, strategy) && detail::same_text(l.provider, provider) &&
                   detail::same_text(l.operation, operation);
        }
    };

    // A cached bundle, or one owned by the call when the cache is full.
    struct bundle_ref {
        bundle* ptr = nullptr;
        std::unique_ptr<bundle> owned;
        bundle& operator*() const noexcept { return *ptr; }
    };

    struct state {
        std::tuple<Registries*...> registries;
        std::uint64_t id = detail::next_router_id.fetch_add(1, std::memory_order_relaxed);
        time_source clock;
        label_defaults defaults;
        std::mutex mutex;
        std::unordered_map<std::string, std::unique_ptr<bundle>> bundles;
        std::vector<std::unordered_map<std::string, std::unique_ptr<bundle>>> retired;
    };

    struct stream_timing {
        double first_token_seconds = 0.0;
        std::optional<double> per_output_token_seconds;
    };

    template <class OnChunk>
    struct chunk_counter {
        scope* s;
        OnChunk* on_chunk;
        template <class... A>
        decltype(auto) operator()(A&&... chunk) {
            s->token(chunk_tokens(chunk...));
            return (*on_chunk)(std::forward<A>(chunk)...);
        }
    };

    // A chunk that reports its output tokens counts that many; anything else one.
    template <class... A>
    static std::size_t chunk_tokens(const A&... chunk) noexcept {
        if constexpr (sizeof...(A) == 1) {
            const usage u = read_usage(chunk...);
            if (u.output_tokens && *u.output_tokens >= 0) return static_cast<std::size_t>(*u.output_tokens);
        }
        return 1;
    }

    // Whether any registry holds a GenAI family (the only users of provider and operation).
    static constexpr bool uses_genai_labels =
        ((registry_has_role_v<Registries, genai::client_operation_duration> ||
          registry_has_role_v<Registries, genai::client_token_usage> ||
          registry_has_role_v<Registries, genai::server_time_to_first_token> ||
          registry_has_role_v<Registries, genai::server_time_per_output_token>) ||
         ...);

    template <class Options>
    request_labels resolve(const Options& options) const noexcept {
        request_labels l = read_request_labels(options);
        const label_defaults& d = state_->defaults;
        if (l.model.empty()) l.model = d.model;
        if (l.tenant_id.empty()) l.tenant_id = d.tenant_id;
        if (l.strategy.empty()) l.strategy = d.strategy;
        if constexpr (uses_genai_labels) {
            if (l.provider.empty()) l.provider = d.provider;
            if (l.operation.empty()) l.operation = d.operation;
        } else {
            l.provider = {};  // not part of any series: keep them out of the cache key
            l.operation = {};
        }
        return l;
    }

    // Per-thread cache of (decorator id, bundle); ids are never reused, so an
    // entry of a destroyed decorator never matches again.
    static constexpr std::size_t cache_ways = 8;
    struct cache_slot {
        std::uint64_t owner;
        bundle* b;
    };

    bundle_ref acquire(const request_labels& l) const {
        static thread_local cache_slot cache[cache_ways];
        const std::uint64_t id = state_->id;
        for (const cache_slot& slot : cache)
            if (slot.owner == id && slot.b->matches(l)) [[likely]]
                return {slot.b, nullptr};
        return acquire_slow(l, cache);
    }

    [[gnu::noinline]] bundle_ref acquire_slow(const request_labels& l, cache_slot (&cache)[cache_ways]) const {
        static thread_local unsigned next_slot = 0;
        std::string key;
        for (std::string_view v : {l.model, l.tenant_id, l.strategy, l.provider, l.operation}) {
            key.append(std::to_string(v.size()));
            key.push_back(':');
            key.append(v);
        }
        state& st = *state_;
        std::lock_guard lock(st.mutex);
        auto it = st.bundles.find(key);
        if (it == st.bundles.end()) {
            if (st.bundles.size() >= max_cached_label_sets) {
                auto owned = std::make_unique<bundle>(l);
                bundle* p = owned.get();
                return {p, std::move(owned)};
            }
            it = st.bundles.emplace(std::move(key), std::make_unique<bundle>(l)).first;
        }
        bundle* b = it->second.get();
        cache[next_slot++ % cache_ways] = {st.id, b};
        return {b, nullptr};
    }

    template <class Fn>
    static void for_each_registry(const state& st, bundle& b, Fn&& fn) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (fn(*std::get<I>(st.registries), std::get<I>(b.handles)), ...);
        }(std::index_sequence_for<Registries...>{});
    }

    template <class Registry, class F>
    static constexpr bool has = registry_has_role_v<Registry, F>;

    static void record_success(const state& st, bundle& b, double seconds, const usage& u,
                               const stream_timing* timing) noexcept {
        try {
            detail::with_trace_exemplar([&](auto ex) {
                for_each_registry(st, b, [&](auto& metrics, auto& h) {
                    using reg = std::remove_cvref_t<decltype(metrics)>;
                    if constexpr (has<reg, catalog::model_inference_total>)
                        detail::inc_traced(h.inference_ok.get(metrics, b.model, b.strategy, value<"success">, b.tenant_id), ex);
                    if constexpr (has<reg, catalog::model_inference_duration_seconds>)
                        detail::observe_traced(h.duration.get(metrics, b.model, b.strategy, b.tenant_id), seconds, ex);
                    if constexpr (has<reg, catalog::model_inference_tokens>)
                        detail::observe_traced(h.tokens.get(metrics, b.model, b.strategy, b.tenant_id), u.total().value_or(0.0), ex);
                    if constexpr (has<reg, catalog::request_cost_cents>)
                        if (u.cost) detail::observe_traced(h.cost.get(metrics, b.model, b.tenant_id), *u.cost * 100.0, ex);
                    if constexpr (has<reg, catalog::streaming::tokens_total>) {
                        if (u.input_tokens)
                            detail::inc_traced(h.input_tokens.get(metrics, b.model, b.tenant_id, value<"input">), *u.input_tokens, ex);
                        if (u.output_tokens)
                            detail::inc_traced(h.output_tokens.get(metrics, b.model, b.tenant_id, value<"output">), *u.output_tokens, ex);
                    }
                    if constexpr (has<reg, catalog::streaming::time_to_first_token_seconds>)
                        if (timing)
                            detail::observe_traced(h.first_token.get(metrics, b.model, b.strategy, b.tenant_id),
                                                   timing->first_token_seconds, ex);
                    if constexpr (has<reg, catalog::streaming::time_per_output_token_seconds>)
                        if (timing && timing->per_output_token_seconds)
                            detail::observe_traced(h.per_output_token.get(metrics, b.model, b.strategy, b.tenant_id),
                                                   *timing->per_output_token_seconds, ex);
                    if constexpr (has<reg, genai::client_operation_duration>)
                        detail::observe_traced(h.genai_duration.get(metrics, b.operation, b.provider, b.model, std::string_view{}),
                                               seconds, ex);
                    if constexpr (has<reg, genai::client_token_usage>) {
                        if (u.input_tokens)
                            detail::observe_traced(
                                h.genai_input_tokens.get(metrics, b.operation, b.provider, b.model, value<"input">),
                                *u.input_tokens, ex);
                        if (u.output_tokens)
                            detail::observe_traced(
                                h.genai_output_tokens.get(metrics, b.operation, b.provider, b.model, value<"output">),
                                *u.output_tokens, ex);
                    }
                    if constexpr (has<reg, genai::server_time_to_first_token>)
                        if (timing)
                            detail::observe_traced(h.genai_first_token.get(metrics, b.operation, b.provider, b.model),
                                                   timing->first_token_seconds, ex);
                    if constexpr (has<reg, genai::server_time_per_output_token>)
                        if (timing && timing->per_output_token_seconds)
                            detail::observe_traced(h.genai_per_output_token.get(metrics, b.operation, b.provider, b.model),
                                                   *timing->per_output_token_seconds, ex);
                });
            });
        } catch (...) {
            // Recording must never turn a served request into a failed one (the
            // only thing that can throw here is allocating a first-seen series).
        }
    }

    static void record_failure(const state& st, bundle& b, double seconds, std::string_view error_type) noexcept {
        try {
            detail::with_trace_exemplar([&](auto ex) {
                for_each_registry(st, b, [&](auto& metrics, auto& h) {
                    using reg = std::remove_cvref_t<decltype(metrics)>;
                    if constexpr (has<reg, catalog::errors_total>)
                        detail::inc_traced(metrics.template get<registry_role_t<reg, catalog::errors_total>>().labels(
                                               error_type, b.model, b.tenant_id),
                                           ex);
                    if constexpr (has<reg, catalog::model_inference_total>)
                        detail::inc_traced(h.inference_error.get(metrics, b.model, b.strategy, value<"error">, b.tenant_id), ex);
                    if constexpr (has<reg, genai::client_operation_duration>)
                        detail::observe_traced(metrics.template get<registry_role_t<reg, genai::client_operation_duration>>()
                                                   .labels(b.operation, b.provider, b.model, error_type),
                                               seconds, ex);
                });
            });
        } catch (...) {
        }
    }

    // Inside a catch block: names the exception, records, and lets the caller rethrow.
    static void record_failure_current(const state& st, bundle& b, double seconds) noexcept {
        try {
            const auto name = traits::error_type();
            record_failure(st, b, seconds, std::string_view(name));
        } catch (...) {
        }
    }

    static void record_load(const state& st, const model_labels& l, double seconds) noexcept {
        try {
            const std::string_view id = l.id.empty() ? std::string_view("unknown") : l.id;
            const std::string_view format = l.format.empty() ? std::string_view("unknown") : l.format;
            const std::string_view loader = l.loader.empty() ? std::string_view("auto") : l.loader;
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                ([&](auto& metrics) {
                    using reg = std::remove_cvref_t<decltype(metrics)>;
                    if constexpr (has<reg, catalog::model_load_time_seconds>)
                        metrics.template get<registry_role_t<reg, catalog::model_load_time_seconds>>().labels(id, format, loader).observe(seconds);
                }(*std::get<I>(st.registries)),
                 ...);
            }(std::index_sequence_for<Registries...>{});
        } catch (...) {
        }
    }

    static void record_load_failure(const state& st, const model_labels& l) noexcept {
        try {
            const std::string_view id = l.id.empty() ? std::string_view("unknown") : l.id;
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                ([&](auto& metrics) {
                    using reg = std::remove_cvref_t<decltype(metrics)>;
                    if constexpr (has<reg, catalog::errors_total>)
                        metrics.template get<registry_role_t<reg, catalog::errors_total>>().labels("ModelLoadError", id, "unknown").inc();
                }(*std::get<I>(st.registries)),
                 ...);
            }(std::index_sequence_for<Registries...>{});
        } catch (...) {
        }
    }

    R router_;
    std::unique_ptr<state> state_;

public:
    // A call in progress. token() marks output tokens as they arrive (the first
    // gives the time to first token); succeed(result) or fail() records the call
    // once. Destroyed unfinished, it records a failure with error_type
    // "Abandoned".
    class scope {
    public:
        scope(scope&& other) noexcept
            : state_(std::exchange(other.state_, nullptr)),
              b_(std::move(other.b_)),
              start_(other.start_),
              end_(other.end_),
              first_(other.first_),
              last_(other.last_),
              tokens_(other.tokens_) {}
        scope(const scope&) = delete;
        scope& operator=(const scope&) = delete;
        scope& operator=(scope&&) = delete;
        ~scope() {
            if (state_) fail("Abandoned");
        }

        void token(std::size_t count = 1) noexcept {
            if (!state_) return;
            const std::int64_t now = state_->clock.now_ns();
            if (first_ < 0) first_ = now;
            last_ = now;
            tokens_ += count;
        }

        // The end of the call, if it is known before the result is read (a future
        // seen ready); the first mark wins.
        void mark_end() noexcept {
            if (state_ && end_ < 0) end_ = state_->clock.now_ns();
        }

        // Records success with the token counts and cost the result reports.
        template <class Result>
        void succeed(const Result& result) noexcept {
            finish_success(read_usage(result));
        }
        void succeed() noexcept { finish_success(usage{}); }

        // Records failure; inside a catch block the exception's type names it.
        void fail() noexcept {
            if (!state_) return;
            try {
                const auto name = traits::error_type();
                fail(std::string_view(name));
            } catch (...) {
                fail(std::string_view("Unknown"));
            }
        }
        void fail(std::string_view error_type) noexcept {
            if (!state_) return;
            const state& st = *std::exchange(state_, nullptr);
            record_failure(st, *b_, seconds_to(st, end_or_now(st)), error_type);
        }

        bool done() const noexcept { return state_ == nullptr; }
        std::uint64_t tokens() const noexcept { return tokens_; }
        double elapsed_seconds() const noexcept { return state_ ? seconds_to(*state_, end_or_now(*state_)) : 0.0; }

    private:
        friend class monitored_router;
        scope(const state& st, bundle_ref b, std::int64_t start) noexcept
            : state_(&st), b_(std::move(b)), start_(start) {}

        std::int64_t end_or_now(const state& st) const noexcept { return end_ >= 0 ? end_ : st.clock.now_ns(); }
        double seconds_to(const state&, std::int64_t t) const noexcept { return static_cast<double>(t - start_) * 1e-9; }

        void finish_success(usage u) noexcept {
            if (!state_) return;
            const state& st = *std::exchange(state_, nullptr);
            const double seconds = seconds_to(st, end_or_now(st));
            if (first_ < 0) return record_success(st, *b_, seconds, u, nullptr);
            if (!u.output_tokens) u.output_tokens = static_cast<double>(tokens_);
            stream_timing timing;
            timing.first_token_seconds = static_cast<double>(first_ - start_) * 1e-9;
            if (*u.output_tokens > 1 && last_ > first_)
                timing.per_output_token_seconds = static_cast<double>(last_ - first_) * 1e-9 / (*u.output_tokens - 1);
            record_success(st, *b_, seconds, u, &timing);
        }

        const state* state_;
        bundle_ref b_;
        std::int64_t start_;
        std::int64_t end_ = -1;
        std::int64_t first_ = -1;
        std::int64_t last_ = -1;
        std::uint64_t tokens_ = 0;
    };

    // A std::future<T> whose outcome is recorded when get() returns or throws.
    // The duration ends when the result is first seen: a wait(), wait_for() or
    // wait_until() that finds it ready, or else get(). Destroyed without get(),
    // a ready result is read and recorded; a pending one records "Abandoned".
    template <class T>
    class future {
    public:
        future(std::future<T> inner, scope s) noexcept : inner_(std::move(inner)), scope_(std::move(s)) {}
        future(future&&) noexcept = default;
        future& operator=(future&&) = delete;
        ~future() {
            if (scope_.done() || !inner_.valid()) return;
            if (inner_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;  // scope: Abandoned
            try {
                if constexpr (std::is_void_v<T>) {
                    inner_.get();
                    scope_.succeed();
                } else {
                    scope_.succeed(inner_.get());
                }
            } catch (...) {
                scope_.fail();
            }
        }

        decltype(auto) get() {
            return detail::call_observed([&]() -> decltype(auto) { return inner_.get(); }, [&] { scope_.fail(); },
                                         [&](const auto&... result) { scope_.succeed(result...); });
        }

        bool valid() const noexcept { return inner_.valid(); }
        void wait() {
            inner_.wait();
            scope_.mark_end();
        }
        template <class Rep, class Period>
        std::future_status wait_for(const std::chrono::duration<Rep, Period>& timeout) {
            const auto status = inner_.wait_for(timeout);
            if (status == std::future_status::ready) scope_.mark_end();
            return status;
        }
        template <class Clock, class Duration>
        std::future_status wait_until(const std::chrono::time_point<Clock, Duration>& deadline) {
            const auto status = inner_.wait_until(deadline);
            if (status == std::future_status::ready) scope_.mark_end();
            return status;
        }

    private:
        std::future<T> inner_;
        scope scope_;
    };

    // Wraps an awaitable: `co_await` it as the original; the outcome is recorded
    // when the await resumes (value or exception, which is rethrown unchanged).
    template <class A>
    class awaitable {
    public:
        awaitable(A inner, scope s) noexcept(std::is_nothrow_move_constructible_v<A>)
            : inner_(std::move(inner)), scope_(std::move(s)) {}

        auto operator co_await() & { return make_awaiter(inner_); }
        auto operator co_await() && { return make_awaiter(std::move(inner_)); }

    private:
        template <class Inner>
        struct awaiter {
            Inner inner;  // the awaiter, or a reference to the awaitable that is its own awaiter
            scope* s;

            bool await_ready() { return inner.await_ready(); }
            template <class Promise>
            decltype(auto) await_suspend(std::coroutine_handle<Promise> h) {
                return inner.await_suspend(h);
            }
            decltype(auto) await_resume() {
                return detail::call_observed([&]() -> decltype(auto) { return inner.await_resume(); },
                                             [&] { s->fail(); }, [&](const auto&... result) { s->succeed(result...); });
            }
        };

        template <class Self>
        auto make_awaiter(Self&& self) {
            using inner_t = decltype(detail::get_awaiter(std::forward<Self>(self)));
            return awaiter<inner_t>{detail::get_awaiter(std::forward<Self>(self)), &scope_};
        }

        A inner_;
        scope scope_;
    };
};

template <class Router, class... Registries>
    requires(sizeof...(Registries) > 0)
monitored_router(Router&&, Registries&...)
    -> monitored_router<typename detail::stored_router<Router>::type, Registries...>;

}  // namespace llmetrics
// ---- end llmetrics/instrument/monitored_router.hpp ----

// ---- begin llmetrics/instrument/recorders.hpp ----
// The tutorial's recording helpers (`recordModelInference`, `recordError`,
// `recordCacheOperation`, `recordModelLoad`, `updateActiveConnections`,
// `updateQueueDepth`) as free functions over any registry that holds the
// catalog families they touch. As in the tutorial, an empty tenant (and an empty
// model in record_error) is recorded as "unknown". Durations are seconds, or any
// std::chrono::duration.
//
//     llmetrics::catalog_registry metrics;
//     llmetrics::record_cache_operation(metrics, "model", /*hit=*/true, "tenant-a");
//     llmetrics::update_queue_depth(metrics, "inference", 3, "tenant-a");
//     llmetrics::record_error(metrics, "TimeoutError", "gpt-4", "tenant-a");
//
// Each call looks its series up by label values (a hash probe, no lock once the
// series exists). On a hot path keep the handle instead:
// `auto& hits = metrics.get<catalog::cache_hits_total>().labels("model", "tenant-a");`.

#include <chrono>
#include <optional>
#include <string_view>


// ---- begin llmetrics/instrument/guards.hpp ----
// RAII guards for the tutorial's two gauges. A guard adds to its gauge when it
// is made and takes the same amount away when it is destroyed, so an exception
// (or an early return) between the two cannot leave a count behind:
//
//     void handle(request& req) {
//         llmetrics::connection_guard connection{metrics, req.tenant};   // active_connections{tenant} + 1
//         llmetrics::queue_guard queued{metrics, "inference", req.tenant}; // queue_depth{inference, tenant} + 1
//         wait_for_slot();                                                  // may throw
//         queued.release();                                                 // dequeued: - 1 now
//         run(req);                                                         // may throw
//     }                                                                     // connection - 1
//
// Guards move (the moved-from one no longer owns the count) and never copy.
// Any gauge series can be guarded with gauge_guard directly.

#include <string_view>
#include <utility>


namespace llmetrics {

class gauge_guard {
public:
    gauge_guard() noexcept = default;
    explicit gauge_guard(gauge_series& gauge, double amount = 1.0) noexcept : gauge_(&gauge), amount_(amount) {
        gauge.add(amount);
    }
    gauge_guard(const gauge_guard&) = delete;
    gauge_guard& operator=(const gauge_guard&) = delete;
    gauge_guard(gauge_guard&& other) noexcept
        : gauge_(std::exchange(other.gauge_, nullptr)), amount_(other.amount_) {}
    gauge_guard& operator=(gauge_guard&& other) noexcept {
        if (this != &other) {
            release();
            gauge_ = std::exchange(other.gauge_, nullptr);
            amount_ = other.amount_;
        }
        return *this;
    }
    ~gauge_guard() { release(); }

    // Gives the amount back now (at most once).
    void release() noexcept {
        if (gauge_) std::exchange(gauge_, nullptr)->sub(amount_);
    }
    bool active() const noexcept { return gauge_ != nullptr; }

private:
    gauge_series* gauge_ = nullptr;
    double amount_ = 0.0;
};

namespace detail {
inline std::string_view or_unknown(std::string_view v) noexcept { return v.empty() ? std::string_view("unknown") : v; }
}  // namespace detail

// active_connections{tenant_id} + 1 for the guard's life (empty tenant: "unknown").
class connection_guard : public gauge_guard {
public:
    connection_guard() noexcept = default;
    template <class Registry>
    connection_guard(Registry& metrics, std::string_view tenant_id)
        : gauge_guard(series(metrics, tenant_id)) {}

private:
    template <class Registry>
    static gauge_series& series(Registry& metrics, std::string_view tenant_id) {
        static_assert(registry_has_role_v<Registry, catalog::active_connections>,
                      "llmetrics: connection_guard needs a registry holding catalog::active_connections "
                      "(e.g. llmetrics::catalog_registry)");
        return metrics.template get<registry_role_t<Registry, catalog::active_connections>>().labels(detail::or_unknown(tenant_id));
    }
};

// queue_depth{queue_type, tenant_id} + 1 for the guard's life, or until release().
class queue_guard : public gauge_guard {
public:
    queue_guard() noexcept = default;
    template <class Registry>
    queue_guard(Registry& metrics, std::string_view queue_type, std::string_view tenant_id)
        : gauge_guard(series(metrics, queue_type, tenant_id)) {}

private:
    template <class Registry>
    static gauge_series& series(Registry& metrics, std::string_view queue_type, std::string_view tenant_id) {
        static_assert(registry_has_role_v<Registry, catalog::queue_depth>,
                      "llmetrics: queue_guard needs a registry holding catalog::queue_depth "
                      "(e.g. llmetrics::catalog_registry)");
        return metrics.template get<registry_role_t<Registry, catalog::queue_depth>>().labels(queue_type, detail::or_unknown(tenant_id));
    }
};

}  // namespace llmetrics
// ---- end llmetrics/instrument/guards.hpp ----

namespace llmetrics {

namespace detail {
template <class Registry, class F>
auto& catalog_family(Registry& metrics) {
    static_assert(registry_has_role_v<Registry, F>,
                  "llmetrics: this registry does not hold the catalog family the helper records; use "
                  "llmetrics::catalog_registry or add the family from llmetrics::catalog to registry<...>");
    if constexpr (registry_has_role_v<Registry, F>) return metrics.template get<registry_role_t<Registry, F>>();
}

template <class Rep, class Period>
double to_seconds(std::chrono::duration<Rep, Period> d) noexcept {
    return std::chrono::duration<double>(d).count();
}
inline double to_seconds(double seconds) noexcept { return seconds; }
}  // namespace detail

// model_inference_total{status}; on success also the duration, tokens and, when
// a cost is given, the cost in cents (cost x 100).
template <class Registry, class Duration>
void record_model_inference(Registry& metrics, std::string_view model_id, std::string_view strategy,
                            Duration duration, double tokens, std::optional<double> cost,
                            std::string_view tenant_id, bool success = true) {
    const std::string_view tenant = detail::or_unknown(tenant_id);
    auto& total = detail::catalog_family<Registry, catalog::model_inference_total>(metrics);
    if (!success) {
        total.labels(model_id, strategy, value<"error">, tenant).inc();
        return;
    }
    total.labels(model_id, strategy, value<"success">, tenant).inc();
    detail::catalog_family<Registry, catalog::model_inference_duration_seconds>(metrics)
        .labels(model_id, strategy, tenant)
        .observe(detail::to_seconds(duration));
    detail::catalog_family<Registry, catalog::model_inference_tokens>(metrics)
        .labels(model_id, strategy, tenant)
        .observe(tokens);
    if (cost)
        detail::catalog_family<Registry, catalog::request_cost_cents>(metrics).labels(model_id, tenant).observe(*cost * 100.0);
}

template <class Registry>
void record_error(Registry& metrics, std::string_view error_type, std::string_view model_id = {},
                  std::string_view tenant_id = {}) {
    detail::catalog_family<Registry, catalog::errors_total>(metrics)
        .labels(error_type, detail::or_unknown(model_id), detail::or_unknown(tenant_id))
        .inc();
}

template <class Registry>
void record_cache_operation(Registry& metrics, std::string_view cache_type, bool hit, std::string_view tenant_id = {}) {
    if (hit)
        detail::catalog_family<Registry, catalog::cache_hits_total>(metrics)
            .labels(cache_type, detail::or_unknown(tenant_id))
            .inc();
    else
        detail::catalog_family<Registry, catalog::cache_misses_total>(metrics)
            .labels(cache_type, detail::or_unknown(tenant_id))
            .inc();
}

// model_load_time_seconds{model_id, format, loader}; an empty loader is "auto".
template <class Registry, class Duration>
void record_model_load(Registry& metrics, std::string_view model_id, std::string_view format,
                       std::string_view loader, Duration load_time) {
    detail::catalog_family<Registry, catalog::model_load_time_seconds>(metrics)
        .labels(detail::or_unknown(model_id), detail::or_unknown(format), loader.empty() ? std::string_view("auto") : loader)
        .observe(detail::to_seconds(load_time));
}

template <class Registry>
void update_active_connections(Registry& metrics, double count, std::string_view tenant_id = {}) {
    detail::catalog_family<Registry, catalog::active_connections>(metrics).labels(detail::or_unknown(tenant_id)).set(count);
}

template <class Registry>
void update_queue_depth(Registry& metrics, std::string_view queue_type, double depth, std::string_view tenant_id = {}) {
    detail::catalog_family<Registry, catalog::queue_depth>(metrics)
        .labels(queue_type, detail::or_unknown(tenant_id))
        .set(depth);
}

}  // namespace llmetrics
// ---- end llmetrics/instrument/recorders.hpp ----

// ---- begin llmetrics/instrument/http_request_timer.hpp ----
// The tutorial's HTTP middleware as a timer any HTTP framework can use: start it
// when a request arrives, finish it when the response is sent. finish() records
// both HTTP families of the catalog:
//
//   http_requests_total{method, route, status_code, tenant_id}            + 1
//   http_request_duration_seconds{method, route, tenant_id}               observe(elapsed)
//
// An empty tenant is recorded as "unknown" (the tutorial's
// `req.auth?.getTenantId() || 'unknown'`); pass the route pattern ("/users/:id"),
// not the raw path, to keep cardinality bounded.
//
//     // Boost.Beast, Crow, Drogon, a hand-written server...:
//     llmetrics::http_request_timer timer{metrics};
//     auto response = handle(request);
//     timer.finish(request.method_string(), "/api/inference", response.result_int(), tenant);
//
// While a trace context is current (scoped_trace_context) both records carry
// its trace id as an exemplar, shown in OpenMetrics output.
//
// A timer records once: later finish() calls return false and do nothing. A
// timer that is never finished records nothing. It is a small value (copy it into
// an asynchronous completion handler freely; each copy records at most once).

#include <charconv>
#include <cstdint>
#include <string_view>


namespace llmetrics {

template <class Registry>
class http_request_timer {
    static_assert(registry_has_role_v<Registry, catalog::http_requests_total> ||
                      registry_has_role_v<Registry, catalog::http_request_duration_seconds>,
                  "llmetrics: http_request_timer needs a registry holding catalog::http_requests_total and/or "
                  "catalog::http_request_duration_seconds (e.g. llmetrics::catalog_registry)");

public:
    explicit http_request_timer(Registry& metrics, time_source clock = {}) noexcept
        : metrics_(&metrics), clock_(clock), start_ns_(clock.now_ns()) {}

    bool finish(std::string_view method, std::string_view route, int status_code, std::string_view tenant_id = {}) {
        char text[16];
        const auto [end, ec] = std::to_chars(text, text + sizeof text, status_code);
        const std::string_view code = ec == std::errc{} ? std::string_view(text, static_cast<std::size_t>(end - text))
                                                        : std::string_view("unknown");
        return finish(method, route, code, tenant_id);
    }

    bool finish(std::string_view method, std::string_view route, std::string_view status_code,
                std::string_view tenant_id = {}) {
        if (finished_) return false;
        finished_ = true;
        const double seconds = elapsed_seconds();
        const std::string_view tenant = detail::or_unknown(tenant_id);
        detail::with_trace_exemplar([&](auto ex) {
            if constexpr (registry_has_role_v<Registry, catalog::http_requests_total>)
                detail::inc_traced(metrics_->template get<registry_role_t<Registry, catalog::http_requests_total>>()
                                       .labels(method, route, status_code, tenant),
                                   ex);
            if constexpr (registry_has_role_v<Registry, catalog::http_request_duration_seconds>)
                detail::observe_traced(
                    metrics_->template get<registry_role_t<Registry, catalog::http_request_duration_seconds>>()
                        .labels(method, route, tenant),
                    seconds, ex);
        });
        return true;
    }

    double elapsed_seconds() const noexcept { return clock_.seconds_since(start_ns_); }
    bool finished() const noexcept { return finished_; }

    // Starts again from now (e.g. a timer kept per keep-alive connection).
    void restart() noexcept {
        start_ns_ = clock_.now_ns();
        finished_ = false;
    }

private:
    Registry* metrics_;
    time_source clock_;
    std::int64_t start_ns_;
    bool finished_ = false;
};

}  // namespace llmetrics
// ---- end llmetrics/instrument/http_request_timer.hpp ----

// ---- begin llmetrics/analytics/analytics_collector.hpp ----
// llmetrics::analytics_collector: the tutorial's CustomMetricsCollector as a
// runtime collector. It records business events, user interactions (with the
// satisfaction score), model performance and periodic system samples in bounded
// memory, produces the tutorial's JSON report, and exports what it tracks as
// Prometheus families when registered on a registry:
//
//   <prefix>business_events_total{type}         counter  events recorded, by type
//   <prefix>business_event_value{type}          gauge    sum of their values (a gauge: values may be negative)
//   <prefix>user_interactions_total             counter  interactions recorded
//   <prefix>users_tracked                       gauge    users currently tracked
//   <prefix>user_satisfaction                   gauge    mean over tracked users of their last-10 score (0-100)
//   <prefix>model_requests_total{model}         counter  requests recorded, by model
//   <prefix>model_latency_seconds{model}        gauge    rolling mean latency (last 100 requests)
//   <prefix>model_accuracy{model}               gauge    rolling mean accuracy (last 100)
//   <prefix>model_error_ratio{model}            gauge    rolling error rate (last 100), 0-1
//   <prefix>system_sample{metric,field}         gauge    latest value of each system sample field
//   <prefix>system_health                       gauge    health score (0-100, see health.hpp)
//   <prefix>evicted_total{kind="user"|"model"}  counter  least recently seen users/models evicted
//   <prefix>overflow_total{kind}                counter  events (kind="event_type") and samples
//                                                        (kind="system_metric") recorded under
//                                                        "__overflow__", fields dropped (kind="system_field")
//
// Every label is bounded: types by max_event_types (+ "__overflow__"), models by
// max_models, metrics and fields by max_system_metrics and max_fields. Users are
// never a label. The default prefix is "llmetrics_analytics_".
//
// Thread safety: every member function may be called from any thread at any
// time. Recording takes two short mutexes (the key map's, then the key's own)
// for a lookup and an append; a report or a scrape copies what it needs under
// the same locks, one key at a time, so it never stalls recorders for longer
// than summarising one key's bounded history.

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>


// ---- begin llmetrics/analytics/bounded_history.hpp ----
// An append-only history that stays bounded the way the tutorial bounds its
// arrays: once it holds more than `high` entries it keeps only the latest `keep`.
// Trimming in bulk (rather than dropping one entry per append) keeps the cost of
// an append O(1) amortised. Not synchronised: its owner holds the lock.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <utility>

namespace llmetrics {

struct history_limits {
    std::size_t high = 1000;  // trim once the size goes past this
    std::size_t keep = 500;   // ... down to this many (the latest ones)

    void validate() const {
        if (keep == 0 || keep > high)
            throw std::invalid_argument("llmetrics: history_limits needs 0 < keep <= high");
    }
};

template <class T>
class bounded_history {
public:
    using const_iterator = typename std::deque<T>::const_iterator;

    explicit bounded_history(history_limits limits = {}) : limits_(limits) { limits_.validate(); }

    void push_back(T value) {
        items_.push_back(std::move(value));
        if (items_.size() > limits_.high) {
            const std::size_t drop = items_.size() - limits_.keep;
            items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(drop));
            dropped_ += drop;
        }
    }

    std::size_t size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.empty(); }
    T& back() { return items_.back(); }
    const T& back() const { return items_.back(); }
    const T& operator[](std::size_t i) const { return items_[i]; }
    const_iterator begin() const noexcept { return items_.begin(); }
    const_iterator end() const noexcept { return items_.end(); }
    // Entries ever removed by trimming.
    std::uint64_t dropped() const noexcept { return dropped_; }
    const history_limits& limits() const noexcept { return limits_; }

    // The first index of the last `n` entries (0 when there are fewer).
    std::size_t tail_start(std::size_t n) const noexcept {
        return items_.size() > n ? items_.size() - n : 0;
    }

private:
    history_limits limits_;
    std::deque<T> items_;
    std::uint64_t dropped_ = 0;
};

}  // namespace llmetrics
// ---- end llmetrics/analytics/bounded_history.hpp ----

// ---- begin llmetrics/analytics/business_events.hpp ----
// Business events (api calls, revenue, sign-ups ...) kept per type, each type's
// history bounded like the tutorial's (latest 500 once past 1,000). The number of
// types is bounded too: once `max_types` distinct types exist, events of any new
// type are recorded under the single type "__overflow__" and counted, so label
// cardinality stays bounded whatever strings callers pass.
//
// Locking: one mutex guards the type map (a lookup, or an insert for a new type),
// then the type's own mutex guards its append. Readers copy what they need under
// the same short locks, so a report never blocks recorders for longer than it
// takes to summarise one type's history.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>


// ---- begin llmetrics/analytics/clock.hpp ----
// The time source of the analytics component. Every timestamp it stores (events,
// interactions, samples, report windows) comes from one injectable function, so a
// test can drive time by hand and check windows, trends and eviction exactly,
// without sleeping. Wall-clock time points are used because the report prints
// them as ISO-8601 instants, as the tutorial does.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

namespace llmetrics {

using analytics_time = std::chrono::system_clock::time_point;
using analytics_clock = std::function<analytics_time()>;

// The default clock: the system (wall) clock.
inline analytics_time system_now() noexcept { return std::chrono::system_clock::now(); }

// A clock that only moves when told to; safe to read from many threads while one
// thread advances it. Pass `c.function()` (which refers to `c`, so `c` must outlive
// its users) where an analytics_clock is expected.
class manual_clock {
public:
    explicit manual_clock(analytics_time start = analytics_time{}) noexcept
        : ns_(to_ns(start)) {}

    analytics_time now() const noexcept {
        return analytics_time{std::chrono::duration_cast<analytics_time::duration>(
            std::chrono::nanoseconds{ns_.load(std::memory_order_acquire)})};
    }
    analytics_time operator()() const noexcept { return now(); }

    template <class Rep, class Period>
    void advance(std::chrono::duration<Rep, Period> d) noexcept {
        ns_.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(),
                      std::memory_order_acq_rel);
    }
    void set(analytics_time t) noexcept { ns_.store(to_ns(t), std::memory_order_release); }

    analytics_clock function() const {
        return [this] { return now(); };
    }

private:
    static std::int64_t to_ns(analytics_time t) noexcept {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    }
    std::atomic<std::int64_t> ns_;
};

}  // namespace llmetrics
// ---- end llmetrics/analytics/clock.hpp ----

namespace llmetrics {

struct business_event {
    analytics_time timestamp;
    double value = 0;
    nlohmann::json metadata;
};

// Events of one type within a report window.
struct business_summary {
    std::uint64_t count = 0;
    double total_value = 0;
    double avg_value = 0;  // 0 when count is 0
};

// Everything ever recorded for one type (not affected by history trimming).
struct business_totals {
    std::string type;
    std::uint64_t count = 0;
    double value_sum = 0;
};

class business_event_tracker {
public:
    static constexpr std::string_view overflow_type = "__overflow__";

    explicit business_event_tracker(history_limits limits = {}, std::size_t max_types = 100)
        : limits_(limits), max_types_(max_types) {
        limits_.validate();
        if (max_types_ == 0)
            throw std::invalid_argument("llmetrics: max_event_types must be at least 1");
    }

    // A NaN value counts as 0, as the tutorial's `value || 0` does.
    void record(std::string_view type, double value, nlohmann::json metadata, analytics_time now) {
        if (std::isnan(value)) value = 0;
        state& s = find_or_add(type);
        std::lock_guard lock{s.mutex};
        s.history.push_back(business_event{now, value, std::move(metadata)});
        ++s.count;
        s.value_sum += value;
    }

    // Every known type, with the events whose timestamp lies in [start, end].
    std::map<std::string, business_summary> summarize(analytics_time start, analytics_time end) const {
        std::map<std::string, business_summary> out;
        for (const auto& [type, s] : states()) {
            business_summary sum;
            {
                std::lock_guard lock{s->mutex};
                for (const business_event& e : s->history) {
                    if (e.timestamp < start || e.timestamp > end) continue;
                    ++sum.count;
                    sum.total_value += e.value;
                }
            }
            if (sum.count > 0) sum.avg_value = sum.total_value / static_cast<double>(sum.count);
            out.emplace(type, sum);
        }
        return out;
    }

    std::vector<business_totals> totals() const {
        std::vector<business_totals> out;
        for (const auto& [type, s] : states()) {
            std::lock_guard lock{s->mutex};
            out.push_back({type, s->count, s->value_sum});
        }
        return out;
    }

    // The retained history of one type (a copy), oldest first.
    std::vector<business_event> events(std::string_view type) const {
        const state* s = nullptr;
        {
            std::lock_guard lock{mutex_};
            auto it = types_.find(type);
            if (it == types_.end()) return {};
            s = it->second.get();
        }
        std::lock_guard lock{s->mutex};
        return {s->history.begin(), s->history.end()};
    }

    // Events recorded under "__overflow__" because the type limit was reached.
    std::uint64_t overflowed() const {
        std::lock_guard lock{mutex_};
        return overflowed_;
    }
    std::size_t type_count() const {
        std::lock_guard lock{mutex_};
        return types_.size();
    }

private:
    struct state {
        explicit state(history_limits l) : history(l) {}
        mutable std::mutex mutex;
        bounded_history<business_event> history;
        std::uint64_t count = 0;
        double value_sum = 0;
    };

    state& find_or_add(std::string_view type) {
        std::string fixed;
        if (!detail::is_valid_utf8(type)) type = fixed = detail::sanitize_utf8(type);
        std::lock_guard lock{mutex_};
        if (auto it = types_.find(type); it != types_.end()) return *it->second;
        // "__overflow__" does not count towards the limit, so it is always available.
        const std::size_t regular = types_.size() - types_.count(overflow_type);
        if (type != overflow_type && regular >= max_types_) {
            ++overflowed_;
            type = overflow_type;
            if (auto it = types_.find(type); it != types_.end()) return *it->second;
        }
        return *types_.emplace(std::string{type}, std::make_unique<state>(limits_)).first->second;
    }

    // Types never go away, so the raw pointers stay valid for the tracker's life.
    std::vector<std::pair<std::string, const state*>> states() const {
        std::lock_guard lock{mutex_};
        std::vector<std::pair<std::string, const state*>> out;
        out.reserve(types_.size());
        for (const auto& [type, s] : types_) out.emplace_back(type, s.get());
        return out;
    }

    history_limits limits_;
    std::size_t max_types_;
    mutable std::mutex mutex_;  // guards types_ and overflowed_
    std::map<std::string, std::unique_ptr<state>, std::less<>> types_;
    std::uint64_t overflowed_ = 0;
};

}  // namespace llmetrics
// ---- end llmetrics/analytics/business_events.hpp ----

// ---- begin llmetrics/analytics/health.hpp ----
// The tutorial's system health score, from the latest memory and lag samples:
//   100
//   -30 if memory use > 0.90, else -15 if memory use > 0.70
//   -20 if scheduling lag > 100 ms, else -10 if lag > 50 ms
// (never below 0). A missing input costs nothing.
//
// "Memory use" here is resident memory over the memory the process may use:
// rss / memoryLimit of the latest memory_usage sample, where memoryLimit is the
// physical RAM or the cgroup memory limit, whichever is lower. The tutorial's
// heapUsed / heapTotal ratio is not used: for malloc it measures how much of the
// memory the allocator holds is in use (fragmentation), not memory pressure, and
// not every allocator reports it. "Lag" is the `lag` field of the latest
// scheduling_lag sample: how late the sampler's periodic timer fired.

#include <algorithm>
#include <optional>


// ---- begin llmetrics/analytics/system_metrics.hpp ----
// Named system metrics (memory, CPU, scheduling lag, uptime, or your own), each a
// bounded history of samples with numeric fields, as the tutorial's
// `recordSystemMetric(name, data)` keeps them. Each metric names the field its
// trend is computed on (the tutorial used "the second field of the object").
//
// Bounds: each history keeps the latest 500 once past 1,000 samples; at most
// `max_metrics` names (further names go to "__overflow__", counted); at most
// `max_fields` fields per sample (further fields dropped, counted), which bounds
// the `metric` and `field` labels of the exported gauge.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


// ---- begin llmetrics/analytics/trend.hpp ----
// The trend of a series of samples: compare the average of the second half with
// the average of the first half (the first half has floor(n/2) samples).
//
//   change = (second - first) / |first|
//   change > +threshold -> increasing, change < -threshold -> decreasing, else stable
//
// Fixes against the tutorial: the caller names the field the trend is computed
// on (the tutorial took "the second field of the object"); dividing by |first|
// keeps the direction right for negative averages; and a zero first-half average
// is defined, not a division by zero: the trend follows the sign of the second
// half (positive: increasing, negative: decreasing, zero: stable). Fewer than two
// samples, and non-finite samples (skipped), cannot make a trend.

#include <cmath>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace llmetrics {

enum class trend { stable, increasing, decreasing };

constexpr std::string_view to_string(trend t) noexcept {
    switch (t) {
    case trend::increasing: return "increasing";
    case trend::decreasing: return "decreasing";
    case trend::stable: break;
    }
    return "stable";
}

inline constexpr double default_trend_threshold = 0.1;

inline trend compute_trend(std::span<const double> samples,
                           double threshold = default_trend_threshold) {
    std::vector<double> v;
    v.reserve(samples.size());
    for (double x : samples)
        if (std::isfinite(x)) v.push_back(x);
    if (v.size() < 2) return trend::stable;

    const std::size_t half = v.size() / 2;
    double first = 0, second = 0;
    for (std::size_t i = 0; i < half; ++i) first += v[i];
    for (std::size_t i = half; i < v.size(); ++i) second += v[i];
    first /= static_cast<double>(half);
    second /= static_cast<double>(v.size() - half);

    if (first == 0.0) {
        if (second > 0.0) return trend::increasing;
        if (second < 0.0) return trend::decreasing;
        return trend::stable;
    }
    const double change = (second - first) / std::fabs(first);
    if (change > threshold) return trend::increasing;
    if (change < -threshold) return trend::decreasing;
    return trend::stable;
}

}  // namespace llmetrics
// ---- end llmetrics/analytics/trend.hpp ----

namespace llmetrics {

// The metrics and fields the system sampler records (see system_sampler.hpp).
namespace system_metric {
inline constexpr std::string_view memory_usage = "memory_usage";      // bytes
inline constexpr std::string_view cpu_usage = "cpu_usage";            // microseconds; percent
inline constexpr std::string_view scheduling_lag = "scheduling_lag";  // milliseconds
inline constexpr std::string_view uptime = "uptime";                  // milliseconds
}  // namespace system_metric

namespace system_field {
inline constexpr std::string_view rss = "rss";                    // memory_usage: resident set size
inline constexpr std::string_view heap_used = "heapUsed";         // memory_usage: malloc, in use
inline constexpr std::string_view heap_total = "heapTotal";       // memory_usage: malloc, held from the OS
inline constexpr std::string_view memory_limit = "memoryLimit";   // memory_usage: RAM, or a lower cgroup limit
inline constexpr std::string_view user = "user";                  // cpu_usage: user time, cumulative
inline constexpr std::string_view system = "system";              // cpu_usage: system time, cumulative
inline constexpr std::string_view percent = "percent";            // cpu_usage: of one core, since the last sample
inline constexpr std::string_view lag = "lag";                    // scheduling_lag: how late the timer fired
inline constexpr std::string_view uptime = "uptime";              // uptime: since the collector started
inline constexpr std::string_view process_uptime = "processUptime";  // uptime: since the process started
}  // namespace system_field

using system_fields = std::vector<std::pair<std::string, double>>;

struct system_sample {
    analytics_time timestamp;
    system_fields fields;

    std::optional<double> field(std::string_view name) const {
        for (const auto& [n, v] : fields)
            if (n == name) return v;
        return std::nullopt;
    }
};

// One metric's samples within a report window.
struct system_metric_summary {
    std::uint64_t count = 0;
    system_sample latest;
    std::string trend_field;
    llmetrics::trend trend = llmetrics::trend::stable;
};

class system_metric_store {
public:
    static constexpr std::string_view overflow_metric = "__overflow__";

    explicit system_metric_store(history_limits limits = {}, std::size_t max_metrics = 32,
                                 std::size_t max_fields = 16)
        : limits_(limits), max_metrics_(max_metrics), max_fields_(max_fields) {
        limits_.validate();
        if (max_metrics_ == 0 || max_fields_ == 0)
            throw std::invalid_argument("llmetrics: max_system_metrics and max_fields must be at least 1");
    }

    // Records a sample; `trend_field` names the field the metric's trend uses
    // (samples without it are left out of the trend).
    void record(std::string_view metric, system_fields fields, analytics_time now,
                std::string_view trend_field = "value") {
        std::uint64_t dropped = 0;
        if (fields.size() > max_fields_) {
            dropped = fields.size() - max_fields_;
            fields.resize(max_fields_);
        }
        for (auto& [name, value] : fields)
            if (!detail::is_valid_utf8(name)) name = detail::sanitize_utf8(name);
        state& s = find_or_add(metric, dropped);
        std::lock_guard lock{s.mutex};
        if (s.trend_field != trend_field) s.trend_field = trend_field;
        s.history.push_back(system_sample{now, std::move(fields)});
        ++s.count;
    }

    // Metrics with at least one sample in [start, end]: count, latest sample,
    // and the trend of the trend field over those samples, in time order.
    std::map<std::string, system_metric_summary> summarize(analytics_time start, analytics_time end) const {
        std::map<std::string, system_metric_summary> out;
        std::vector<double> values;
        for (const auto& [name, s] : states()) {
            system_metric_summary m;
            values.clear();
            {
                std::lock_guard lock{s->mutex};
                m.trend_field = s->trend_field;
                for (const system_sample& x : s->history) {
                    if (x.timestamp < start || x.timestamp > end) continue;
                    ++m.count;
                    m.latest = x;
                    if (auto v = x.field(m.trend_field)) values.push_back(*v);
                }
            }
            if (m.count == 0) continue;
            m.trend = compute_trend(values);
            out.emplace(name, std::move(m));
        }
        return out;
    }

    // The most recent sample of a metric, whatever its age.
    std::optional<system_sample> latest(std::string_view metric) const {
        const state* s = find(metric);
        if (!s) return std::nullopt;
        std::lock_guard lock{s->mutex};
        if (s->history.empty()) return std::nullopt;
        return s->history.back();
    }

    // (metric, samples ever recorded, latest sample) for every metric.
    struct totals {
        std::string metric;
        std::uint64_t count = 0;
        system_sample latest;
    };
    std::vector<totals> all_totals() const {
        std::vector<totals> out;
        for (const auto& [name, s] : states()) {
            std::lock_guard lock{s->mutex};
            if (s->history.empty()) continue;
            out.push_back({name, s->count, s->history.back()});
        }
        return out;
    }

    // Samples recorded under "__overflow__" because the metric limit was reached.
    std::uint64_t overflowed() const {
        std::lock_guard lock{mutex_};
        return overflowed_;
    }
    // Fields dropped because a sample had more than max_fields.
    std::uint64_t dropped_fields() const {
        std::lock_guard lock{mutex_};
        return dropped_fields_;
    }

private:
    struct state {
        explicit state(history_limits l) : history(l) {}
        mutable std::mutex mutex;
        bounded_history<system_sample> history;
        std::uint64_t count = 0;
        std::string trend_field;
    };

    state& find_or_add(std::string_view metric, std::uint64_t dropped_fields) {
        std::string fixed;
        if (!detail::is_valid_utf8(metric)) metric = fixed = detail::sanitize_utf8(metric);
        std::lock_guard lock{mutex_};
        dropped_fields_ += dropped_fields;
        if (auto it = metrics_.find(metric); it != metrics_.end()) return *it->second;
        const std::size_t regular = metrics_.size() - metrics_.count(overflow_metric);
        if (metric != overflow_metric && regular >= max_metrics_) {
            ++overflowed_;
            metric = overflow_metric;
            if (auto it = metrics_.find(metric); it != metrics_.end()) return *it->second;
        }
        return *metrics_.emplace(std::string{metric}, std::make_unique<state>(limits_)).first->second;
    }

    const state* find(std::string_view metric) const {
        std::lock_guard lock{mutex_};
        auto it = metrics_.find(metric);
        return it == metrics_.end() ? nullptr : it->second.get();
    }

    // Metrics never go away, so the raw pointers stay valid for the store's life.
    std::vector<std::pair<std::string, const state*>> states() const {
        std::lock_guard lock{mutex_};
        std::vector<std::pair<std::string, const state*>> out;
        out.reserve(metrics_.size());
        for (const auto& [name, s] : metrics_) out.emplace_back(name, s.get());
        return out;
    }

    history_limits limits_;
    std::size_t max_metrics_;
    std::size_t max_fields_;
    mutable std::mutex mutex_;  // guards metrics_, overflowed_, dropped_fields_
    std::map<std::string, std::unique_ptr<state>, std::less<>> metrics_;
    std::uint64_t overflowed_ = 0;
    std::uint64_t dropped_fields_ = 0;
};

}  // namespace llmetrics
// ---- end llmetrics/analytics/system_metrics.hpp ----

namespace llmetrics {

inline int system_health_score(std::optional<double> memory_use, std::optional<double> lag_ms) noexcept {
    int score = 100;
    if (memory_use) {
        if (*memory_use > 0.9) score -= 30;
        else if (*memory_use > 0.7) score -= 15;
    }
    if (lag_ms) {
        if (*lag_ms > 100) score -= 20;
        else if (*lag_ms > 50) score -= 10;
    }
    return std::max(0, score);
}

// rss / memoryLimit of a memory_usage sample; nothing when either is missing or
// the limit is not positive.
inline std::optional<double> memory_use_ratio(const system_sample& memory) {
    const auto rss = memory.field(system_field::rss);
    const auto limit = memory.field(system_field::memory_limit);
    if (!rss || !limit || !(*limit > 0)) return std::nullopt;
    return *rss / *limit;
}

inline int system_health_score(const system_metric_store& store) {
    std::optional<double> memory, lag;
    if (auto m = store.latest(system_metric::memory_usage)) memory = memory_use_ratio(*m);
    if (auto l = store.latest(system_metric::scheduling_lag)) lag = l->field(system_field::lag);
    return system_health_score(memory, lag);
}

}  // namespace llmetrics
// ---- end llmetrics/analytics/health.hpp ----

// ---- begin llmetrics/analytics/model_tracker.hpp ----
// Per-model performance: total requests, and rolling averages of latency and
// accuracy (and the error rate) over the last 100 requests, as the tutorial
// keeps them. The rolling figures are computed when read (scrape, find), from
// the tail of the model's bounded history, so recording is only an append.
//
// The number of tracked models is bounded like the users (least recently seen
// evicted and counted), which also bounds the `model` label of the exported
// families. Locking as in user_tracker: map mutex for the lookup, the model's
// mutex for the append.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


// ---- begin llmetrics/analytics/lru_map.hpp ----
// A map from string keys to shared state, bounded by evicting the least recently
// seen key. "Seen" means touched by a record call; reading (reports, scrapes)
// does not count. Values are shared_ptr so a reader that copied them can keep
// reading one after it was evicted. Not synchronised: its owner holds the lock.

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace llmetrics::detail {

template <class V>
class lru_map {
public:
    explicit lru_map(std::size_t capacity) : capacity_(capacity) {
        if (capacity_ == 0)
            throw std::invalid_argument("llmetrics: a tracked-key limit must be at least 1");
    }
    lru_map(const lru_map&) = delete;
    lru_map& operator=(const lru_map&) = delete;

    // The value for `key`, now the most recently seen; created by `make()` when
    // absent, after evicting the least recently seen key if the map is full.
    template <class Make>
    std::shared_ptr<V> touch(std::string_view key, Make&& make) {
        if (auto it = index_.find(key); it != index_.end()) {
            order_.splice(order_.begin(), order_, it->second);
            return it->second->value;
        }
        if (index_.size() >= capacity_) {
            index_.erase(std::string_view{order_.back().key});
            order_.pop_back();
            ++evicted_;
        }
        order_.push_front(entry{std::string{key}, std::forward<Make>(make)()});
        index_.emplace(std::string_view{order_.front().key}, order_.begin());
        return order_.front().value;
    }

    std::shared_ptr<V> find(std::string_view key) const {
        auto it = index_.find(key);
        return it == index_.end() ? nullptr : it->second->value;
    }

    // (key, value) pairs, most recently seen first.
    std::vector<std::pair<std::string, std::shared_ptr<V>>> entries() const {
        std::vector<std::pair<std::string, std::shared_ptr<V>>> out;
        out.reserve(order_.size());
        for (const entry& e : order_) out.emplace_back(e.key, e.value);
        return out;
    }

    std::size_t size() const noexcept { return index_.size(); }
    std::size_t capacity() const noexcept { return capacity_; }
    std::uint64_t evicted() const noexcept { return evicted_; }

private:
    struct entry {
        std::string key;
        std::shared_ptr<V> value;
    };
    std::size_t capacity_;
    std::list<entry> order_;  // most recently seen first; nodes never move in memory
    std::unordered_map<std::string_view, typename std::list<entry>::iterator> index_;  // keys view into order_
    std::uint64_t evicted_ = 0;
};

}  // namespace llmetrics::detail
// ---- end llmetrics/analytics/lru_map.hpp ----

namespace llmetrics {

struct model_performance {
    double latency_ms = 0;
    double accuracy = 0;  // in whatever unit the caller uses (the tutorial: percent)
    bool error = false;
};

struct model_sample {
    analytics_time timestamp;
    model_performance performance;
};

// Rolling figures over the last `window` requests of one model.
struct model_stats {
    std::uint64_t total_requests = 0;  // every request recorded for this model
    std::size_t window = 0;            // requests the averages cover (<= rolling window)
    double avg_latency_ms = 0;
    double avg_accuracy = 0;
    double error_rate = 0;  // errors / window
};

// Requests of one model within a report window.
struct model_window_summary {
    std::uint64_t requests = 0;
    double avg_latency_ms = 0;
    double avg_accuracy = 0;
    double error_rate = 0;
};

class model_tracker {
public:
    explicit model_tracker(history_limits limits = {}, std::size_t max_models = 100,
                           std::size_t rolling_window = 100)
        : limits_(limits), rolling_window_(rolling_window), models_(max_models) {
        limits_.validate();
        if (rolling_window_ == 0 || rolling_window_ > limits_.keep)
            throw std::invalid_argument(
                "llmetrics: the model rolling window must be between 1 and the history's keep size");
    }

    // NaN latency or accuracy counts as 0, as the tutorial's `x || 0` does.
    void record(std::string_view model, model_performance p, analytics_time now) {
        if (std::isnan(p.latency_ms)) p.latency_ms = 0;
        if (std::isnan(p.accuracy)) p.accuracy = 0;
        std::string fixed;
        if (!detail::is_valid_utf8(model)) model = fixed = detail::sanitize_utf8(model);
        std::shared_ptr<state> s;
        {
            std::lock_guard lock{mutex_};
            s = models_.touch(model, [&] { return std::make_shared<state>(limits_); });
        }
        std::lock_guard lock{s->mutex};
        s->history.push_back(model_sample{now, p});
        ++s->total_requests;
    }

    // Models with at least one request in [start, end].
    std::map<std::string, model_window_summary> summarize(analytics_time start, analytics_time end) const {
        std::map<std::string, model_window_summary> out;
        for (const auto& [id, s] : snapshot()) {
            model_window_summary m;
            std::uint64_t errors = 0;
            {
                std::lock_guard lock{s->mutex};
                for (const model_sample& x : s->history) {
                    if (x.timestamp < start || x.timestamp > end) continue;
                    ++m.requests;
                    m.avg_latency_ms += x.performance.latency_ms;
                    m.avg_accuracy += x.performance.accuracy;
                    errors += x.performance.error ? 1 : 0;
                }
            }
            if (m.requests == 0) continue;
            const auto n = static_cast<double>(m.requests);
            m.avg_latency_ms /= n;
            m.avg_accuracy /= n;
            m.error_rate = static_cast<double>(errors) / n;
            out.emplace(id, m);
        }
        return out;
    }

    std::optional<model_stats> find(std::string_view model) const {
        std::shared_ptr<state> s;
        {
            std::lock_guard lock{mutex_};
            s = models_.find(model);
        }
        if (!s) return std::nullopt;
        return rolling(*s);
    }

    // Rolling figures of every tracked model, by model id.
    std::map<std::string, model_stats> all_stats() const {
        std::map<std::string, model_stats> out;
        for (const auto& [id, s] : snapshot()) out.emplace(id, rolling(*s));
        return out;
    }

    std::size_t size() const {
        std::lock_guard lock{mutex_};
        return models_.size();
    }
    std::uint64_t evicted() const {
        std::lock_guard lock{mutex_};
        return models_.evicted();
    }
    std::size_t rolling_window() const noexcept { return rolling_window_; }

private:
    struct state {
        explicit state(history_limits l) : history(l) {}
        mutable std::mutex mutex;
        bounded_history<model_sample> history;
        std::uint64_t total_requests = 0;
    };

    model_stats rolling(const state& s) const {
        std::lock_guard lock{s.mutex};
        model_stats out;
        out.total_requests = s.total_requests;
        const std::size_t first = s.history.tail_start(rolling_window_);
        std::uint64_t errors = 0;
        for (std::size_t i = first; i < s.history.size(); ++i) {
            const model_performance& p = s.history[i].performance;
            out.avg_latency_ms += p.latency_ms;
            out.avg_accuracy += p.accuracy;
            errors += p.error ? 1 : 0;
        }
        out.window = s.history.size() - first;
        if (out.window > 0) {
            const auto n = static_cast<double>(out.window);
            out.avg_latency_ms /= n;
            out.avg_accuracy /= n;
            out.error_rate = static_cast<double>(errors) / n;
        }
        return out;
    }

    std::vector<std::pair<std::string, std::shared_ptr<state>>> snapshot() const {
        std::lock_guard lock{mutex_};
        return models_.entries();
    }

    history_limits limits_;
    std::size_t rolling_window_;
    mutable std::mutex mutex_;  // guards models_
    detail::lru_map<state> models_;
};

}  // namespace llmetrics
// ---- end llmetrics/analytics/model_tracker.hpp ----

// ---- begin llmetrics/analytics/report.hpp ----
// The tutorial's JSON report over a time window ending now:
//
//   generatedAt   ISO-8601 UTC instant, millisecond precision ("...T12:00:00.000Z")
//   timeRange     {start, end (ISO-8601), durationMs}
//   summary       {totalUsers, totalModels (tracked now, window or not),
//                  avgUserSatisfaction (user_tracker::average_recent_satisfaction),
//                  systemHealth (health.hpp)}
//   business      {<type>: {count, totalValue, avgValue}} for every known type,
//                 over the events in the window (0s when none)
//   users         {activeUsers, totalInteractions, avgInteractionsPerUser,
//                  avgSatisfactionScore} over the interactions in the window
//   models        {<id>: {requests, avgLatency, avgAccuracy, errorRate}} for the
//                 models with requests in the window
//   system        {<metric>: {count, latest, trend}} for the metrics with samples
//                 in the window; latest is the last such sample as an object
//                 {timestamp (ms since the epoch), <field>: value ...}; trend is
//                 computed on the metric's named trend field (trend.hpp)
//
// The window is [now - range, now], both ends included. Objects are keyed
// alphabetically (nlohmann::json); non-finite numbers print as null.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>


// ---- begin llmetrics/analytics/user_tracker.hpp ----
// Per-user interactions and the tutorial's satisfaction score.
//
// Each interaction is scored when it is recorded, from the user's state after
// appending it:
//   base 50
//   +20 if the user's average duration (all interactions so far) < 2,000 ms,
//   -20 if it is > 10,000 ms
//   +15 if the population variance of the last 10 durations is < 1,000 (ms^2)
//   -10 for each error among the last 10 interactions
//   clamped to 0..100
//
// An interaction is an error when its metadata has an "error" member that is
// truthy in the JavaScript sense the tutorial relies on: true, a non-zero
// number, a non-empty string, or any object or array. false, 0, "" and null are
// not errors; neither is the action's text.
//
// The number of tracked users is bounded: when a new user arrives and
// `max_users` are tracked, the least recently seen user is evicted (its data is
// gone from reports) and counted. Each user's own history is bounded like the
// business events (latest 500 once past 1,000); counts and total duration are
// kept apart from it, so averages are over every interaction. An interaction's
// metadata is read for the error flag and not stored, which keeps the memory of
// max_users full histories small.
//
// Locking: the user map's mutex is held for a lookup/insert (and an eviction),
// then the user's own mutex for the append and the O(10) score update.

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>


namespace llmetrics {

inline constexpr std::size_t satisfaction_window = 10;

// Population variance (divides by n); 0 for an empty span.
inline double population_variance(std::span<const double> xs) noexcept {
    if (xs.empty()) return 0;
    double mean = 0;
    for (double x : xs) mean += x;
    mean /= static_cast<double>(xs.size());
    double sum = 0;
    for (double x : xs) sum += (x - mean) * (x - mean);
    return sum / static_cast<double>(xs.size());
}

inline double satisfaction_score(double avg_duration_ms, std::span<const double> recent_durations_ms,
                                 std::size_t recent_errors) noexcept {
    double score = 50;
    if (avg_duration_ms < 2000) score += 20;
    else if (avg_duration_ms > 10000) score -= 20;
    if (population_variance(recent_durations_ms) < 1000) score += 15;
    score -= 10.0 * static_cast<double>(recent_errors);
    return std::clamp(score, 0.0, 100.0);
}

// Whether an interaction's metadata marks it as an error (see the top of this file).
inline bool is_error_flag(const nlohmann::json& metadata) {
    if (!metadata.is_object()) return false;
    auto it = metadata.find("error");
    if (it == metadata.end()) return false;
    const nlohmann::json& e = *it;
    if (e.is_boolean()) return e.get<bool>();
    if (e.is_number_float()) {
        const double d = e.get<double>();
        return d != 0 && !std::isnan(d);
    }
    if (e.is_number()) return e.get<std::int64_t>() != 0;
    if (e.is_string()) return !e.get_ref<const std::string&>().empty();
    return e.is_object() || e.is_array() || e.is_binary();
}

struct user_interaction {
    analytics_time timestamp;
    std::string action;
    double duration_ms = 0;
    bool error = false;
    double satisfaction = 0;  // metadata is read for the error flag, not stored
};

struct user_stats {
    std::uint64_t interactions = 0;  // all recorded for this user
    analytics_time session_start;    // first interaction
    analytics_time last_seen;
    double total_duration_ms = 0;
    double last_satisfaction = 0;
    double recent_satisfaction = 0;  // average score of the last 10 interactions
};

// Users with at least one interaction in a report window.
struct user_window_summary {
    std::size_t active_users = 0;
    std::uint64_t total_interactions = 0;
    double avg_interactions_per_user = 0;
    double avg_satisfaction_score = 0;  // mean over active users of their mean score in the window
};

class user_tracker {
public:
    explicit user_tracker(history_limits limits = {}, std::size_t max_users = 1000)
        : limits_(limits), users_(max_users) {
        limits_.validate();
    }

    // Records one interaction and returns its satisfaction score.
    double record(std::string_view user, std::string action, double duration_ms,
                  const nlohmann::json& metadata, analytics_time now) {
        if (std::isnan(duration_ms)) duration_ms = 0;
        std::shared_ptr<state> s;
        {
            std::lock_guard lock{mutex_};
            s = users_.touch(user, [&] { return std::make_shared<state>(limits_, now); });
        }
        total_interactions_.fetch_add(1, std::memory_order_relaxed);
        const bool error = is_error_flag(metadata);

        std::lock_guard lock{s->mutex};
        s->history.push_back(user_interaction{now, std::move(action), duration_ms, error, 0});
        ++s->count;
        s->total_duration_ms += duration_ms;
        s->last_seen = now;

        double recent[satisfaction_window];
        std::size_t n = 0, errors = 0;
        for (std::size_t i = s->history.tail_start(satisfaction_window); i < s->history.size(); ++i) {
            recent[n++] = s->history[i].duration_ms;
            errors += s->history[i].error ? 1 : 0;
        }
        const double score = satisfaction_score(s->total_duration_ms / static_cast<double>(s->count),
                                                std::span<const double>{recent, n}, errors);
        s->history.back().satisfaction = score;  // scored after the append, as the tutorial does
        return score;
    }

    user_window_summary summarize(analytics_time start, analytics_time end) const {
        user_window_summary out;
        double satisfaction_sum = 0;
        for (const auto& [id, s] : snapshot()) {
            std::uint64_t n = 0;
            double sum = 0;
            {
                std::lock_guard lock{s->mutex};
                for (const user_interaction& i : s->history) {
                    if (i.timestamp < start || i.timestamp > end) continue;
                    ++n;
                    sum += i.satisfaction;
                }
            }
            if (n == 0) continue;
            ++out.active_users;
            out.total_interactions += n;
            satisfaction_sum += sum / static_cast<double>(n);
        }
        if (out.active_users > 0) {
            const auto users = static_cast<double>(out.active_users);
            out.avg_interactions_per_user = static_cast<double>(out.total_interactions) / users;
            out.avg_satisfaction_score = satisfaction_sum / users;
        }
        return out;
    }

    // Mean over tracked users of each one's average score over its last 10
    // interactions (the report's summary.avgUserSatisfaction); 0 with no users.
    double average_recent_satisfaction() const {
        double sum = 0;
        std::size_t n = 0;
        for (const auto& [id, s] : snapshot()) {
            std::lock_guard lock{s->mutex};
            if (s->count == 0) continue;
            sum += recent_average(*s);
            ++n;
        }
        return n == 0 ? 0 : sum / static_cast<double>(n);
    }

    std::optional<user_stats> find(std::string_view user) const {
        std::shared_ptr<state> s;
        {
            std::lock_guard lock{mutex_};
            s = users_.find(user);
        }
        if (!s) return std::nullopt;
        std::lock_guard lock{s->mutex};
        return user_stats{s->count, s->session_start, s->last_seen, s->total_duration_ms,
                          s->history.empty() ? 0 : s->history.back().satisfaction, recent_average(*s)};
    }

    // The retained interactions of one user (a copy), oldest first.
    std::vector<user_interaction> interactions(std::string_view user) const {
        std::shared_ptr<state> s;
        {
            std::lock_guard lock{mutex_};
            s = users_.find(user);
        }
        if (!s) return {};
        std::lock_guard lock{s->mutex};
        return {s->history.begin(), s->history.end()};
    }

    std::size_t size() const {
        std::lock_guard lock{mutex_};
        return users_.size();
    }
    std::uint64_t evicted() const {
        std::lock_guard lock{mutex_};
        return users_.evicted();
    }
    // Interactions ever recorded, evicted users included.
    std::uint64_t total_interactions() const noexcept {
        return total_interactions_.load(std::memory_order_relaxed);
    }

private:
    struct state {
        state(history_limits l, analytics_time now) : history(l), session_start(now), last_seen(now) {}
        mutable std::mutex mutex;
        bounded_history<user_interaction> history;
        std::uint64_t count = 0;
        analytics_time session_start;
        analytics_time last_seen;
        double total_duration_ms = 0;
    };

    static double recent_average(const state& s) {
        if (s.history.empty()) return 0;
        double sum = 0;
        const std::size_t first = s.history.tail_start(satisfaction_window);
        for (std::size_t i = first; i < s.history.size(); ++i) sum += s.history[i].satisfaction;
        return sum / static_cast<double>(s.history.size() - first);
    }

    std::vector<std::pair<std::string, std::shared_ptr<state>>> snapshot() const {
        std::lock_guard lock{mutex_};
        return users_.entries();
    }

    history_limits limits_;
    mutable std::mutex mutex_;  // guards users_
    detail::lru_map<state> users_;
    std::atomic<std::uint64_t> total_interactions_{0};
};

}  // namespace llmetrics
// ---- end llmetrics/analytics/user_tracker.hpp ----

namespace llmetrics {

// As JavaScript's Date.prototype.toISOString: "YYYY-MM-DDTHH:MM:SS.mmmZ".
inline std::string to_iso8601(analytics_time t) {
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(t);
    const auto day = floor<days>(ms);
    const year_month_day ymd{day};
    const hh_mm_ss hms{ms - day};
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
    return buf;
}

inline std::int64_t to_unix_ms(analytics_time t) {
    return std::chrono::floor<std::chrono::milliseconds>(t).time_since_epoch().count();
}

// What a report is made of.
struct analytics_sources {
    const business_event_tracker& business;
    const user_tracker& users;
    const model_tracker& models;
    const system_metric_store& system;
};

inline nlohmann::json generate_report(const analytics_sources& src, analytics_time now,
                                      std::chrono::milliseconds range) {
    using nlohmann::json;
    const analytics_time start = now - range;

    json business = json::object();
    for (const auto& [type, s] : src.business.summarize(start, now))
        business[type] = {{"count", s.count}, {"totalValue", s.total_value}, {"avgValue", s.avg_value}};

    const user_window_summary u = src.users.summarize(start, now);
    json users = {{"activeUsers", u.active_users},
                  {"totalInteractions", u.total_interactions},
                  {"avgInteractionsPerUser", u.avg_interactions_per_user},
                  {"avgSatisfactionScore", u.avg_satisfaction_score}};

    json models = json::object();
    for (const auto& [id, m] : src.models.summarize(start, now))
        models[id] = {{"requests", m.requests},
                      {"avgLatency", m.avg_latency_ms},
                      {"avgAccuracy", m.avg_accuracy},
                      {"errorRate", m.error_rate}};

    json system = json::object();
    for (const auto& [name, m] : src.system.summarize(start, now)) {
        json latest = json::object();
        for (const auto& [field, value] : m.latest.fields) latest[field] = value;
        latest["timestamp"] = to_unix_ms(m.latest.timestamp);
        system[name] = {{"count", m.count}, {"latest", std::move(latest)}, {"trend", to_string(m.trend)}};
    }

    json summary = {{"totalUsers", src.users.size()},
                    {"totalModels", src.models.size()},
                    {"avgUserSatisfaction", src.users.average_recent_satisfaction()},
                    {"systemHealth", system_health_score(src.system)}};

    return {{"generatedAt", to_iso8601(now)},
            {"timeRange", {{"start", to_iso8601(start)}, {"end", to_iso8601(now)}, {"durationMs", range.count()}}},
            {"summary", std::move(summary)},
            {"business", std::move(business)},
            {"users", std::move(users)},
            {"models", std::move(models)},
            {"system", std::move(system)}};
}

}  // namespace llmetrics
// ---- end llmetrics/analytics/report.hpp ----

// ---- begin llmetrics/analytics/system_sampler.hpp ----
// The periodic system sampler (the tutorial's `collectPeriodicMetrics`). Every
// period (default 30 s) a background thread records into a system_metric_store:
//
//   memory_usage    rss (/proc/self/status VmRSS); heapUsed / heapTotal (glibc
//                   mallinfo2, when glibc's malloc serves the process);
//                   memoryLimit (physical RAM or the cgroup memory limit,
//                   whichever is lower); all in bytes; trend on rss
//   cpu_usage       user, system (getrusage, microseconds, cumulative) and percent
//                   (CPU time over wall time since the previous sample, 100 = one
//                   core; the first sample covers the whole process life);
//                   trend on percent
//   scheduling_lag  lag: how many milliseconds after its deadline the periodic
//                   timer fired (the C++ counterpart of Node's event-loop lag);
//                   trend on lag. Only the periodic thread records it.
//   uptime          uptime (ms since the sampler started, on the analytics clock)
//                   and processUptime (ms since the process started, from
//                   /proc/self/stat and /proc/uptime); trend on uptime
//
// A value that cannot be read is left out rather than made up. Timestamps come
// from the injectable analytics clock; the lag and CPU percentage are measured
// on the steady clock, since they are about real time.
//
// The thread sleeps on a condition_variable_any with a stop_token, so
// destruction (or stop()) wakes it at once and joins it; sample_now() takes a
// sample on the caller's thread, for tests and for programs that want one now.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define LLMETRICS_HAS_MALLINFO2 1
#else
#define LLMETRICS_HAS_MALLINFO2 0
#endif


namespace llmetrics {

namespace detail {

// VmRSS from /proc/self/status, in bytes.
inline std::optional<double> read_rss_bytes() {
    std::ifstream in{"/proc/self/status"};
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) != 0) continue;
        std::istringstream fields{line.substr(6)};
        double kb = 0;
        if (fields >> kb) return kb * 1024.0;
        return std::nullopt;
    }
    return std::nullopt;
}

// Milliseconds since this process started: system uptime minus the start time
// (field 22 of /proc/self/stat, in clock ticks since boot).
inline std::optional<double> read_process_uptime_ms() {
    std::ifstream stat{"/proc/self/stat"};
    std::string text{std::istreambuf_iterator<char>{stat}, std::istreambuf_iterator<char>{}};
    const auto paren = text.rfind(')');  // the command name may contain spaces and parentheses
    if (paren == std::string::npos) return std::nullopt;
    std::istringstream fields{text.substr(paren + 1)};
    std::string field;
    for (int i = 3; i <= 22; ++i)  // fields after ")" start at number 3 (state)
        if (!(fields >> field)) return std::nullopt;
    const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
    std::ifstream up{"/proc/uptime"};
    double uptime_s = 0;
    if (ticks_per_second <= 0 || !(up >> uptime_s)) return std::nullopt;
    const double start_s = std::strtod(field.c_str(), nullptr) / static_cast<double>(ticks_per_second);
    return std::max(0.0, uptime_s - start_s) * 1000.0;
}

// Physical memory, or the cgroup (v2, then v1) memory limit when it is lower.
inline std::optional<double> read_memory_limit_bytes() {
    std::optional<double> limit;
    const long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGESIZE);
    if (pages > 0 && page_size > 0) limit = static_cast<double>(pages) * static_cast<double>(page_size);
    const auto consider = [&](const std::string& path) {
        std::ifstream in{path};
        std::string value;
        if (!(in >> value) || value == "max") return;
        char* end = nullptr;
        const double v = std::strtod(value.c_str(), &end);
        if (end != value.c_str() && v > 0 && (!limit || v < *limit)) limit = v;
    };
    std::string cgroup_path;
    {
        std::ifstream in{"/proc/self/cgroup"};
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("0::", 0) == 0) cgroup_path = line.substr(3);
    }
    if (!cgroup_path.empty() && cgroup_path != "/")
        consider("/sys/fs/cgroup" + cgroup_path + "/memory.max");
    consider("/sys/fs/cgroup/memory.max");
    consider("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    return limit;
}

struct heap_usage {
    double used = 0;
    double total = 0;
};

inline std::optional<heap_usage> read_heap_usage() {
#if LLMETRICS_HAS_MALLINFO2
    const struct mallinfo2 mi = ::mallinfo2();
    // uordblks: in use in the arenas; hblkhd: mmapped chunks (all in use);
    // arena: held by the arenas. All zero when malloc is not glibc's (jemalloc,
    // tcmalloc, a sanitizer's): then there is nothing to report.
    if (mi.arena + mi.hblkhd == 0) return std::nullopt;
    return heap_usage{static_cast<double>(mi.uordblks + mi.hblkhd),
                      static_cast<double>(mi.arena + mi.hblkhd)};
#else
    return std::nullopt;
#endif
}

struct cpu_times {
    double user_us = 0;
    double system_us = 0;
};

inline std::optional<cpu_times> read_cpu_times() {
    rusage ru{};
    if (::getrusage(RUSAGE_SELF, &ru) != 0) return std::nullopt;
    const auto us = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) * 1e6 + static_cast<double>(tv.tv_usec);
    };
    return cpu_times{us(ru.ru_utime), us(ru.ru_stime)};
}

}  // namespace detail

class system_sampler {
public:
    static constexpr std::chrono::milliseconds default_period{30'000};

    // Starts the periodic thread when `start` is true.
    explicit system_sampler(system_metric_store& store, analytics_clock clock = system_now,
                            std::chrono::milliseconds period = default_period, bool start = true)
        : store_(store), clock_(std::move(clock)), period_(period), started_at_(clock_()) {
        if (period_ <= std::chrono::milliseconds::zero())
            throw std::invalid_argument("llmetrics: the sampler period must be positive");
        if (start) this->start();
    }
    system_sampler(const system_sampler&) = delete;
    system_sampler& operator=(const system_sampler&) = delete;
    ~system_sampler() { stop(); }

    // start() and stop() are for one controlling thread; sample_now() may be
    // called from any thread at any time.
    void start() {
        if (!thread_.joinable())
            thread_ = std::jthread{[this](std::stop_token stop) { run(std::move(stop)); }};
    }
    void stop() {
        if (!thread_.joinable()) return;
        thread_.request_stop();
        thread_.join();
    }
    bool running() const noexcept { return thread_.joinable(); }

    // memory_usage, cpu_usage and uptime, now, on the calling thread.
    void sample_now() { sample(std::nullopt); }

    std::chrono::milliseconds period() const noexcept { return period_; }
    // Periodic samples taken by the thread so far.
    std::uint64_t ticks() const noexcept { return ticks_.load(std::memory_order_relaxed); }

private:
    using steady = std::chrono::steady_clock;

    void run(std::stop_token stop) {
        sample(std::nullopt);
        auto deadline = steady::now() + period_;
        std::unique_lock lock{wait_mutex_};
        while (!stop.stop_requested()) {
            wake_.wait_until(lock, stop, deadline, [] { return false; });
            if (stop.stop_requested()) break;
            const auto now = steady::now();
            if (now < deadline) continue;  // woken early; wait for the deadline
            const double lag_ms = std::chrono::duration<double, std::milli>(now - deadline).count();
            lock.unlock();
            sample(lag_ms);
            ticks_.fetch_add(1, std::memory_order_relaxed);
            lock.lock();
            // Fixed rate; after a stall longer than a period, restart from now
            // rather than firing a burst of catch-up samples.
            deadline += period_;
            if (deadline <= now) deadline = now + period_;
        }
    }

    void sample(std::optional<double> lag_ms) {
        namespace f = system_field;
        const analytics_time now = clock_();

        system_fields memory;
        if (auto rss = detail::read_rss_bytes()) memory.emplace_back(f::rss, *rss);
        if (auto heap = detail::read_heap_usage()) {
            memory.emplace_back(f::heap_used, heap->used);
            memory.emplace_back(f::heap_total, heap->total);
        }
        if (auto limit = detail::read_memory_limit_bytes()) memory.emplace_back(f::memory_limit, *limit);
        if (!memory.empty()) store_.record(system_metric::memory_usage, std::move(memory), now, f::rss);

        const auto process_uptime = detail::read_process_uptime_ms();
        if (auto cpu = detail::read_cpu_times()) {
            system_fields fields{{std::string{f::user}, cpu->user_us}, {std::string{f::system}, cpu->system_us}};
            if (auto percent = cpu_percent(*cpu, process_uptime)) fields.emplace_back(f::percent, *percent);
            store_.record(system_metric::cpu_usage, std::move(fields), now, f::percent);
        }

        if (lag_ms) store_.record(system_metric::scheduling_lag, {{std::string{f::lag}, *lag_ms}}, now, f::lag);

        system_fields up{
            {std::string{f::uptime}, std::chrono::duration<double, std::milli>(now - started_at_).count()}};
        if (process_uptime) up.emplace_back(f::process_uptime, *process_uptime);
        store_.record(system_metric::uptime, std::move(up), now, f::uptime);
    }

    // CPU time over wall time since the previous sample (percent of one core).
    std::optional<double> cpu_percent(const detail::cpu_times& cpu, std::optional<double> process_uptime_ms) {
        std::lock_guard lock{cpu_mutex_};
        const auto now = steady::now();
        const double total_us = cpu.user_us + cpu.system_us;
        std::optional<double> out;
        if (previous_) {
            const double wall_us = std::chrono::duration<double, std::micro>(now - previous_->first).count();
            if (wall_us > 0) out = (total_us - previous_->second) / wall_us * 100.0;
        } else if (process_uptime_ms && *process_uptime_ms > 0) {
            out = total_us / (*process_uptime_ms * 1000.0) * 100.0;
        }
        previous_ = std::pair{now, total_us};
        return out;
    }

    system_metric_store& store_;
    analytics_clock clock_;
    std::chrono::milliseconds period_;
    analytics_time started_at_;
    std::atomic<std::uint64_t> ticks_{0};
    std::mutex cpu_mutex_;  // guards previous_
    std::optional<std::pair<steady::time_point, double>> previous_;
    std::mutex wait_mutex_;
    std::condition_variable_any wake_;
    std::jthread thread_;  // last: stopped and joined before the members it uses go away
};

}  // namespace llmetrics
// ---- end llmetrics/analytics/system_sampler.hpp ----

namespace llmetrics {

struct analytics_options {
    analytics_clock clock = system_now;  // every timestamp and report window
    history_limits history{};            // per event type, model and system metric: 1000 -> 500
    history_limits user_history{};       // per user: 1000 -> 500
    std::size_t max_event_types = 100;
    std::size_t max_users = 1000;
    std::size_t max_models = 100;
    std::size_t max_system_metrics = 32;
    std::size_t max_system_fields = 16;
    std::size_t model_rolling_window = 100;
    std::chrono::milliseconds sampler_period = system_sampler::default_period;
    bool start_sampler = true;  // false: no thread; call sampler().sample_now() yourself
    std::string metric_prefix = "llmetrics_analytics_";
};

class analytics_collector : public collector {
public:
    explicit analytics_collector(analytics_options options = {})
        : options_(check(std::move(options))),
          business_(options_.history, options_.max_event_types),
          users_(options_.user_history, options_.max_users),
          models_(options_.history, options_.max_models, options_.model_rolling_window),
          system_(options_.history, options_.max_system_metrics, options_.max_system_fields),
          sampler_(system_, options_.clock, options_.sampler_period, options_.start_sampler) {}

    analytics_collector(const analytics_collector&) = delete;
    analytics_collector& operator=(const analytics_collector&) = delete;

    void record_business_event(std::string_view type, double value,
                               nlohmann::json metadata = nlohmann::json::object()) {
        business_.record(type, value, std::move(metadata), now());
    }

    // Returns the interaction's satisfaction score. The interaction is an error
    // when metadata["error"] is truthy (true, non-zero, non-empty; see user_tracker.hpp).
    double record_user_interaction(std::string_view user, std::string action, double duration_ms,
                                   const nlohmann::json& metadata = nlohmann::json::object()) {
        return users_.record(user, std::move(action), duration_ms, metadata, now());
    }

    void record_model_performance(std::string_view model, model_performance performance) {
        models_.record(model, performance, now());
    }

    // A system metric of your own, next to the sampler's (the tutorial's recordSystemMetric).
    void record_system_metric(std::string_view metric, system_fields fields,
                              std::string_view trend_field = "value") {
        system_.record(metric, std::move(fields), now(), trend_field);
    }

    nlohmann::json generate_report(std::chrono::milliseconds range = std::chrono::hours{1}) const {
        return llmetrics::generate_report({business_, users_, models_, system_}, now(), range);
    }

    int system_health() const { return system_health_score(system_); }

    analytics_time now() const { return options_.clock(); }

    const business_event_tracker& business() const noexcept { return business_; }
    const user_tracker& users() const noexcept { return users_; }
    const model_tracker& models() const noexcept { return models_; }
    const system_metric_store& system() const noexcept { return system_; }
    system_sampler& sampler() noexcept { return sampler_; }
    const analytics_options& options() const noexcept { return options_; }

    void collect(std::vector<family_snapshot>& out) override {
        const std::string& p = options_.metric_prefix;
        const auto family = [&](std::string_view name, std::string help, metric_type type,
                                std::string unit = {}) -> family_snapshot& {
            out.push_back(family_snapshot{p + std::string{name}, std::move(help), std::move(unit), type, {}});
            return out.back();
        };
        const auto add_gauge = [](family_snapshot& f, std::vector<std::pair<std::string, std::string>> labels,
                                  double value) { f.series.push_back({std::move(labels), value, nan()}); };
        const auto add_counter = [](family_snapshot& f, std::vector<std::pair<std::string, std::string>> labels,
                                    std::uint64_t value) {
            f.series.push_back({std::move(labels), counter_value{value, 0.0}, nan()});
        };

        {
            const auto totals = business_.totals();
            auto& count = family("business_events_total", "Business events recorded, by type", metric_type::counter);
            for (const auto& t : totals) add_counter(count, {{"type", t.type}}, t.count);
            auto& value = family("business_event_value", "Sum of the values of the business events recorded, by type",
                                 metric_type::gauge);
            for (const auto& t : totals) add_gauge(value, {{"type", t.type}}, t.value_sum);
        }
        {
            add_counter(family("user_interactions_total", "User interactions recorded", metric_type::counter), {},
                        users_.total_interactions());
            const std::size_t tracked = users_.size();
            add_gauge(family("users_tracked", "Users currently tracked", metric_type::gauge), {},
                      static_cast<double>(tracked));
            auto& satisfaction = family(
                "user_satisfaction", "Mean over tracked users of their average satisfaction score (0-100) "
                                     "over their last 10 interactions",
                metric_type::gauge);
            if (tracked > 0) add_gauge(satisfaction, {}, users_.average_recent_satisfaction());
        }
        {
            const auto stats = models_.all_stats();
            auto& requests = family("model_requests_total", "Model requests recorded, by model", metric_type::counter);
            for (const auto& [id, s] : stats) add_counter(requests, {{"model", id}}, s.total_requests);
            auto& latency = family("model_latency_seconds", "Mean model latency over the last requests (rolling)",
                                   metric_type::gauge, "seconds");
            for (const auto& [id, s] : stats) add_gauge(latency, {{"model", id}}, s.avg_latency_ms / 1000.0);
            auto& accuracy =
                family("model_accuracy", "Mean model accuracy over the last requests (rolling)", metric_type::gauge);
            for (const auto& [id, s] : stats) add_gauge(accuracy, {{"model", id}}, s.avg_accuracy);
            auto& errors = family("model_error_ratio", "Share of the last requests that failed (rolling), 0-1",
                                  metric_type::gauge);
            for (const auto& [id, s] : stats) add_gauge(errors, {{"model", id}}, s.error_rate);
        }
        {
            auto& samples = family("system_sample", "Latest value of each field of each system metric sample",
                                   metric_type::gauge);
            for (const auto& t : system_.all_totals())
                for (const auto& [field, value] : t.latest.fields)
                    add_gauge(samples, {{"metric", t.metric}, {"field", field}}, value);
            add_gauge(family("system_health", "System health score (0-100)", metric_type::gauge), {},
                      static_cast<double>(system_health_score(system_)));
        }
        {
            auto& evicted = family("evicted_total", "Least recently seen users and models evicted from tracking",
                                   metric_type::counter);
            add_counter(evicted, {{"kind", "model"}}, models_.evicted());
            add_counter(evicted, {{"kind", "user"}}, users_.evicted());
            auto& overflow = family("overflow_total",
                                    "Events and samples recorded under __overflow__ and fields dropped because a "
                                    "cardinality limit was reached",
                                    metric_type::counter);
            add_counter(overflow, {{"kind", "event_type"}}, business_.overflowed());
            add_counter(overflow, {{"kind", "system_field"}}, system_.dropped_fields());
            add_counter(overflow, {{"kind", "system_metric"}}, system_.overflowed());
        }
    }

private:
    static double nan() noexcept { return std::numeric_limits<double>::quiet_NaN(); }

    static analytics_options check(analytics_options o) {
        if (!o.clock) throw std::invalid_argument("llmetrics: analytics_options::clock must be set");
        const std::string& p = o.metric_prefix;
        for (std::size_t i = 0; i < p.size(); ++i) {
            const char c = p[i];
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                            (i > 0 && c >= '0' && c <= '9');
            if (!ok)
                throw std::invalid_argument(
                    "llmetrics: analytics_options::metric_prefix must match [a-zA-Z_:][a-zA-Z0-9_:]*");
        }
        return o;
    }

    analytics_options options_;
    business_event_tracker business_;
    user_tracker users_;
    model_tracker models_;
    system_metric_store system_;
    system_sampler sampler_;  // last: its thread stops before the store goes away
};

}  // namespace llmetrics
// ---- end llmetrics/analytics/analytics_collector.hpp ----

// ---- begin llmetrics/operate/slo.hpp ----
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

    static_assert(detail::is_bucket_bound<Histogram>(Threshold.value()),
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
// ---- end llmetrics/operate/slo.hpp ----

// ---- begin llmetrics/operate/promql.hpp ----
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
// ---- end llmetrics/operate/promql.hpp ----

// ---- begin llmetrics/operate/rules.hpp ----
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
//                          model, p95 inference latency, queue depth, target down.
//                          An alert over a catalog family is written only when the
//                          registry holds that family.
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
    for (auto* d : {&o.rate_window, &o.model_error_for, &o.latency_for, &o.queue_depth_for, &o.target_down_for})
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

template <class R>
std::vector<prometheus_rule> plain_alerts(const rules_options& o) {
    namespace cat = catalog;
    std::vector<prometheus_rule> out;
    const std::string w = std::string("[") + prometheus_duration(o.rate_window) + "]";
    if constexpr (registry_holds_v<R, cat::model_inference_total>) {
        const std::string m(R::template name_of<cat::model_inference_total>());
        const std::string all = sum_by({"model_id"}, std::string("rate(") + m + w + ")");
        const std::string bad =
            sum_by({"model_id"}, std::string("rate(") + selector(m, {matcher("status", "!=", "success")}) + w + ")");
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
        add_common(r, "page", o, {"model_id"});
        out.push_back(std::move(r));
    }
    if constexpr (registry_holds_v<R, cat::model_inference_duration_seconds>) {
        const std::string m(R::template name_of<cat::model_inference_duration_seconds>());
        prometheus_rule r;
        r.alert = "InferenceLatencyP95High";
        r.expr = std::string("histogram_quantile(0.95, ") +
                 sum_by({"model_id", "le"}, std::string("rate(") + m + "_bucket" + w + ")") + std::string(")\n> ") +
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
        add_common(r, "ticket", o, {"model_id"});
        out.push_back(std::move(r));
    }
    if constexpr (registry_holds_v<R, cat::queue_depth>) {
        const std::string m(R::template name_of<cat::queue_depth>());
        prometheus_rule r;
        r.alert = "QueueDepthHigh";
        r.expr = sum_by({"queue_type"}, m) + " > " + short_number(o.queue_depth);
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
// ---- end llmetrics/operate/rules.hpp ----

// ---- begin llmetrics/operate/dashboard.hpp ----
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

    template <class F>
    static std::string name() {
        return std::string(R::template name_of<F>());
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

    template <class H>
    static void quantiles(dashboard_panel& p, const std::vector<std::string>& by, std::string_view legend_suffix) {
        for (const char* q : {"0.5", "0.95", "0.99"}) {
            std::vector<std::string> labels = by;
            labels.push_back("le");
            const std::string pq = q == std::string_view("0.5") ? "p50" : q == std::string_view("0.95") ? "p95" : "p99";
            query(p,
                  std::string("histogram_quantile(") + std::string(q) + ", " + sum_by(labels, rate<H>("_bucket")) + ")",
                  pq + std::string(legend_suffix), {name<H>()});
        }
    }

    void build(const slo_set<R>& slos, const dashboard_options& o) {
        namespace cat = catalog;
        const std::string http = name<cat::http_requests_total>();
        const std::string inference = name<cat::model_inference_total>();
        const std::string bad_inference = rate<cat::model_inference_total>("", {matcher("status", "!=", "success")});
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
            query(p, sum_by({"route", "status_code"}, rate<cat::http_requests_total>()), "{{route}} {{status_code}}",
                  {http});
        }
        {
            auto& p = panel("Inferences by model and status", "timeseries", "reqps", "Model inferences per second.");
            query(p, sum_by({"model_id", "status"}, rate<cat::model_inference_total>()), "{{model_id}} {{status}}",
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
            quantiles<cat::model_inference_duration_seconds>(p, {"model_id"}, " {{model_id}}");
        }
        {
            auto& p = panel("Model load time", "timeseries", "s",
                            "p50, p95 and p99 of the time taken to load each model.", 8);
            quantiles<cat::model_load_time_seconds>(p, {"model_id"}, " {{model_id}}");
        }

        row("Errors");
        {
            auto& p = panel("Errors by type and model", "timeseries", "short", "Errors per second.");
            query(p, sum_by({"error_type", "model_id"}, rate<cat::errors_total>()), "{{error_type}} {{model_id}}",
                  {name<cat::errors_total>()});
        }
        {
            auto& p = panel("Inference error ratio by model", "timeseries", "percentunit",
                            "Share of each model's inferences whose status is not \"success\".");
            const std::string all = sum_by({"model_id"}, rate<cat::model_inference_total>());
            query(
                p,
                std::string("(\n  ") + sum_by({"model_id"}, bad_inference) + "\n  or\n  0 * " + all + "\n)\n/\n" + all,
                "{{model_id}}", {inference});
            p.thresholds = {0.05};
        }

        row("Tokens and cost");
        {
            auto& p = panel("Tokens per second by model", "timeseries", "short",
                            "Tokens generated per second (sum of model_inference_tokens).", 8);
            query(p, sum_by({"model_id"}, rate<cat::model_inference_tokens>("_sum")), "{{model_id}}",
                  {name<cat::model_inference_tokens>()});
        }
        {
            auto& p = panel("Cost per tenant", "timeseries", "short", "Request cost in cents per hour.", 8);
            query(p, sum_by({"tenant_id"}, rate<cat::request_cost_cents>("_sum")) + " * 3600", "{{tenant_id}}",
                  {name<cat::request_cost_cents>()});
        }
        {
            auto& p =
                panel("Cache hit ratio by cache", "timeseries", "percentunit", "Hits / (hits + misses) per cache.", 8);
            const std::string h = sum_by({"cache_type"}, rate<cat::cache_hits_total>());
            query(p,
                  h + "\n/\n(\n  " + h + "\n  +\n  (" + sum_by({"cache_type"}, rate<cat::cache_misses_total>()) +
                      std::string(" or 0 * ") + h + ")\n)",
                  "{{cache_type}}", {hits});
        }

        row("Capacity");
        {
            auto& p = panel("Active connections by tenant", "timeseries", "short", "Connections open now.");
            query(p, sum_by({"tenant_id"}, sel<cat::active_connections>()), "{{tenant_id}}",
                  {name<cat::active_connections>()});
        }
        {
            auto& p = panel("Queue depth", "timeseries", "short", "Requests waiting, per queue type.");
            query(p, sum_by({"queue_type"}, sel<cat::queue_depth>()), "{{queue_type}}", {name<cat::queue_depth>()});
        }

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
    static_assert(
        registry_holds_v<R, cat::http_requests_total> && registry_holds_v<R, cat::http_request_duration_seconds> &&
            registry_holds_v<R, cat::model_inference_total> &&
            registry_holds_v<R, cat::model_inference_duration_seconds> &&
            registry_holds_v<R, cat::model_inference_tokens> && registry_holds_v<R, cat::active_connections> &&
            registry_holds_v<R, cat::queue_depth> && registry_holds_v<R, cat::cache_hits_total> &&
            registry_holds_v<R, cat::cache_misses_total> && registry_holds_v<R, cat::request_cost_cents> &&
            registry_holds_v<R, cat::model_load_time_seconds> && registry_holds_v<R, cat::errors_total>,
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
// ---- end llmetrics/operate/dashboard.hpp ----

// ---- begin llmetrics/operate/request_log.hpp ----
// A JSON-lines request log: one line per request, written by a background
// thread so the request path never waits for a disk.
//
//     lm::request_log log("requests.jsonl");             // or lm::request_log log(stdout);
//     metrics.add_collector(log.make_collector("llm_router_"));
//     log.log({.tenant = "tenant-a", .model = "gpt-4", .strategy = "balanced",
//              .status = "success", .duration_seconds = 1.7, .tokens = 420,
//              .cost_cents = 0.8});     // trace_id: the current trace context's, if any
//
//     {"time":"2024-05-01T12:00:00.123Z","tenant":"tenant-a","model":"gpt-4","strategy":"balanced",
//      "status":"success","duration_seconds":1.7,"tokens":420,"cost_cents":0.8,"trace_id":"4bf9..."}
//
// log() formats the line on the calling thread into a thread-local buffer and
// hands it to a bounded multi-producer queue (D. Vyukov's array queue: one CAS
// to claim a cell, one release store to publish it). A full queue drops the
// line and counts it; log() never blocks and never throws. Buffers are swapped,
// not copied, between the caller and the cell, so once they have grown to the
// size of a line nothing allocates. A std::jthread drains the queue every
// flush_interval (or as soon as it is stopped) into one write per batch, and
// the destructor writes whatever is still queued before it returns.
//
// make_collector() exports <prefix>request_log_lines_total (written) and
// <prefix>request_log_dropped_total (queue full, or the write failed); it
// shares the counters, so it may outlive the log.

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>


namespace llmetrics {

// One request. The strings are read during log() only.
struct request_record {
    std::chrono::system_clock::time_point time = std::chrono::system_clock::now();
    std::string_view tenant{};
    std::string_view model{};
    std::string_view strategy{};
    std::string_view status{};
    double duration_seconds = 0;
    std::uint64_t tokens = 0;
    double cost_cents = 0;
    std::string_view trace_id{};  // empty: the thread's current trace context, or null without one
};

struct request_log_options {
    std::size_t capacity = 8192;  // lines queued at most (rounded up to a power of two)
    std::chrono::milliseconds flush_interval{50};
};

namespace detail {

struct request_log_stats {
    std::atomic<std::uint64_t> written{0};
    std::atomic<std::uint64_t> dropped{0};
};

// A JSON string (quotes included); invalid UTF-8 becomes U+FFFD.
inline void append_json_string(std::string& out, std::string_view s) {
    if (is_valid_utf8(s))
        write_json_string(out, s);
    else
        write_json_string(out, sanitize_utf8(s));
}

// Shortest round-trip spelling; JSON has no NaN or infinity, so those are null.
inline void append_json_number(std::string& out, double v) {
    if (!(v == v) || v > 1.7976931348623157e308 || v < -1.7976931348623157e308) {
        out += "null";
        return;
    }
    char buf[32];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

inline void append_digits(std::string& out, long long v, int width) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    for (int n = static_cast<int>(r.ptr - buf); n < width; ++n) out += '0';
    out.append(buf, r.ptr);
}

// RFC 3339, UTC, milliseconds: 2024-05-01T12:00:00.123Z
inline void append_time(std::string& out, std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    const auto ms = time_point_cast<milliseconds>(t);
    const auto day = floor<days>(ms);
    const year_month_day ymd{day};
    const hh_mm_ss hms{ms - day};
    out += '"';
    append_digits(out, static_cast<int>(ymd.year()), 4);
    out += '-';
    append_digits(out, static_cast<unsigned>(ymd.month()), 2);
    out += '-';
    append_digits(out, static_cast<unsigned>(ymd.day()), 2);
    out += 'T';
    append_digits(out, hms.hours().count(), 2);
    out += ':';
    append_digits(out, hms.minutes().count(), 2);
    out += ':';
    append_digits(out, hms.seconds().count(), 2);
    out += '.';
    append_digits(out, hms.subseconds().count(), 3);
    out += "Z\"";
}

inline void format_request_line(std::string& out, const request_record& r) {
    out += "{\"time\":";
    append_time(out, r.time);
    out += ",\"tenant\":";
    append_json_string(out, r.tenant);
    out += ",\"model\":";
    append_json_string(out, r.model);
    out += ",\"strategy\":";
    append_json_string(out, r.strategy);
    out += ",\"status\":";
    append_json_string(out, r.status);
    out += ",\"duration_seconds\":";
    append_json_number(out, r.duration_seconds);
    out += ",\"tokens\":";
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, r.tokens).ptr);
    out += ",\"cost_cents\":";
    append_json_number(out, r.cost_cents);
    out += ",\"trace_id\":";
    if (!r.trace_id.empty()) {
        append_json_string(out, r.trace_id);
    } else if (const auto& current = current_trace_context()) {
        static constexpr char hex[] = "0123456789abcdef";
        out += '"';
        for (std::uint8_t b : current->trace_id) {
            out += hex[b >> 4];
            out += hex[b & 15];
        }
        out += '"';
    } else {
        out += "null";
    }
    out += "}\n";
}

// Bounded multi-producer, single-consumer queue of lines (Vyukov). A cell's
// sequence number says whose turn it is: == pos for the producer claiming
// position pos, == pos + 1 once the line is published, == pos + size when the
// consumer has emptied it for the next round.
class line_queue {
public:
    explicit line_queue(std::size_t capacity) {
        std::size_t n = 2;
        while (n < capacity) n *= 2;
        mask_ = n - 1;
        cells_ = std::make_unique<cell[]>(n);
        for (std::size_t i = 0; i < n; ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
    }

    // Swaps `line` into a free cell (so `line` receives that cell's old buffer).
    // False when the queue is full.
    bool try_push(std::string& line) noexcept {
        std::size_t pos = enqueue_.load(std::memory_order_relaxed);
        for (;;) {
            cell& c = cells_[pos & mask_];
            // acquire: the consumer's release after emptying the cell.
            const std::size_t seq = c.sequence.load(std::memory_order_acquire);
            const auto diff = static_cast<std::ptrdiff_t>(seq - pos);
            if (diff == 0) {
                // relaxed: the cell itself is handed over by its sequence number.
                if (enqueue_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
                    c.line.swap(line);
                    c.sequence.store(pos + 1, std::memory_order_release);
                    return true;
                }
            } else if (diff < 0) {
                return false;  // the cell of the previous round is not consumed yet: full
            } else {
                pos = enqueue_.load(std::memory_order_relaxed);
            }
        }
    }

    // Appends every published line to `out`; returns how many. Consumer only.
    std::size_t drain(std::string& out) {
        std::size_t n = 0;
        for (;;) {
            cell& c = cells_[dequeue_ & mask_];
            if (c.sequence.load(std::memory_order_acquire) != dequeue_ + 1) return n;
            out += c.line;
            c.line.clear();  // keeps its capacity for the producer that swaps it out
            c.sequence.store(dequeue_ + mask_ + 1, std::memory_order_release);
            ++dequeue_;
            ++n;
        }
    }

private:
    struct cell {
        std::atomic<std::size_t> sequence{0};
        std::string line;
    };
    std::unique_ptr<cell[]> cells_;
    std::size_t mask_ = 0;
    alignas(64) std::atomic<std::size_t> enqueue_{0};
    alignas(64) std::size_t dequeue_ = 0;
};

class request_log_collector final : public collector {
public:
    request_log_collector(std::shared_ptr<const request_log_stats> stats, std::string prefix)
        : stats_(std::move(stats)), prefix_(std::move(prefix)) {}

    void collect(std::vector<family_snapshot>& out) override {
        out.push_back({prefix_ + "request_log_lines_total",
                       "Request log lines written",
                       "",
                       metric_type::counter,
                       {{{}, counter_value{stats_->written.load(std::memory_order_relaxed), 0.0}}}});
        out.push_back({prefix_ + "request_log_dropped_total",
                       "Request log lines dropped (queue full or write failed)",
                       "",
                       metric_type::counter,
                       {{{}, counter_value{stats_->dropped.load(std::memory_order_relaxed), 0.0}}}});
    }

private:
    std::shared_ptr<const request_log_stats> stats_;
    std::string prefix_;
};

}  // namespace detail

class request_log {
public:
    // Appends to `file` (created if missing); throws std::system_error when it
    // cannot be opened.
    explicit request_log(const std::filesystem::path& file, request_log_options o = {})
        : request_log(open(file), true, o) {}
    // Writes to `stream` (stdout, say), which must outlive the log; not closed.
    explicit request_log(std::FILE* stream, request_log_options o = {}) : request_log(stream, false, o) {}

    request_log(const request_log&) = delete;
    request_log& operator=(const request_log&) = delete;

    // Writes every queued line, then closes the file it opened.
    ~request_log() {
        writer_.request_stop();
        writer_.join();
        if (owned_) std::fclose(stream_);
    }

    // Queues one line; false when it was dropped (queue full). Never blocks.
    bool log(const request_record& r) noexcept {
        thread_local std::string line;
        try {
            line.clear();
            detail::format_request_line(line, r);
        } catch (...) {  // out of memory: drop, like a full queue
            stats_->dropped.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        if (queue_.try_push(line)) return true;
        stats_->dropped.fetch_add(1, std::memory_order_relaxed);
        return false;
    }

    std::uint64_t written() const noexcept { return stats_->written.load(std::memory_order_relaxed); }
    std::uint64_t dropped() const noexcept { return stats_->dropped.load(std::memory_order_relaxed); }

    // A collector exporting the counters, for registry::add_collector().
    std::shared_ptr<collector> make_collector(std::string prefix = {}) const {
        return std::make_shared<detail::request_log_collector>(stats_, std::move(prefix));
    }

private:
    static std::FILE* open(const std::filesystem::path& file) {
        std::FILE* f = std::fopen(file.c_str(), "ab");
        if (!f)
            throw std::system_error(errno, std::generic_category(),
                                    std::string("llmetrics: cannot open request log ") + file.string());
        return f;
    }

    request_log(std::FILE* stream, bool owned, request_log_options o)
        : stream_(stream), owned_(owned), interval_(o.flush_interval), queue_(o.capacity ? o.capacity : 1) {
        writer_ = std::jthread([this](std::stop_token stop) { run(stop); });
    }

    void run(std::stop_token stop) {
        std::string batch;
        for (;;) {
            const bool stopping = stop.stop_requested();
            batch.clear();
            const std::size_t lines = queue_.drain(batch);
            if (lines) write(batch, lines);
            if (stopping) {
                // Producers are gone once the destructor runs; this drain was the last.
                std::fflush(stream_);
                return;
            }
            if (!lines) {
                std::unique_lock lock(mutex_);
                wake_.wait_for(lock, stop, interval_, [] { return false; });
            }
        }
    }

    void write(const std::string& batch, std::size_t lines) {
        const bool ok =
            std::fwrite(batch.data(), 1, batch.size(), stream_) == batch.size() && std::fflush(stream_) == 0;
        (ok ? stats_->written : stats_->dropped).fetch_add(lines, std::memory_order_relaxed);
    }

    std::FILE* stream_;
    bool owned_;
    std::chrono::milliseconds interval_;
    std::shared_ptr<detail::request_log_stats> stats_ = std::make_shared<detail::request_log_stats>();
    detail::line_queue queue_;
    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::jthread writer_;  // last: started after everything it uses exists, joined first
};

}  // namespace llmetrics
// ---- end llmetrics/operate/request_log.hpp ----
// ---- end llmetrics/llmetrics.hpp ----

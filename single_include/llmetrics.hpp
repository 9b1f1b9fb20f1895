// llmetrics 0.1.0: compile-time typed Prometheus metrics for C++20.
//
// GENERATED FILE, DO NOT EDIT. This is include/llmetrics/llmetrics.hpp with every
// llmetrics header inlined; regenerate it with `python3 scripts/amalgamate.py`
// after changing anything under include/ (a test fails while it is out of date).
// The core target (llmetrics::core): core, storage, registry, exposition and
// collectors. Needs C++20, Boost.Hana's headers and Threads (-pthread), nothing
// else. instrument, analytics, operate and serve are not included; use the
// installed headers and their CMake targets for those.
#pragma once

// ---- begin llmetrics/llmetrics.hpp ----
// llmetrics: compile-time typed Prometheus metrics for C++20.
// Umbrella header of the llmetrics::core target: families, storage, the
// registry, the exposition formats and the process/GPU collectors. Needs only
// Boost.Hana and threads. The other targets have their own umbrella headers:
// instrument.hpp (monitored_router, HTTP timing), analytics.hpp, operate.hpp
// (rules, dashboards), serve.hpp (HTTP exposer, Pushgateway), all.hpp.


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
    // Their order is checked by the histogram (core/family.hpp), one note from the user.
    static constexpr std::array<double, sizeof...(Bounds)> bounds{Bounds.value()...};
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

// ---- begin llmetrics/core/encoder.hpp ----
// The encoder protocol: the calls every exposition format receives, from
// compile-time families streamed out of storage and from collector snapshots
// alike. An encoder sees families in their final order and each family's series
// in a stable order.
//
//   e.begin_family(const family_header&);
//   e.counter(labels_view, counter_value, double created,           // created: NaN if unknown
//             const exemplar_view* exemplar);                       // null when none
//   e.gauge(labels_view, double value);                             // gauge, info, unknown
//   e.histogram(labels_view, std::span<const double> bounds,        // finite, increasing
//               std::span<const std::uint64_t> counts,              // per bucket, bounds.size()+1, not cumulative
//               double sum, double created,
//               std::span<const exemplar_view> exemplars);          // one per bucket (+Inf last), or empty
//   e.native_histogram(labels_view, const native_histogram_view&,   // core/sample.hpp
//               std::span<const double> bounds,                     // the classic part of a family that
//               std::span<const std::uint64_t> counts,              //   has both (as for histogram());
//                                                                   //   both empty for a native-only one
//               double created,                                     // the start timestamp: moves on reset
//               std::span<const exemplar_view> exemplars);          // classic part: one per bucket, or empty;
//                                                                   //   native-only: any number, timestamped
//   e.end_family();
//   e.finish();                                                     // once, after the last family
//
// Every encoder takes the exemplar arguments; a format without exemplars ignores
// them, and an exemplar_view that is not present() stands for "none in this
// bucket". Label values given to an encoder are valid UTF-8; escaping is the
// encoder's job. The strings a family_header and a labels_view point to stay valid
// until the matching end_family(); those of an exemplar_view for the call only.

#include <concepts>
#include <cstdint>
#include <span>


// ---- begin llmetrics/core/sample.hpp ----
// What an encoder is handed for one family and one sample (see core/encoder.hpp):
// views that stay valid for the duration of the call, so storage can stream
// straight out of its cells and a collector snapshot can lend its strings.

#include <cstdint>
#include <limits>
#include <span>
#include <string_view>


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

// Integer increments are kept apart from fractional ones so a counter stays exact
// past 2^53. The exposed value is integral + fractional.
struct counter_value {
    std::uint64_t integral = 0;
    double fractional = 0.0;
};

// An exemplar as handed to an encoder (OpenMetrics renders it after its sample);
// absent when it has no labels.
struct exemplar_view {
    std::span<const std::string_view> names;
    std::span<const std::string_view> values;
    double value = 0.0;
    double timestamp = std::numeric_limits<double>::quiet_NaN();  // unix seconds; NaN = none
    bool present() const noexcept { return !names.empty(); }
};

// A run of consecutive native buckets, as the protobuf format has it: the first
// span's offset is the index of its first bucket, every later one's the gap after
// the previous span (so it is >= 0).
struct native_bucket_span {
    std::int32_t offset = 0;
    std::uint32_t length = 0;
};

// A native (sparse exponential) histogram as handed to an encoder; the
// Prometheus native histograms specification defines every field. Bucket i of
// schema s holds (b^(i-1), b^i] with b = 2^(2^-s); negative buckets mirror the
// positive ones; |v| <= zero_threshold goes to the zero bucket.
struct native_histogram_view {
    std::int32_t schema = 3;  // -4 ... 8
    double zero_threshold = 0.0;
    std::uint64_t zero_count = 0;
    std::uint64_t count = 0;  // zero_count + every bucket + NaN observations
    double sum = 0.0;
    std::span<const native_bucket_span> positive_spans;
    std::span<const std::uint64_t> positive_counts;  // absolute, one per bucket the spans cover
    std::span<const native_bucket_span> negative_spans;
    std::span<const std::uint64_t> negative_counts;
};

}  // namespace llmetrics
// ---- end llmetrics/core/sample.hpp ----

namespace llmetrics {

template <class E>
concept encoder = requires(E& e, const family_header& h, labels_view l, counter_value c,
                           std::span<const double> b, std::span<const std::uint64_t> n, double d,
                           const exemplar_view* x, std::span<const exemplar_view> xs,
                           const native_histogram_view& nh) {
    e.begin_family(h);
    e.counter(l, c, d, x);
    e.gauge(l, d);
    e.histogram(l, b, n, d, d, xs);
    e.native_histogram(l, nh, b, n, d, xs);
    e.end_family();
    e.finish();
};

}  // namespace llmetrics
// ---- end llmetrics/core/encoder.hpp ----

// ---- begin llmetrics/core/family.hpp ----
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


// ---- begin llmetrics/core/detail/name_rules.hpp ----
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
// ---- end llmetrics/core/detail/name_rules.hpp ----

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

    // Name rules are checked by the family that declares these labels (core/family.hpp).
    static constexpr bool unique = [] {
        for (std::size_t i = 0; i < size; ++i)
            for (std::size_t j = i + 1; j < size; ++j)
                if (names[i] == names[j]) return false;
        return true;
    }();
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

// ---- begin llmetrics/core/native_options.hpp ----
// Options of native (sparse exponential) histograms, accepted by
// native_histogram<...> and, after the buckets, by histogram<...> (a family with
// both parts). core/family.hpp checks them in the family (one short error naming
// it) and rejects them on counters and gauges.
//
//   native_schema<S>                 resolution, -4 ... 8 (default 3: 8 buckets per
//                                    octave, relative error at most 4.4%)
//   native_max_buckets<N>            bucket limit (default 160): the span from the
//                                    lowest to the highest index, per sign, summed
//   native_zero_threshold<bound>     width of the zero bucket (default 2^-128);
//   native_zero_threshold_exp2<E>    the same as the power of two 2^E
//   native_max_zero_threshold<bound> how far the limit strategy may widen the zero
//   native_max_zero_threshold_exp2<E>   bucket (default: the zero threshold, i.e. it
//                                    never widens)
//   native_min_reset<Seconds>        the limit strategy resets a series when this long
//                                    has passed since its last reset (0 = never)
//
// When an observation would take a series past its bucket limit, the strategy (as
// the specification and client_golang have it), repeated until it fits: reset if
// the minimum reset duration has passed (the start timestamp moves); else widen
// the zero bucket to the upper bound of the bucket nearest zero, if that is within
// the maximum zero threshold; else halve the resolution (schema - 1).

#include <cstddef>
#include <cstdint>
#include <type_traits>


// ---- begin llmetrics/core/detail/native_buckets.hpp ----
// The bucket index of the Prometheus native histograms specification. For schema
// s, bucket i holds (b^(i-1), b^i] with b = 2^(2^-s); bucket 0 ends at 1. With
// v = frac * 2^exp (frexp: frac in [0.5, 1)), the index is exact with no log():
//   s > 0:  within each octave, the first of the 2^s bounds 2^(j/2^s)/2 that is
//           >= frac, plus (exp-1) * 2^s;
//   s <= 0: exp (minus one at an exact power of two), then a ceiling division by
//           2^-s.
// So powers of two and subnormals land exactly. +Inf goes to the
// bucket of DBL_MAX, the one with the largest index (upper bound 2^1024); callers
// handle the sign, zero bucket and NaN.

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace llmetrics::detail {

inline constexpr int native_min_schema = -4;
inline constexpr int native_max_schema = 8;

// 2^(j/256)/2, j = 0..255, each the correctly rounded double (generated by
// scripts/gen_native_bounds.py; the test proves each entry with exact integers).
// Schema s uses every 2^(8-s)-th entry.
inline constexpr std::array<double, 256> native_octave_bounds{
    0.5, 0.5013556375251013, 0.5027149505564014, 0.5040779490592088,
    0.5054446430258502, 0.5068150424757447, 0.5081891574554765, 0.509566998038869,
    0.5109485743270583, 0.5123338964485679, 0.5137229745593819, 0.5151158188430205,
    0.5165124395106142, 0.5179128468009786, 0.5193170509806894, 0.520725062344158,
    0.5221368912137069, 0.5235525479396449, 0.5249720429003436, 0.5263953865023132,
    0.5278225891802786, 0.5292536613972564, 0.530688613644631, 0.5321274564422322,
    0.5335702003384118, 0.5350168559101209, 0.5364674337629878, 0.5379219445313955,
    0.5393803988785599, 0.5408428074966076, 0.5423091811066546, 0.5437795304588848,
    0.5452538663326288, 0.5467321995364429, 0.5482145409081884, 0.549700901315111,
    0.5511912916539204, 0.5526857228508706, 0.5541842058618394, 0.5556867516724088,
    0.5571933712979462, 0.5587040757836846, 0.5602188762048034, 0.56173778366651,
    0.5632608093041209, 0.564787964283144, 0.5663192597993596, 0.5678547070789027,
    0.5693943173783458, 0.5709381019847808, 0.5724860722159021, 0.5740382394200895,
    0.5755946149764913, 0.577155210295108, 0.5787200368168756, 0.5802891060137494,
    0.5818624293887887, 0.5834400184762408, 0.5850218848416251, 0.5866080400818187,
    0.5881984958251406, 0.5897932637314379, 0.5913923554921705, 0.5929957828304969,
    0.5946035575013605, 0.5962156912915756, 0.5978321960199137, 0.5994530835371903,
    0.6010783657263515, 0.6027080545025619, 0.6043421618132908, 0.6059806996384006,
    0.6076236799902345, 0.6092711149137042, 0.6109230164863788, 0.6125793968185728,
    0.614240268053435, 0.6159056423670379, 0.6175755319684667, 0.6192499490999083,
    0.620928906036742, 0.622612415087629, 0.6243004885946024, 0.6259931389331581,
    0.6276903785123455, 0.6293922197748583, 0.6310986751971254, 0.6328097572894031,
    0.6345254785958666, 0.6362458516947014, 0.637970889198196, 0.6397006037528347,
    0.6414350080393891, 0.6431741147730128, 0.6449179367033329, 0.6466664866145447,
    0.6484197773255048, 0.6501778216898253, 0.6519406325959679, 0.6537082229673387,
    0.6554806057623822, 0.6572577939746773, 0.659039800633032, 0.6608266388015788,
    0.6626183215798707, 0.6644148621029772, 0.6662162735415808, 0.6680225691020729,
    0.6698337620266515, 0.6716498655934177, 0.6734708931164729, 0.6752968579460172,
    0.6771277734684463, 0.6789636531064506, 0.6808045103191124, 0.682650358602006,
    0.6845012114872953, 0.6863570825438342, 0.6882179853772651, 0.690083933630119,
    0.691954940981916, 0.6938310211492645, 0.6957121878859631, 0.6975984549831001,
    0.6994898362691556, 0.7013863456101024, 0.7032879969095077, 0.7051948041086353,
    0.7071067811865476, 0.7090239421602076, 0.7109463010845828, 0.7128738720527471,
    0.714806669195985, 0.7167447066838945, 0.7186879987244912, 0.7206365595643128,
    0.7225904034885233, 0.7245495448210175, 0.7265139979245263, 0.7284837772007219,
    0.7304588970903235, 0.7324393720732029, 0.7344252166684909, 0.7364164454346838,
    0.7384130729697497, 0.7404151139112359, 0.7424225829363762, 0.7444354947621985,
    0.7464538641456324, 0.7484777058836177, 0.7505070348132128, 0.7525418658117032,
    0.7545822137967114, 0.7566280937263049, 0.7586795205991074, 0.7607365094544073,
    0.7627990753722692, 0.7648672334736435, 0.766940998920478, 0.7690203869158284,
    0.7711054127039704, 0.7731960915705107, 0.7752924388425, 0.7773944698885443,
    0.7795022001189185, 0.7816156449856788, 0.7837348199827765, 0.7858597406461707,
    0.7879904225539432, 0.7901268813264123, 0.7922691326262469, 0.794417192158582,
    0.7965710756711335, 0.7987307989543135, 0.8008963778413467, 0.8030678282083855,
    0.8052451659746271, 0.8074284071024304, 0.8096175675974319, 0.8118126635086644,
    0.8140137109286739, 0.8162207259936375, 0.8184337248834822, 0.8206527238220032,
    0.8228777390769825, 0.8251087869603089, 0.8273458838280972, 0.8295890460808081,
    0.8318382901633682, 0.8340936325652912, 0.8363550898207983, 0.8386226785089392,
    0.8408964152537145, 0.8431763167241967, 0.8454623996346526, 0.8477546807446663,
    0.8500531768592617, 0.8523579048290256, 0.8546688815502315, 0.856986123964963,
    0.859309649061239, 0.861639473873137, 0.8639756154809188, 0.8663180910111555,
    0.8686669176368531, 0.8710221125775782, 0.8733836930995845, 0.8757516765159391,
    0.8781260801866497, 0.880506921518792, 0.8828942179666364, 0.8852879870317774,
    0.8876882462632606, 0.8900950132577122, 0.8925083056594675, 0.8949281411607005,
    0.8973545375015536, 0.8997875124702676, 0.902227083903312, 0.904673269685516,
    0.9071260877501994, 0.9095855560793042, 0.9120516927035267, 0.9145245157024486,
    0.9170040432046712, 0.9194902933879469, 0.921983284479313, 0.9244830347552254,
    0.9269895625416927, 0.9295028862144102, 0.9320230241988945, 0.9345499949706193,
    0.93708381705515, 0.9396245090282801, 0.9421720895161673, 0.9447265771954696,
    0.9472879907934828, 0.9498563490882777, 0.9524316709088371, 0.9550139751351949,
    0.9576032806985737, 0.9601996065815237, 0.9628029718180625, 0.9654133954938136,
    0.9680308967461472, 0.9706554947643202, 0.9732872087896166, 0.9759260581154892,
    0.9785720620877001, 0.9812252401044637, 0.9838856116165879, 0.9865531961276172,
    0.9892280131939755, 0.9919100824251097, 0.9945994234836332, 0.9972960560854701,
};

// Bound j (of 2^s) of an octave at schema s > 0.
constexpr double native_octave_bound(int schema, int j) noexcept {
    return native_octave_bounds[static_cast<std::size_t>(j) << (native_max_schema - schema)];
}

// Bit j is set where the double above is above the exact 2^(j/256)/2 (rounded up;
// the unit test proves each bit with exact integers). A value equal to such a
// double lies above the exact bound, in the next bucket, so the index compares
// against the double just below it: frac <= floor bound iff frac <= exact bound.
inline constexpr std::array<std::uint64_t, 4> native_bounds_rounded_up{
    0x8ec00e453f68265aULL, 0x3d6aadd8aa765fe8ULL, 0x499adfcc1d631775ULL, 0x2ca5afa45ea2ef76ULL};

inline constexpr std::array<double, 256> native_octave_floor_bounds = [] {
    std::array<double, 256> out{};
    for (std::size_t j = 0; j < 256; ++j) {
        const bool up = (native_bounds_rounded_up[j / 64] >> (j % 64)) & 1;
        out[j] = up ? std::bit_cast<double>(std::bit_cast<std::uint64_t>(native_octave_bounds[j]) - 1)
                    : native_octave_bounds[j];
    }
    return out;
}();

// For schema s > 0 and each of 512 slices of the octave (frac in [0.5 + t/1024,
// 0.5 + (t+1)/1024), the top 9 mantissa bits): how many of the schema's 2^s floor
// bounds lie below the slice. Bounds are at least 0.00135 apart (schema 8) and a
// slice is 0.00098 wide, so at most one more lies below any frac of the slice.
inline constexpr int native_slice_bits = 9;
inline constexpr std::array<std::array<std::uint16_t, 1 << native_slice_bits>, native_max_schema>
    native_bounds_below_slice = [] {
        std::array<std::array<std::uint16_t, 1 << native_slice_bits>, native_max_schema> out{};
        for (int schema = 1; schema <= native_max_schema; ++schema) {
            int k = 0;
            for (int t = 0; t < (1 << native_slice_bits); ++t) {
                const double lower = 0.5 + t / double(2 << native_slice_bits);
                while (k < (1 << schema) && native_octave_floor_bounds[static_cast<std::size_t>(k) << (native_max_schema - schema)] < lower) ++k;
                out[static_cast<std::size_t>(schema - 1)][static_cast<std::size_t>(t)] = static_cast<std::uint16_t>(k);
            }
        }
        return out;
    }();

// Index of the bucket holding a > 0 (finite or +Inf) at `schema`. frexp is read
// off the bits (the library call costs more than the rest of an observe; a
// subnormal is first scaled by 2^64, exactly). Within an octave, the slice table
// and one comparison count the schema's bounds below frac (no search: its chain
// of dependent loads was the slowest part of an observe).
inline std::int32_t native_bucket_index(double a, int schema) noexcept {
    a = std::min(a, std::numeric_limits<double>::max());
    int scaled = 0;
    if (a < std::numeric_limits<double>::min()) [[unlikely]] {
        a *= 0x1p64;
        scaled = 64;
    }
    const auto bits = std::bit_cast<std::uint64_t>(a);
    const int exp = static_cast<int>(bits >> 52) - 1022 - scaled;  // a = frac * 2^exp, frac in [0.5, 1)
    const std::uint64_t mantissa = bits & 0x000F'FFFF'FFFF'FFFFULL;
    if (schema > 0) {
        const double frac = std::bit_cast<double>(mantissa | (std::uint64_t{1022} << 52));
        const std::uint32_t first = native_bounds_below_slice[static_cast<std::size_t>(schema - 1)]
                                                             [static_cast<std::size_t>(mantissa >> (52 - native_slice_bits))];
        // Bound `first` of the schema, or 1.0 (above every frac) past the last one.
        const std::size_t at = std::size_t{first} << (native_max_schema - schema);
        const double next = at < native_octave_floor_bounds.size() ? native_octave_floor_bounds[at] : 1.0;
        const int below = static_cast<int>(first) + (next < frac);
        return static_cast<std::int32_t>(below + (exp - 1) * (1 << schema));
    }
    const int key = mantissa == 0 ? exp - 1 : exp;  // an exact power of two ends its bucket
    const int shift = -schema;
    return static_cast<std::int32_t>((key + (1 << shift) - 1) >> shift);  // ceiling; >> floors negatives
}

// Upper bound of bucket i at `schema` (+Inf past DBL_MAX, 0 below the subnormals).
inline double native_bucket_upper(std::int32_t i, int schema) noexcept {
    if (schema > 0) {
        const int per = 1 << schema;
        const int e = i >= 0 ? i / per : -((-i + per - 1) / per);  // floor division
        const int j = i - e * per;
        return std::ldexp(native_octave_bound(schema, j), e + 1);
    }
    const long long e = static_cast<long long>(i) << -schema;
    if (e > 1100) return std::numeric_limits<double>::infinity();
    if (e < -1100) return 0.0;
    return std::ldexp(1.0, static_cast<int>(e));
}

// The index at schema s - 1 of bucket i at schema s: two buckets merge into one.
constexpr std::int32_t native_halve_index(std::int32_t i) noexcept { return (i + 1) >> 1; }

}  // namespace llmetrics::detail
// ---- end llmetrics/core/detail/native_buckets.hpp ----

namespace llmetrics {

namespace detail {
// 2^e as a constant expression (exact for the normal and subnormal range).
constexpr double exp2_exact(int e) noexcept {
    double r = 1.0;
    for (; e > 0; --e) r *= 2.0;
    for (; e < 0; ++e) r /= 2.0;
    return r;
}
}  // namespace detail

inline constexpr int default_native_schema = 3;
inline constexpr std::size_t default_native_max_buckets = 160;
inline constexpr double default_native_zero_threshold = detail::exp2_exact(-128);

template <int S>
struct native_schema {
    static constexpr int value = S;
};

template <std::size_t N>
struct native_max_buckets {
    static constexpr std::size_t value = N;
};

template <bound B>
struct native_zero_threshold {
    static constexpr double value = B.value();
};
template <int E>
struct native_zero_threshold_exp2 {
    static_assert(E >= -1074 && E <= 1023, "llmetrics: native_zero_threshold_exp2<E> needs E in -1074 ... 1023");
    static constexpr double value = detail::exp2_exact(E);
};

template <bound B>
struct native_max_zero_threshold {
    static constexpr double value = B.value();
};
template <int E>
struct native_max_zero_threshold_exp2 {
    static_assert(E >= -1074 && E <= 1023,
                  "llmetrics: native_max_zero_threshold_exp2<E> needs E in -1074 ... 1023");
    static constexpr double value = detail::exp2_exact(E);
};

template <std::uint32_t Seconds>
struct native_min_reset {
    static constexpr std::uint32_t value = Seconds;
};

namespace detail {

template <class T> struct is_native_schema : std::false_type {};
template <int S> struct is_native_schema<native_schema<S>> : std::true_type {};
template <class T> struct is_native_max_buckets : std::false_type {};
template <std::size_t N> struct is_native_max_buckets<native_max_buckets<N>> : std::true_type {};
template <class T> struct is_native_zero_threshold : std::false_type {};
template <bound B> struct is_native_zero_threshold<native_zero_threshold<B>> : std::true_type {};
template <int E> struct is_native_zero_threshold<native_zero_threshold_exp2<E>> : std::true_type {};
template <class T> struct is_native_max_zero_threshold : std::false_type {};
template <bound B> struct is_native_max_zero_threshold<native_max_zero_threshold<B>> : std::true_type {};
template <int E> struct is_native_max_zero_threshold<native_max_zero_threshold_exp2<E>> : std::true_type {};
template <class T> struct is_native_min_reset : std::false_type {};
template <std::uint32_t S> struct is_native_min_reset<native_min_reset<S>> : std::true_type {};

template <class T>
inline constexpr bool is_native_option_v = is_native_schema<T>::value || is_native_max_buckets<T>::value ||
                                           is_native_zero_threshold<T>::value ||
                                           is_native_max_zero_threshold<T>::value || is_native_min_reset<T>::value;

// The last option of a kind wins, as for max_series<N>.
template <template <class> class Is, class T, class O>
constexpr T native_pick(T fallback) {
    if constexpr (Is<O>::value) return static_cast<T>(O::value);
    else return fallback;
}

// What storage needs of a family's native options.
template <class... Options>
struct native_config {
    static constexpr bool any = (is_native_option_v<Options> || ...);
    static constexpr int schema = [] {
        int v = default_native_schema;
        ((v = native_pick<is_native_schema, int, Options>(v)), ...);
        return v;
    }();
    static constexpr std::size_t max_buckets = [] {
        std::size_t v = default_native_max_buckets;
        ((v = native_pick<is_native_max_buckets, std::size_t, Options>(v)), ...);
        return v;
    }();
    static constexpr double zero_threshold = [] {
        double v = default_native_zero_threshold;
        ((v = native_pick<is_native_zero_threshold, double, Options>(v)), ...);
        return v;
    }();
    static constexpr double max_zero_threshold = [] {
        double v = zero_threshold;
        ((v = native_pick<is_native_max_zero_threshold, double, Options>(v)), ...);
        return v;
    }();
    static constexpr std::uint32_t min_reset_seconds = [] {
        std::uint32_t v = 0;
        ((v = native_pick<is_native_min_reset, std::uint32_t, Options>(v)), ...);
        return v;
    }();
};

}  // namespace detail
}  // namespace llmetrics
// ---- end llmetrics/core/native_options.hpp ----

// ---- begin llmetrics/core/options.hpp ----
// Per-family options given after the labels (and buckets): a cardinality bound,
// a time-to-live for series, a unit, and closed value sets for labels
// (core/labels.hpp).

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>


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
// ---- end llmetrics/core/options.hpp ----

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
// ---- end llmetrics/core/family.hpp ----

// ---- begin llmetrics/core/snapshot.hpp ----
// A materialised copy of families, produced by runtime collectors (process, GPU,
// analytics) at scrape time. Compile-time families are streamed straight from
// storage instead; both reach an encoder through the same calls (core/encoder.hpp).

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <variant>
#include <vector>


namespace llmetrics {

struct histogram_value {
    std::vector<double> bounds;         // finite upper bounds, strictly increasing; +Inf implied
    std::vector<std::uint64_t> counts;  // per bucket, NOT cumulative; size() == bounds.size() + 1
    double sum = 0.0;
};

// A native histogram owned by a snapshot (fields as native_histogram_view), with
// the classic part of a family that has both in `classic` (left empty otherwise).
struct native_histogram_value {
    std::int32_t schema = 3;
    double zero_threshold = 0.0;
    std::uint64_t zero_count = 0;
    std::uint64_t count = 0;
    double sum = 0.0;
    std::vector<native_bucket_span> positive_spans;
    std::vector<std::uint64_t> positive_counts;
    std::vector<native_bucket_span> negative_spans;
    std::vector<std::uint64_t> negative_counts;
    histogram_value classic{{}, {}, 0.0};

    native_histogram_view view() const noexcept {
        return {schema, zero_threshold, zero_count, count, sum,
                positive_spans, positive_counts, negative_spans, negative_counts};
    }
};

// An exemplar owned by a snapshot; one without labels is absent.
struct exemplar_snapshot {
    std::vector<std::pair<std::string, std::string>> labels;  // name, value
    double value = 0.0;
    double timestamp = std::numeric_limits<double>::quiet_NaN();  // unix seconds; NaN = none
};

struct series_snapshot {
    std::vector<std::pair<std::string, std::string>> labels;  // name, value; in declared order
    // counter | gauge/info/unknown | classic histogram | native (or native + classic) histogram
    std::variant<counter_value, double, histogram_value, native_histogram_value> value;
    double created = std::numeric_limits<double>::quiet_NaN();  // unix seconds; NaN = unknown
    // A counter: at most one. A histogram: one per bucket (bounds.size() + 1,
    // +Inf last; absent ones without labels), or none; a native-only one: any
    // number, each with a timestamp. Other types: none.
    std::vector<exemplar_snapshot> exemplars = {};
};

struct family_snapshot {
    std::string name;  // counters include the `_total` suffix
    std::string help;
    std::string unit;  // empty when none is declared
    metric_type type = metric_type::gauge;
    std::vector<series_snapshot> series;
};

}  // namespace llmetrics
// ---- end llmetrics/core/snapshot.hpp ----

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

#include <cstddef>
#include <initializer_list>
#include <limits>
#include <string_view>

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

}  // namespace llmetrics
// ---- end llmetrics/storage/exemplar.hpp ----

// ---- begin llmetrics/storage/family_store.hpp ----
// `family<F>`: the storage of one family descriptor F (core/family.hpp): its
// series by label set, the handles `labels(...)` returns, and how it streams
// itself to an encoder. With series_ttl<S>, labels(...) returns a held_series
// (storage/held_series.hpp) and unwritten series expire (detail/series_map.hpp).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>


// ---- begin llmetrics/core/clock.hpp ----
// Where llmetrics reads the time: one time_source for the instrumentation's
// durations and the analytics' timestamps. By default durations come from
// std::chrono::steady_clock and instants from std::chrono::system_clock; tests
// and simulations (the demo) hand in a clock of their own so that recorded
// durations and report windows are exact and runs are reproducible:
//
//     struct fake_clock { std::chrono::nanoseconds t{}; auto now() const { return t; } };
//     fake_clock clock;
//     router.set_time_source(llmetrics::time_source::of(clock));   // clock must outlive router
//     clock.t += 1500ms;                                           // "the call took 1.5 s"
//
//     llmetrics::manual_clock wall{start};                         // both kinds of reading
//     options.clock = llmetrics::time_source::of(wall);
//
// A time_source is two words (a function pointer and its context): the default
// path is a predictable branch to an inlined steady_clock::now(), so the hot
// path pays nothing for the option.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <type_traits>


// ---- begin llmetrics/core/detail/tsc_read.hpp ----
// Reading the time stamp counter as nanoseconds, given a calibration (made once,
// by core/tsc_clock.hpp). Kept apart from the calibration so that time_source
// (core/clock.hpp) can recognise a TSC source without pulling in the
// calibration's includes.

#include <cstdint>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <x86intrin.h>
#define LLMETRICS_HAS_TSC 1
#else
#define LLMETRICS_HAS_TSC 0
#endif

namespace llmetrics::detail {

// steady_clock nanoseconds = ns0 + (ticks - tick0) * ns_per_tick.
struct tsc_scale {
    std::uint64_t tick0 = 0;
    std::int64_t ns0 = 0;
    double ns_per_tick = 0.0;
};

inline std::uint64_t read_tsc() noexcept {
#if LLMETRICS_HAS_TSC
    return __rdtsc();
#else
    return 0;
#endif
}

// A time_source::now_fn: the context is the tsc_scale. The difference is taken
// signed, so a reading a few ticks behind tick0 (another CPU's counter) stays near
// ns0 instead of wrapping.
inline std::int64_t tsc_now_ns(const void* context) noexcept {
    const auto& s = *static_cast<const tsc_scale*>(context);
    const auto ticks = static_cast<std::int64_t>(read_tsc() - s.tick0);
    return s.ns0 + static_cast<std::int64_t>(static_cast<double>(ticks) * s.ns_per_tick);
}

}  // namespace llmetrics::detail
// ---- end llmetrics/core/detail/tsc_read.hpp ----

namespace llmetrics {

// An instant as people read it (reports print it as an RFC 3339 time).
using wall_time = std::chrono::system_clock::time_point;

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

    // Never negative: two TSC readings on different CPUs may be a few ticks apart.
    double seconds_since(std::int64_t start_ns) const noexcept {
        const std::int64_t elapsed = now_ns() - start_ns;
        return static_cast<double>(elapsed > 0 ? elapsed : 0) * 1e-9;  // not / 1e9: a division costs nanoseconds
    }

    // The current instant: system_clock::now() by default and for the TSC source
    // (it counts durations only); a clock handed in with of() serves both
    // readings, its value taken as time since the Unix epoch.
    wall_time wall_now() const noexcept {
        if (fn_ && !reads_tsc())
            return wall_time{std::chrono::duration_cast<wall_time::duration>(std::chrono::nanoseconds{fn_(context_)})};
        return std::chrono::system_clock::now();
    }

    bool is_steady_clock() const noexcept { return fn_ == nullptr; }
    // Durations come from the time stamp counter (core/tsc_clock.hpp).
    bool reads_tsc() const noexcept { return fn_ == &detail::tsc_now_ns; }

private:
    now_fn fn_ = nullptr;
    const void* context_ = nullptr;
};

// A clock that only moves when told to; safe to read from many threads while one
// thread advances it. Hand it out as `time_source::of(c)`, which refers to `c`,
// so `c` must outlive its users.
class manual_clock {
public:
    explicit manual_clock(wall_time start = wall_time{}) noexcept : ns_(to_ns(start)) {}

    wall_time now() const noexcept {
        return wall_time{std::chrono::duration_cast<wall_time::duration>(
            std::chrono::nanoseconds{ns_.load(std::memory_order_acquire)})};
    }
    wall_time operator()() const noexcept { return now(); }

    template <class Rep, class Period>
    void advance(std::chrono::duration<Rep, Period> d) noexcept {
        ns_.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(),
                      std::memory_order_acq_rel);
    }
    void set(wall_time t) noexcept { ns_.store(to_ns(t), std::memory_order_release); }

private:
    static std::int64_t to_ns(wall_time t) noexcept {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    }
    std::atomic<std::int64_t> ns_;
};

}  // namespace llmetrics
// ---- end llmetrics/core/clock.hpp ----

// ---- begin llmetrics/storage/detail/cells.hpp ----
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
// ---- end llmetrics/storage/detail/cells.hpp ----

// ---- begin llmetrics/storage/detail/exemplar_cell.hpp ----
// Where a series keeps its exemplars (storage/exemplar.hpp says what they are):
// a seqlock cell per exemplar, allocated on first use, and the reading that
// decodes one for an encoder.

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <new>
#include <span>
#include <string_view>


// ---- begin llmetrics/core/detail/unix_time.hpp ----
// Seconds since the Unix epoch from the system clock, as Prometheus timestamps are written.

#include <chrono>

namespace llmetrics::detail {

// Whole microseconds (the double nearest to micros / 10^6): enough for any
// timestamp a scrape shows, and the exposition then spells it without a
// shortest-digits search (exposition/detail/number_format.hpp, write_timestamp).
inline double unix_time_seconds() noexcept {
    using namespace std::chrono;
    return static_cast<double>(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()) / 1e6;
}

}  // namespace llmetrics::detail
// ---- end llmetrics/core/detail/unix_time.hpp ----

// ---- begin llmetrics/core/detail/utf8.hpp ----
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
// ---- end llmetrics/core/detail/utf8.hpp ----

namespace llmetrics::detail {


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
        if (ts != ts) ts = unix_time_seconds();
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

// A decoded exemplar, owning its bytes; view() is valid while it lives.
class exemplar_reading {
public:
    bool load(const exemplar_cell& cell) noexcept {
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
    std::array<char, exemplar_words * 8> bytes_{};
    std::array<std::string_view, max_exemplar_labels> names_{};
    std::array<std::string_view, max_exemplar_labels> values_{};
    std::size_t count_ = 0;
    double value_ = 0.0;
    double timestamp_ = 0.0;
};

}  // namespace llmetrics::detail
// ---- end llmetrics/storage/detail/exemplar_cell.hpp ----

// ---- begin llmetrics/storage/detail/series_map.hpp ----
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
//
// Expiry (families with series_ttl<S>; `Expiring`)
// ------------------------------------------------
// Nothing changes on the write path: a sweep (at every scrape, from
// expire_series(), and from an insert that finds the family full) reads each
// series' change mark (the summed stripes of a counter, a gauge's value, a
// histogram's count, hashed over the node's slots) and stamps the sweep's time
// when the mark moved. A live node whose mark stayed for the TTL is hidden: left
// out of the exposition and
//   - retired when nobody holds it: zeroed, taken out of the table and put on a
//     free list, from which a new label set takes it (the slot is reused);
//   - emptied when a held_series holds it: each slot's take_out() empties its
//     cells by atomic exchanges (a counter's stripes, a histogram's buckets and
//     sums; a gauge goes to 0; a native histogram swaps in empty blocks of the
//     same layout and keeps the old ones, storage/detail/native_cell.hpp), and
//     the mark of what it took is compared with the one the sweep saw. Equal: the
//     node is hidden, its created time renewed, so the handle's next write brings
//     it back from zero as a new series (Prometheus sees a reset). Different (a
//     write came in between): all of it is put back (added again; a gauge only
//     if nothing was written since) and the node stays shown, as written.
// A hidden node is shown again when a later sweep sees its mark move from the
// empty node's (a kept handle wrote) or when labels(...) asks for it; a hidden
// node nobody holds any more is retired by the next sweep. remove() and reset()
// hide the same way, taking out whatever is there.
// Who holds a node: every held_series (storage/held_series.hpp) that labels(...)
// returned, temporaries included, counts itself in `holders`. Retiring is one CAS
// of holders from 0 to `retired`, so no handle can exist on a retired node, and a
// lookup (which counts itself in with a CAS that fails on `retired`, then checks
// the key) can never take one; the key bytes are rewritten only while `retired`
// is set, and published by the release store that clears it.
//
// Why no live series disappears and no write is lost: a series written at time w
// has a mark different from the one the sweep before w saw, so the first sweep
// after w stamps a time >= w and the node is not hidden before w + TTL (values
// that change nothing, inc(0) or a gauge set to the value it has, are not writes
// here: a gauge expires when its value stays the same for the TTL). Emptying a
// held node loses nothing: an exchange is one read-modify-write, so a racing
// increment lands either before it (in what was taken) or after it (left in the
// cell); relaxed order suffices because each cell is an independent tally and
// the sweep only needs atomicity per cell (a native histogram's blocks are
// quiescent when counted, and its classic half pairs acquire with the writer's
// release: native_series.hpp), and the comparison with the sweep's
// mark makes what was taken exactly what the sweep saw (else it goes back),
// added up in taken_out(); what a racing write leaves behind moves the mark, so
// the next sweep shows the node with it. Zeroing happens only on retirement, after the
// CAS saw no holder; each holder's writes happen before its release decrement, so
// no write can land after the zeroing. What a race can cost: one scrape in which
// a series written during that scrape's sweep is absent; a histogram observation
// racing the emptying may leave its bucket and have its sum taken (or the
// reverse), so the sum is off by that value while counts stay exact; a gauge
// written while its put-back runs keeps the written value.
//
// Why memory is bounded: the table holds at most max_series nodes (hidden held
// ones count), and a new node is built only when no free node has room for the
// key. Free nodes are kept per key capacity (powers of two from 16 bytes), so the
// nodes ever built are at most max_series per capacity class, and in the usual
// case (keys of similar length) at most max_series plus the hidden nodes held by
// kept handles. A family without scrapes does not grow either: inserts of new
// label sets sweep every quarter TTL, and an insert that finds the family full
// sweeps first (at most once a second of the family's clock).
//
// When a series goes: the sweep time at which its mark last moved is the earliest
// time its last write can be known to have happened by, so a series is hidden
// between TTL and TTL plus the sweep interval after its last write (sweeps come at
// every scrape, every quarter TTL of inserts, and on expire_series()).

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


// ---- begin llmetrics/core/detail/bytes.hpp ----
// Word-at-a-time loads and byte equality for short strings (label values). A
// libc call per value would be most of a series lookup's cost; these inline to a
// few overlapping loads.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace llmetrics::detail {

inline std::uint64_t load_word(const char* p) noexcept {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
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

// a[0, n) == b[0, n). Below 4 bytes the three probes cover every byte.
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
    return load_word(a + n - 8) == load_word(b + n - 8);  // the last 8 bytes, overlapping what was compared
}

inline bool same_bytes(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && same_bytes(a.data(), b.data(), a.size());
}

}  // namespace llmetrics::detail
// ---- end llmetrics/core/detail/bytes.hpp ----

namespace llmetrics::detail {

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

struct no_expiry_state {};

// A node's state for expiry (see "Expiry" above); all but `holders` under the map lock.
struct expiry_state {
    static constexpr std::uint32_t retired = std::uint32_t{1} << 31;
    std::atomic<std::uint32_t> holders{0};  // held_series on the node, or `retired`
    std::uint32_t key_capacity = 0;
    std::uint64_t mark = 0;       // change mark the last sweep saw
    std::int64_t changed_ns = 0;  // sweep time at which the mark last moved
    bool free = false;            // retired and on the free list
};

// One label set of free-form values, and the fixed table of `Slots` series for
// the family's closed-value combinations.
// Laid out in one arena allocation as [node][Slots slots][key bytes].
template <class Slot, std::size_t Values, std::size_t Slots, bool Expiring = false>
struct series_node {
    // Offsets fit in 16 bits while every value is clamped to max_label_value_bytes.
    using offset = std::conditional_t<Values * max_label_value_bytes < 65536, std::uint16_t, std::uint32_t>;
    static constexpr std::size_t slots_offset() noexcept {
        return (sizeof(series_node) + alignof(Slot) - 1) / alignof(Slot) * alignof(Slot);
    }
    static constexpr std::size_t key_offset() noexcept { return slots_offset() + Slots * sizeof(Slot); }

    std::atomic<std::uint64_t> hash{0};  // atomic: a node reused for another label set gets a new one
    std::atomic<series_node*> next{nullptr};  // creation order, for exposition
    std::atomic<double> created{0.0};
    std::array<offset, Values> ends{};  // end offset of each value in the key bytes
    std::atomic<bool> live{true};
    bool overflow = false;
    [[no_unique_address]] std::conditional_t<Expiring, expiry_state, no_expiry_state> expiry;

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
        if (h != hash.load(std::memory_order_relaxed)) return false;
        for (std::size_t i = 0; i < Values; ++i) {
            const std::string_view mine = value(i);
            if (mine.size() != values[i].size() || !same_bytes(mine.data(), values[i].data(), mine.size()))
                return false;
        }
        return true;
    }
};

// SlotFactory::construct(Slot* first, std::size_t n) placement-constructs the n
// slots of a new node (called under the map's lock); SlotFactory::change_mark(slot)
// is what an expiring map compares between sweeps.
template <class Slot, std::size_t Values, std::size_t Slots, class SlotFactory, bool Expiring = false>
class series_map {
public:
    using node = series_node<Slot, Values, Slots, Expiring>;

    explicit series_map(std::size_t max_series, SlotFactory factory = {}, std::int64_t ttl_seconds = 0)
        : max_series_(max_series), ttl_ns_(ttl_seconds * 1'000'000'000), factory_(std::move(factory)) {
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
    // is the overflow node, and `dropped` grows by one. An expiring map returns
    // the node with one holder counted for the caller (held_series takes it over).
    node* find_or_create(std::span<const std::string_view> raw) {
        // Stored keys are valid UTF-8 and clamped, so raw values that match one
        // need no repair: only a miss pays for validation.
        const std::uint64_t raw_hash = hash_values(raw);
        if constexpr (Expiring) {
            if (node* n = find_held(raw_hash, raw)) {
                if (n->live.load(std::memory_order_acquire)) [[likely]]
                    return n;
                release(n);
            }
        } else {
            if (node* n = find(raw_hash, raw); n && n->live.load(std::memory_order_acquire)) [[likely]]
                return n;
        }
        return find_or_create_slow(raw);
    }

    // Held for the caller when the map expires series.
    node* overflow_node() {
        std::lock_guard lock(mutex_);
        node* n = overflow_locked();
        hold_locked(n);
        return n;
    }

    // Marks a label set dead and zeroes it (an expiring map hides it, as expiry
    // does); returns whether it was live.
    bool remove(std::span<const std::string_view> raw) {
        std::array<std::string_view, Values> values;
        std::array<std::string, Values> repaired;
        normalize(raw, values, repaired);
        std::lock_guard lock(mutex_);
        node* n = find(hash_values(values), values);
        if (!n || n->overflow || !n->live.load(std::memory_order_relaxed)) return false;
        if constexpr (Expiring) hide(n, clock_.now_ns(), nullptr);
        else kill(n);
        return true;
    }

    void clear() {
        std::lock_guard lock(mutex_);
        const std::int64_t now = clock_.now_ns();
        for (node* n = head_.load(std::memory_order_relaxed); n; n = n->next.load(std::memory_order_relaxed)) {
            if (!n->live.load(std::memory_order_relaxed)) continue;
            if constexpr (Expiring) {
                if (!n->overflow) hide(n, now, nullptr);
            } else {
                kill(n);
            }
        }
    }

    // Every node in creation order, removed ones included (see family::visit).
    template <class F>
    void for_each(F&& f) const {
        for (node* n = head_.load(std::memory_order_acquire); n; n = n->next.load(std::memory_order_acquire)) f(*n);
    }

    // Expiring maps: sweeps (unless the caller just did), then calls f for each
    // shown node, under the lock (no node is reused for another label set while f
    // reads its key).
    template <class F>
    void visit_shown(F&& f, bool sweep_first) {
        std::lock_guard lock(mutex_);
        if (sweep_first) sweep_locked(clock_.now_ns());
        for (node* n = head_.load(std::memory_order_relaxed); n; n = n->next.load(std::memory_order_relaxed))
            if (n->live.load(std::memory_order_relaxed)) f(*n);
    }

    // Hides the series unchanged for the TTL; returns how many it hid.
    std::size_t sweep() {
        std::lock_guard lock(mutex_);
        return sweep_locked(clock_.now_ns());
    }

    // Where sweeps read the time (steady_clock by default); set before the
    // family is used from other threads.
    void set_time_source(time_source clock) noexcept {
        std::lock_guard lock(mutex_);
        clock_ = clock;
        last_sweep_ns_ = clock_.now_ns();
    }

    // Gives up the holder find_or_create counted for a caller.
    static void release(node* n) noexcept { n->expiry.holders.fetch_sub(1, std::memory_order_release); }

    std::size_t size() const noexcept { return count_.load(std::memory_order_relaxed); }
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
    std::uint64_t expired() const noexcept { return expired_.load(std::memory_order_relaxed); }
    std::uint64_t taken_out() const noexcept { return taken_out_.load(std::memory_order_relaxed); }
    std::size_t bytes() const noexcept {
        std::lock_guard lock(mutex_);
        std::size_t tables = 0;
        for (const auto& t : tables_) tables += (t->mask + 1) * sizeof(std::atomic<node*>);
        std::size_t free_lists = 0;
        for (const auto& f : free_) free_lists += f.capacity() * sizeof(node*);
        return arena_.bytes() + tables + free_lists + factory_.bytes();
    }

private:
    struct table {
        std::size_t mask;
        std::unique_ptr<std::atomic<node*>[]> slots;
    };

    static constexpr std::size_t smallest_key_capacity = 16;
    static constexpr std::size_t capacity_classes = 48;

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

    // Lock-free readers of an expiring map use find_held; find is for the others
    // and for code under the lock (where no node changes its key).
    node* find(std::uint64_t h, std::span<const std::string_view> values) const noexcept {
        const table* t = table_.load(std::memory_order_acquire);
        for (std::size_t i = h & t->mask;; i = (i + 1) & t->mask) {
            node* n = t->slots[i].load(std::memory_order_acquire);
            if (!n) return nullptr;
            if (!n->overflow && n->matches(h, values)) return n;
        }
    }

    // The key is read only once the node is held: it cannot be rewritten then. A
    // node moved by a concurrent erase may be missed; the caller then takes the
    // lock and looks again.
    node* find_held(std::uint64_t h, std::span<const std::string_view> values) const noexcept {
        const table* t = table_.load(std::memory_order_acquire);
        for (std::size_t i = h & t->mask;; i = (i + 1) & t->mask) {
            node* n = t->slots[i].load(std::memory_order_acquire);
            if (!n) return nullptr;
            if (n->overflow || n->hash.load(std::memory_order_relaxed) != h || !try_hold(n)) continue;
            if (n->matches(h, values)) return n;
            release(n);
        }
    }

    // Acquire: pairs with the release store that ends a reuse, so the new key is seen.
    static bool try_hold(node* n) noexcept {
        std::uint32_t c = n->expiry.holders.load(std::memory_order_relaxed);
        do {
            if (c & expiry_state::retired) return false;
        } while (!n->expiry.holders.compare_exchange_weak(c, c + 1, std::memory_order_acquire,
                                                           std::memory_order_relaxed));
        return true;
    }
    // Under the lock, on a node in the table: never retired there.
    static void hold_locked(node* n) noexcept {
        if constexpr (Expiring) n->expiry.holders.fetch_add(1, std::memory_order_relaxed);
    }
    // Acquire: pairs with each holder's release decrement, so their writes are done.
    static bool try_retire(node* n) noexcept {
        std::uint32_t none = 0;
        return n->expiry.holders.compare_exchange_strong(none, expiry_state::retired, std::memory_order_acquire,
                                                         std::memory_order_relaxed);
    }

    node* create_slow(std::uint64_t h, std::span<const std::string_view> values) {
        std::lock_guard lock(mutex_);
        if (node* n = find(h, values)) {
            if (!n->live.load(std::memory_order_relaxed)) revive(n);
            hold_locked(n);
            return n;
        }
        if constexpr (Expiring) sweep_on_insert();
        if (count_.load(std::memory_order_relaxed) >= max_series_) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            node* o = overflow_locked();
            hold_locked(o);
            return o;
        }
        node* n = nullptr;
        if constexpr (Expiring) n = reuse(h, values);
        if (!n) n = build(h, values, false);
        insert(n);
        hold_locked(n);
        return n;
    }

    void revive(node* n) {
        if constexpr (Expiring) {
            const std::int64_t now = clock_.now_ns();
            if (try_retire(n)) {  // nobody holds it: it restarts from zero
                for (std::size_t i = 0; i < Slots; ++i) n->slots()[i].clear();
                n->created.store(unix_time_seconds(), std::memory_order_relaxed);
                n->expiry.holders.store(0, std::memory_order_release);
            }
            n->expiry.mark = mark_of(*n);
            n->expiry.changed_ns = now;
        } else {
            n->created.store(unix_time_seconds(), std::memory_order_relaxed);
        }
        n->live.store(true, std::memory_order_release);
    }

    node* overflow_locked() {
        if (!overflow_) {
            std::array<std::string_view, Values> values;
            values.fill(overflow_label_value);
            overflow_ = build(hash_values(values), values, true);
        }
        return overflow_;
    }

    static std::size_t key_size(std::span<const std::string_view> values) noexcept {
        std::size_t n = 0;
        for (std::string_view v : values) n += v.size();
        return n;
    }
    static std::size_t capacity_class(std::size_t key_bytes) noexcept {
        std::size_t c = 0;
        while ((smallest_key_capacity << c) < key_bytes) ++c;
        return c;
    }

    node* build(std::uint64_t h, std::span<const std::string_view> values, bool overflow) {
        std::size_t key_bytes = key_size(values);
        if constexpr (Expiring) key_bytes = smallest_key_capacity << capacity_class(key_bytes);
        auto* raw = static_cast<std::byte*>(arena_.allocate(node::key_offset() + key_bytes));
        node* n = new (raw) node{};
        n->overflow = overflow;
        n->created.store(unix_time_seconds(), std::memory_order_relaxed);
        write_key(n, h, values);
        factory_.construct(n->slots(), Slots);
        if constexpr (Expiring) {
            n->expiry.key_capacity = static_cast<std::uint32_t>(key_bytes);
            n->expiry.mark = mark_of(*n);
            n->expiry.changed_ns = clock_.now_ns();
        }
        // Append to the creation-order list; readers see a complete node.
        if (node* tail = tail_) tail->next.store(n, std::memory_order_release);
        else head_.store(n, std::memory_order_release);
        tail_ = n;
        return n;
    }

    static void write_key(node* n, std::uint64_t h, std::span<const std::string_view> values) noexcept {
        n->hash.store(h, std::memory_order_relaxed);
        char* key = reinterpret_cast<char*>(n) + node::key_offset();
        std::size_t at = 0;
        for (std::size_t i = 0; i < Values; ++i) {
            if (!values[i].empty()) std::memcpy(key + at, values[i].data(), values[i].size());
            at += values[i].size();
            n->ends[i] = static_cast<typename node::offset>(at);
        }
    }

    // A retired node with room for the key, given the new label set (its slots
    // were zeroed when it retired); null when none has room.
    node* reuse(std::uint64_t h, std::span<const std::string_view> values) {
        for (std::size_t c = capacity_class(key_size(values)); c < capacity_classes; ++c) {
            if (free_[c].empty()) continue;
            node* n = free_[c].back();
            free_[c].pop_back();
            write_key(n, h, values);
            n->created.store(unix_time_seconds(), std::memory_order_relaxed);
            n->expiry.mark = mark_of(*n);
            n->expiry.changed_ns = clock_.now_ns();
            n->expiry.free = false;
            n->live.store(true, std::memory_order_relaxed);
            n->expiry.holders.store(0, std::memory_order_release);  // publishes the key to try_hold
            return n;
        }
        return nullptr;
    }

    // Out of the exposition: retired at once when nobody holds it, else emptied
    // of the values `seen` (the sweep's mark) stands for, with a new created
    // time, so a kept handle's next write starts its series from zero. False,
    // with the node still shown, when a write came after the sweep read `seen`.
    // remove() and reset() pass no mark: they take out whatever is there.
    bool hide(node* n, std::int64_t now, const std::uint64_t* seen) {
        if (try_retire(n)) {
            n->live.store(false, std::memory_order_release);
            retire(n);
            return true;
        }
        if (!take_out(n, seen)) {
            n->expiry.mark = mark_of(*n);
            n->expiry.changed_ns = now;
            return false;
        }
        n->created.store(unix_time_seconds(), std::memory_order_relaxed);
        n->live.store(false, std::memory_order_release);
        n->expiry.mark = zero_mark();  // any write since moves it
        n->expiry.changed_ns = now;
        return true;
    }

    // Empties every slot of a held node (each slot's take_out() loses no racing
    // write) and compares what it took with `seen`; on a mismatch puts it all back.
    bool take_out(node* n, const std::uint64_t* seen) {
        auto& taken = taken_;
        taken.resize(Slots);
        for (std::size_t i = 0; i < Slots; ++i) taken[i] = n->slots()[i].take_out();
        if (seen) {
            std::uint64_t m = 0;
            for (std::size_t i = 0; i < Slots; ++i) m = mix(m + SlotFactory::taken_mark(taken[i]) + i);
            if (m != *seen) {
                for (std::size_t i = 0; i < Slots; ++i) n->slots()[i].put_back(taken[i]);
                return false;
            }
        }
        std::uint64_t count = 0;
        for (std::size_t i = 0; i < Slots; ++i) {
            count += SlotFactory::taken_count(taken[i]);
            n->slots()[i].drop(taken[i]);
        }
        taken_out_.fetch_add(count, std::memory_order_relaxed);
        return true;
    }

    // The mark of a node whose slots are all empty (every change mark is 0 then).
    static std::uint64_t zero_mark() noexcept {
        std::uint64_t m = 0;
        for (std::size_t i = 0; i < Slots; ++i) m = mix(m + i);
        return m;
    }

    void retire(node* n) {
        erase(n);
        for (std::size_t i = 0; i < Slots; ++i) n->slots()[i].clear();
        n->expiry.free = true;
        free_[capacity_class(n->expiry.key_capacity)].push_back(n);
    }

    std::uint64_t mark_of(const node& n) const {
        std::uint64_t m = 0;
        for (std::size_t i = 0; i < Slots; ++i) m = mix(m + SlotFactory::change_mark(n.slots()[i]) + i);
        return m;
    }

    std::size_t sweep_locked(std::int64_t now) {
        if constexpr (!Expiring) {
            return 0;
        } else {
            std::size_t hidden = 0;
            for (node* n = head_.load(std::memory_order_relaxed); n; n = n->next.load(std::memory_order_relaxed)) {
                if (n->overflow || n->expiry.free) continue;
                const std::uint64_t mark = mark_of(*n);
                if (mark != n->expiry.mark) {  // written since the last sweep
                    n->expiry.mark = mark;
                    n->expiry.changed_ns = now;
                    n->live.store(true, std::memory_order_release);
                } else if (n->live.load(std::memory_order_relaxed)) {
                    if (now - n->expiry.changed_ns >= ttl_ns_ && hide(n, now, &mark)) ++hidden;
                } else if (try_retire(n)) {  // hidden, and its last holder went
                    retire(n);
                }
            }
            last_sweep_ns_ = now;
            expired_.fetch_add(hidden, std::memory_order_relaxed);
            return hidden;
        }
    }

    // A family nobody scrapes still expires: a new label set sweeps when the last
    // sweep is a quarter TTL old, or when the family is full and it is a second
    // old (a full family of live series would otherwise sweep on every miss).
    void sweep_on_insert() {
        const std::int64_t now = clock_.now_ns();
        const std::int64_t age = now - last_sweep_ns_;
        if (age >= ttl_ns_ / 4 || (count_.load(std::memory_order_relaxed) >= max_series_ && age >= 1'000'000'000))
            sweep_locked(now);
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
        std::size_t i = n->hash.load(std::memory_order_relaxed) & t.mask;
        while (t.slots[i].load(std::memory_order_relaxed)) i = (i + 1) & t.mask;
        t.slots[i].store(n, std::memory_order_release);
    }

    // Linear-probing deletion that shifts the following entries back into the
    // gap. A concurrent find may miss an entry being moved; it then looks again
    // under the lock. Old tables keep their entries; find_held checks the key.
    void erase(node* n) {
        table& t = *table_.load(std::memory_order_relaxed);
        std::size_t gap = n->hash.load(std::memory_order_relaxed) & t.mask;
        while (t.slots[gap].load(std::memory_order_relaxed) != n) gap = (gap + 1) & t.mask;
        for (std::size_t j = (gap + 1) & t.mask;; j = (j + 1) & t.mask) {
            node* m = t.slots[j].load(std::memory_order_relaxed);
            if (!m) break;
            const std::size_t home = m->hash.load(std::memory_order_relaxed) & t.mask;
            // m may fill the gap when its home is not in (gap, j] (cyclically).
            if (((j - home) & t.mask) >= ((j - gap) & t.mask)) {
                t.slots[gap].store(m, std::memory_order_release);
                gap = j;
            }
        }
        t.slots[gap].store(nullptr, std::memory_order_release);
        count_.fetch_sub(1, std::memory_order_relaxed);
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
        n->created.store(unix_time_seconds(), std::memory_order_relaxed);  // a write after this restarts from zero
        n->live.store(false, std::memory_order_release);
        for (std::size_t i = 0; i < Slots; ++i) n->slots()[i].clear();
    }

    const std::size_t max_series_;
    const std::int64_t ttl_ns_;
    mutable std::mutex mutex_;
    std::atomic<table*> table_{nullptr};
    std::vector<std::unique_ptr<table>> tables_;
    std::atomic<node*> head_{nullptr};
    node* tail_ = nullptr;
    node* overflow_ = nullptr;
    std::atomic<std::size_t> count_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> expired_{0};
    std::atomic<std::uint64_t> taken_out_{0};
    node_arena arena_;
    SlotFactory factory_;
    // Expiring maps only; under the lock.
    time_source clock_;
    std::int64_t last_sweep_ns_ = clock_.now_ns();
    std::array<std::vector<node*>, Expiring ? capacity_classes : 0> free_;
    std::vector<typename Slot::taken_values> taken_;  // take_out's scratch
};

}  // namespace llmetrics::detail
// ---- end llmetrics/storage/detail/series_map.hpp ----

// ---- begin llmetrics/storage/detail/slot_types.hpp ----
// The series type of each metric type, and how a family's series map constructs
// them: counters and histograms over striped cells from a pool, gauges alone.

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>


// ---- begin llmetrics/storage/native_series.hpp ----
// The handle of a native histogram series (native_histogram<...>, or histogram<...>
// with native_* options: classic and native parts in one family). observe() never
// takes a mutex; observing into a bucket the series has seen before never
// allocates (storage/detail/native_cell.hpp has the design note).
//
// A native-only family counts NaN in `count` (its sum becomes NaN), as the
// specification says. A family with a classic part rejects NaN, like every
// classic histogram, so both parts always agree on count and sum: they come from
// the native part, and the classic bucket counters are separate striped counters.
// The writer increments the native part first (release) and the scrape reads the
// classic part first (acquire), so the classic +Inf bucket, native count minus the
// finite classic buckets, is never negative. A native-only series keeps its
// exemplars_per_native_series latest exemplars, each timestamped when recorded.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>


// ---- begin llmetrics/storage/detail/native_cell.hpp ----
// The lock-free storage of one native histogram (core/native_options.hpp says what
// it records; core/detail/native_buckets.hpp computes bucket indices).
//
// Design note
// -----------
// Per stripe (stripes.hpp) a lazily allocated block holds, for one layout (schema,
// zero threshold): a ring of counters per sign (capacity a power of two, 16 -> 32
// -> ...; the negative ring exists only once a negative value came), where bucket i
// lives at position i mod capacity; the index range [lo, hi] the ring covers in one
// atomic word, extended by CAS while hi - lo < capacity (so a position never means
// two indices); the zero and NaN counts and the sum. The count is derived (zero +
// NaN + every bucket), so count == zero + buckets + NaN holds in every scrape by
// construction. A series-wide range per sign bounds the span the bucket limit
// counts; it is only extended under the layout flag (below), and tagged by a layout
// tag a writer checks against its block's.
//
// Writers: a thread that owns a stripe (stripes.hpp: at most one live thread per
// owned stripe) is that stripe's only writer, so it adds to its counters and sum
// with a plain load + store (no RMW); threads past the owned stripes share one
// more stripe and use RMWs (fetch_add, a CAS loop for the sum). A fold never
// writes a block writers can reach (below), so an owner never races a changer's
// store either.
//
// A layout change (first block of a stripe, a bigger ring, a coarser schema, a wider
// zero bucket, a reset) replaces blocks; it never edits one in place. Each stripe
// has `state = generation (32 bits) | started (32 bits)`. A writer pins with
// state.fetch_add(1, acquire), uses blocks[generation & 1], and completes with
// exactly one release increment into that block (a bucket, the zero or the NaN
// count) or, when it needs a layout change, of abandoned[generation & 1]: it
// releases its pin before it asks for the change. Changes are serialised per
// series by an atomic flag (not a mutex: a writer only takes it on the slow path,
// after abandoning); scrapes take it too, so they never see a half-made change.
// The changer freezes the old block's ranges (a CAS sets a bit, so no writer can
// extend them any more), empties the other slot, CASes the generation (capturing
// how many writers pinned the old block: `started`), waits (spin, then yield)
// until the old block's completed operations (its increments less what a fold
// put in, plus abandoned) equal that count, folds the old counts into the new
// block (not on a reset) while no writer can reach it, then publishes it in the
// slot (release) and frees the old block. Writers pinned in between find the slot
// empty and abandon, then wait for the flag like any slow path. A writer
// pre-empted between its pin and its increment delays a layout change, never a
// normal observe: a writer never waits while pinned. A stripe renews its block
// (the same counts, started back to 0) once started passes 2^31.
//
// Owners without a locked instruction: where the asymmetric fence exists
// (asymmetric_fence.hpp, Linux membarrier), an owner does not pin. It stores
// owner_seq + 1 (odd: in an observe), then, past a compiler-only fence, loads the
// generation and its block, records, and stores owner_seq + 2 (release). A change
// of an owned stripe CASes the generation, runs the heavy fence, and if owner_seq
// is odd waits until it moves. Why that is enough: by the fence, either the
// changer's load sees the owner's odd store, or the owner's generation load sees
// the new generation (and so never touches the old block). In the first case
// the wait ends with the owner's even store, whose release makes every access of
// that observe happen before the fold and the free; an observe begun later sees
// the new generation. A fenced owner asks for a layout change only with owner_seq
// even, so a changer never waits for a thread that waits for it. The shared
// stripe, and every stripe where the fence is missing, keep the pin. The mode is
// read once per cell (fenced_), so one cell never mixes the two.
//
// The common pinned observe: the index at schema_hint_ (the latest layout's schema) and
// the block of the generation the writer last saw are loaded before the pin, so
// they overlap its latency; after the pin, the block is used only if the pin's
// generation is the one seen (else the pin's block is loaded) and the block's
// schema is the hint's. A block read for generation g before the pin is g's:
// the slot only changes for generation g + 2 after g + 1 exists, which the pin
// would show; the 32-bit generation cannot wrap around while one writer sits
// between two instructions (it takes 2^32 layout changes, each a block
// allocation and a wait).
//
// Memory orders: the pin (acquire) reads the generation CAS (release), and the
// writer loads the block pointer with acquire, reading the changer's publishing
// store (release), so it sees the block's ranges and folded counts. The completing
// increment is release (an owner's plain store too) and the changer's sums are
// acquire, so when the counts match every access of the pinned writers is done
// and the block can be read and freed. Within a block, the writer adds the sum
// before its bucket increment (release) and the scrape reads the buckets
// (acquire) before the sum: a scrape's sum includes at least the observations its
// buckets show. A scrape reads a ring only over the range it loaded, which is
// injective into positions, so it never counts an index twice.
//
// The bucket limit counts the span from the lowest to the highest index of each
// sign, summed. That bounds the populated buckets, but can reduce the resolution
// sooner than client_golang (which counts populated buckets) for gappy data.

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <thread>
#include <utility>
#include <vector>


// ---- begin llmetrics/storage/detail/asymmetric_fence.hpp ----
// An asymmetric fence: a free "light" side for a hot writer and an expensive
// "heavy" side for a rare reader of the writer's flag (Dekker's store-then-load,
// as RCU and folly's asymmetric barriers do it). The heavy side is Linux's
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED): every running thread of the
// process executes a full memory barrier before it returns, and a thread not
// running gets one from its context switch. So, for a writer that stores F then
// loads G, separated by light(), and a changer that stores G, calls heavy() and
// then loads F: either the changer's load sees F, or the writer's load sees G.
//
// Where membarrier is missing (not Linux, an old kernel, a seccomp filter that
// refuses it) available() is false and callers keep a locked instruction on
// their hot path. `LLMETRICS_MEMBARRIER=0` turns it off too.

#include <atomic>
#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace llmetrics::detail {

// Tests set it to 0 or 1 to choose a mode for cells made afterwards; -1: the system's.
inline std::atomic<int> asymmetric_fence_override{-1};

inline bool asymmetric_fence_registered() noexcept {
#if defined(__linux__) && defined(__NR_membarrier)
    static const bool registered = [] {
        if (const char* env = std::getenv("LLMETRICS_MEMBARRIER"); env && std::strcmp(env, "0") == 0) return false;
        const long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
        if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) return false;
        return syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
    }();
    return registered;
#else
    return false;
#endif
}

// Whether heavy() can be used; read once by each user and kept, so one user never
// mixes the two modes.
inline bool asymmetric_fence_available() noexcept {
    const int forced = asymmetric_fence_override.load(std::memory_order_relaxed);
    if (forced == 0) return false;
    return asymmetric_fence_registered();  // forced == 1 still needs the kernel
}

// The writer's side: only the compiler may not reorder across it.
inline void asymmetric_fence_light() noexcept { std::atomic_signal_fence(std::memory_order_seq_cst); }

// The changer's side (only when available() said true).
inline void asymmetric_fence_heavy() noexcept {
#if defined(__linux__) && defined(__NR_membarrier)
    std::atomic_thread_fence(std::memory_order_seq_cst);
    syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

}  // namespace llmetrics::detail
// ---- end llmetrics/storage/detail/asymmetric_fence.hpp ----

// ---- begin llmetrics/storage/detail/stripes.hpp ----
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

// How many live threads write to each stripe. A thread claims the stripe with the
// fewest holders on its first write and releases it when it exits, so live
// threads share a stripe only when there are more of them than stripes, whatever
// threads came and went before (round-robin hand-out made two live threads share
// one whenever a multiple of stripe_count threads had started in between).
//
// Why relaxed suffices: the counts only steer the choice; a write to a shared
// stripe is still a correct atomic RMW (cells.hpp), so a stale count costs
// speed, never a lost increment. The CAS makes two threads claiming at once see
// each other: the loser re-reads and takes the next emptiest stripe.
inline std::array<std::atomic<unsigned>, stripe_count> stripe_holders{};

inline std::size_t claim_emptiest_stripe() noexcept {
    for (;;) {
        std::size_t best = 0;
        unsigned fewest = stripe_holders[0].load(std::memory_order_relaxed);
        for (std::size_t i = 1; i < stripe_count && fewest != 0; ++i) {
            const unsigned n = stripe_holders[i].load(std::memory_order_relaxed);
            if (n < fewest) {
                best = i;
                fewest = n;
            }
        }
        if (stripe_holders[best].compare_exchange_weak(fewest, fewest + 1, std::memory_order_relaxed))
            return best;
    }
}

// Held by a thread from its first write to its exit; the destructor gives the
// stripe back. Writes made later in the thread's exit still go to that stripe,
// which is harmless for the reason above.
struct stripe_claim {
    std::size_t stripe = stripe_count;  // none yet
    ~stripe_claim() {
        if (stripe < stripe_count) stripe_holders[stripe].fetch_sub(1, std::memory_order_relaxed);
    }
};

inline std::size_t claim_stripe_for_this_thread() noexcept {
    thread_local stripe_claim claim;  // registers its destructor on first use only
    if (claim.stripe == stripe_count) claim.stripe = claim_emptiest_stripe();
    return claim.stripe;
}

// The hot path reads one constant-initialised thread_local (no TLS guard); the
// claim, with its destructor, is touched once per thread.
inline std::size_t this_thread_stripe() noexcept {
    thread_local unsigned stripe_plus_one = 0;
    if (stripe_plus_one == 0) [[unlikely]]
        stripe_plus_one = static_cast<unsigned>(claim_stripe_for_this_thread()) + 1;
    return stripe_plus_one - 1;
}

// Sole-writer stripes, for storage whose writers use plain load + store instead of
// RMWs (native_cell.hpp): a thread takes one of `stripe_count` owned stripes for
// itself, or, when every one is held by a live thread, writes the extra stripe
// `shared_stripe` (with RMWs) that all such threads share. The owner gives its
// stripe back at exit (release; the next owner's exchange acquires, so it sees
// every store of the one before), and from then on its own late writes (other
// thread_local destructors) go to the shared stripe: a stripe never has two
// writers at once.
inline constexpr std::size_t shared_stripe = stripe_count;
inline std::array<std::atomic<bool>, stripe_count> stripe_owned{};

struct owned_stripe_claim {
    std::size_t stripe = shared_stripe;
    unsigned* cached = nullptr;  // the hot path's copy, pointed at the shared stripe at exit
    ~owned_stripe_claim() {
        if (stripe == shared_stripe) return;
        *cached = static_cast<unsigned>(shared_stripe) + 1;
        stripe_owned[stripe].store(false, std::memory_order_release);
    }
};

inline std::size_t claim_owned_stripe_for_this_thread(unsigned* cached) noexcept {
    thread_local owned_stripe_claim claim;
    claim.cached = cached;
    for (std::size_t s = 0; s < stripe_count && claim.stripe == shared_stripe; ++s)
        if (!stripe_owned[s].load(std::memory_order_relaxed) && !stripe_owned[s].exchange(true, std::memory_order_acquire))
            claim.stripe = s;
    return claim.stripe;
}

// This thread's owned stripe, or shared_stripe.
inline std::size_t this_thread_owned_stripe() noexcept {
    thread_local unsigned stripe_plus_one = 0;
    if (stripe_plus_one == 0) [[unlikely]]
        stripe_plus_one = static_cast<unsigned>(claim_owned_stripe_for_this_thread(&stripe_plus_one)) + 1;
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
// ---- end llmetrics/storage/detail/stripes.hpp ----

namespace llmetrics::detail {

struct native_limits {
    int schema = 3;
    std::size_t max_buckets = 160;
    double zero_threshold = 0.0;
    double max_zero_threshold = 0.0;
    std::uint32_t min_reset_seconds = 0;
};

// An index range in one word: lo and hi biased into 31 bits each, bit 63 = frozen.
struct index_range {
    std::int32_t lo = 1, hi = 0;  // empty while lo > hi
    bool empty() const noexcept { return lo > hi; }
    bool contains(std::int32_t i) const noexcept { return lo <= i && i <= hi; }
    std::size_t span() const noexcept { return empty() ? 0 : static_cast<std::size_t>(hi - lo) + 1; }
    index_range with(std::int32_t i) const noexcept { return empty() ? index_range{i, i} : index_range{std::min(lo, i), std::max(hi, i)}; }

    static constexpr std::uint64_t frozen_bit = std::uint64_t{1} << 63;
    static constexpr std::int64_t bias = std::int64_t{1} << 30;
    std::uint64_t pack() const noexcept {
        return static_cast<std::uint64_t>(lo + bias) << 32 | static_cast<std::uint64_t>(hi + bias);
    }
    static index_range unpack(std::uint64_t w) noexcept {
        return {static_cast<std::int32_t>(static_cast<std::int64_t>((w >> 32) & 0x7fffffff) - bias),
                static_cast<std::int32_t>(static_cast<std::int64_t>(w & 0xffffffff) - bias)};
    }
};

struct native_block {
    int schema = 3;
    double zero_threshold = 0.0;
    std::uint32_t tag = 0;
    std::uint32_t pos_cap = 0, neg_cap = 0;  // powers of two, or 0
    std::uint64_t preloaded = 0;             // counts folded in; only under the series flag
    std::atomic<std::uint64_t> pos_range{index_range{}.pack()};
    std::atomic<std::uint64_t> neg_range{index_range{}.pack()};
    std::atomic<std::uint64_t> zero{0};
    std::atomic<std::uint64_t> nan{0};
    std::atomic<double> sum{0.0};
    std::atomic<std::uint64_t>* pos = nullptr;
    std::atomic<std::uint64_t>* neg = nullptr;

    static std::size_t bytes_for(std::uint32_t pos_cap, std::uint32_t neg_cap) noexcept {
        return sizeof(native_block) + (std::size_t{pos_cap} + neg_cap) * sizeof(std::atomic<std::uint64_t>);
    }
    static native_block* make(int schema, double zt, std::uint32_t tag, std::uint32_t pos_cap, std::uint32_t neg_cap) {
        void* raw = ::operator new(bytes_for(pos_cap, neg_cap), std::align_val_t{cache_line});
        auto* b = new (raw) native_block{};
        b->schema = schema;
        b->zero_threshold = zt;
        b->tag = tag;
        b->pos_cap = pos_cap;
        b->neg_cap = neg_cap;
        auto* counters = reinterpret_cast<std::atomic<std::uint64_t>*>(b + 1);
        for (std::uint32_t k = 0; k < pos_cap + neg_cap; ++k) new (counters + k) std::atomic<std::uint64_t>(0);
        b->pos = counters;
        b->neg = counters + pos_cap;
        return b;
    }
    static void destroy(native_block* b) noexcept {
        if (!b) return;
        b->~native_block();  // the counters are trivially destructible
        ::operator delete(static_cast<void*>(b), std::align_val_t{cache_line});
    }
    std::atomic<std::uint64_t>& counter(bool negative, std::int32_t i) const noexcept {
        return negative ? neg[static_cast<std::uint32_t>(i) & (neg_cap - 1)]
                        : pos[static_cast<std::uint32_t>(i) & (pos_cap - 1)];
    }
    // Every increment the block holds (rings, zero, NaN), read with acquire.
    std::uint64_t total() const noexcept {
        std::uint64_t n = zero.load(std::memory_order_acquire) + nan.load(std::memory_order_acquire);
        for (std::uint32_t k = 0; k < pos_cap + neg_cap; ++k) n += pos[k].load(std::memory_order_acquire);
        return n;
    }
};

struct alignas(cache_line) native_stripe {
    std::atomic<std::uint64_t> state{0};  // generation << 32 | started
    std::atomic<native_block*> blocks[2] = {nullptr, nullptr};
    std::atomic<std::uint64_t> abandoned[2] = {0, 0};
    std::atomic<std::uint64_t> owner_seq{0};  // fenced owners: odd while in an observe
};

// What a scrape reads: the view's fields, owning their storage (reused between
// series by the caller, so a scrape allocates only while buffers grow).
struct native_reading {
    std::int32_t schema = 3;
    double zero_threshold = 0.0;
    std::uint64_t zero_count = 0;
    std::uint64_t count = 0;
    double sum = 0.0;
    std::vector<native_bucket_span> positive_spans, negative_spans;
    std::vector<std::uint64_t> positive_counts, negative_counts;
    std::vector<std::uint64_t> scratch;

    native_histogram_view view() const noexcept {
        return {schema, zero_threshold, zero_count, count, sum,
                positive_spans, positive_counts, negative_spans, negative_counts};
    }
};

class native_cell {
public:
    static constexpr std::uint32_t first_capacity = 16;
    static constexpr unsigned generation_shift = 32;
    static constexpr std::uint64_t started_mask = (std::uint64_t{1} << generation_shift) - 1;
    static unsigned slot_of(std::uint64_t state) noexcept { return static_cast<unsigned>(state >> generation_shift) & 1; }
    static constexpr std::size_t native_stripe_count = stripe_count + 1;  // the owned ones and the shared one

    // Where stripe s sits in stripes_: the first owned stripes (claimed lowest
    // first) every other line, so two writers never touch a 128-byte line pair
    // that an adjacent-line prefetcher moves as one.
    static constexpr std::size_t place_of(std::size_t s) noexcept {
        constexpr std::size_t half = (native_stripe_count + 1) / 2;
        return s < half ? 2 * s : 2 * (s - half) + 1;
    }

    native_cell(const native_limits& limits, std::atomic<std::size_t>* bytes)
        : limits_(limits), bytes_(bytes), schema_(limits.schema), schema_hint_(limits.schema),
          zero_threshold_(limits.zero_threshold),
          last_reset_(unix_time_seconds()), fenced_(asymmetric_fence_available()) {
        stripes_ = new native_stripe[native_stripe_count];
        account(static_cast<std::ptrdiff_t>(sizeof(native_stripe) * native_stripe_count));
    }
    native_cell(const native_cell&) = delete;
    native_cell& operator=(const native_cell&) = delete;
    ~native_cell() {
        for (std::size_t s = 0; s < native_stripe_count; ++s)
            for (auto& b : stripes_[s].blocks) release(b.load(std::memory_order_relaxed));
        delete[] stripes_;
        account(-static_cast<std::ptrdiff_t>(sizeof(native_stripe) * native_stripe_count));
    }

    // NaN counts in count only (the sum becomes NaN, as the specification has it).
    void observe(double v) noexcept {
        const std::size_t s = this_thread_owned_stripe();
        if (s == shared_stripe) [[unlikely]] return observe_shared(v);
        if (fenced_) [[likely]] observe_fenced(stripes_[place_of(s)], v);
        else observe_on<true>(stripes_[place_of(s)], v);
    }

    // Whether owners write without a locked instruction (asymmetric_fence.hpp).
    bool fenced() const noexcept { return fenced_; }


    // Unix seconds of the last reset by the limit strategy or clear() (0: none).
    double reset_time() const noexcept { return reset_time_.load(std::memory_order_relaxed); }

    // A consistent reading (count == zero + buckets + NaN). Gaps of up to two empty
    // buckets are bridged with zero counts inside one span, as client_golang does.
    void read(native_reading& out) const {
        flag_guard g(busy_);
        out.schema = schema_;
        out.zero_threshold = zero_threshold_;
        out.zero_count = 0;
        std::uint64_t nan = 0;
        const index_range pos = index_range::unpack(series_pos_.load(std::memory_order_relaxed));
        const index_range neg = index_range::unpack(series_neg_.load(std::memory_order_relaxed));
        auto& scratch = out.scratch;
        scratch.assign(pos.span() + neg.span(), 0);
        double sum = 0.0;
        for (std::size_t s = 0; s < native_stripe_count; ++s) {
            const native_stripe& st = stripes_[s];
            const unsigned slot = slot_of(st.state.load(std::memory_order_acquire));
            native_block* b = st.blocks[slot].load(std::memory_order_acquire);
            if (!b) continue;
            gather(*b, false, pos, scratch.data());
            gather(*b, true, neg, scratch.data() + pos.span());
            out.zero_count += b->zero.load(std::memory_order_acquire);
            nan += b->nan.load(std::memory_order_acquire);
            sum += b->sum.load(std::memory_order_relaxed);  // after the counts: see the note
        }
        std::uint64_t buckets = 0;
        for (std::uint64_t c : scratch) buckets += c;
        out.count = out.zero_count + nan + buckets;
        out.sum = sum;
        to_spans(pos, scratch.data(), out.positive_spans, out.positive_counts);
        to_spans(neg, scratch.data() + pos.span(), out.negative_spans, out.negative_counts);
    }

    bool has_data() const {
        flag_guard g(busy_);
        for (std::size_t s = 0; s < native_stripe_count; ++s)
            for (const auto& b : stripes_[s].blocks)
                if (const native_block* p = b.load(std::memory_order_acquire); p && p->total() != 0) return true;
        return false;
    }

    // Every observation the current blocks hold (folded ones included).
    std::uint64_t observations() const {
        flag_guard g(busy_);
        std::uint64_t n = 0;
        for (std::size_t s = 0; s < native_stripe_count; ++s) {
            const native_stripe& st = stripes_[s];
            const unsigned slot = slot_of(st.state.load(std::memory_order_acquire));
            if (const native_block* b = st.blocks[slot].load(std::memory_order_acquire)) n += b->total();
        }
        return n;
    }

    // Back to the declared layout with no counts; the start timestamp moves.
    void clear() noexcept {
        flag_guard g(busy_);
        reset_locked();
    }

    // Expiry of a held series (series_map.hpp). Subtracting per bucket is not
    // sound here (a layout change may move counts between buckets), so take_out()
    // swaps every stripe to an empty block of the same layout (what grow() does,
    // without the fold) and keeps the old, quiescent blocks: a racing observation
    // is either in them or in the new ones. drop() then frees them (the series
    // restarts from zero, its layout kept); put_back() instead replaces each new
    // block by a copy holding its counts and the old ones, so nothing is lost.
    // The flag is held from take_out() until then: no layout change can come in
    // between.
    struct taken_blocks {
        std::array<native_block*, native_stripe_count> old{};
        std::uint64_t observations = 0;
    };
    void take_out(taken_blocks& t) {
        lock(busy_);
        t = {};
        for (std::size_t s = 0; s < native_stripe_count; ++s) {
            native_stripe& st = stripes_[s];
            native_block* b = current(st);
            if (!b) continue;
            freeze(*b);  // its ranges are final: the new block covers them
            native_block* fresh = native_block::make(b->schema, b->zero_threshold, b->tag, b->pos_cap, b->neg_cap);
            fresh->pos_range.store(b->pos_range.load(std::memory_order_relaxed) & ~index_range::frozen_bit,
                                   std::memory_order_relaxed);
            fresh->neg_range.store(b->neg_range.load(std::memory_order_relaxed) & ~index_range::frozen_bit,
                                   std::memory_order_relaxed);
            t.old[s] = switch_to(st, fresh);
            t.observations += t.old[s]->total();
        }
    }
    void put_back(taken_blocks& t) noexcept {
        // The current blocks are writers' (an owner writes them with plain stores),
        // so each is replaced by a copy that gets both its counts and the old ones.
        for (std::size_t s = 0; s < native_stripe_count; ++s) {
            if (!t.old[s]) continue;
            native_stripe& st = stripes_[s];
            native_block* now = current(st);
            freeze(*now);
            native_block* fresh = native_block::make(now->schema, now->zero_threshold, now->tag, now->pos_cap, now->neg_cap);
            fresh->pos_range.store(now->pos_range.load(std::memory_order_relaxed) & ~index_range::frozen_bit,
                                   std::memory_order_relaxed);
            fresh->neg_range.store(now->neg_range.load(std::memory_order_relaxed) & ~index_range::frozen_bit,
                                   std::memory_order_relaxed);
            release(switch_to(st, fresh, true, now->schema, t.old[s]));
            release(std::exchange(t.old[s], nullptr));
        }
        busy_.store(false, std::memory_order_release);
    }
    void drop(taken_blocks& t) noexcept {
        for (auto& b : t.old) release(std::exchange(b, nullptr));
        last_reset_ = unix_time_seconds();
        reset_time_.store(last_reset_, std::memory_order_relaxed);
        busy_.store(false, std::memory_order_release);
    }

    std::size_t bytes() const noexcept { return own_bytes_.load(std::memory_order_relaxed); }

    // Called under the flag at every reset, after the old blocks are quiescent (a
    // family with a classic part zeroes it there, so both parts restart together).
    void on_reset(void (*hook)(void*), void* context) noexcept {
        reset_hook_ = hook;
        reset_context_ = context;
    }

private:
    // Owned: this thread is the stripe's only writer (stripes.hpp), so its counts and
    // sum take a plain load + store; the shared stripe takes RMWs.
    //
    // The common case is inline: a positive value past the zero bucket, into a
    // bucket the block already covers (one compare excludes NaN, negatives and
    // the zero bucket). Everything else finishes the pinned attempt out of line.
    // The index is computed before the pin, at the schema of the latest layout
    // (schema_hint_), so it overlaps the pin's latency; the block's own schema
    // confirms it (a value that is no bucket's, such as NaN, gets an unused one).
    template <bool Owned>
    [[gnu::always_inline]] void observe_on(native_stripe& st, double v) noexcept {
        const int schema = schema_hint_.load(std::memory_order_relaxed);
        const std::int32_t i = native_bucket_index(v, schema);
        const std::uint64_t seen = st.state.load(std::memory_order_relaxed);
        native_block* b = st.blocks[slot_of(seen)].load(std::memory_order_acquire);
        const std::uint64_t s = st.state.fetch_add(1, std::memory_order_acquire);
        if ((s ^ seen) >> generation_shift) [[unlikely]] b = st.blocks[slot_of(s)].load(std::memory_order_acquire);
        if (b && v > b->zero_threshold && b->schema == schema && (s & started_mask) <= (started_mask >> 1)) [[likely]] {
            if (index_range::unpack(b->pos_range.load(std::memory_order_relaxed)).contains(i)) [[likely]] {
                add_to_sum<Owned>(b->sum, v);
                add_one<Owned>(b->pos[static_cast<std::uint32_t>(i) & (b->pos_cap - 1)]);
                return;
            }
        }
        observe_pinned<Owned>(st, s, b, v);
    }

    [[gnu::noinline]] void observe_shared(double v) noexcept { observe_on<false>(stripes_[place_of(shared_stripe)], v); }

    // An owner with the asymmetric fence: owner_seq odd marks the observe (plain
    // stores, this thread is its only writer), light() keeps the generation load
    // after that store, and the even store that ends it (release) publishes the
    // block writes to a changer that waits for it (switch_to).
    [[gnu::always_inline]] void observe_fenced(native_stripe& st, double v) noexcept {
        const int schema = schema_hint_.load(std::memory_order_relaxed);
        const std::int32_t i = native_bucket_index(v, schema);
        const std::uint64_t seq = st.owner_seq.load(std::memory_order_relaxed);
        st.owner_seq.store(seq + 1, std::memory_order_relaxed);
        asymmetric_fence_light();
        native_block* b = st.blocks[slot_of(st.state.load(std::memory_order_relaxed))].load(std::memory_order_acquire);
        if (b && v > b->zero_threshold && b->schema == schema &&
            index_range::unpack(b->pos_range.load(std::memory_order_relaxed)).contains(i)) [[likely]] {
            add_to_sum<true>(b->sum, v);
            add_one<true>(b->pos[static_cast<std::uint32_t>(i) & (b->pos_cap - 1)]);
            st.owner_seq.store(seq + 2, std::memory_order_release);
            return;
        }
        observe_fenced_rest(st, seq, b, v);
    }

    // The rest of a fenced observe begun as `seq` on block `b` (maybe null): a
    // layout change is asked for only between observes (owner_seq even), since the
    // changer waits for an odd owner_seq to move.
    [[gnu::noinline]] void observe_fenced_rest(native_stripe& st, std::uint64_t seq, native_block* b, double v) noexcept {
        for (;;) {
            const bool recorded = b && record<true>(*b, v);
            st.owner_seq.store(seq + 2, std::memory_order_release);
            if (recorded) return;
            make_room(st, v);
            seq += 2;
            st.owner_seq.store(seq + 1, std::memory_order_relaxed);
            asymmetric_fence_light();
            b = st.blocks[slot_of(st.state.load(std::memory_order_relaxed))].load(std::memory_order_acquire);
        }
    }

    // The rest of an attempt pinned as `s` on block `b` (maybe null), then new
    // attempts until one records.
    template <bool Owned>
    [[gnu::noinline]] void observe_pinned(native_stripe& st, std::uint64_t s, native_block* b, double v) noexcept {
        for (;;) {
            if (b && record<Owned>(*b, v)) {
                if ((s & started_mask) > (started_mask >> 1)) renew(st);
                return;
            }
            st.abandoned[slot_of(s)].fetch_add(1, std::memory_order_release);
            make_room(st, v);
            s = st.state.fetch_add(1, std::memory_order_acquire);
            b = st.blocks[slot_of(s)].load(std::memory_order_acquire);
        }
    }

    template <bool Owned>
    static void add_one(std::atomic<std::uint64_t>& n) noexcept {
        if constexpr (Owned) n.store(n.load(std::memory_order_relaxed) + 1, std::memory_order_release);
        else n.fetch_add(1, std::memory_order_release);
    }
    template <bool Owned>
    static void add_to_sum(std::atomic<double>& sum, double v) noexcept {
        if constexpr (Owned) sum.store(sum.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
        else atomic_add(sum, v);
    }

    static void lock(std::atomic<bool>& flag) noexcept {
        for (unsigned n = 0; flag.exchange(true, std::memory_order_acquire); ++n)
            if (n > 64) std::this_thread::yield();
    }
    struct flag_guard {
        std::atomic<bool>& flag;
        explicit flag_guard(std::atomic<bool>& f) noexcept : flag(f) { lock(flag); }
        ~flag_guard() { flag.store(false, std::memory_order_release); }
    };

    // One observation into a pinned block; false when it needs a layout change
    // (nothing was written then).
    template <bool Owned>
    bool record(native_block& b, double v) noexcept {
        if (v != v) {
            add_to_sum<Owned>(b.sum, v);
            add_one<Owned>(b.nan);
            return true;
        }
        const double a = std::fabs(v);
        if (a <= b.zero_threshold) {
            add_to_sum<Owned>(b.sum, v);
            add_one<Owned>(b.zero);
            return true;
        }
        const bool negative = v < 0;
        const std::int32_t i = native_bucket_index(a, b.schema);
        std::atomic<std::uint64_t>& word = negative ? b.neg_range : b.pos_range;
        const std::uint32_t cap = negative ? b.neg_cap : b.pos_cap;
        std::uint64_t w = word.load(std::memory_order_relaxed);
        while (!index_range::unpack(w).contains(i)) {  // a bucket new to this block
            const index_range wider = index_range::unpack(w).with(i);
            if ((w & index_range::frozen_bit) || wider.span() > cap) return false;
            if (!within_series(b, negative, i)) return false;
            if (word.compare_exchange_weak(w, wider.pack(), std::memory_order_relaxed)) break;
        }
        add_to_sum<Owned>(b.sum, v);
        add_one<Owned>(b.counter(negative, i));
        return true;
    }

    // The series range is read before the tag: a range stored by a newer layout
    // (tag first, then range with release) shows the newer tag here.
    bool within_series(const native_block& b, bool negative, std::int32_t i) const noexcept {
        const std::uint64_t w = (negative ? series_neg_ : series_pos_).load(std::memory_order_acquire);
        if (tag_.load(std::memory_order_relaxed) != b.tag) return false;
        return index_range::unpack(w).contains(i);
    }

    // Under the flag: whatever stops `v` from being recorded on this stripe.
    void make_room(native_stripe& st, double v) {
        flag_guard g(busy_);
        native_block* b = current(st);
        if (!b) {
            install(st, native_block::make(schema_, zero_threshold_, tag_.load(std::memory_order_relaxed),
                                           v < 0 ? 0 : first_capacity, v < 0 ? first_capacity : 0),
                    false);
            return;
        }
        const double a = std::fabs(v);
        if (v != v || a <= b->zero_threshold) return;
        const bool negative = v < 0;
        std::int32_t i = native_bucket_index(a, schema_);
        auto& series_word = negative ? series_neg_ : series_pos_;
        if (!index_range::unpack(series_word.load(std::memory_order_relaxed)).contains(i)) {
            if (!fits(negative, i)) {
                if (apply_strategy(a, negative)) return;  // new blocks: the writer retries
                // Nothing left to try (schema -4, no reset, no widening): go past the limit.
            }
            series_word.store(index_range::unpack(series_word.load(std::memory_order_relaxed)).with(i).pack(),
                              std::memory_order_release);
        }
        const std::uint64_t w = (negative ? b->neg_range : b->pos_range).load(std::memory_order_relaxed);
        const std::size_t needed = index_range::unpack(w).with(i).span();
        const std::uint32_t cap = negative ? b->neg_cap : b->pos_cap;
        if (needed > cap) grow(st, *b, negative, needed);
    }

    bool fits(bool negative, std::int32_t i) const noexcept {
        index_range pos = index_range::unpack(series_pos_.load(std::memory_order_relaxed));
        index_range neg = index_range::unpack(series_neg_.load(std::memory_order_relaxed));
        (negative ? neg : pos) = (negative ? neg : pos).with(i);
        return pos.span() + neg.span() <= limits_.max_buckets;
    }

    // The limit strategy, decided on the series ranges and applied as one change:
    // reset if allowed, else widen the zero bucket, else schema - 1, until it fits.
    // Returns false when none applies.
    bool apply_strategy(double a, bool negative) {
        const double now = unix_time_seconds();
        if (limits_.min_reset_seconds > 0 && now - last_reset_ >= limits_.min_reset_seconds) {
            reset_locked();
            return true;
        }
        index_range pos = index_range::unpack(series_pos_.load(std::memory_order_relaxed));
        index_range neg = index_range::unpack(series_neg_.load(std::memory_order_relaxed));
        int schema = schema_;
        double zt = zero_threshold_;
        for (;;) {
            if (a <= zt) break;
            const std::int32_t i = native_bucket_index(a, schema);
            index_range p = negative ? pos : pos.with(i), n = negative ? neg.with(i) : neg;
            if (p.span() + n.span() <= limits_.max_buckets) break;
            // Widen the zero bucket to the upper bound of the bucket nearest zero.
            const std::int32_t lowest = std::min(p.empty() ? INT32_MAX : p.lo, n.empty() ? INT32_MAX : n.lo);
            const double wider = native_bucket_upper(lowest, schema);
            if (wider <= limits_.max_zero_threshold && wider > zt) {
                zt = wider;
                pos = drop_below(pos, lowest);
                neg = drop_below(neg, lowest);
                continue;
            }
            if (schema <= native_min_schema) break;
            --schema;
            pos = halve(pos);
            neg = halve(neg);
        }
        if (schema == schema_ && zt == zero_threshold_) return false;
        relayout(schema, zt);
        return true;
    }

    static index_range drop_below(index_range r, std::int32_t upto) noexcept {
        if (r.empty() || r.hi <= upto) return {};
        return {std::max(r.lo, upto + 1), r.hi};
    }
    static index_range halve(index_range r) noexcept {
        return r.empty() ? r : index_range{native_halve_index(r.lo), native_halve_index(r.hi)};
    }

    // Where bucket k at the current layout goes in (schema, zt): the zero bucket
    // (false) or index `to`.
    bool map_index(std::int32_t k, int from_schema, int schema, double zt, std::int32_t& to) const noexcept {
        if (native_bucket_upper(k, from_schema) <= zt) return false;
        const int d = from_schema - schema;
        to = static_cast<std::int32_t>((static_cast<std::int64_t>(k) + (std::int64_t{1} << d) - 1) >> d);
        return true;
    }
    index_range map_range(index_range r, int from_schema, int schema, double zt) const noexcept {
        index_range out;
        for (std::int32_t k = r.lo; k <= r.hi && !r.empty(); ++k) {
            std::int32_t to = 0;
            if (map_index(k, from_schema, schema, zt, to)) {
                std::int32_t hi = 0;
                map_index(r.hi, from_schema, schema, zt, hi);
                return {to, hi};
            }
        }
        return out;
    }

    static std::uint32_t capacity_for(std::size_t span) noexcept {
        std::uint32_t c = first_capacity;
        while (c < span) c *= 2;
        return c;
    }

    // A coarser schema or a wider zero bucket: every stripe gets a new block.
    void relayout(int schema, double zt) {
        const int from = schema_;
        const std::uint32_t tag = tag_.load(std::memory_order_relaxed) + 1;
        for (std::size_t s = 0; s < native_stripe_count; ++s)
            if (native_block* b = current(stripes_[s])) freeze(*b);
        const index_range pos = map_range(index_range::unpack(series_pos_.load(std::memory_order_relaxed)), from, schema, zt);
        const index_range neg = map_range(index_range::unpack(series_neg_.load(std::memory_order_relaxed)), from, schema, zt);
        tag_.store(tag, std::memory_order_relaxed);
        series_pos_.store(pos.pack(), std::memory_order_release);
        series_neg_.store(neg.pack(), std::memory_order_release);
        schema_ = schema;
        schema_hint_.store(schema, std::memory_order_relaxed);
        zero_threshold_ = zt;
        for (std::size_t s = 0; s < native_stripe_count; ++s) {
            native_stripe& st = stripes_[s];
            native_block* old = current(st);
            if (!old) continue;
            const index_range op = index_range::unpack(old->pos_range.load(std::memory_order_relaxed));
            const index_range on = index_range::unpack(old->neg_range.load(std::memory_order_relaxed));
            const index_range np = map_range(op, from, schema, zt), nn = map_range(on, from, schema, zt);
            native_block* fresh = native_block::make(schema, zt, tag, old->pos_cap ? capacity_for(np.span()) : 0,
                                                     old->neg_cap ? capacity_for(nn.span()) : 0);
            fresh->pos_range.store(np.pack(), std::memory_order_relaxed);
            fresh->neg_range.store(nn.pack(), std::memory_order_relaxed);
            install(st, fresh, true, from);
        }
    }

    // A ring too small for the series span: this stripe alone gets a bigger block.
    void grow(native_stripe& st, native_block& old, bool negative, std::size_t needed) {
        freeze(old);
        const std::uint32_t pos_cap = negative ? old.pos_cap : std::max(old.pos_cap, capacity_for(needed));
        const std::uint32_t neg_cap = negative ? std::max(old.neg_cap, capacity_for(needed)) : old.neg_cap;
        native_block* fresh = native_block::make(old.schema, old.zero_threshold, old.tag, pos_cap, neg_cap);
        fresh->pos_range.store(old.pos_range.load(std::memory_order_relaxed) & ~index_range::frozen_bit,
                               std::memory_order_relaxed);
        fresh->neg_range.store(old.neg_range.load(std::memory_order_relaxed) & ~index_range::frozen_bit,
                               std::memory_order_relaxed);
        install(st, fresh, true, old.schema);
    }

    // The same block again, so `started` restarts from zero long before 2^32.
    void renew(native_stripe& st) {
        flag_guard g(busy_);
        if (native_block* b = current(st)) grow(st, *b, false, 0);
    }

    void reset_locked() {
        const std::uint32_t tag = tag_.load(std::memory_order_relaxed) + 1;
        tag_.store(tag, std::memory_order_relaxed);
        series_pos_.store(index_range{}.pack(), std::memory_order_release);
        series_neg_.store(index_range{}.pack(), std::memory_order_release);
        schema_ = limits_.schema;
        schema_hint_.store(schema_, std::memory_order_relaxed);
        zero_threshold_ = limits_.zero_threshold;
        for (std::size_t s = 0; s < native_stripe_count; ++s) {
            native_stripe& st = stripes_[s];
            if (native_block* old = current(st))
                install(st, native_block::make(schema_, zero_threshold_, tag, old->pos_cap ? first_capacity : 0,
                                               old->neg_cap ? first_capacity : 0),
                        false);
        }
        if (reset_hook_) reset_hook_(reset_context_);
        last_reset_ = unix_time_seconds();
        reset_time_.store(last_reset_, std::memory_order_relaxed);
    }

    static void freeze(native_block& b) noexcept {
        b.pos_range.fetch_or(index_range::frozen_bit, std::memory_order_relaxed);
        b.neg_range.fetch_or(index_range::frozen_bit, std::memory_order_relaxed);
    }

    native_block* current(const native_stripe& st) const noexcept {
        const unsigned slot = slot_of(st.state.load(std::memory_order_relaxed));
        return st.blocks[slot].load(std::memory_order_relaxed);
    }

    // Installs `fresh` in the other slot, switches writers to it, waits for the
    // ones still pinned to the old block, folds the old counts (unless a reset
    // drops them) and frees the old block. Under the flag.
    void install(native_stripe& st, native_block* fresh, bool fold, int from_schema = 0) {
        release(switch_to(st, fresh, fold, from_schema));
    }

    // Installs `fresh`, switches writers to it and returns the old block (null
    // when none) once the writers still pinned to it are done. Under the flag.
    // The new block gets the old one's counts (fold) and `also`'s before writers
    // can reach it.
    native_block* switch_to(native_stripe& st, native_block* fresh, bool fold = false, int from_schema = 0,
                            const native_block* also = nullptr) {
        account(static_cast<std::ptrdiff_t>(native_block::bytes_for(fresh->pos_cap, fresh->neg_cap)));
        std::uint64_t s = st.state.load(std::memory_order_relaxed);
        const unsigned old_slot = slot_of(s);
        st.abandoned[old_slot ^ 1].store(0, std::memory_order_relaxed);
        st.blocks[old_slot ^ 1].store(nullptr, std::memory_order_relaxed);  // writers abandon until the fold is done
        while (!st.state.compare_exchange_weak(s, ((s >> generation_shift) + 1) << generation_shift, std::memory_order_acq_rel,
                                               std::memory_order_relaxed)) {
        }
        native_block* old = st.blocks[old_slot].load(std::memory_order_relaxed);
        if (fenced_ && &st != &stripes_[place_of(shared_stripe)]) {
            // The owner either sees the new generation or is in an observe that
            // the heavy fence makes visible here as an odd owner_seq: wait for
            // that one to end (its release store; the next sees the new slot).
            asymmetric_fence_heavy();
            const std::uint64_t seq = st.owner_seq.load(std::memory_order_acquire);
            for (unsigned n = 0; (seq & 1) && st.owner_seq.load(std::memory_order_acquire) == seq; ++n)
                if (n > 64) std::this_thread::yield();
        } else {
            const std::uint64_t started = s & started_mask;
            for (unsigned n = 0;; ++n) {
                const std::uint64_t done = st.abandoned[old_slot].load(std::memory_order_acquire) +
                                           (old ? old->total() - old->preloaded : 0);
                if (done == started) break;
                if (n > 64) std::this_thread::yield();
            }
        }
        st.blocks[old_slot].store(nullptr, std::memory_order_relaxed);
        if (old && fold) fold_into(*old, *fresh, from_schema);
        if (also) fold_into(*also, *fresh, also->schema);
        st.blocks[old_slot ^ 1].store(fresh, std::memory_order_release);
        return old;
    }

    void fold_into(const native_block& old, native_block& fresh, int from_schema) noexcept {
        std::uint64_t moved = 0;
        const auto add_to_zero = [&](std::uint64_t c) { fresh.zero.fetch_add(c, std::memory_order_relaxed); };
        for (const bool negative : {false, true}) {
            const index_range r = index_range::unpack((negative ? old.neg_range : old.pos_range).load(std::memory_order_relaxed));
            for (std::int32_t k = r.lo; k <= r.hi && !r.empty(); ++k) {
                const std::uint64_t c = old.counter(negative, k).load(std::memory_order_relaxed);
                if (c == 0) continue;
                std::int32_t to = 0;
                if (map_index(k, from_schema, fresh.schema, fresh.zero_threshold, to))
                    fresh.counter(negative, to).fetch_add(c, std::memory_order_relaxed);
                else
                    add_to_zero(c);
                moved += c;
            }
        }
        const std::uint64_t zero = old.zero.load(std::memory_order_relaxed), nan = old.nan.load(std::memory_order_relaxed);
        add_to_zero(zero);
        fresh.nan.fetch_add(nan, std::memory_order_relaxed);
        atomic_add(fresh.sum, old.sum.load(std::memory_order_relaxed));
        fresh.preloaded += moved + zero + nan;
    }

    static void gather(const native_block& b, bool negative, index_range series, std::uint64_t* out) noexcept {
        const index_range r = index_range::unpack((negative ? b.neg_range : b.pos_range).load(std::memory_order_acquire));
        for (std::int32_t k = r.lo; k <= r.hi && !r.empty(); ++k)
            if (series.contains(k))
                out[k - series.lo] += b.counter(negative, k).load(std::memory_order_acquire);
    }

    static void to_spans(index_range r, const std::uint64_t* counts, std::vector<native_bucket_span>& spans,
                         std::vector<std::uint64_t>& out) {
        spans.clear();
        out.clear();
        std::int32_t last = 0;  // the index after the last bucket written
        bool any = false;
        for (std::int32_t k = r.lo; k <= r.hi && !r.empty(); ++k) {
            const std::uint64_t c = counts[k - r.lo];
            if (c == 0) continue;
            if (any && k - last <= 2) {  // same span, across a gap of up to two empty buckets
                for (; last < k; ++last) {
                    out.push_back(0);
                    ++spans.back().length;
                }
            } else {
                spans.push_back({any ? k - last : k, 0});
                any = true;
            }
            out.push_back(c);
            ++spans.back().length;
            last = k + 1;
        }
    }

    void release(native_block* b) noexcept {
        if (!b) return;
        account(-static_cast<std::ptrdiff_t>(native_block::bytes_for(b->pos_cap, b->neg_cap)));
        native_block::destroy(b);
    }
    void account(std::ptrdiff_t delta) noexcept {
        own_bytes_.fetch_add(static_cast<std::size_t>(delta), std::memory_order_relaxed);
        if (bytes_) bytes_->fetch_add(static_cast<std::size_t>(delta), std::memory_order_relaxed);
    }

    const native_limits limits_;
    std::atomic<std::size_t>* bytes_;
    native_stripe* stripes_ = nullptr;
    mutable std::atomic<bool> busy_{false};
    std::atomic<std::uint32_t> tag_{0};
    std::atomic<std::uint64_t> series_pos_{index_range{}.pack()};
    std::atomic<std::uint64_t> series_neg_{index_range{}.pack()};
    int schema_;              // under busy_
    std::atomic<int> schema_hint_;  // schema_, for writers outside the flag
    double zero_threshold_;   // under busy_
    double last_reset_;       // under busy_
    std::atomic<double> reset_time_{0.0};
    std::atomic<std::size_t> own_bytes_{0};
    const bool fenced_;  // owners use the asymmetric fence, not the pin
    void (*reset_hook_)(void*) = nullptr;
    void* reset_context_ = nullptr;
};

}  // namespace llmetrics::detail
// ---- end llmetrics/storage/detail/native_cell.hpp ----

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

    // The same increments, each with an exemplar (storage/exemplar.hpp).
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

    // Expiry of a held series (storage/detail/series_map.hpp): every stripe is
    // emptied by one exchange, so a racing increment is either in what was taken
    // or still in its stripe, never lost or counted twice.
    using taken_values = counter_value;
    taken_values take_out() noexcept {
        counter_value out;
        for (std::size_t s = 0; s < detail::stripe_count; ++s) {
            out.integral += base_[s * Stride].integral.exchange(0, std::memory_order_relaxed);
            out.fractional += base_[s * Stride].fractional.exchange(0.0, std::memory_order_relaxed);
        }
        return out;
    }
    void put_back(const taken_values& v) noexcept {
        base_[0].integral.fetch_add(v.integral, std::memory_order_relaxed);
        if (v.fractional != 0.0) detail::atomic_add(base_[0].fractional, v.fractional);
    }
    void drop(taken_values&) noexcept { exemplars_.clear(1); }

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
    void set_to_current_time() noexcept { set(detail::unix_time_seconds()); }

    double value() const noexcept { return value_.load(std::memory_order_relaxed); }
    void clear() noexcept { set(0.0); }

    // Expiry of a held series: back to 0. Putting back restores the old value only
    // if nothing was written since (a racing set() or inc() wins over it).
    using taken_values = double;
    taken_values take_out() noexcept { return value_.exchange(0.0, std::memory_order_relaxed); }
    void put_back(taken_values v) noexcept {
        double zero = 0.0;
        value_.compare_exchange_strong(zero, v, std::memory_order_relaxed, std::memory_order_relaxed);
    }
    void drop(taken_values&) noexcept {}

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

    // Expiry of a held series: each bucket and sum emptied by one exchange, so no
    // observation's bucket is lost or counted twice (count = sum of the buckets in
    // every reading). A racing observation may leave its bucket and take its sum
    // out, or the reverse: the sum is then off by that one value.
    using taken_values = histogram_reading<bucket_count>;
    taken_values take_out() noexcept {
        taken_values out;
        for (std::size_t s = 0; s < detail::stripe_count; ++s) {
            cell& c = base_[s * Stride];
            for (std::size_t b = 0; b <= bucket_count; ++b)
                out.counts[b] += c.counts[b].exchange(0, std::memory_order_relaxed);
            out.sum += c.sum.exchange(0.0, std::memory_order_relaxed);
        }
        return out;
    }
    void put_back(const taken_values& v) noexcept {
        for (std::size_t b = 0; b <= bucket_count; ++b)
            if (v.counts[b]) base_[0].counts[b].fetch_add(v.counts[b], std::memory_order_relaxed);
        detail::atomic_add(base_[0].sum, v.sum);
    }
    void drop(taken_values&) noexcept { exemplars_.clear(bucket_count + 1); }

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

namespace llmetrics {

inline constexpr std::size_t exemplars_per_native_series = 4;

template <class F, std::size_t Stride>
class native_histogram_series {
public:
    static constexpr bool has_classic = F::classic;
    static constexpr std::size_t bucket_count = F::bounds.size();  // classic part; 0 when none
    static constexpr std::size_t exemplar_cells_count = has_classic ? bucket_count + 1 : exemplars_per_native_series;
    using cell = detail::histogram_cell<bucket_count>;

    static constexpr detail::native_limits limits{F::native_schema, F::native_max_buckets, F::native_zero_threshold,
                                                  F::native_max_zero_threshold, F::native_min_reset_seconds};

    native_histogram_series(cell* stripe0, detail::rejection_tally* rejected, std::atomic<std::size_t>* bytes)
        : classic_(stripe0), rejected_(rejected), native_(limits, bytes) {
        if constexpr (has_classic)
            native_.on_reset([](void* self) { static_cast<native_histogram_series*>(self)->clear_classic(); }, this);
    }
    native_histogram_series(const native_histogram_series&) = delete;
    native_histogram_series& operator=(const native_histogram_series&) = delete;

    void observe(double v) noexcept {
        if constexpr (has_classic) {
            if (v != v) return rejected_->note();
            native_.observe(v);
            classic_[detail::this_thread_stripe() * Stride].counts[classic_bucket(v)].fetch_add(
                1, std::memory_order_release);
        } else {
            native_.observe(v);
        }
    }
    template <class Rep, class Period>
    void observe(std::chrono::duration<Rep, Period> d) noexcept {
        observe(std::chrono::duration<double>(d).count());
    }

    void observe(double v, const exemplar& e) noexcept {
        if (has_classic && v != v) return rejected_->note();
        observe(v);
        std::size_t at = 0;
        if constexpr (has_classic) at = classic_bucket(v);
        else at = next_exemplar_.fetch_add(1, std::memory_order_relaxed) % exemplars_per_native_series;
        if (!exemplars_.record(at, e, v, exemplar_cells_count)) rejected_->note();
    }
    template <class Rep, class Period>
    void observe(std::chrono::duration<Rep, Period> d, const exemplar& e) noexcept {
        observe(std::chrono::duration<double>(d).count(), e);
    }

    // exemplar_cells_count cells, or null while none was kept.
    const detail::exemplar_cell* exemplar_cells() const noexcept { return exemplars_.cells(); }

    // The classic counts (per bucket, +Inf last; empty without a classic part) and
    // the native reading, consistent with each other.
    void read(std::array<std::uint64_t, has_classic ? bucket_count + 1 : 0>& classic,
              detail::native_reading& native) const {
        if constexpr (has_classic) {
            classic.fill(0);
            for (std::size_t s = 0; s < detail::stripe_count; ++s)
                for (std::size_t b = 0; b < bucket_count; ++b)
                    classic[b] += classic_[s * Stride].counts[b].load(std::memory_order_acquire);
        }
        native_.read(native);
        if constexpr (has_classic) {
            std::uint64_t finite = 0;
            for (std::size_t b = 0; b < bucket_count; ++b) finite += classic[b];
            classic[bucket_count] = native.count >= finite ? native.count - finite : 0;
        }
    }

    bool has_data() const { return native_.has_data(); }
    // Observations recorded since the last reset (NaN included); only grows until one.
    std::uint64_t observations() const { return native_.observations(); }
    // Unix seconds of the last reset (limit strategy or clear()); 0 when none.
    double reset_time() const noexcept { return native_.reset_time(); }
    std::size_t native_bytes() const noexcept { return native_.bytes(); }
    // Whether threads owning a stripe record with no locked instruction (Linux
    // membarrier: storage/detail/asymmetric_fence.hpp); fixed when the series is made.
    bool native_owners_fenced() const noexcept { return native_.fenced(); }

    void clear() noexcept {
        native_.clear();  // zeroes the classic part too (the reset hook)
        exemplars_.clear(exemplar_cells_count);
    }

    // Expiry of a held series (storage/detail/series_map.hpp; the native part:
    // native_cell::take_out). The classic part is taken first, each counter by one
    // exchange (acquire, pairing with the writer's release): an observation whose
    // classic half is taken has its native half in the blocks taken after it, and
    // one whose native half is in the new blocks leaves its classic half. Settled:
    // no taken native half still has its classic half to come.
    struct taken_values {
        std::array<std::uint64_t, has_classic ? bucket_count + 1 : 0> classic{};
        detail::native_cell::taken_blocks native;
        bool settled() const noexcept {
            std::uint64_t n = 0;
            for (std::uint64_t c : classic) n += c;
            return !has_classic || n == native.observations;
        }
    };
    taken_values take_out() {
        taken_values t;
        if constexpr (has_classic)
            for (std::size_t s = 0; s < detail::stripe_count; ++s)
                for (std::size_t b = 0; b <= bucket_count; ++b)
                    t.classic[b] += classic_[s * Stride].counts[b].exchange(0, std::memory_order_acquire);
        native_.take_out(t.native);
        return t;
    }
    void put_back(taken_values& t) noexcept {
        native_.put_back(t.native);
        if constexpr (has_classic)
            for (std::size_t b = 0; b <= bucket_count; ++b)
                if (t.classic[b]) classic_[0].counts[b].fetch_add(t.classic[b], std::memory_order_release);
    }
    void drop(taken_values& t) noexcept {
        native_.drop(t.native);
        exemplars_.clear(exemplar_cells_count);
    }

    static constexpr std::span<const double> bounds() noexcept { return {F::bounds.data(), F::bounds.size()}; }

private:
    // A racing writer whose native half went to a dropped block may still land its
    // classic half after this: read() clamps the +Inf bucket at zero for that.
    void clear_classic() noexcept {
        for (std::size_t s = 0; s < detail::stripe_count; ++s)
            for (auto& n : classic_[s * Stride].counts) n.store(0, std::memory_order_relaxed);
    }

    // First classic bucket whose upper bound is >= v (+Inf last).
    static std::size_t classic_bucket(double v) noexcept {
        std::size_t lo = 0, hi = bucket_count;
        while (lo < hi) {
            const std::size_t mid = (lo + hi) / 2;
            if (v > F::bounds[mid]) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    cell* classic_;
    detail::rejection_tally* rejected_;
    detail::native_cell native_;
    detail::exemplar_slots exemplars_;
    std::atomic<std::uint32_t> next_exemplar_{0};
};

}  // namespace llmetrics
// ---- end llmetrics/storage/native_series.hpp ----

namespace llmetrics::detail {

constexpr std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

// Striped cells for counters and histograms. The change mark (what an expiring
// family compares between sweeps, series_map.hpp): a counter's summed stripes, a
// histogram's count; both only grow, so an unchanged mark means no write.
template <class Slot, class Cell, std::size_t Stride>
struct striped_slot_factory {
    cell_pool<Cell, Stride> pool;
    rejection_tally* rejected = nullptr;

    void construct(Slot* first, std::size_t n) {
        Cell* base = pool.allocate(n);
        for (std::size_t i = 0; i < n; ++i) new (first + i) Slot(base + i, rejected);
    }
    std::size_t bytes() const noexcept { return pool.bytes(); }
    static std::uint64_t change_mark(const Slot& s) noexcept { return taken_mark(s.value()); }
    // The same for the values take_out() returned; taken_count: its whole increments
    // or observations (what expiry_taken_out() adds up).
    template <class V>
    static std::uint64_t taken_mark(const V& v) noexcept {
        if constexpr (requires { v.integral; }) return v.integral + std::bit_cast<std::uint64_t>(v.fractional);
        else return v.count();
    }
    template <class V>
    static std::uint64_t taken_count(const V& v) noexcept {
        if constexpr (requires { v.integral; }) return v.integral;
        else return v.count();
    }
};

// A gauge's mark is its value: setting the value it has is not seen as a write.
struct gauge_slot_factory {
    rejection_tally* rejected = nullptr;
    void construct(gauge_series* first, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) new (first + i) gauge_series(rejected);
    }
    std::size_t bytes() const noexcept { return 0; }
    static std::uint64_t change_mark(const gauge_series& s) noexcept { return taken_mark(s.value()); }
    static std::uint64_t taken_mark(double v) noexcept { return std::bit_cast<std::uint64_t>(v); }
    static std::uint64_t taken_count(double) noexcept { return 0; }
};

// Native histogram series: the classic part (if any) from a pool, the native
// blocks on the heap, counted in `native_bytes`.
template <class Slot, class Cell, std::size_t Stride, bool Classic>
struct native_slot_factory {
    cell_pool<Cell, Stride> pool;
    rejection_tally* rejected = nullptr;
    std::unique_ptr<std::atomic<std::size_t>> native_bytes = std::make_unique<std::atomic<std::size_t>>(0);

    void construct(Slot* first, std::size_t n) {
        Cell* base = Classic ? pool.allocate(n) : nullptr;
        for (std::size_t i = 0; i < n; ++i)
            new (first + i) Slot(Classic ? base + i : nullptr, rejected, native_bytes.get());
    }
    std::size_t bytes() const noexcept {
        return (Classic ? pool.bytes() : 0) + native_bytes->load(std::memory_order_relaxed);
    }
    // Doubled, so what was taken while a classic half was still to come never
    // matches what a sweep saw: it is put back.
    static std::uint64_t change_mark(const Slot& s) { return 2 * s.observations(); }
    static std::uint64_t taken_mark(const typename Slot::taken_values& t) noexcept {
        return 2 * t.native.observations + (t.settled() ? 0 : 1);
    }
    static std::uint64_t taken_count(const typename Slot::taken_values& t) noexcept { return t.native.observations; }
};

template <class F>
concept native_family = requires { F::native; } && F::native;

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
template <native_family F, std::size_t Stride>
struct slot_types<F, Stride, metric_type::histogram> {
    using slot = native_histogram_series<F, Stride>;
    using factory = native_slot_factory<slot, histogram_cell<F::bounds.size()>, Stride, F::classic>;
};

}  // namespace llmetrics::detail
// ---- end llmetrics/storage/detail/slot_types.hpp ----

// ---- begin llmetrics/storage/held_series.hpp ----
// `held_series<S>`: what `labels(...)` returns for a family with series_ttl<S>.
// It forwards to the series (inc, set, observe, value, ...) and holds it: while a
// held_series exists its series' storage is never given to another label set, so
// a handle kept across an expiry still writes to its own label set, which comes
// back from zero, as a new series, with the next write (the expiry took its
// values out: detail/series_map.hpp). Copies hold too; the last one to go lets
// the storage be reused once the series expired.
//
// Holding costs one atomic add when the handle is made and one when it goes;
// writes through it cost what writes through `S&` cost. Keep one for the hot
// path: `auto tenant = fam.labels("t1");` (`auto&` does not compile: it is a value).

#include <atomic>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

namespace llmetrics {

template <class Series>
class held_series {
public:
    using series_type = Series;

    // `holders` was already counted up for this handle (storage/detail/series_map.hpp).
    held_series(Series& s, std::atomic<std::uint32_t>& holders) noexcept : series_(&s), holders_(&holders) {}
    held_series(const held_series& o) noexcept : series_(o.series_), holders_(o.holders_) {
        // The count is not zero (o holds it), so the storage cannot be retired meanwhile.
        holders_->fetch_add(1, std::memory_order_relaxed);
    }
    held_series(held_series&& o) noexcept
        : series_(o.series_), holders_(std::exchange(o.holders_, nullptr)) {}
    held_series& operator=(held_series o) noexcept {
        std::swap(series_, o.series_);
        std::swap(holders_, o.holders_);
        return *this;
    }
    // Release: this handle's writes happen before whoever retires the storage zeroes it.
    ~held_series() {
        if (holders_) holders_->fetch_sub(1, std::memory_order_release);
    }

    Series& series() const noexcept { return *series_; }
    Series* operator->() const noexcept { return series_; }

    template <class... A>
        requires requires(Series& s, A&&... a) { s.inc(std::forward<A>(a)...); }
    void inc(A&&... a) const noexcept {
        series_->inc(std::forward<A>(a)...);
    }
    template <class... A>
        requires requires(Series& s, A&&... a) { s.dec(std::forward<A>(a)...); }
    void dec(A&&... a) const noexcept {
        series_->dec(std::forward<A>(a)...);
    }
    template <class... A>
        requires requires(Series& s, A&&... a) { s.add(std::forward<A>(a)...); }
    void add(A&&... a) const noexcept {
        series_->add(std::forward<A>(a)...);
    }
    template <class... A>
        requires requires(Series& s, A&&... a) { s.sub(std::forward<A>(a)...); }
    void sub(A&&... a) const noexcept {
        series_->sub(std::forward<A>(a)...);
    }
    template <class... A>
        requires requires(Series& s, A&&... a) { s.set(std::forward<A>(a)...); }
    void set(A&&... a) const noexcept {
        series_->set(std::forward<A>(a)...);
    }
    void set_to_current_time() const noexcept
        requires requires(Series& s) { s.set_to_current_time(); }
    {
        series_->set_to_current_time();
    }
    template <class... A>
        requires requires(Series& s, A&&... a) { s.observe(std::forward<A>(a)...); }
    void observe(A&&... a) const noexcept {
        series_->observe(std::forward<A>(a)...);
    }
    auto value() const noexcept
        requires requires(const Series& s) { s.value(); }
    {
        return series_->value();
    }

private:
    Series* series_;
    std::atomic<std::uint32_t>* holders_;
};

namespace detail {

template <class T>
inline constexpr bool is_held_series = false;
template <class S>
inline constexpr bool is_held_series<held_series<S>> = true;

// The series behind what labels(...) returned, held or not: code written for
// both kinds of family (the instrumentation) writes through this.
template <class S>
    requires(!is_held_series<std::remove_cv_t<S>>)
S& series_of(S& s) noexcept {
    return s;
}
template <class S>
S& series_of(const held_series<S>& h) noexcept {
    return h.series();
}

}  // namespace detail
}  // namespace llmetrics
// ---- end llmetrics/storage/held_series.hpp ----

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

// 0 when the descriptor has no series_ttl<S> (or is not built on family_base).
template <class F>
constexpr std::int64_t series_ttl_seconds_of() {
    if constexpr (requires { F::series_ttl_seconds; }) return F::series_ttl_seconds;
    else return 0;
}

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
    // Whether series expire (series_ttl<S>); labels(...) then returns held_series.
    static constexpr bool expiring = detail::series_ttl_seconds_of<F>() > 0;
    using handle_type = std::conditional_t<expiring, held_series<series_type>, series_type&>;

    family() : series_(F::max_series, make_factory(&rejected_), detail::series_ttl_seconds_of<F>()) {
        if constexpr (free_count == 0 && !expiring) fixed_ = series_.find_or_create({});
    }
    family(const family&) = delete;
    family& operator=(const family&) = delete;

    // The series for one label set: values positionally in declared order (strings
    // or lm::value<"...">), or all by name with lm::label<"name">{value}. The
    // reference stays valid for the family's life; keep it for the hot path.
    // With series_ttl<S>: a held_series, which keeps its label set's storage
    // while it exists (keep it by value: `auto h = fam.labels(...)`).
    template <class... A>
    handle_type labels(const A&... args) {
        const auto [values, closed_ok] = resolve(args...);
        if constexpr (expiring) return held_for(values, closed_ok);
        else return series_for(values, closed_ok);
    }

    // Removes a label set from exposition and zeroes it. Handles to it stay valid:
    // the series comes back (from zero) when labels(...) asks for it again or when
    // a handle kept from before writes to it (a gauge: sets it to non-zero), so
    // cached handles never write into the void. With value sets, every combination
    // sharing the free-form values goes. Returns whether it existed. With
    // series_ttl<S> it does what expiry does: hides the label set and zeroes it,
    // its storage reused at once when no held_series holds it.
    template <class... A>
    bool remove(const A&... args) {
        const auto [values, closed_ok] = resolve(args...);
        if (!closed_ok) return false;
        const auto free = free_values(values);
        return series_.remove(free);
    }

    // Removes every series (as remove() does for each); handles stay valid.
    void reset() { series_.clear(); }

    // With series_ttl<S>: hides the series whose value has not changed for S
    // seconds of the family's clock and retires those nobody holds; returns how
    // many it hid. Every scrape does the same first.
    std::size_t expire_series() {
        if constexpr (expiring) return series_.sweep();
        else return 0;
    }
    // The registry's scrape sweeps every family before it reads the self-metrics,
    // so llmetrics_series_expired_total counts what that same scrape leaves out.
    void sweep_before_scrape() const {
        if constexpr (expiring) series_.sweep();
    }
    // Where expiry reads the time (steady_clock by default); set it before other
    // threads use the family. Tests and simulations hand in a manual_clock.
    void set_time_source(time_source clock) noexcept {
        if constexpr (expiring) series_.set_time_source(clock);
    }
    // Series hidden by expiry so far.
    std::uint64_t expired() const noexcept { return series_.expired(); }
    // What hiding took out of series a held_series kept (they restart from zero):
    // whole counter increments, histogram observations; 0 for gauges.
    std::uint64_t taken_out_by_expiry() const noexcept { return series_.taken_out(); }

    // Label sets in use (removed ones included, up to max_series; with
    // series_ttl<S>, hidden ones while a handle holds them).
    std::size_t size() const noexcept { return series_.size(); }
    // Label sets that went to the overflow series because the bound was reached
    // or a value was outside its value_set.
    std::uint64_t dropped() const noexcept { return series_.dropped() + bad_values_.count.load(std::memory_order_relaxed); }
    // Increments and observations ignored (negative, NaN).
    std::uint64_t rejected() const noexcept { return rejected_.count.load(std::memory_order_relaxed); }
    // Heap bytes held by this family's series.
    std::size_t memory_bytes() const noexcept { return series_.bytes(); }

    template <encoder E>
    void visit(E& e, std::string_view name) const {
        visit_shown(e, name, true);
    }
    // The same for a scrape that has just called sweep_before_scrape(): no second
    // pass over the expiry marks.
    template <encoder E>
    void visit_after_sweep(E& e, std::string_view name) const {
        visit_shown(e, name, false);
    }

private:
    template <encoder E>
    void visit_shown(E& e, std::string_view name, bool sweep_first) const {
        e.begin_family({name, F::help, F::unit, F::type});
        std::array<std::string_view, label_count> values;
        const labels_view view{std::span<const std::string_view>(F::label_names::names), values};
        auto one = [&](const node_type& n) {
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
        };
        if constexpr (expiring) {
            series_.visit_shown(one, sweep_first);
        } else {
            series_.for_each([&](const node_type& n) {
                if (n.live.load(std::memory_order_acquire) || has_data(n)) one(n);
            });
        }
        e.end_family();
    }

    using map_type = detail::series_map<series_type, free_count, combinations, typename types::factory, expiring>;
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
            // A named bool: GCC would otherwise print the whole call with F spelled out.
            constexpr bool values_in_sets =
                static_values_allowed<A...>(std::make_index_sequence<sizeof...(A)>{});
            static_assert(values_in_sets,
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
        return n->slots()[combo_of(values)];
    }

    // The same for an expiring family: the map counted a holder for us.
    held_series<series_type> held_for(const std::array<std::string_view, label_count>& values, bool closed_ok) {
        if constexpr (layout::closed_count > 0) {
            if (!closed_ok) [[unlikely]] {
                bad_values_.note();
                return hold(series_.overflow_node(), 0);
            }
        }
        node_type* n;
        if constexpr (layout::closed_count == 0) n = series_.find_or_create(values);
        else n = series_.find_or_create(free_values(values));
        return hold(n, n->overflow ? 0 : combo_of(values));
    }
    static held_series<series_type> hold(node_type* n, std::size_t slot) noexcept {
        return {n->slots()[slot], n->expiry.holders};
    }

    static std::size_t combo_of([[maybe_unused]] const std::array<std::string_view, label_count>& values) noexcept {
        std::size_t combo = 0;
        if constexpr (combinations > 1)
            for (std::size_t pos = 0; pos < label_count; ++pos)
                if (layout::closed_sizes[pos]) combo += layout::closed_index(pos, values[pos]) * radix[pos];
        return combo;
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
            } else if constexpr (detail::native_family<F>) {
                if (s.has_data()) return true;
            } else {
                if (s.value().count() != 0) return true;
            }
        }
        return false;
    }

    // Exemplars are read only for series that ever had one (their cells exist);
    // the encoder decides whether to write them.
    template <class E>
    static void emit(E& e, const labels_view& view, const series_type& s, double created) {
        if constexpr (F::type == metric_type::counter) {
            detail::exemplar_reading reading;
            exemplar_view ex;
            const exemplar_view* given = nullptr;
            if (const auto* cell = s.exemplar_cells(); cell && reading.load(*cell)) {
                ex = reading.view();
                given = &ex;
            }
            e.counter(view, s.value(), created, given);
        } else if constexpr (F::type == metric_type::gauge) {
            e.gauge(view, s.value());
        } else if constexpr (detail::native_family<F>) {
            emit_native(e, view, s, created);
        } else {
            const auto reading = s.value();
            const std::span<const std::uint64_t> counts(reading.counts);
            constexpr std::size_t cells = series_type::bucket_count + 1;
            if (const auto* cell = s.exemplar_cells()) {
                std::array<detail::exemplar_reading, cells> readings;
                std::array<exemplar_view, cells> views{};
                for (std::size_t i = 0; i < cells; ++i)
                    if (readings[i].load(cell[i])) views[i] = readings[i].view();
                e.histogram(view, series_type::bounds(), counts, reading.sum, created,
                            std::span<const exemplar_view>(views));
            } else {
                e.histogram(view, series_type::bounds(), counts, reading.sum, created, {});
            }
        }
    }

    // The native reading goes into a buffer kept per thread, so a scrape allocates
    // only while it grows. The start timestamp moves with a reset.
    template <class E>
    static void emit_native(E& e, const labels_view& view, const series_type& s, double created) {
        thread_local detail::native_reading native;
        std::array<std::uint64_t, series_type::has_classic ? series_type::bucket_count + 1 : 0> classic{};
        s.read(classic, native);
        created = std::max(created, s.reset_time());
        const std::span<const std::uint64_t> counts(classic);
        constexpr std::size_t cells = series_type::exemplar_cells_count;
        std::array<detail::exemplar_reading, cells> readings;
        std::array<exemplar_view, cells> views{};
        std::size_t kept = 0;
        if (const auto* cell = s.exemplar_cells()) {
            for (std::size_t i = 0; i < cells; ++i) {
                if (!readings[i].load(cell[i])) continue;
                // Per classic bucket (positions matter); native-only: just those present.
                views[series_type::has_classic ? i : kept++] = readings[i].view();
            }
            if (series_type::has_classic) kept = cells;
        }
        e.native_histogram(view, native.view(), series_type::bounds(), counts, created,
                           std::span<const exemplar_view>(views.data(), kept));
    }

    detail::rejection_tally rejected_;
    detail::rejection_tally bad_values_;
    mutable map_type series_;  // mutable: a scrape of an expiring family sweeps it
    node_type* fixed_ = nullptr;
};

}  // namespace llmetrics
// ---- end llmetrics/storage/family_store.hpp ----

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
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/at.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/tuple.hpp>


// ---- begin llmetrics/registry/detail/emit_snapshot.hpp ----
// Feeds one collector snapshot to an encoder (begin_family .. end_family), its
// exemplars included.

#include <cstddef>
#include <span>
#include <string_view>
#include <variant>
#include <vector>


namespace llmetrics::detail {

template <encoder E>
void emit_snapshot(E& e, const family_snapshot& family) {
    e.begin_family({family.name, family.help, family.unit, family.type});
    std::vector<std::string_view> names, values;
    std::vector<std::string_view> exemplar_text;  // names, then values, of each exemplar in turn
    std::vector<exemplar_view> exemplars;
    for (const series_snapshot& s : family.series) {
        names.clear();
        values.clear();
        for (const auto& [name, value] : s.labels) {
            names.push_back(name);
            values.push_back(value);
        }
        const labels_view labels{names, values};

        // Reserved up front: the views point into exemplar_text.
        std::size_t text = 0;
        for (const exemplar_snapshot& x : s.exemplars) text += 2 * x.labels.size();
        exemplar_text.clear();
        exemplar_text.reserve(text);
        exemplars.clear();
        for (const exemplar_snapshot& x : s.exemplars) {
            const std::size_t at = exemplar_text.size(), n = x.labels.size();
            for (const auto& label : x.labels) exemplar_text.push_back(label.first);
            for (const auto& label : x.labels) exemplar_text.push_back(label.second);
            exemplars.push_back({std::span<const std::string_view>(exemplar_text.data() + at, n),
                                 std::span<const std::string_view>(exemplar_text.data() + at + n, n), x.value,
                                 x.timestamp});
        }

        if (const auto* c = std::get_if<counter_value>(&s.value)) {
            const exemplar_view* x = !exemplars.empty() && exemplars[0].present() ? &exemplars[0] : nullptr;
            e.counter(labels, *c, s.created, x);
        } else if (const auto* g = std::get_if<double>(&s.value)) {
            e.gauge(labels, *g);
        } else if (const auto* h = std::get_if<histogram_value>(&s.value)) {
            // One per bucket or none: a list of another length is left out.
            std::span<const exemplar_view> per_bucket;
            if (exemplars.size() == h->bounds.size() + 1) per_bucket = exemplars;
            e.histogram(labels, h->bounds, h->counts, h->sum, s.created, per_bucket);
        } else if (const auto* n = std::get_if<native_histogram_value>(&s.value)) {
            std::span<const exemplar_view> given = exemplars;
            if (!n->classic.counts.empty() && exemplars.size() != n->classic.bounds.size() + 1) given = {};
            e.native_histogram(labels, n->view(), n->classic.bounds, n->classic.counts, s.created, given);
        }
    }
    e.end_family();
}

}  // namespace llmetrics::detail
// ---- end llmetrics/registry/detail/emit_snapshot.hpp ----

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

    // Sweeps every family with series_ttl<S> (a scrape does it per family too);
    // returns how many series it hid. Call it where no scrape comes, or to expire
    // on a schedule of your own.
    std::size_t expire_series() {
        std::size_t hidden = 0;
        boost::hana::for_each(families_, [&](auto& fam) { hidden += fam.expire_series(); });
        return hidden;
    }
    // The clock expiry reads in every family with series_ttl<S> (steady_clock by
    // default); set it before other threads use the registry.
    void set_time_source(time_source clock) noexcept {
        boost::hana::for_each(families_, [&](auto& fam) { fam.set_time_source(clock); });
    }

    // Calls f(family<F>&) for each declared family, in declaration order.
    template <class Fn>
    void for_each_family(Fn&& fn) {
        boost::hana::for_each(families_, [&](auto& fam) { fn(fam); });
    }

    template <encoder E>
    void visit(E& e) const {
        std::vector<family_snapshot> gathered = collect_runtime();
        drop_taken_names(gathered);
        if constexpr ((family<Fs>::expiring || ...))
            boost::hana::for_each(families_, [](const auto& fam) { fam.sweep_before_scrape(); });
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
            // visit() swept the expiring families first (sweep_before_scrape).
            boost::hana::at_c<I>(r.families_).visit_after_sweep(e, names[I]);
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
        if constexpr ((family<Fs>::expiring || ...)) {
            family_snapshot expired{"llmetrics_series_expired_total",
                                    "Series hidden because their value did not change for the family's "
                                    "series_ttl",
                                    "", metric_type::counter, {}};
            std::size_t i = 0;
            boost::hana::for_each(families_, [&](const auto& fam) {
                const std::string_view name = names[i++];
                if constexpr (std::remove_cvref_t<decltype(fam)>::expiring)
                    expired.series.push_back({{{"family", std::string(name)}}, counter_value{fam.expired(), 0.0}});
            });
            out.push_back(std::move(expired));
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

namespace detail {

// Whether F is a family whose declaration passed its checks; non-families pass
// here and are reported by registry_base.
template <class F>
struct family_ok : std::true_type {};
template <class F>
    requires requires { F::llmetrics_error; }
struct family_ok<F> : std::bool_constant<F::llmetrics_error == family_error::none> {};

// Stands in for registry_base when a family failed its checks, so the family's
// own message is the only error.
struct invalid_registry {};

// `sizeof(Fs)` instantiates each family right in registry's base clause (one
// note away from the user); a failed family then selects invalid_registry.
template <fixed_string P, bool Complete, class... Fs>
using registry_base_for = std::conditional_t<Complete && (family_ok<Fs>::value && ...),
                                             registry_base<P, Fs...>, invalid_registry>;

}  // namespace detail

template <class... Ts>
class registry
    : public detail::registry_base_for<fixed_string<0>{""}, ((sizeof(Ts) > 0) && ...), Ts...> {};

template <fixed_string P, class... Fs>
class registry<prefix<P>, Fs...> : public detail::registry_base_for<P, ((sizeof(Fs) > 0) && ...), Fs...> {};

}  // namespace llmetrics
// ---- end llmetrics/registry/registry.hpp ----

// ---- begin llmetrics/exposition/canonical_number.hpp ----
// The spelling of bucket bounds and quantiles that every format writes (the
// OpenMetrics canonical form, see detail/number_format.hpp): 0.0 0.25 1.0 1e+06.

#include <string>


// ---- begin llmetrics/exposition/detail/number_format.hpp ----
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
#include <string_view>
#include <system_error>


// ---- begin llmetrics/exposition/detail/buffered_output.hpp ----
// How encoders write: put() appends a piece to any text_output, and
// buffered_output gathers the pieces into large blocks for the real output.

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>


// ---- begin llmetrics/exposition/output.hpp ----
// Where rendered text goes: any buffer that can append characters. Supported out
// of the box: std::string, fmt::memory_buffer (anything with append(first, last);
// nothing here names fmt, so it is used when the program has it and never needed),
// and std::ostream (anything with write(ptr, n)).

#include <cstddef>
#include <iosfwd>

namespace llmetrics {

template <class Out>
concept text_output = requires(Out& out, const char* p, std::size_t n) {
    out.append(p, p + n);
} || requires(Out& out, const char* p, std::size_t n) {
    out.write(p, static_cast<std::streamsize>(n));
};

}  // namespace llmetrics
// ---- end llmetrics/exposition/output.hpp ----

namespace llmetrics::detail {

// Copies n <= 16 bytes with fixed-size moves (two overlapping ones), no call.
[[gnu::always_inline]] inline void copy_small(char* d, const char* p, std::size_t n) noexcept {
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
}

// Copies s to d and returns its end. Pieces up to 64 bytes (names, label sets)
// go in 16-byte moves, the last one overlapping; a call to memcpy costs more
// than the copy at these sizes.
[[gnu::always_inline]] inline char* copy_piece(char* d, std::string_view s) noexcept {
    const std::size_t n = s.size();
    if (n <= 16) [[likely]] {
        copy_small(d, s.data(), n);
    } else if (n <= 64) {
        for (std::size_t i = 0; i + 16 < n; i += 16) std::memcpy(d + i, s.data() + i, 16);
        std::memcpy(d + n - 16, s.data() + n - 16, 16);
    } else {
        std::memcpy(d, s.data(), n);
    }
    return d + n;
}

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

    // Inlined into every encoder: most pieces are a few bytes, copied with
    // fixed-size moves; anything else takes the out-of-line path.
    [[gnu::always_inline]] void write(const char* p, std::size_t n) {
        if (n <= 16 && sizeof(buffer_) - used_ >= 16) [[likely]] {
            copy_small(buffer_ + used_, p, n);
            used_ += n;
            return;
        }
        write_large(p, n);
    }

    // Room for n contiguous bytes (flushing first when needed), or null when n
    // exceeds the whole buffer. A writer fills it through a local pointer, which
    // stays in a register (stores through a member pointer would force the
    // compiler to reload it after every char store), then commits the end.
    [[gnu::always_inline]] char* reserve(std::size_t n) {
        if (n > sizeof(buffer_) - used_) [[unlikely]] {
            flush();
            if (n > sizeof(buffer_)) return nullptr;
        }
        return buffer_ + used_;
    }
    [[gnu::always_inline]] void commit(const char* end) noexcept { used_ = static_cast<std::size_t>(end - buffer_); }

    void flush() {
        if (used_ != 0) forward(buffer_, used_);
        used_ = 0;
    }

private:
    [[gnu::noinline]] void write_large(const char* p, std::size_t n) {
        if (n > sizeof(buffer_) - used_) {
            flush();
            if (n >= sizeof(buffer_)) return forward(p, n);
        }
        std::memcpy(buffer_ + used_, p, n);
        used_ += n;
    }
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
[[gnu::always_inline]] inline void put(Out& out, std::string_view text) {
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
[[gnu::always_inline]] inline void put(Out& out, char c) {
    put(out, std::string_view(&c, 1));
}

template <class Out>
void buffered_output<Out>::forward(const char* p, std::size_t n) {
    put(out_, std::string_view(p, n));
}

}  // namespace llmetrics::detail
// ---- end llmetrics/exposition/detail/buffered_output.hpp ----

namespace llmetrics::detail {

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
    if constexpr (is_buffered_output<Out>::value) {
        if (char* d = out.reserve(number_buffer_size); d && std::isfinite(v)) [[likely]]
            return out.commit(std::to_chars(d, d + number_buffer_size, v).ptr);
    }
    char buf[number_buffer_size];
    put(out, std::string_view(buf, format_double(buf, v)));
}

template <text_output Out>
void write_uint(Out& out, std::uint64_t v) {
    if constexpr (is_buffered_output<Out>::value) {
        if (char* d = out.reserve(number_buffer_size)) [[likely]]
            return out.commit(std::to_chars(d, d + number_buffer_size, v).ptr);
    }
    char buf[number_buffer_size];
    put(out, std::string_view(buf, format_uint(buf, v)));
}

template <text_output Out>
void write_int(Out& out, std::int64_t v) {
    if (v < 0) put(out, '-');
    write_uint(out, v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v));
}

template <text_output Out>
void write_canonical(Out& out, double v) {
    char buf[number_buffer_size];
    put(out, std::string_view(buf, format_canonical(buf, v)));
}

// A Unix timestamp (created, exemplar): one in whole microseconds, as
// core/detail/unix_time.hpp makes them, goes out as seconds and up to six
// decimals. Between 1973 (1e8 s) and 2223 (8e9 s < 2^33) doubles are spaced
// closer than 10^-6, so with a fraction that text is exactly the shortest
// round-trip one write_double would find (the exponent form is 4 characters
// longer), at a fraction of the cost; anything else goes through write_double.
template <text_output Out>
void write_timestamp(Out& out, double v) {
    if (v >= 1e8 && v < 8e9) {
        const auto micros = static_cast<std::uint64_t>(std::llround(v * 1e6));
        if (static_cast<double>(micros) / 1e6 == v) {
            std::uint64_t fraction = micros % 1000000;
            // Whole seconds: the exponent form may be the shorter one ("1.7e+09").
            if (fraction == 0) return write_double(out, v);
            char buf[number_buffer_size];
            char* end = std::to_chars(buf, buf + number_buffer_size, micros / 1000000).ptr;
            {
                int digits = 6;
                while (fraction % 10 == 0) {
                    fraction /= 10;
                    --digits;
                }
                *end++ = '.';
                for (int i = digits - 1; i >= 0; --i, fraction /= 10) end[i] = static_cast<char>('0' + fraction % 10);
                end += digits;
            }
            return put(out, std::string_view(buf, static_cast<std::size_t>(end - buf)));
        }
    }
    write_double(out, v);
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

}  // namespace llmetrics::detail
// ---- end llmetrics/exposition/detail/number_format.hpp ----

namespace llmetrics {

// The spelling of a bucket bound or quantile in every format llmetrics writes:
// use it to build alert rules and dashboards that
// match `le` label values byte for byte.
inline std::string canonical_number(double v) {
    char buf[detail::number_buffer_size];
    return std::string(buf, detail::format_canonical(buf, v));
}

}  // namespace llmetrics
// ---- end llmetrics/exposition/canonical_number.hpp ----

// ---- begin llmetrics/exposition/format.hpp ----
// The exposition formats llmetrics writes: one table that rendering, content
// types and negotiation all read. A format is one entry in `format_list` (its
// media type for negotiation, its content type, its encoder) plus a value of
// `format`; render(), content_type(), to_string() and negotiate() follow.

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>


namespace llmetrics {

// prometheus_v1 is Prometheus text 1.0.0 (Prometheus 3): for the legacy-valid
// names llmetrics writes, the 0.0.4 body under its own content type. protobuf is
// the delimited io.prometheus.client.MetricFamily stream, the one format with
// native histograms.
enum class format { prometheus, openmetrics, json, prometheus_v1, protobuf };

// Prometheus 3's `escaping=` parameter: how a scraper wants names outside
// [a-zA-Z_:][a-zA-Z0-9_:]* written. Every name llmetrics writes is inside, so
// each scheme leaves the body as it is; the answer names the one asked for.
enum class escaping_scheme { underscores, dots, values, allow_utf8 };

constexpr std::string_view to_string(escaping_scheme e) noexcept {
    switch (e) {
        case escaping_scheme::dots: return "dots";
        case escaping_scheme::values: return "values";
        case escaping_scheme::allow_utf8: return "allow-utf-8";
        case escaping_scheme::underscores: break;
    }
    return "underscores";
}

template <text_output Out>
class prometheus_text_encoder;  // exposition/prometheus_text.hpp
template <text_output Out>
class openmetrics_encoder;  // exposition/openmetrics.hpp
template <text_output Out>
class json_encoder;  // exposition/json.hpp
template <text_output Out>
class protobuf_encoder;  // exposition/protobuf.hpp

namespace formats {

// What one entry says. Negotiation (negotiate.hpp) matches `media_type/
// media_subtype`, and `media_version` when the Accept header names a version
// (empty: the format has none); `fallback` is the one format written when
// nothing else is acceptable, also preferred among formats reached only through
// a wildcard; `escaping`: the answer's content type carries `escaping=` (the
// formats Prometheus 3 sends the parameter for).
struct prometheus {
    static constexpr format id = format::prometheus;
    static constexpr std::string_view name = "prometheus";
    static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";
    static constexpr std::string_view media_type = "text", media_subtype = "plain", media_version = "0.0.4";
    static constexpr bool fallback = true, escaping = false;
    template <class Out>
    using encoder = prometheus_text_encoder<Out>;
};

struct prometheus_v1 {
    static constexpr format id = format::prometheus_v1;
    static constexpr std::string_view name = "prometheus_v1";
    static constexpr std::string_view content_type = "text/plain; version=1.0.0; charset=utf-8";
    static constexpr std::string_view media_type = "text", media_subtype = "plain", media_version = "1.0.0";
    static constexpr bool fallback = false, escaping = true;
    template <class Out>
    using encoder = prometheus_text_encoder<Out>;
};

struct openmetrics {
    static constexpr format id = format::openmetrics;
    static constexpr std::string_view name = "openmetrics";
    static constexpr std::string_view content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    static constexpr std::string_view media_type = "application", media_subtype = "openmetrics-text",
                                      media_version = "1.0.0";
    static constexpr bool fallback = false, escaping = true;
    template <class Out>
    using encoder = openmetrics_encoder<Out>;
};

struct json {
    static constexpr format id = format::json;
    static constexpr std::string_view name = "json";
    static constexpr std::string_view content_type = "application/json";
    static constexpr std::string_view media_type = "application", media_subtype = "json", media_version = "";
    static constexpr bool fallback = false, escaping = false;
    template <class Out>
    using encoder = json_encoder<Out>;
};

// Matched only by a range naming this type with both parameters as given here
// (Prometheus and client_golang always send them); a wildcard reaches it too.
struct protobuf {
    static constexpr format id = format::protobuf;
    static constexpr std::string_view name = "protobuf";
    static constexpr std::string_view content_type =
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";
    static constexpr std::string_view media_type = "application", media_subtype = "vnd.google.protobuf",
                                      media_version = "";
    static constexpr std::string_view media_proto = "io.prometheus.client.MetricFamily", media_encoding = "delimited";
    static constexpr bool fallback = false, escaping = true;
    template <class Out>
    using encoder = protobuf_encoder<Out>;
};

}  // namespace formats

namespace detail {
template <class First, class... Rest>
constexpr auto fallback_format() {
    if constexpr (First::fallback || sizeof...(Rest) == 0) return First{};
    else return fallback_format<Rest...>();
}

// "<Entry's content type>; escaping=<E>", built once at compile time.
template <class Entry, escaping_scheme E>
struct escaped_content_type {
    static constexpr std::string_view base = Entry::content_type, key = "; escaping=", scheme = to_string(E);
    static constexpr std::size_t size = base.size() + key.size() + scheme.size();
    static constexpr std::array<char, size> chars = [] {
        std::array<char, size> out{};
        std::size_t i = 0;
        for (const std::string_view part : {base, key, scheme})
            for (const char c : part) out[i++] = c;
        return out;
    }();
    static constexpr std::string_view value{chars.data(), size};
};
}  // namespace detail

template <class... Formats>
struct format_table {
    static_assert(((Formats::fallback ? 1 : 0) + ...) == 1,
                  "llmetrics: exactly one entry of a format_table must have fallback = true");
    using fallback = decltype(detail::fallback_format<Formats...>());
    static constexpr std::size_t size = sizeof...(Formats);

    // Calls f(entry) for each entry, in table order.
    template <class F>
    static constexpr void for_each(F&& f) {
        (f(Formats{}), ...);
    }

    // Calls f(entry) for the entry of `id` (the fallback when no entry has it) and
    // returns what it returns.
    template <class F>
    static constexpr auto with(format id, F&& f) {
        bool done = false;
        if constexpr (std::is_void_v<decltype(f(fallback{}))>) {
            ((!done && Formats::id == id ? (f(Formats{}), done = true) : false), ...);
            if (!done) f(fallback{});
        } else {
            decltype(f(fallback{})) out{};
            ((!done && Formats::id == id ? (out = f(Formats{}), done = true) : false), ...);
            return done ? out : f(fallback{});
        }
    }
};

// Table order is the preference among formats an Accept header names with equal quality.
// (`text/plain` without a version: 0.0.4 before 1.0.0, which every scraper reads;
// protobuf last: a binary body only where it is preferred.)
using format_list = format_table<formats::openmetrics, formats::prometheus, formats::prometheus_v1, formats::json,
                                 formats::protobuf>;

// The media type of `f` without the `escaping=` parameter.
constexpr std::string_view content_type(format f) noexcept {
    return format_list::with(f, [](auto entry) { return decltype(entry)::content_type; });
}

// The content type to answer with: `escaping=<e>` appended where the format has it.
constexpr std::string_view content_type(format f, escaping_scheme e) noexcept {
    return format_list::with(f, [e](auto entry) -> std::string_view {
        using entry_type = decltype(entry);
        if constexpr (!entry_type::escaping) {
            return entry_type::content_type;
        } else {
            switch (e) {
                case escaping_scheme::dots: return detail::escaped_content_type<entry_type, escaping_scheme::dots>::value;
                case escaping_scheme::values:
                    return detail::escaped_content_type<entry_type, escaping_scheme::values>::value;
                case escaping_scheme::allow_utf8:
                    return detail::escaped_content_type<entry_type, escaping_scheme::allow_utf8>::value;
                case escaping_scheme::underscores: break;
            }
            return detail::escaped_content_type<entry_type, escaping_scheme::underscores>::value;
        }
    });
}

constexpr std::string_view to_string(format f) noexcept {
    return format_list::with(f, [](auto entry) { return decltype(entry)::name; });
}

}  // namespace llmetrics
// ---- end llmetrics/exposition/format.hpp ----

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
//   equals it; "le" is a string in the canonical spelling of detail/number_format.hpp.
// - Strings are escaped as RFC 8259 requires (`\"`, `\\`, \n \r \t \b \f and
//   \u00XX for the other control characters); everything else is UTF-8 as is.
// - A native histogram adds its native buckets (after the classic "buckets" of a
//   family that has both; native-only: no "buckets"), then "sum" and "count"
//   (zero, bucket and NaN observations):
//     {"labels":{...},"native":{"schema":3,"zero_threshold":2.938735877055719e-39,
//      "zero_count":1,"positive":[{"index":-5,"count":2},{"index":12,"count":1}],
//      "negative":[]},"sum":3.5,"count":4}
//   "index" i is the bucket (b^(i-1), b^i] with b = 2^(2^-schema) ([-b^i, -b^(i-1))
//   in "negative"), ascending; "count" is that bucket's own (not cumulative) count;
//   only buckets the histogram holds are listed (empty ones may be among them).
// - Units show as "unit"; created timestamps and exemplars are left out.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>


// ---- begin llmetrics/exposition/detail/json_text.hpp ----
// JSON strings and numbers as RFC 8259 writes them (the JSON encoder and the
// request log share them).

#include <cmath>
#include <cstddef>
#include <string_view>


namespace llmetrics::detail {


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

}  // namespace llmetrics::detail
// ---- end llmetrics/exposition/detail/json_text.hpp ----

// ---- begin llmetrics/exposition/detail/text_lines.hpp ----
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

// A native histogram in a classic-only format (Prometheus text, OpenMetrics 1.0):
// the classic part when the family has one, else as client_golang renders a
// native-only histogram there: the `+Inf` bucket (= count), `_sum` and `_count`,
// with the most recent exemplar on the `+Inf` bucket.
template <class Encoder>
void native_as_classic(Encoder& e, labels_view labels, const native_histogram_view& h,
                       std::span<const double> bounds, std::span<const std::uint64_t> counts, double created,
                       std::span<const exemplar_view> exemplars) {
    if (!counts.empty()) return e.histogram(labels, bounds, counts, h.sum, created, exemplars);
    const std::uint64_t all = h.count;
    std::span<const exemplar_view> latest;
    for (std::size_t i = 0; i < exemplars.size(); ++i)
        if (exemplars[i].present() && (latest.empty() || !(exemplars[i].timestamp < latest[0].timestamp)))
            latest = exemplars.subspan(i, 1);
    e.histogram(labels, {}, std::span<const std::uint64_t>(&all, 1), h.sum, created, latest);
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

// The same pieces written into reserved room (buffered_output::reserve): each
// returns the end of what it wrote (copy_piece: buffered_output.hpp).
inline char* copy_escaped(char* d, std::string_view text, bool quote) noexcept {
    if (!needs_escaping(text, quote)) return copy_piece(d, text);
    for (const char c : text) {
        if (c == '\\' || c == '\n' || (c == '"' && quote)) {
            *d++ = '\\';
            *d++ = c == '\n' ? 'n' : c;
        } else {
            *d++ = c;
        }
    }
    return d;
}

// Room write_label_pairs needs at most (every value byte escaped).
inline std::size_t label_pairs_bound(labels_view labels) noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < labels.names.size(); ++i) n += labels.names[i].size() + 2 * labels.values[i].size() + 4;
    return n;
}

inline char* copy_label_pairs(char* d, labels_view labels) noexcept {
    for (std::size_t i = 0; i < labels.names.size(); ++i) {
        if (i != 0) *d++ = ',';
        d = copy_piece(d, labels.names[i]);
        *d++ = '=';
        *d++ = '"';
        d = copy_escaped(d, labels.values[i], true);
        *d++ = '"';
    }
    return d;
}

// `{pairs[,extra_name="extra_value"]} `: the part of a sample line after the name;
// copy_pairs(d) writes the pairs at d and returns their end.
template <class CopyPairs>
char* copy_label_block(char* d, bool any_label, std::string_view extra_name, std::string_view extra_value,
                       CopyPairs copy_pairs) noexcept {
    const bool extra = !extra_name.empty();
    if (any_label || extra) {
        *d++ = '{';
        d = copy_pairs(d);
        if (extra) {
            if (any_label) *d++ = ',';
            d = copy_piece(d, extra_name);
            *d++ = '=';
            *d++ = '"';
            d = copy_piece(d, extra_value);
            *d++ = '"';
        }
        *d++ = '}';
    }
    *d++ = ' ';
    return d;
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
    if constexpr (is_buffered_output<Out>::value) {
        const std::size_t room = base.size() + suffix.size() + label_pairs_bound(labels) + extra_name.size() +
                                 extra_value.size() + 8;
        if (char* d = out.reserve(room)) [[likely]] {
            d = copy_piece(d, base);
            d = copy_piece(d, suffix);
            return out.commit(copy_label_block(d, !labels.names.empty(), extra_name, extra_value,
                                               [&](char* p) noexcept { return copy_label_pairs(p, labels); }));
        }
    }
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
    explicit series_labels(labels_view labels) noexcept : labels_(labels) {
        if (label_pairs_bound(labels) <= sizeof(pairs_.data))
            pairs_.size = static_cast<std::size_t>(copy_label_pairs(pairs_.data, labels) - pairs_.data);
        else
            write_label_pairs(pairs_, labels);
    }

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

    // Whether the pairs fitted the stack buffer; pairs() is valid only then.
    bool escaped() const noexcept { return !pairs_.overflow; }
    std::string_view pairs() const noexcept { return pairs_.view(); }
    bool any() const noexcept { return !labels_.names.empty(); }

private:
    labels_view labels_;
    stack_text<1024> pairs_;
};

template <text_output Out>
void write_sample_start(Out& out, std::string_view base, std::string_view suffix, const series_labels& labels,
                        std::string_view extra_name = {}, std::string_view extra_value = {}) {
    if constexpr (is_buffered_output<Out>::value) {
        if (labels.escaped()) {
            const std::string_view pairs = labels.pairs();
            const std::size_t room =
                base.size() + suffix.size() + pairs.size() + extra_name.size() + extra_value.size() + 8;
            if (char* d = out.reserve(room)) [[likely]] {
                d = copy_piece(d, base);
                d = copy_piece(d, suffix);
                return out.commit(copy_label_block(d, labels.any(), extra_name, extra_value,
                                                   [pairs](char* p) noexcept { return copy_piece(p, pairs); }));
            }
        }
    }
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
// ---- end llmetrics/exposition/detail/text_lines.hpp ----

namespace llmetrics {

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

    void counter(labels_view labels, counter_value value, double /*created*/, const exemplar_view* /*exemplar*/) {
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
                   double sum, double /*created*/, std::span<const exemplar_view> /*exemplars*/) {
        begin_series(labels);
        const std::uint64_t total = write_buckets(bounds, counts);
        write_sum_count(sum, total);
    }

    void native_histogram(labels_view labels, const native_histogram_view& h, std::span<const double> bounds,
                          std::span<const std::uint64_t> counts, double /*created*/,
                          std::span<const exemplar_view> /*exemplars*/) {
        begin_series(labels);
        if (!counts.empty()) write_buckets(bounds, counts);
        detail::put(*out_, ",\"native\":{\"schema\":");
        detail::write_int(*out_, h.schema);
        detail::put(*out_, ",\"zero_threshold\":");
        detail::write_json_number(*out_, h.zero_threshold);
        detail::put(*out_, ",\"zero_count\":");
        detail::write_uint(*out_, h.zero_count);
        detail::put(*out_, ",\"positive\":");
        write_native_buckets(h.positive_spans, h.positive_counts);
        detail::put(*out_, ",\"negative\":");
        write_native_buckets(h.negative_spans, h.negative_counts);
        detail::put(*out_, '}');
        write_sum_count(h.sum, h.count);
    }

    void end_family() { detail::put(*out_, "]}"); }

    void finish() { detail::put(*out_, families_ == 0 ? "{\"families\":[]}\n" : "]}\n"); }

private:
    // `"buckets":[...]` (cumulative, ending with +Inf); returns the total count.
    std::uint64_t write_buckets(std::span<const double> bounds, std::span<const std::uint64_t> counts) {
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
        detail::put(*out_, ']');
        return cumulative;
    }

    void write_sum_count(double sum, std::uint64_t count) {
        detail::put(*out_, ",\"sum\":");
        detail::write_json_number(*out_, sum);
        detail::put(*out_, ",\"count\":");
        detail::write_uint(*out_, count);
        detail::put(*out_, '}');
    }

    // `[{"index":i,"count":c},...]`, the index walked along the spans.
    void write_native_buckets(std::span<const native_bucket_span> spans, std::span<const std::uint64_t> counts) {
        detail::put(*out_, '[');
        std::int64_t index = 0;
        std::size_t at = 0;
        for (std::size_t s = 0; s < spans.size(); ++s) {
            index += spans[s].offset;
            for (std::uint32_t k = 0; k < spans[s].length && at < counts.size(); ++k, ++index, ++at) {
                detail::put(*out_, at == 0 ? "{\"index\":" : ",{\"index\":");
                detail::write_int(*out_, index);
                detail::put(*out_, ",\"count\":");
                detail::write_uint(*out_, counts[at]);
                detail::put(*out_, '}');
            }
        }
        detail::put(*out_, ']');
    }

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
// and the highest quality above zero wins. Media types come from the format
// table (format.hpp):
//   openmetrics    application/openmetrics-text, version 1.0.0 or no version
//                  (other versions, e.g. the 0.0.1 Prometheus also offers, do not match)
//   prometheus     text/plain, version 0.0.4 or no version
//   prometheus_v1  text/plain, version 1.0.0 (Prometheus 3)
//   json           application/json
//   protobuf       application/vnd.google.protobuf, only with
//                  proto=io.prometheus.client.MetricFamily and encoding=delimited
// Anything else matches nothing and is never answered.
// Ties go to a format the header names explicitly, in the order openmetrics,
// prometheus, prometheus_v1, json, protobuf; among formats reached only through a
// wildcard, to prometheus, so `*/*` (curl) gets Prometheus text. A missing
// header, one that matches nothing, or q=0 everywhere also gets Prometheus
// text, which every scraper reads. The `escaping=` parameter of the range that
// chose the format is answered back (underscores when absent or unknown). Types
// and parameter names are case-insensitive, whitespace is tolerated, a
// malformed media range is skipped, and nothing throws.
//
// Prometheus' default Accept headers and what they get (tests/unit/test_negotiate.cpp):
//   2.42                 openmetrics  (q=1 for OpenMetrics 1.0.0)
//   2.42, native histograms on (--enable-feature=native-histograms): protobuf (q=1)
//   3.x                  openmetrics, escaping=allow-utf-8 (q=0.6)
//   3.x, native histograms or created timestamps: protobuf (q=0.6 against 0.5)

#include <cmath>
#include <cstddef>
#include <string_view>


// ---- begin llmetrics/exposition/detail/http_tokens.hpp ----
// HTTP/1.1 token-level parsing shared by content negotiation (Accept) and the
// server (Accept-Encoding, Authorization): RFC 9110 §5.6 tokens, optional
// whitespace, quoted strings and quality values. Nothing here allocates or throws.

#include <charconv>
#include <cstddef>
#include <string_view>
#include <system_error>

namespace llmetrics::detail {

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

// A quality value (RFC 9110 §12.4.2, "q=" already stripped): a number in [0, 1],
// or -1 when it is malformed so the caller can skip the element.
inline double parse_qvalue(std::string_view value) noexcept {
    double q = -1;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), q);
    if (ec != std::errc() || end != value.data() + value.size() || !(q >= 0 && q <= 1)) return -1;
    return q;
}

}  // namespace llmetrics::detail
// ---- end llmetrics/exposition/detail/http_tokens.hpp ----

namespace llmetrics {
namespace detail {

struct media_range {
    std::string_view type, subtype;
    std::string_view version;  // unquoted value without escapes; empty when absent
    bool has_version = false;
    std::string_view proto, encoding;  // protobuf's parameters; empty when absent
    bool has_escaping = false;  // a known `escaping=` value
    escaping_scheme escaping = escaping_scheme::underscores;
    double q = 1.0;
};

// A known `escaping=` value (Prometheus' names for them); false for others.
inline bool parse_escaping(std::string_view value, escaping_scheme& out) noexcept {
    for (const escaping_scheme e : {escaping_scheme::underscores, escaping_scheme::dots, escaping_scheme::values,
                                    escaping_scheme::allow_utf8}) {
        if (iequals(value, to_string(e))) {
            out = e;
            return true;
        }
    }
    return false;
}

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
            const double q = parse_qvalue(value);
            if (q < 0) return false;
            r.q = q;
        } else if (iequals(name, "version")) {
            r.version = value;
            r.has_version = true;
        } else if (iequals(name, "proto")) {
            r.proto = value;
        } else if (iequals(name, "encoding")) {
            r.encoding = value;
        } else if (iequals(name, "escaping")) {
            r.has_escaping = parse_escaping(value, r.escaping);
        }
    }
    return true;
}

// How specifically `r` names the format of `Entry` (format.hpp): 0 no match,
// 1 `*/*`, 2 `type/*`, 3 `type/subtype`, 4 `type/subtype;version=<the one we write>`
// (for protobuf: with the proto= and encoding= we write, and nothing less).
template <class Entry>
int match_specificity(const media_range& r) noexcept {
    if (r.type == "*") return 1;
    if (!iequals(r.type, Entry::media_type)) return 0;
    if (r.subtype == "*") return 2;
    if (!iequals(r.subtype, Entry::media_subtype)) return 0;
    if constexpr (requires { Entry::media_proto; })
        return r.proto == Entry::media_proto && iequals(r.encoding, Entry::media_encoding) ? 4 : 0;
    if (!r.has_version || Entry::media_version.empty()) return 3;
    return r.version == Entry::media_version ? 4 : 0;
}

}  // namespace detail

// What negotiate_exposition() chose: the format and the `escaping=` scheme to
// name in the answer's content type (only formats that have it carry it).
struct exposition_choice {
    format fmt = format::prometheus;
    escaping_scheme escaping = escaping_scheme::underscores;

    constexpr std::string_view content_type() const noexcept { return llmetrics::content_type(fmt, escaping); }
};

inline exposition_choice negotiate_exposition(std::string_view accept_header) noexcept {
    constexpr std::size_t n = format_list::size;
    double quality[n] = {};
    int specificity[n] = {};
    escaping_scheme escaping[n] = {};
    while (!accept_header.empty()) {
        const std::size_t comma = detail::find_unquoted(accept_header, ',');
        const std::string_view part = detail::trim_http(accept_header.substr(0, comma));
        accept_header.remove_prefix(comma < accept_header.size() ? comma + 1 : comma);
        detail::media_range r;
        if (part.empty() || !detail::parse_media_range(part, r)) continue;
        std::size_t i = 0;
        format_list::for_each([&](auto entry) {
            const int s = detail::match_specificity<decltype(entry)>(r);
            if (s != 0 && s >= specificity[i]) {
                if (s > specificity[i] || r.q > quality[i]) {
                    quality[i] = r.q;
                    escaping[i] = r.has_escaping ? r.escaping : escaping_scheme::underscores;
                }
                specificity[i] = s;
            }
            ++i;
        });
    }
    // Explicitly named formats first, in table order; then the wildcard-only ones,
    // the fallback first; strictly higher q wins.
    format ids[n] = {};
    bool fallback[n] = {};
    std::size_t k = 0;
    format_list::for_each([&](auto entry) {
        ids[k] = decltype(entry)::id;
        fallback[k++] = decltype(entry)::fallback;
    });
    int best = -1;
    const auto consider = [&](std::size_t i, bool explicit_pass) {
        if ((specificity[i] >= 3) != explicit_pass || quality[i] <= 0) return;
        if (best < 0 || quality[i] > quality[best]) best = static_cast<int>(i);
    };
    for (std::size_t i = 0; i < n; ++i) consider(i, true);
    for (std::size_t i = 0; i < n; ++i)
        if (fallback[i]) consider(i, false);
    for (std::size_t i = 0; i < n; ++i)
        if (!fallback[i]) consider(i, false);
    if (best < 0) return {format_list::fallback::id, escaping_scheme::underscores};
    return {ids[best], escaping[best]};
}

inline format negotiate(std::string_view accept_header) noexcept { return negotiate_exposition(accept_header).fmt; }

}  // namespace llmetrics
// ---- end llmetrics/exposition/negotiate.hpp ----

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
// Exemplars (core/encoder.hpp) follow the `_total` line of a counter and the
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

    void native_histogram(labels_view labels, const native_histogram_view& h, std::span<const double> bounds,
                          std::span<const std::uint64_t> counts, double created,
                          std::span<const exemplar_view> exemplars) {
        detail::native_as_classic(*this, labels, h, bounds, counts, created, exemplars);
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
            detail::write_timestamp(*out_, e.timestamp);
        }
    }

    void write_created(const detail::series_labels& labels, double created) {
        if (std::isnan(created)) return;
        detail::write_sample_start(*out_, name_, "_created", labels);
        detail::write_timestamp(*out_, created);
        detail::put(*out_, '\n');
    }

    Out* out_;
    detail::le_cache le_;
    std::string_view name_;
    metric_type type_ = metric_type::gauge;
};

}  // namespace llmetrics
// ---- end llmetrics/exposition/openmetrics.hpp ----

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
// canonical spelling of detail/number_format.hpp (`le="1.0"`, `le="0.25"`, `le="+Inf"`).
// The format has no units, no created timestamps and no exemplars, so all
// three are left out.

#include <cstdint>
#include <span>
#include <string_view>


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

    void counter(labels_view labels, counter_value value, double /*created*/, const exemplar_view* /*exemplar*/) {
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
                   double sum, double /*created*/, std::span<const exemplar_view> /*exemplars*/) {
        const detail::series_labels escaped{labels};
        const std::uint64_t total = detail::write_buckets(*out_, le_, name_, escaped, bounds, counts);
        detail::write_sample_start(*out_, name_, "_sum", escaped);
        detail::write_double(*out_, sum);
        detail::put(*out_, '\n');
        detail::write_sample_start(*out_, name_, "_count", escaped);
        detail::write_uint(*out_, total);
        detail::put(*out_, '\n');
    }

    void native_histogram(labels_view labels, const native_histogram_view& h, std::span<const double> bounds,
                          std::span<const std::uint64_t> counts, double created,
                          std::span<const exemplar_view> exemplars) {
        detail::native_as_classic(*this, labels, h, bounds, counts, created, exemplars);
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


// ---- begin llmetrics/exposition/protobuf.hpp ----
// Prometheus protobuf exposition format (content type `application/vnd.google.protobuf;
// proto=io.prometheus.client.MetricFamily; encoding=delimited`): a stream of
// io.prometheus.client.MetricFamily messages, each prefixed by its length as a
// varint. Schema: prometheus/client_model io/prometheus/client/metrics.proto
// (field numbers in the comments below). The only format that carries native
// histograms.
//
// - MetricFamily: name (1), help (2, always written), type (3), metric (4), unit (5,
//   when declared). Counters keep `_total`; info families are GAUGE `<base>_info`
//   (protobuf has no info type, as client_golang and the Prometheus text format
//   have it); unknown is UNTYPED. A family without series is left out (client_golang
//   drops them too).
// - Counter: value (1) = integral + fractional, exemplar (2) with its timestamp
//   when it has one, created_timestamp (3) when known (google.protobuf.Timestamp).
// - Classic histogram: sample_count (1), sample_sum (2), cumulative buckets (3)
//   without the +Inf bucket, which is written only to carry an exemplar (as
//   client_golang does), created_timestamp (15).
// - Native histogram: schema (5), zero_threshold (6), zero_count (7), negative
//   and positive spans (9, 12) with DELTA-encoded counts (10, 13; each bucket's
//   count minus the previous bucket's, across spans, the first against 0), and
//   timestamped exemplars in `exemplars` (16). A histogram without any span gets
//   the no-op span {offset 0, length 0}, so scrapers see it is native even before
//   its first observation. A family with both parts writes both in one Histogram
//   message: classic buckets with their per-bucket exemplars, and those of the
//   exemplars that have a timestamp in `exemplars` as well.
//
// Each family is built in a buffer the encoder keeps (its length must precede it)
// and handed to the output at end_family(); the buffer is reused, so a render
// allocates only while it grows to the largest family.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <string_view>


// ---- begin llmetrics/exposition/detail/byte_buffer.hpp ----
// A growable byte buffer for encoders that build a message before its length
// is known (protobuf). Unlike std::string, appending a few bytes is a couple of
// inline moves (std::string calls memmove for each append, which cost more than
// encoding the bytes) and growing does not zero-fill the new room.

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace llmetrics::detail {

class byte_buffer {
public:
    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return capacity_; }
    char* data() noexcept { return data_.get(); }
    const char* data() const noexcept { return data_.get(); }
    std::string_view view() const noexcept { return {data_.get(), size_}; }
    void clear() noexcept { size_ = 0; }

    [[gnu::always_inline]] void append(const char* p, std::size_t n) {
        if (capacity_ - size_ < n) [[unlikely]] grow(n);
        char* d = data_.get() + size_;
        if (n <= 16) [[likely]]
            for (std::size_t i = 0; i < n; ++i) d[i] = p[i];
        else
            copy_long(d, p, n);
        size_ += n;
    }
    void push_back(char c) {
        if (capacity_ == size_) [[unlikely]] grow(1);
        data_[size_++] = c;
    }
    // New bytes are left as they are: the caller writes them.
    void resize(std::size_t n) {
        if (n > capacity_) grow(n - size_);
        size_ = n;
    }
    // Frees the memory once it is larger than `limit` bytes.
    void release_above(std::size_t limit) noexcept {
        if (capacity_ > limit) {
            data_.reset();
            capacity_ = size_ = 0;
        }
    }

private:
    // Out of line: inlined into a caller with a small stack buffer, GCC 12's
    // -Warray-bounds reads this branch as copying past that buffer.
    [[gnu::noinline]] static void copy_long(char* d, const char* p, std::size_t n) noexcept { std::memcpy(d, p, n); }

    [[gnu::noinline]] void grow(std::size_t more) {
        std::size_t next = capacity_ < 4096 ? 4096 : capacity_ * 2;
        while (next - size_ < more) next *= 2;
        std::unique_ptr<char[]> bigger(new char[next]);
        if (size_) std::memcpy(bigger.get(), data_.get(), size_);
        data_ = std::move(bigger);
        capacity_ = next;
    }

    std::unique_ptr<char[]> data_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

}  // namespace llmetrics::detail
// ---- end llmetrics/exposition/detail/byte_buffer.hpp ----

// ---- begin llmetrics/exposition/detail/protobuf_wire.hpp ----
// The protocol buffers wire format, written by hand so the library stays
// header-only: varints, zigzag, fixed64 doubles, length-delimited fields and
// nested messages, appended to a std::string. The protobuf exposition format and
// remote write build their messages from these; tests decode the result with
// Debian's protobuf library (the real decoder).
//
// A nested message's length is not known until it is written: begin_message()
// reserves one length byte, end_message() writes the real varint and, only when
// the body is 128 bytes or more, moves the body right by the extra bytes. The
// encoding stays minimal (what protoc itself writes) at one move per large
// message.

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>


namespace llmetrics::detail {

enum class wire_type : std::uint32_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

inline std::size_t varint_size(std::uint64_t v) noexcept {
    std::size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}

inline std::uint64_t zigzag(std::int64_t v) noexcept {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

// Writes v as a varint at p (room for 10 bytes); returns the bytes written.
inline std::size_t encode_varint(char* p, std::uint64_t v) noexcept {
    std::size_t n = 0;
    while (v >= 0x80) {
        p[n++] = static_cast<char>((v & 0x7F) | 0x80);
        v >>= 7;
    }
    p[n++] = static_cast<char>(v);
    return n;
}

// Bytes of a field's tag.
inline std::size_t tag_size(std::uint32_t field) noexcept { return varint_size(std::uint64_t{field} << 3); }

// Writes v at p as fixed64 (8 bytes, little-endian).
inline void encode_double(char* p, double v) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(p, &v, 8);
    } else {
        std::uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(bits >> (8 * i));
    }
}

inline std::size_t encode_tag(char* p, std::uint32_t field, wire_type type) noexcept {
    return encode_varint(p, (std::uint64_t{field} << 3) | static_cast<std::uint32_t>(type));
}

// Each field goes out in as few appends as it can (a tag and its value or length
// in one): a string append costs more than encoding the bytes. Buffer is
// std::string, or detail::byte_buffer where appends are hot (the exposition).
template <class Buffer>
class basic_proto_writer {
public:
    explicit basic_proto_writer(Buffer& out) noexcept : out_(&out) {}

    void varint(std::uint64_t v) {
        char buf[10];
        out_->append(buf, encode_varint(buf, v));
    }

    void tag(std::uint32_t field, wire_type type) {
        char buf[10];
        out_->append(buf, encode_tag(buf, field, type));
    }

    // Scalar fields; proto2 and proto3 readers both accept an explicit default.
    void uint64_field(std::uint32_t field, std::uint64_t v) {
        char buf[20];
        const std::size_t n = encode_tag(buf, field, wire_type::varint);
        out_->append(buf, n + encode_varint(buf + n, v));
    }
    void int64_field(std::uint32_t field, std::int64_t v) { uint64_field(field, static_cast<std::uint64_t>(v)); }
    void sint64_field(std::uint32_t field, std::int64_t v) { uint64_field(field, zigzag(v)); }
    void sint32_field(std::uint32_t field, std::int32_t v) { uint64_field(field, zigzag(v)); }
    void bool_field(std::uint32_t field, bool v) { uint64_field(field, v ? 1 : 0); }
    void double_field(std::uint32_t field, double v) {
        char buf[18];
        const std::size_t n = encode_tag(buf, field, wire_type::fixed64);
        encode_double(buf + n, v);
        out_->append(buf, n + 8);
    }
    void string_field(std::uint32_t field, std::string_view v) {
        char buf[20];
        const std::size_t n = encode_tag(buf, field, wire_type::length_delimited);
        out_->append(buf, n + encode_varint(buf + n, v.size()));
        out_->append(v.data(), v.size());
    }
    // One string field written from two pieces (a name and its suffix).
    void string_field(std::uint32_t field, std::string_view first, std::string_view second) {
        char buf[20];
        const std::size_t n = encode_tag(buf, field, wire_type::length_delimited);
        out_->append(buf, n + encode_varint(buf + n, first.size() + second.size()));
        out_->append(first.data(), first.size());
        out_->append(second.data(), second.size());
    }
    // A nested message of two string fields (a LabelPair), its length known up
    // front. pair_size() is what it takes; write_pair() writes it at p (which has
    // that much room) and returns the end, so many pairs can share one extend().
    static std::size_t pair_size(std::uint32_t field, std::uint32_t first_field, std::size_t first,
                                 std::uint32_t second_field, std::size_t second) noexcept {
        const std::size_t body = pair_body_size(first_field, first, second_field, second);
        return tag_size(field) + varint_size(body) + body;
    }
    [[gnu::always_inline]] static char* write_pair(char* p, std::uint32_t field, std::uint32_t first_field,
                                                   std::string_view first, std::uint32_t second_field,
                                                   std::string_view second) noexcept {
        const std::size_t body = pair_body_size(first_field, first.size(), second_field, second.size());
        if ((field | first_field | second_field) >= 16 || body >= 128) [[unlikely]]
            return write_long_pair(p, field, first_field, first, second_field, second);
        *p++ = static_cast<char>(field << 3 | 2);  // one-byte tags and lengths
        *p++ = static_cast<char>(body);
        *p++ = static_cast<char>(first_field << 3 | 2);
        *p++ = static_cast<char>(first.size());
        p = copy_piece(p, first);
        *p++ = static_cast<char>(second_field << 3 | 2);
        *p++ = static_cast<char>(second.size());
        return copy_piece(p, second);
    }
    void string_pair_field(std::uint32_t field, std::uint32_t first_field, std::string_view first,
                           std::uint32_t second_field, std::string_view second) {
        write_pair(extend(pair_size(field, first_field, first.size(), second_field, second.size())), field,
                   first_field, first, second_field, second);
    }

    // Room for n more bytes, to be filled by the caller; returns where they start.
    char* extend(std::size_t n) {
        const std::size_t at = out_->size();
        out_->resize(at + n);
        return out_->data() + at;
    }

    // A google.protobuf.Timestamp message (seconds = 1, nanos = 2, nanos in
    // [0, 1e9)) for unix seconds `t`; fields at zero are left out, as proto3 does.
    // Nothing at all for a time that is not finite.
    void timestamp_field(std::uint32_t field, double t) {
        char body[timestamp_body_max];
        const std::size_t n = timestamp_body(body, t);
        if (n == none) return;
        char buf[34];  // tag, length (< 128), body: one append
        std::size_t at = encode_tag(buf, field, wire_type::length_delimited);
        buf[at++] = static_cast<char>(n);
        std::memcpy(buf + at, body, timestamp_body_max);
        out_->append(buf, at + n);
    }

    // The body of the Timestamp message for `t` at p (room for timestamp_body_max
    // bytes): its size, or `none` for a time that is not finite (no message at all).
    static constexpr std::size_t timestamp_body_max = 22, none = static_cast<std::size_t>(-1);
    static std::size_t timestamp_body(char* p, double t) noexcept {
        if (!std::isfinite(t)) return none;  // NaN: unknown; an infinite time has no Timestamp
        // floor() is a libm call on baseline x86-64; a truncation and a step down is not.
        double whole;
        if (std::fabs(t) < 0x1p62) {
            const auto s = static_cast<std::int64_t>(t);
            whole = static_cast<double>(s - (static_cast<double>(s) > t ? 1 : 0));
        } else {
            whole = std::floor(t);
        }
        // t - whole is in [0, 1): rounding half up by hand spares a libm call per series.
        auto nanos = static_cast<std::int64_t>((t - whole) * 1e9 + 0.5);
        if (nanos >= 1000000000) {
            whole += 1;
            nanos -= 1000000000;
        }
        std::size_t n = 0;
        if (whole != 0) {
            p[n++] = 0x08;  // seconds = 1, varint
            n += encode_varint(p + n, static_cast<std::uint64_t>(static_cast<std::int64_t>(whole)));
        }
        if (nanos != 0) {
            p[n++] = 0x10;  // nanos = 2, varint
            n += encode_varint(p + n, static_cast<std::uint64_t>(nanos));
        }
        return n;
    }

    // A nested message: `field`'s tag, then its length, then what is written until
    // end_message(mark). Marks nest.
    std::size_t begin_message(std::uint32_t field) {
        char buf[11];
        const std::size_t n = encode_tag(buf, field, wire_type::length_delimited);
        buf[n] = '\0';  // the length, written by end_message()
        out_->append(buf, n + 1);
        return out_->size();
    }
    // A length-prefixed record without a tag (the "delimited" stream framing).
    std::size_t begin_delimited() {
        out_->push_back('\0');
        return out_->size();
    }
    void end_message(std::size_t mark) {
        const std::size_t body = out_->size() - mark;
        const std::size_t extra = varint_size(body) - 1;
        if (extra) {
            out_->resize(out_->size() + extra);
            char* base = out_->data() + mark;
            std::memmove(base + extra, base, body);
        }
        char* at = out_->data() + mark - 1;
        std::uint64_t v = body;
        while (v >= 0x80) {
            *at++ = static_cast<char>((v & 0x7F) | 0x80);
            v >>= 7;
        }
        *at = static_cast<char>(v);
    }

    Buffer& buffer() noexcept { return *out_; }

private:
    [[gnu::noinline]] static char* write_long_pair(char* p, std::uint32_t field, std::uint32_t first_field,
                                                   std::string_view first, std::uint32_t second_field,
                                                   std::string_view second) noexcept {
        p += encode_tag(p, field, wire_type::length_delimited);
        p += encode_varint(p, pair_body_size(first_field, first.size(), second_field, second.size()));
        for (const auto& [f, v] : {std::pair{first_field, first}, std::pair{second_field, second}}) {
            p += encode_tag(p, f, wire_type::length_delimited);
            p += encode_varint(p, v.size());
            if (!v.empty()) std::memcpy(p, v.data(), v.size());
            p += v.size();
        }
        return p;
    }
    static std::size_t pair_body_size(std::uint32_t first_field, std::size_t first, std::uint32_t second_field,
                                      std::size_t second) noexcept {
        return tag_size(first_field) + varint_size(first) + first + tag_size(second_field) + varint_size(second) +
               second;
    }

    Buffer* out_;
};

using proto_writer = basic_proto_writer<std::string>;

}  // namespace llmetrics::detail
// ---- end llmetrics/exposition/detail/protobuf_wire.hpp ----

namespace llmetrics {

namespace detail::proto_field {
// io.prometheus.client field numbers (metrics.proto).
enum : std::uint32_t {
    family_name = 1, family_help = 2, family_type = 3, family_metric = 4, family_unit = 5,
    metric_label = 1, metric_gauge = 2, metric_counter = 3, metric_untyped = 5, metric_histogram = 7,
    label_name = 1, label_value = 2,
    gauge_value = 1, untyped_value = 1,
    counter_value = 1, counter_exemplar = 2, counter_created = 3,
    hist_sample_count = 1, hist_sample_sum = 2, hist_bucket = 3, hist_schema = 5, hist_zero_threshold = 6,
    hist_zero_count = 7, hist_negative_span = 9, hist_negative_delta = 10, hist_positive_span = 12,
    hist_positive_delta = 13, hist_created = 15, hist_exemplars = 16,
    bucket_cumulative_count = 1, bucket_upper_bound = 2, bucket_exemplar = 3,
    span_offset = 1, span_length = 2,
    exemplar_label = 1, exemplar_value = 2, exemplar_timestamp = 3,
};
// io.prometheus.client.MetricType
enum : std::uint64_t { type_counter = 0, type_gauge = 1, type_untyped = 3, type_histogram = 4 };
}  // namespace detail::proto_field

template <text_output Out>
class protobuf_encoder {
    using writer = detail::basic_proto_writer<detail::byte_buffer>;

public:
    explicit protobuf_encoder(Out& out) noexcept : out_(&out) {
        scratch& s = thread_scratch();
        if (!s.busy) {
            s.busy = true;
            family_ = &s.buffer;
        }
    }
    ~protobuf_encoder() {
        if (family_ != &own_) {
            scratch& s = thread_scratch();
            s.buffer.release_above(scratch_limit);
            s.busy = false;
        }
    }
    protobuf_encoder(const protobuf_encoder&) = delete;
    protobuf_encoder& operator=(const protobuf_encoder&) = delete;

    void begin_family(const family_header& h) {
        namespace f = detail::proto_field;
        family_->clear();
        metrics_ = 0;
        type_ = h.type;
        writer w{*family_};
        if (h.type == metric_type::info) w.string_field(f::family_name, detail::info_base_name(h.name), "_info");
        else w.string_field(f::family_name, h.name);
        w.string_field(f::family_help, h.help);
        w.uint64_field(f::family_type, type_number(h.type));
        if (!h.unit.empty() && h.type != metric_type::info) w.string_field(f::family_unit, h.unit);
    }

    void counter(labels_view labels, counter_value value, double created, const exemplar_view* exemplar) {
        namespace f = detail::proto_field;
        if (!exemplar || !exemplar->present())
            return scalar_metric(labels, f::metric_counter, f::counter_value, detail::counter_as_double(value), created,
                                 f::counter_created);
        writer w{*family_};
        const std::size_t metric = begin_metric(w, labels);
        const std::size_t body = w.begin_message(f::metric_counter);
        w.double_field(f::counter_value, detail::counter_as_double(value));
        write_exemplar(w, f::counter_exemplar, *exemplar);
        w.timestamp_field(f::counter_created, created);
        w.end_message(body);
        w.end_message(metric);
    }

    void gauge(labels_view labels, double value) {
        namespace f = detail::proto_field;
        const bool untyped = type_ == metric_type::unknown;
        scalar_metric(labels, untyped ? f::metric_untyped : f::metric_gauge, untyped ? f::untyped_value : f::gauge_value,
                      value, std::numeric_limits<double>::quiet_NaN(), 0);
    }

    void histogram(labels_view labels, std::span<const double> bounds, std::span<const std::uint64_t> counts,
                   double sum, double created, std::span<const exemplar_view> exemplars) {
        namespace f = detail::proto_field;
        writer w{*family_};
        const std::size_t metric = begin_metric(w, labels);
        const std::size_t body = w.begin_message(f::metric_histogram);
        write_classic(w, bounds, counts, sum, exemplars);
        w.timestamp_field(f::hist_created, created);
        w.end_message(body);
        w.end_message(metric);
    }

    void native_histogram(labels_view labels, const native_histogram_view& h, std::span<const double> bounds,
                          std::span<const std::uint64_t> counts, double created,
                          std::span<const exemplar_view> exemplars) {
        namespace f = detail::proto_field;
        writer w{*family_};
        const std::size_t metric = begin_metric(w, labels);
        const std::size_t body = w.begin_message(f::metric_histogram);
        const bool classic = !counts.empty();
        if (classic) {
            write_classic(w, bounds, counts, h.sum, exemplars);
        } else {
            w.uint64_field(f::hist_sample_count, h.count);
            w.double_field(f::hist_sample_sum, h.sum);
        }
        w.sint32_field(f::hist_schema, h.schema);
        w.double_field(f::hist_zero_threshold, h.zero_threshold);
        w.uint64_field(f::hist_zero_count, h.zero_count);
        write_native_buckets(w, f::hist_negative_span, f::hist_negative_delta, h.negative_spans, h.negative_counts);
        if (h.positive_spans.empty() && h.negative_spans.empty()) {
            const std::size_t span = w.begin_message(f::hist_positive_span);  // the no-op span
            w.sint32_field(f::span_offset, 0);
            w.uint64_field(f::span_length, 0);
            w.end_message(span);
        } else {
            write_native_buckets(w, f::hist_positive_span, f::hist_positive_delta, h.positive_spans,
                                 h.positive_counts);
        }
        w.timestamp_field(f::hist_created, created);
        for (const exemplar_view& x : exemplars)
            if (x.present() && (!classic || !std::isnan(x.timestamp))) write_exemplar(w, f::hist_exemplars, x);
        w.end_message(body);
        w.end_message(metric);
    }

    void end_family() {
        if (metrics_ == 0) return;
        std::string prefix;  // at most 10 bytes: held inline, never allocated
        detail::proto_writer{prefix}.varint(family_->size());
        detail::put(*out_, prefix);
        detail::put(*out_, family_->view());
    }

    void finish() noexcept {}

private:
    static constexpr std::uint64_t type_number(metric_type t) noexcept {
        namespace f = detail::proto_field;
        switch (t) {
            case metric_type::counter: return f::type_counter;
            case metric_type::histogram: return f::type_histogram;
            case metric_type::unknown: return f::type_untyped;
            case metric_type::gauge:
            case metric_type::info: break;
        }
        return f::type_gauge;
    }

    static void write_label_pairs(writer& w, std::uint32_t field, std::span<const std::string_view> names,
                                  std::span<const std::string_view> values) {
        namespace f = detail::proto_field;
        // One extend() for all pairs: the appends, not the bytes, cost the time.
        std::size_t size = 0;
        for (std::size_t i = 0; i < names.size(); ++i)
            size += detail::proto_writer::pair_size(field, f::label_name, names[i].size(), f::label_value,
                                                    values[i].size());
        if (size == 0) return;
        char* p = w.extend(size);
        for (std::size_t i = 0; i < names.size(); ++i)
            p = detail::proto_writer::write_pair(p, field, f::label_name, names[i], f::label_value, values[i]);
    }

    // A Metric holding one value (and a created timestamp unless NaN), sized
    // first and written in one piece: most series of a scrape are these.
    void scalar_metric(labels_view labels, std::uint32_t kind, std::uint32_t value_field, double value,
                       double created, std::uint32_t created_field) {
        using detail::encode_tag, detail::encode_varint, detail::varint_size, detail::wire_type;
        namespace f = detail::proto_field;
        ++metrics_;
        char stamp[writer::timestamp_body_max];
        const std::size_t stamp_size = writer::timestamp_body(stamp, created);
        std::size_t body = detail::tag_size(value_field) + 8;
        if (stamp_size != writer::none) body += detail::tag_size(created_field) + 1 + stamp_size;  // length < 128
        std::size_t metric = detail::tag_size(kind) + varint_size(body) + body;
        for (std::size_t i = 0; i < labels.names.size(); ++i)
            metric += writer::pair_size(f::metric_label, f::label_name, labels.names[i].size(), f::label_value,
                                        labels.values[i].size());
        writer w{*family_};
        char* p = w.extend(detail::tag_size(f::family_metric) + varint_size(metric) + metric);
        p += encode_tag(p, f::family_metric, wire_type::length_delimited);
        p += encode_varint(p, metric);
        for (std::size_t i = 0; i < labels.names.size(); ++i)
            p = writer::write_pair(p, f::metric_label, f::label_name, labels.names[i], f::label_value, labels.values[i]);
        p += encode_tag(p, kind, wire_type::length_delimited);
        p += encode_varint(p, body);
        p += encode_tag(p, value_field, wire_type::fixed64);
        detail::encode_double(p, value);
        p += 8;
        if (stamp_size != writer::none) {
            p += encode_tag(p, created_field, wire_type::length_delimited);
            *p++ = static_cast<char>(stamp_size);
            std::memcpy(p, stamp, stamp_size);
        }
    }

    std::size_t begin_metric(writer& w, labels_view labels) {
        ++metrics_;
        const std::size_t metric = w.begin_message(detail::proto_field::family_metric);
        write_label_pairs(w, detail::proto_field::metric_label, labels.names, labels.values);
        return metric;
    }

    static void write_exemplar(writer& w, std::uint32_t field, const exemplar_view& x) {
        namespace f = detail::proto_field;
        const std::size_t mark = w.begin_message(field);
        write_label_pairs(w, f::exemplar_label, x.names, x.values);
        w.double_field(f::exemplar_value, x.value);
        w.timestamp_field(f::exemplar_timestamp, x.timestamp);
        w.end_message(mark);
    }

    // sample_count, sample_sum and the cumulative buckets; +Inf only to carry its exemplar.
    static void write_classic(writer& w, std::span<const double> bounds,
                              std::span<const std::uint64_t> counts, double sum,
                              std::span<const exemplar_view> exemplars) {
        namespace f = detail::proto_field;
        std::uint64_t total = 0;
        for (const std::uint64_t c : counts) total += c;
        w.uint64_field(f::hist_sample_count, total);
        w.double_field(f::hist_sample_sum, sum);
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i <= bounds.size(); ++i) {
            cumulative += i < counts.size() ? counts[i] : 0;
            const exemplar_view* x = i < exemplars.size() && exemplars[i].present() ? &exemplars[i] : nullptr;
            const bool inf = i == bounds.size();
            if (inf && !x) break;
            const std::size_t bucket = w.begin_message(f::hist_bucket);
            w.uint64_field(f::bucket_cumulative_count, cumulative);
            w.double_field(f::bucket_upper_bound, inf ? std::numeric_limits<double>::infinity() : bounds[i]);
            if (x) write_exemplar(w, f::bucket_exemplar, *x);
            w.end_message(bucket);
        }
    }

    // Spans as given; counts delta-encoded: each against the previous bucket's, across spans.
    static void write_native_buckets(writer& w, std::uint32_t span_field, std::uint32_t delta_field,
                                     std::span<const native_bucket_span> spans,
                                     std::span<const std::uint64_t> counts) {
        namespace f = detail::proto_field;
        for (const native_bucket_span& s : spans) {
            const std::size_t mark = w.begin_message(span_field);
            w.sint32_field(f::span_offset, s.offset);
            w.uint64_field(f::span_length, s.length);
            w.end_message(mark);
        }
        std::uint64_t previous = 0;
        for (const std::uint64_t c : counts) {
            w.sint64_field(delta_field, static_cast<std::int64_t>(c - previous));
            previous = c;
        }
    }

    Out* out_;
    // The family being built, reused from one family to the next. The buffer is
    // the thread's, kept from one render to the next: growing a fresh one to a
    // large family on every scrape (new pages, copies on each doubling) cost
    // more than the encoding. A second encoder alive on the same thread uses
    // its own; a buffer grown past scratch_limit is not kept.
    struct scratch {
        detail::byte_buffer buffer;
        bool busy = false;
    };
    static constexpr std::size_t scratch_limit = 64u << 20;
    static scratch& thread_scratch() noexcept {
        thread_local scratch s;
        return s;
    }
    detail::byte_buffer own_;
    detail::byte_buffer* family_ = &own_;
    std::size_t metrics_ = 0;
    metric_type type_ = metric_type::gauge;
};

}  // namespace llmetrics
// ---- end llmetrics/exposition/protobuf.hpp ----

namespace llmetrics {

namespace detail {
template <class Source, class Encoder>
concept visits = requires(const Source& s, Encoder& e) { s.visit(e); };

template <class Source, class... Formats>
constexpr bool visits_all(format_table<Formats...>*) {
    return (visits<Source, typename Formats::template encoder<std::string>> && ...);
}
}  // namespace detail

// Visits the encoder of every format in the table.
template <class Source>
concept metrics_source = detail::visits_all<Source>(static_cast<format_list*>(nullptr));

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
        format_list::with(f, [&](auto entry) {
            run(typename decltype(entry)::template encoder<buffered>{sink});
        });
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


// ---- begin llmetrics/collectors/detail/nvml_api.hpp ----
// The subset of NVML's C API (nvml.h) that gpu_collector calls, declared here so
// that no NVIDIA header is needed to build: the library is loaded with dlopen.

namespace llmetrics::detail::nvml {

// Layouts and signatures are NVML's stable C ABI.
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

}  // namespace llmetrics::detail::nvml
// ---- end llmetrics/collectors/detail/nvml_api.hpp ----

namespace llmetrics {

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
        static_assert(sizeof(Fn) == sizeof(void*),
                      "llmetrics: gpu_collector needs function pointers as wide as void* (POSIX dlsym); "
                      "leave the GPU collector out on this platform");
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
// besides the snapshot itself, no iostreams, no locale (core/detail/proc_reader.hpp,
// which the analytics system sampler reads too).
//
// The /proc root is a constructor argument so tests can point the collector at
// a fake tree (<root>/self/stat, <root>/self/status, <root>/self/limits,
// <root>/self/fd/, <root>/stat).

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


// ---- begin llmetrics/core/detail/proc_reader.hpp ----
// The one reader of Linux /proc, shared by the process collector and the
// analytics system sampler. Each reading read(2)s its file into a stack buffer
// and parses it in place (proc_parse.hpp): no heap allocation, no iostreams, no
// locale, so a scrape can afford it. A value that cannot be read is nullopt;
// off Linux every reading is.
//
// The root is a constructor argument so tests can point the reader at a fake
// tree: <root>/self/stat, self/status, self/limits, self/fd/, self/cgroup,
// <root>/stat, <root>/uptime.

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#if defined(__linux__)
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>
#endif


// ---- begin llmetrics/core/detail/proc_parse.hpp ----
// Parsers for the text of Linux /proc files, in place on a string_view: no
// allocation, no iostreams, no locale. proc_reader.hpp feeds them; they are apart
// so that tests can hand them any text.

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <system_error>

namespace llmetrics::detail {

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

// The fields of /proc/<pid>/stat that llmetrics uses, in their raw units.
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

// Calls visit(line) for each line of text (without its '\n') until visit returns true.
template <class Visit>
void visit_lines(std::string_view text, Visit visit) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos)
            eol = text.size();
        if (visit(text.substr(pos, eol - pos)))
            return;
        pos = eol + 1;
    }
}

// Finds a line starting with `key` (e.g. "VmData:") and returns the rest of it;
// with several such lines, the first.
inline std::optional<std::string_view> find_line_value(std::string_view text,
                                                       std::string_view key) noexcept {
    std::optional<std::string_view> value;
    visit_lines(text, [&](std::string_view line) {
        if (line.substr(0, key.size()) != key)
            return false;
        value = line.substr(key.size());
        return true;
    });
    return value;
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

// The leading decimal number of a token ("12.5", "9223372036854771712\n"); the
// rest of the token is ignored, as strtod would.
inline std::optional<double> parse_leading_double(std::string_view token) noexcept {
    double value = 0;
    const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (ec != std::errc{} || ptr == token.data())
        return std::nullopt;
    return value;
}

// /proc/uptime: "<seconds since boot> <idle seconds>".
inline std::optional<double> parse_uptime_seconds(std::string_view text) noexcept {
    token_cursor cursor(text);
    return parse_leading_double(cursor.next());
}

// The cgroup v2 path of /proc/<pid>/cgroup: the rest of the (last) "0::" line.
inline std::optional<std::string_view> parse_cgroup_v2_path(std::string_view text) noexcept {
    std::optional<std::string_view> path;
    visit_lines(text, [&](std::string_view line) {
        if (line.starts_with("0::"))
            path = line.substr(3);
        return false;  // the last such line wins
    });
    return path;
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

}  // namespace llmetrics::detail
// ---- end llmetrics/core/detail/proc_parse.hpp ----

namespace llmetrics::detail {

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

class proc_reader {
public:
    explicit proc_reader(std::string root = "/proc") : root_(std::move(root)) {
        while (root_.size() > 1 && root_.back() == '/')
            root_.pop_back();
        stat_path_ = root_ + "/self/stat";
        status_path_ = root_ + "/self/status";
        limits_path_ = root_ + "/self/limits";
        fd_path_ = root_ + "/self/fd";
        cgroup_path_ = root_ + "/self/cgroup";
        boot_stat_path_ = root_ + "/stat";
        uptime_path_ = root_ + "/uptime";
#if defined(__linux__)
        const long ticks = ::sysconf(_SC_CLK_TCK);
        const long page = ::sysconf(_SC_PAGESIZE);
        ticks_per_second_ = ticks > 0 ? static_cast<double>(ticks) : 0.0;
        page_size_ = page > 0 ? static_cast<double>(page) : 0.0;
#endif
    }

    const std::string& root() const noexcept { return root_; }
    // Units of the stat fields; 0 when sysconf does not know them.
    double ticks_per_second() const noexcept { return ticks_per_second_; }
    double page_size() const noexcept { return page_size_; }

    // <root>/self/stat; nullopt when the file cannot be read (a field that
    // cannot be parsed is nullopt inside).
    std::optional<proc_stat_fields> self_stat() const noexcept {
        return read(stat_path_, [](std::string_view text) { return parse_proc_stat(text); });
    }

    // A "<key> <n> kB" line of <root>/self/status, in bytes ("VmRSS:", "VmData:").
    std::optional<std::uint64_t> self_status_bytes(std::string_view key) const noexcept {
        return flatten(read(status_path_, [key](std::string_view text) { return parse_status_kib(text, key); }));
    }

    // The soft "Max open files" of <root>/self/limits; +Inf when unlimited.
    std::optional<double> self_max_open_files() const noexcept {
        return flatten(read(limits_path_, [](std::string_view text) { return parse_limits_max_open_files(text); }));
    }

    // The cgroup v2 path of the process ("/system.slice/app.service").
    std::optional<std::string> self_cgroup_v2_path() const {
        return flatten(read(cgroup_path_, [](std::string_view text) -> std::optional<std::string> {
            if (const auto path = parse_cgroup_v2_path(text))
                return std::string(*path);
            return std::nullopt;
        }));
    }

    // Seconds since boot, <root>/uptime.
    std::optional<double> uptime_seconds() const noexcept {
        return flatten(read(uptime_path_, [](std::string_view text) { return parse_uptime_seconds(text); }));
    }

    // The boot time in seconds since the Unix epoch ("btime" of <root>/stat).
    std::optional<std::uint64_t> boot_time_seconds() const noexcept {
#if defined(__linux__)
        const int fd = ::open(boot_stat_path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return std::nullopt;
        btime_scanner scanner;
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
#else
        return std::nullopt;
#endif
    }

    // Counts the entries of <root>/self/fd with getdents64 into a stack buffer
    // (opendir would malloc a 32 KB buffer per scrape). In the real procfs the
    // directory lists the descriptor opened to read it, which is not counted.
    std::optional<double> self_open_fds() const noexcept {
#if defined(__linux__)
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
        char buf[buffer_size];
        std::uint64_t count = 0;
        bool ok = true;
        for (;;) {
            const long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
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
#else
        return std::nullopt;
#endif
    }

private:
    // Big enough for every file read whole (stat, status, limits, cgroup, uptime).
    static constexpr std::size_t buffer_size = 4096;

    // parse(text of the file), or nullopt when the file cannot be read or is empty.
    template <class Parse>
    static auto read([[maybe_unused]] const std::string& path, [[maybe_unused]] Parse parse) noexcept(
        noexcept(parse(std::string_view{}))) -> std::optional<decltype(parse(std::string_view{}))> {
#if defined(__linux__)
        char buf[buffer_size];
        const std::ptrdiff_t len = read_file_into(path.c_str(), buf, sizeof buf);
        if (len > 0)
            return parse(std::string_view(buf, static_cast<std::size_t>(len)));
#endif
        return std::nullopt;
    }

    template <class T>
    static std::optional<T> flatten(std::optional<std::optional<T>> v) noexcept(
        std::is_nothrow_move_constructible_v<T>) {
        if (!v)
            return std::nullopt;
        return std::move(*v);
    }

    std::string root_;
    std::string stat_path_, status_path_, limits_path_, fd_path_, cgroup_path_, boot_stat_path_, uptime_path_;
    double ticks_per_second_ = 0.0;
    double page_size_ = 0.0;
};

}  // namespace llmetrics::detail
// ---- end llmetrics/core/detail/proc_reader.hpp ----

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

class process_collector final : public collector {
public:
    explicit process_collector(std::string prefix = {}, std::string proc_root = "/proc")
        : prefix_(std::move(prefix)), proc_(std::move(proc_root)) {
        for (std::size_t i = 0; i < family_count; ++i)
            names_[i] = prefix_ + std::string(specs[i].name);
    }

    const std::string& prefix() const noexcept { return prefix_; }
    const std::string& proc_root() const noexcept { return proc_.root(); }

    // Reads everything the collector exports; safe to call from several threads.
    process_sample sample() const {
        process_sample s;
        const double ticks_per_second = proc_.ticks_per_second();
        if (const auto f = proc_.self_stat()) {
            if (ticks_per_second > 0) {
                if (f->utime)
                    s.cpu_user_seconds = static_cast<double>(*f->utime) / ticks_per_second;
                if (f->stime)
                    s.cpu_system_seconds = static_cast<double>(*f->stime) / ticks_per_second;
                if (f->starttime)
                    s.start_time_seconds = start_time(*f->starttime);
            }
            if (f->threads)
                s.threads = static_cast<double>(*f->threads);
            if (f->vsize)
                s.virtual_memory_bytes = static_cast<double>(*f->vsize);
            if (f->rss_pages && proc_.page_size() > 0)
                s.resident_memory_bytes = static_cast<double>(*f->rss_pages) * proc_.page_size();
        }
        if (const auto data = proc_.self_status_bytes("VmData:"))
            s.heap_bytes = static_cast<double>(*data);
        s.max_fds = proc_.self_max_open_files();
        s.open_fds = proc_.self_open_fds();
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

    // starttime is fixed for the life of the process, and so is the boot time,
    // so /proc/stat is read once; until it has been read successfully, retry.
    std::optional<double> start_time(std::uint64_t starttime_ticks) const {
        double boot = boot_time_.load(std::memory_order_relaxed);
        if (std::isnan(boot)) {
            const auto read = proc_.boot_time_seconds();
            if (!read)
                return std::nullopt;
            boot = static_cast<double>(*read);
            boot_time_.store(boot, std::memory_order_relaxed);
        }
        return boot + static_cast<double>(starttime_ticks) / proc_.ticks_per_second();
    }

    std::string prefix_;
    detail::proc_reader proc_;
    std::string names_[family_count];
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
// The thread (core/detail/timer_thread.hpp, the one the analytics sampler runs
// too) stops and is joined by stop() or the destructor; a stop request wakes it
// at once.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


// ---- begin llmetrics/core/detail/sample_stats.hpp ----
// Statistics over a window of samples, shared by the scheduling-lag collector
// (its standard deviation) and the analytics user tracker (its satisfaction score).

#include <cstddef>
#include <span>

namespace llmetrics::detail {

// Population variance (divides by n, the window is the whole population); 0
// for an empty span. Sums in the order given.
inline double population_variance(std::span<const double> xs) noexcept {
    if (xs.empty())
        return 0;
    double mean = 0;
    for (const double x : xs)
        mean += x;
    mean /= static_cast<double>(xs.size());
    double sum = 0;
    for (const double x : xs)
        sum += (x - mean) * (x - mean);
    return sum / static_cast<double>(xs.size());
}

}  // namespace llmetrics::detail
// ---- end llmetrics/core/detail/sample_stats.hpp ----

// ---- begin llmetrics/core/detail/timer_thread.hpp ----
// The one periodic thread that measures scheduling lag: it sleeps until a
// deadline on the steady clock and, on waking, tells its owner how late it woke
// (the C++ counterpart of Node's event-loop lag). The scheduling-lag collector
// and the analytics system sampler each run one.
//
// The thread sleeps on a condition_variable_any with its stop_token, so stop()
// (or destruction) wakes it at once and joins it.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>
#include <utility>

namespace llmetrics::detail {

// How the deadline after a wake-up is set.
enum class timer_schedule {
    // deadline + period: a fixed rate (periodic samples stay on their grid);
    // after a stall longer than a period, now + period rather than a burst of
    // catch-up wake-ups.
    fixed_rate,
    // wake-up + period: each period measured from the actual wake-up, so one
    // long stall gives one large sample.
    after_wakeup,
};

class timer_thread {
public:
    using clock = std::chrono::steady_clock;
    // Called on the thread after each wake-up with how late it woke (>= 0).
    using wakeup_fn = std::function<void(std::chrono::nanoseconds lag)>;
    // Called on the thread once, before the first wait.
    using start_fn = std::function<void()>;

    timer_thread() = default;
    timer_thread(const timer_thread&) = delete;
    timer_thread& operator=(const timer_thread&) = delete;
    ~timer_thread() { stop(); }

    // Starts the thread unless it runs; `period` must be positive. start() and
    // stop() are for one controlling thread.
    void start(std::chrono::nanoseconds period, timer_schedule schedule, wakeup_fn on_wakeup, start_fn on_start = {}) {
        if (thread_.joinable())
            return;
        thread_ = std::jthread{[this, period, schedule, on_wakeup = std::move(on_wakeup),
                                on_start = std::move(on_start)](std::stop_token stop) {
            run(stop, period, schedule, on_wakeup, on_start);
        }};
    }

    void stop() {
        if (!thread_.joinable())
            return;
        thread_.request_stop();
        thread_.join();
    }

    bool running() const noexcept { return thread_.joinable(); }

private:
    void run(const std::stop_token& stop, std::chrono::nanoseconds period, timer_schedule schedule,
             const wakeup_fn& on_wakeup, const start_fn& on_start) {
        if (on_start)
            on_start();
        auto deadline = clock::now() + period;
        std::unique_lock lock{wait_mutex_};
        while (!stop.stop_requested()) {
            // Returns on timeout or when a stop is requested, never early otherwise.
            wake_.wait_until(lock, stop, deadline, [] { return false; });
            if (stop.stop_requested())
                break;
            const auto now = clock::now();
            if (now < deadline)
                continue;  // woken early; wait for the deadline
            lock.unlock();
            on_wakeup(std::chrono::duration_cast<std::chrono::nanoseconds>(now - deadline));
            lock.lock();
            if (schedule == timer_schedule::after_wakeup) {
                deadline = now + period;
            } else {
                deadline += period;
                if (deadline <= now)
                    deadline = now + period;
            }
        }
    }

    std::mutex wait_mutex_;  // only the thread waits; the condition variable needs a lock
    std::condition_variable_any wake_;
    std::jthread thread_;  // last: stopped and joined before the members it uses go away
};

}  // namespace llmetrics::detail
// ---- end llmetrics/core/detail/timer_thread.hpp ----

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
        // Each period measured from the actual wake-up, so one long stall gives
        // one large sample rather than a burst of catch-up wake-ups.
        timer_.start(options_.period, detail::timer_schedule::after_wakeup,
                     [this](std::chrono::nanoseconds lag) { record(std::chrono::duration<double>(lag).count()); });
    }

    explicit scheduling_lag_collector(std::string prefix)
        : scheduling_lag_collector(scheduling_lag_options{std::move(prefix)}) {}

    scheduling_lag_collector(const scheduling_lag_collector&) = delete;
    scheduling_lag_collector& operator=(const scheduling_lag_collector&) = delete;

    ~scheduling_lag_collector() override { stop(); }

    // Stops sampling and joins the thread; what was measured stays exported.
    void stop() { timer_.stop(); }

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
        s.stddev = std::sqrt(detail::population_variance(values));
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
    detail::timer_thread timer_;  // last: stopped and joined before the members it uses go away
};

}  // namespace llmetrics
// ---- end llmetrics/collectors/scheduling_lag_collector.hpp ----
// ---- end llmetrics/llmetrics.hpp ----

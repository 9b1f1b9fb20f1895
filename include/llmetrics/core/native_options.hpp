#pragma once
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

#include "buckets.hpp"
#include "detail/native_buckets.hpp"

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

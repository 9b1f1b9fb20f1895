#pragma once
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

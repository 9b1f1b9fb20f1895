#pragma once
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

#include "../../core/sample.hpp"
#include "buffered_output.hpp"

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

#pragma once
// RFC 3339 instants in UTC with milliseconds, "2024-05-01T12:00:00.123Z": the
// form JavaScript's Date.toISOString() writes, used by the analytics report and
// the request log.

#include <charconv>
#include <chrono>
#include <string>

namespace llmetrics::detail {

inline void append_zero_padded(std::string& out, long long v, int width) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    for (int n = static_cast<int>(r.ptr - buf); n < width; ++n) out += '0';
    out.append(buf, r.ptr);
}

// floor, not a cast: instants before 1970 still land on the right day.
inline void append_rfc3339_ms(std::string& out, std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(t);
    const auto day = floor<days>(ms);
    const year_month_day ymd{day};
    const hh_mm_ss hms{ms - day};
    append_zero_padded(out, static_cast<int>(ymd.year()), 4);
    out += '-';
    append_zero_padded(out, static_cast<unsigned>(ymd.month()), 2);
    out += '-';
    append_zero_padded(out, static_cast<unsigned>(ymd.day()), 2);
    out += 'T';
    append_zero_padded(out, hms.hours().count(), 2);
    out += ':';
    append_zero_padded(out, hms.minutes().count(), 2);
    out += ':';
    append_zero_padded(out, hms.seconds().count(), 2);
    out += '.';
    append_zero_padded(out, hms.subseconds().count(), 3);
    out += 'Z';
}

inline std::string to_rfc3339_ms(std::chrono::system_clock::time_point t) {
    std::string out;
    append_rfc3339_ms(out, t);
    return out;
}

}  // namespace llmetrics::detail

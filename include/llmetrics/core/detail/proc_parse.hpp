#pragma once
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

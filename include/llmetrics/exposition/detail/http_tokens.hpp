#pragma once
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

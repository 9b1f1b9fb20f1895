#pragma once
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

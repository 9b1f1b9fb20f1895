#pragma once
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

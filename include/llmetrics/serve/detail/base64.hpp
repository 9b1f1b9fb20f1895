#pragma once
// Base64 (RFC 4648): the standard alphabet for HTTP Basic credentials (§4) and the
// URL- and filename-safe one for Pushgateway grouping keys (§5). Encoding always
// pads; decoding accepts padded and unpadded input of either alphabet as asked.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmetrics::detail {

enum class base64_alphabet { standard, url_safe };

inline std::string base64_encode(std::string_view in, base64_alphabet alphabet = base64_alphabet::standard) {
    const char* table = alphabet == base64_alphabet::standard
                            ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                            : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t(std::uint8_t(in[i])) << 16) |
                                (std::uint32_t(std::uint8_t(in[i + 1])) << 8) | std::uint8_t(in[i + 2]);
        out += table[(v >> 18) & 63];
        out += table[(v >> 12) & 63];
        out += table[(v >> 6) & 63];
        out += table[v & 63];
    }
    if (const std::size_t rest = in.size() - i; rest > 0) {
        std::uint32_t v = std::uint32_t(std::uint8_t(in[i])) << 16;
        if (rest == 2) v |= std::uint32_t(std::uint8_t(in[i + 1])) << 8;
        out += table[(v >> 18) & 63];
        out += table[(v >> 12) & 63];
        out += rest == 2 ? table[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

// nullopt when `in` is not base64 of the given alphabet (padding optional, but
// when present it must be where it belongs, and unused bits must be zero).
inline std::optional<std::string> base64_decode(std::string_view in,
                                                base64_alphabet alphabet = base64_alphabet::standard) {
    const char c62 = alphabet == base64_alphabet::standard ? '+' : '-';
    const char c63 = alphabet == base64_alphabet::standard ? '/' : '_';
    const auto value = [&](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == c62) return 62;
        if (c == c63) return 63;
        return -1;
    };
    if (in.size() % 4 == 0 && !in.empty()) {  // strip padding, at most two
        if (in.back() == '=') in.remove_suffix(1);
        if (in.back() == '=') in.remove_suffix(1);
    }
    if (in.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(in.size() / 4 * 3 + 2);
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : in) {
        const int v = value(c);
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | std::uint32_t(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += char((acc >> bits) & 0xff);
        }
    }
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-canonical tail
    return out;
}

}  // namespace llmetrics::detail

// UTF-8 validation and repair (core/detail/utf8.hpp).

#include <catch2/catch.hpp>

#include <llmetrics/core/detail/utf8.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace {

using llmetrics::detail::is_valid_utf8;
using llmetrics::detail::sanitize_utf8;

const std::string fffd = "\xEF\xBF\xBD";

std::string bytes(std::initializer_list<int> list) {
    std::string s;
    for (int b : list) s.push_back(static_cast<char>(b));
    return s;
}

// An independent reference: decode by bit pattern, then reject overlong forms,
// surrogates and values past U+10FFFF.
bool reference_valid(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b0 = static_cast<unsigned char>(s[i]);
        std::size_t n;
        std::uint32_t cp;
        if (b0 < 0x80) { n = 1; cp = b0; }
        else if ((b0 & 0xE0) == 0xC0) { n = 2; cp = b0 & 0x1F; }
        else if ((b0 & 0xF0) == 0xE0) { n = 3; cp = b0 & 0x0F; }
        else if ((b0 & 0xF8) == 0xF0) { n = 4; cp = b0 & 0x07; }
        else return false;
        if (i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (b & 0x3F);
        }
        const std::uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n;
    }
    return true;
}

}  // namespace

TEST_CASE("valid UTF-8 passes through unchanged", "[utf8]") {
    for (const std::string& s : {std::string(), std::string("plain ascii, longer than eight bytes"),
                                std::string("h\xC3\xA9llo"), std::string("\xE6\x97\xA5\xE6\x9C\xAC"),
                                std::string("\xF0\x9F\x98\x80"), std::string("\xF4\x8F\xBF\xBF"),
                                std::string("\xEF\xBF\xBF"), std::string("\xED\x9F\xBF"),
                                std::string("\xEE\x80\x80"), std::string("nul\0inside", 10)}) {
        CHECK(is_valid_utf8(s));
        CHECK(sanitize_utf8(s) == s);
    }
}

TEST_CASE("each maximal invalid subpart becomes one U+FFFD", "[utf8]") {
    // The worked example of Unicode §3.9 (U+FFFD substitution of maximal subparts).
    CHECK(sanitize_utf8(bytes({0x61, 0xF1, 0x80, 0x80, 0xE1, 0x80, 0xC2, 0x62, 0x80, 0x63, 0x80, 0xBF, 0x64})) ==
          "a" + fffd + fffd + fffd + "b" + fffd + "c" + fffd + fffd + "d");
    // Overlong forms: the lead byte is never part of a valid prefix.
    CHECK(sanitize_utf8(bytes({0xC0, 0xAF})) == fffd + fffd);
    CHECK(sanitize_utf8(bytes({0xC1, 0xBF})) == fffd + fffd);
    CHECK(sanitize_utf8(bytes({0xE0, 0x80, 0xAF})) == fffd + fffd + fffd);
    CHECK(sanitize_utf8(bytes({0xF0, 0x80, 0x80, 0xAF})) == fffd + fffd + fffd + fffd);
    // Surrogates and values past U+10FFFF.
    CHECK(sanitize_utf8(bytes({0xED, 0xA0, 0x80})) == fffd + fffd + fffd);
    CHECK(sanitize_utf8(bytes({0xED, 0xBF, 0xBF})) == fffd + fffd + fffd);
    CHECK(sanitize_utf8(bytes({0xF4, 0x90, 0x80, 0x80})) == fffd + fffd + fffd + fffd);
    CHECK(sanitize_utf8(bytes({0xF5, 0x80})) == fffd + fffd);
    CHECK(sanitize_utf8(bytes({0xFF})) == fffd);
    // Truncated sequences: the valid prefix is one subpart, at the end or not.
    CHECK(sanitize_utf8("a" + bytes({0xE2, 0x82})) == "a" + fffd);
    CHECK(sanitize_utf8(bytes({0xF0, 0x9F, 0x98}) + "x") == fffd + "x");
    CHECK(sanitize_utf8(bytes({0xE2, 0x82, 0xE2, 0x82, 0xAC})) == fffd + "\xE2\x82\xAC");
    // Stray continuation bytes, each on its own.
    CHECK(sanitize_utf8(bytes({0x80, 0x80, 0x80})) == fffd + fffd + fffd);
    // Invalid bytes past the eight-byte ASCII fast path.
    CHECK(sanitize_utf8("0123456789" + bytes({0xFE}) + "abcdefgh") == "0123456789" + fffd + "abcdefgh");
    CHECK_FALSE(is_valid_utf8("0123456789abcdef" + bytes({0xC3})));
}

TEST_CASE("validation agrees with a reference decoder on every short sequence", "[utf8]") {
    std::string s(3, '\0');
    std::size_t mismatches = 0;
    for (int a = 0x80; a < 0x100; ++a) {
        for (int b = 0; b < 0x100; ++b) {
            s.assign({static_cast<char>(a), static_cast<char>(b)});
            if (is_valid_utf8(s) != reference_valid(s)) ++mismatches;
            for (int c = 0x60; c < 0xC8; ++c) {  // around the continuation range
                s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
                if (is_valid_utf8(s) != reference_valid(s)) ++mismatches;
            }
        }
    }
    for (int a = 0xEF; a < 0x100; ++a)
        for (int b = 0x70; b < 0xD0; ++b)
            for (int c : {0x7F, 0x80, 0xBF, 0xC0})
                for (int d : {0x7F, 0x80, 0xBF, 0xC0}) {
                    s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c), static_cast<char>(d)});
                    if (is_valid_utf8(s) != reference_valid(s)) ++mismatches;
                    if (!is_valid_utf8(sanitize_utf8(s))) ++mismatches;
                }
    CHECK(mismatches == 0);
}

TEST_CASE("sanitized output is always valid", "[utf8]") {
    std::uint64_t state = 0x9E3779B97F4A7C15ULL;
    std::string s;
    for (int round = 0; round < 2000; ++round) {
        s.clear();
        for (int i = 0; i < 24; ++i) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            s.push_back(static_cast<char>(state >> 56));
        }
        const std::string clean = sanitize_utf8(s);
        REQUIRE(is_valid_utf8(clean));
        REQUIRE(reference_valid(clean));
        if (reference_valid(s)) REQUIRE(clean == s);
    }
}

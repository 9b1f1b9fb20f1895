#pragma once
// Word-at-a-time loads and byte equality for short strings (label values). A
// libc call per value would be most of a series lookup's cost; these inline to a
// few overlapping loads.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace llmetrics::detail {

inline std::uint64_t load_word(const char* p) noexcept {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
}

// Up to 8 bytes of p as one word; together with n it determines the bytes
// exactly (overlapping loads, no call to memcpy for a variable length).
inline std::uint64_t load_small(const char* p, std::size_t n) noexcept {
    if (n >= 4) {
        std::uint32_t first, last;
        std::memcpy(&first, p, 4);
        std::memcpy(&last, p + n - 4, 4);
        return (std::uint64_t{first} << 32) | last;
    }
    if (n == 0) return 0;
    const auto byte = [&](std::size_t i) { return std::uint64_t{static_cast<unsigned char>(p[i])}; };
    return (byte(0) << 16) | (byte(n / 2) << 8) | byte(n - 1);
}

// a[0, n) == b[0, n). Below 4 bytes the three probes cover every byte.
inline bool same_bytes(const char* a, const char* b, std::size_t n) noexcept {
    if (n < 4) return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
    if (n <= 8) {
        std::uint32_t a0, a1, b0, b1;
        std::memcpy(&a0, a, 4);
        std::memcpy(&b0, b, 4);
        std::memcpy(&a1, a + n - 4, 4);
        std::memcpy(&b1, b + n - 4, 4);
        return a0 == b0 && a1 == b1;
    }
    std::size_t i = 0;
    for (; i + 8 < n; i += 8)
        if (load_word(a + i) != load_word(b + i)) return false;
    return load_word(a + n - 8) == load_word(b + n - 8);  // the last 8 bytes, overlapping what was compared
}

inline bool same_bytes(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && same_bytes(a.data(), b.data(), a.size());
}

}  // namespace llmetrics::detail

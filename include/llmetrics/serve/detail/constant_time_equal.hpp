#pragma once
// A comparison of secrets whose running time does not tell where they differ.

#include <cstddef>
#include <string_view>

namespace llmetrics::detail {

// Equal contents, compared without an early exit. The loop runs over `presented`
// (what the client sent) and reads `secret` cyclically, so neither the position
// of the first difference nor the secret's length changes the running time.
inline bool constant_time_equal(std::string_view presented, std::string_view secret) noexcept {
    if (secret.empty()) return presented.empty();
    unsigned diff = presented.size() == secret.size() ? 0u : 1u;
    for (std::size_t i = 0; i < presented.size(); ++i)
        diff |= static_cast<unsigned char>(presented[i]) ^ static_cast<unsigned char>(secret[i % secret.size()]);
    // Keeps the compiler from turning the accumulation into an early exit.
    volatile unsigned sink = diff;
    return sink == 0;
}

}  // namespace llmetrics::detail

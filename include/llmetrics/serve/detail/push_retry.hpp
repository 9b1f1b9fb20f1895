#pragma once
// The retry policy the Pushgateway client and remote write share: which answers
// are retried, how long to wait before each retry, the deadline of a Pushgateway
// call, and the server's Retry-After.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <random>
#include <string_view>
#include <system_error>

#include "../pushgateway.hpp"

namespace llmetrics::detail {

// Worth another attempt: no answer (0), a server error, or "too many requests".
inline bool push_retriable(unsigned status) noexcept { return status == 0 || status == 429 || status >= 500; }

inline std::chrono::milliseconds push_deadline(const pushgateway_options& o) noexcept {
    if (o.deadline.count() > 0) return o.deadline;
    const unsigned n = std::max(o.attempts, 1u);
    return o.timeout * n + o.max_backoff * (n - 1);
}

// The wait before retry `n` (1, 2, ...): base * 2^(n-1) capped at `cap`, then
// uniform in its upper half, so clients that failed together do not retry
// together and the wait never shrinks below half the schedule.
template <class Rng>
std::chrono::milliseconds retry_backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap_ms, unsigned n,
                                        Rng& rng) {
    const std::int64_t cap = std::max<std::int64_t>(cap_ms.count(), 0);
    std::int64_t d = std::max<std::int64_t>(base.count(), 0);
    for (unsigned i = 1; i < n && d < cap; ++i) d *= 2;
    d = std::min(d, cap);
    if (d <= 1) return std::chrono::milliseconds(d);
    std::uniform_int_distribution<std::int64_t> pick(d - d / 2, d);
    return std::chrono::milliseconds(pick(rng));
}

template <class Rng>
std::chrono::milliseconds push_backoff(const pushgateway_options& o, unsigned n, Rng& rng) {
    return retry_backoff(o.backoff, o.max_backoff, n, rng);
}

// A Retry-After header in its delay-seconds form (RFC 9110 §10.2.3); -1 when
// absent or an HTTP date (then the client's own backoff applies).
inline std::chrono::milliseconds parse_retry_after(std::string_view value) noexcept {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    std::uint32_t seconds = 0;
    const auto r = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (value.empty() || r.ec != std::errc{} || r.ptr != value.data() + value.size()) return std::chrono::milliseconds(-1);
    return std::chrono::seconds(seconds);
}

}  // namespace llmetrics::detail

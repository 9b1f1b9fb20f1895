#pragma once
// The Pushgateway client's retry policy (pushgateway_options): which answers
// are retried, how long to wait before each retry, and the deadline of a call.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

#include "../pushgateway.hpp"

namespace llmetrics::detail {

// Worth another attempt: no answer (0), a server error, or "too many requests".
inline bool push_retriable(unsigned status) noexcept { return status == 0 || status == 429 || status >= 500; }

inline std::chrono::milliseconds push_deadline(const pushgateway_options& o) noexcept {
    if (o.deadline.count() > 0) return o.deadline;
    const unsigned n = std::max(o.attempts, 1u);
    return o.timeout * n + o.max_backoff * (n - 1);
}

// The wait before retry `n` (1, 2, ...): backoff * 2^(n-1) capped at max_backoff,
// then uniform in its upper half, so clients that failed together do not retry
// together and the wait never shrinks below half the schedule.
template <class Rng>
std::chrono::milliseconds push_backoff(const pushgateway_options& o, unsigned n, Rng& rng) {
    const std::int64_t cap = std::max<std::int64_t>(o.max_backoff.count(), 0);
    std::int64_t d = std::max<std::int64_t>(o.backoff.count(), 0);
    for (unsigned i = 1; i < n && d < cap; ++i) d *= 2;
    d = std::min(d, cap);
    if (d <= 1) return std::chrono::milliseconds(d);
    std::uniform_int_distribution<std::int64_t> pick(d - d / 2, d);
    return std::chrono::milliseconds(pick(rng));
}

}  // namespace llmetrics::detail

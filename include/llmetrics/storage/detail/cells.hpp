#pragma once
// The values behind a series. Every write is a single relaxed atomic RMW on the
// writing thread's stripe: relaxed is enough because each cell is an independent
// monotonic tally; nothing else is published through it, and a scrape only needs
// each load to return some value that was written (atomicity), not an order
// between cells. Histogram counts are derived from bucket tallies at scrape time,
// so `_count` always equals the `+Inf` bucket and buckets stay cumulative.

#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace llmetrics::detail {

// Adds to an atomic double; used for fractional counter increments, histogram sums
// and gauges (C++20 fetch_add on atomic<double> is a CAS loop anyway).
inline void atomic_add(std::atomic<double>& target, double delta) noexcept {
    double current = target.load(std::memory_order_relaxed);
    while (!target.compare_exchange_weak(current, current + delta, std::memory_order_relaxed,
                                         std::memory_order_relaxed)) {
    }
}

// Integer increments and fractional ones are kept apart so a counter stays exact
// past 2^53 (a double-only counter silently stops counting there).
struct counter_cell {
    std::atomic<std::uint64_t> integral{0};
    std::atomic<double> fractional{0.0};
};
static_assert(sizeof(counter_cell) == 16);

template <std::size_t Bounds>
struct histogram_cell {
    std::array<std::atomic<std::uint64_t>, Bounds + 1> counts{};  // last one is +Inf
    std::atomic<double> sum{0.0};
};

}  // namespace llmetrics::detail

#pragma once
// Reading the time stamp counter as nanoseconds, given a calibration (made once,
// by core/tsc_clock.hpp). Kept apart from the calibration so that time_source
// (core/clock.hpp) can recognise a TSC source without pulling in the
// calibration's includes.

#include <cstdint>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <x86intrin.h>
#define LLMETRICS_HAS_TSC 1
#else
#define LLMETRICS_HAS_TSC 0
#endif

namespace llmetrics::detail {

// steady_clock nanoseconds = ns0 + (ticks - tick0) * ns_per_tick.
struct tsc_scale {
    std::uint64_t tick0 = 0;
    std::int64_t ns0 = 0;
    double ns_per_tick = 0.0;
};

inline std::uint64_t read_tsc() noexcept {
#if LLMETRICS_HAS_TSC
    return __rdtsc();
#else
    return 0;
#endif
}

// A time_source::now_fn: the context is the tsc_scale. The difference is taken
// signed, so a reading a few ticks behind tick0 (another CPU's counter) stays near
// ns0 instead of wrapping.
inline std::int64_t tsc_now_ns(const void* context) noexcept {
    const auto& s = *static_cast<const tsc_scale*>(context);
    const auto ticks = static_cast<std::int64_t>(read_tsc() - s.tick0);
    return s.ns0 + static_cast<std::int64_t>(static_cast<double>(ticks) * s.ns_per_tick);
}

}  // namespace llmetrics::detail

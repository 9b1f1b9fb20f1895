#pragma once
// Where llmetrics reads the time: one time_source for the instrumentation's
// durations and the analytics' timestamps. By default durations come from
// std::chrono::steady_clock and instants from std::chrono::system_clock; tests
// and simulations (the demo) hand in a clock of their own so that recorded
// durations and report windows are exact and runs are reproducible:
//
//     struct fake_clock { std::chrono::nanoseconds t{}; auto now() const { return t; } };
//     fake_clock clock;
//     router.set_time_source(llmetrics::time_source::of(clock));   // clock must outlive router
//     clock.t += 1500ms;                                           // "the call took 1.5 s"
//
//     llmetrics::manual_clock wall{start};                         // both kinds of reading
//     options.clock = llmetrics::time_source::of(wall);
//
// A time_source is two words (a function pointer and its context): the default
// path is a predictable branch to an inlined steady_clock::now(), so the hot
// path pays nothing for the option.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <type_traits>

#include "detail/tsc_read.hpp"

namespace llmetrics {

// An instant as people read it (reports print it as an RFC 3339 time).
using wall_time = std::chrono::system_clock::time_point;

class time_source {
public:
    using now_fn = std::int64_t (*)(const void* context) noexcept;

    constexpr time_source() noexcept = default;
    constexpr time_source(now_fn fn, const void* context) noexcept : fn_(fn), context_(context) {}

    // Reads `clock.now()`, which returns a std::chrono::duration or time_point.
    // The clock is referenced, not copied.
    template <class Clock>
    static time_source of(const Clock& clock) noexcept {
        return time_source(
            [](const void* c) noexcept -> std::int64_t {
                const auto t = static_cast<const Clock*>(c)->now();
                if constexpr (requires { t.time_since_epoch(); })
                    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
                else
                    return std::chrono::duration_cast<std::chrono::nanoseconds>(t).count();
            },
            &clock);
    }

    // Nanoseconds since an arbitrary epoch; only differences are meaningful.
    std::int64_t now_ns() const noexcept {
        if (fn_) [[unlikely]]
            return fn_(context_);
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }

    // Never negative: two TSC readings on different CPUs may be a few ticks apart.
    double seconds_since(std::int64_t start_ns) const noexcept {
        const std::int64_t elapsed = now_ns() - start_ns;
        return static_cast<double>(elapsed > 0 ? elapsed : 0) * 1e-9;  // not / 1e9: a division costs nanoseconds
    }

    // The current instant: system_clock::now() by default and for the TSC source
    // (it counts durations only); a clock handed in with of() serves both
    // readings, its value taken as time since the Unix epoch.
    wall_time wall_now() const noexcept {
        if (fn_ && !reads_tsc())
            return wall_time{std::chrono::duration_cast<wall_time::duration>(std::chrono::nanoseconds{fn_(context_)})};
        return std::chrono::system_clock::now();
    }

    bool is_steady_clock() const noexcept { return fn_ == nullptr; }
    // Durations come from the time stamp counter (core/tsc_clock.hpp).
    bool reads_tsc() const noexcept { return fn_ == &detail::tsc_now_ns; }

private:
    now_fn fn_ = nullptr;
    const void* context_ = nullptr;
};

// A clock that only moves when told to; safe to read from many threads while one
// thread advances it. Hand it out as `time_source::of(c)`, which refers to `c`,
// so `c` must outlive its users.
class manual_clock {
public:
    explicit manual_clock(wall_time start = wall_time{}) noexcept : ns_(to_ns(start)) {}

    wall_time now() const noexcept {
        return wall_time{std::chrono::duration_cast<wall_time::duration>(
            std::chrono::nanoseconds{ns_.load(std::memory_order_acquire)})};
    }
    wall_time operator()() const noexcept { return now(); }

    template <class Rep, class Period>
    void advance(std::chrono::duration<Rep, Period> d) noexcept {
        ns_.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(),
                      std::memory_order_acq_rel);
    }
    void set(wall_time t) noexcept { ns_.store(to_ns(t), std::memory_order_release); }

private:
    static std::int64_t to_ns(wall_time t) noexcept {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    }
    std::atomic<std::int64_t> ns_;
};

}  // namespace llmetrics

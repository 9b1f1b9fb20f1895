#pragma once
// The time source of the analytics component. Every timestamp it stores (events,
// interactions, samples, report windows) comes from one injectable function, so a
// test can drive time by hand and check windows, trends and eviction exactly,
// without sleeping. Wall-clock time points are used because the report prints
// them as ISO-8601 instants, as the tutorial does.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

namespace llmetrics {

using analytics_time = std::chrono::system_clock::time_point;
using analytics_clock = std::function<analytics_time()>;

// The default clock: the system (wall) clock.
inline analytics_time system_now() noexcept { return std::chrono::system_clock::now(); }

// A clock that only moves when told to; safe to read from many threads while one
// thread advances it. Pass `c.function()` (which refers to `c`, so `c` must outlive
// its users) where an analytics_clock is expected.
class manual_clock {
public:
    explicit manual_clock(analytics_time start = analytics_time{}) noexcept
        : ns_(to_ns(start)) {}

    analytics_time now() const noexcept {
        return analytics_time{std::chrono::duration_cast<analytics_time::duration>(
            std::chrono::nanoseconds{ns_.load(std::memory_order_acquire)})};
    }
    analytics_time operator()() const noexcept { return now(); }

    template <class Rep, class Period>
    void advance(std::chrono::duration<Rep, Period> d) noexcept {
        ns_.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(),
                      std::memory_order_acq_rel);
    }
    void set(analytics_time t) noexcept { ns_.store(to_ns(t), std::memory_order_release); }

    analytics_clock function() const {
        return [this] { return now(); };
    }

private:
    static std::int64_t to_ns(analytics_time t) noexcept {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    }
    std::atomic<std::int64_t> ns_;
};

}  // namespace llmetrics

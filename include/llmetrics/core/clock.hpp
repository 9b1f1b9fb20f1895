#pragma once
// Where the instrumentation reads the time. By default std::chrono::steady_clock;
// tests and simulations (the demo) hand in a clock of their own so that recorded
// durations are exact and runs are reproducible:
//
//     struct fake_clock { std::chrono::nanoseconds t{}; auto now() const { return t; } };
//     fake_clock clock;
//     router.set_time_source(llmetrics::time_source::of(clock));   // clock must outlive router
//     clock.t += 1500ms;                                           // "the call took 1.5 s"
//
// A time_source is two words (a function pointer and its context): the default
// path is a predictable branch to an inlined steady_clock::now(), so the hot
// path pays nothing for the option.

#include <chrono>
#include <cstdint>
#include <type_traits>

namespace llmetrics {

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

    double seconds_since(std::int64_t start_ns) const noexcept {
        return static_cast<double>(now_ns() - start_ns) * 1e-9;  // not / 1e9: a division costs nanoseconds on every call
    }

    bool is_steady_clock() const noexcept { return fn_ == nullptr; }

private:
    now_fn fn_ = nullptr;
    const void* context_ = nullptr;
};

}  // namespace llmetrics

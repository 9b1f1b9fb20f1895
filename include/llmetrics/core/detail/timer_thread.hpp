#pragma once
// The one periodic thread that measures scheduling lag: it sleeps until a
// deadline on the steady clock and, on waking, tells its owner how late it woke
// (the C++ counterpart of Node's event-loop lag). The scheduling-lag collector
// and the analytics system sampler each run one.
//
// The thread sleeps on a condition_variable_any with its stop_token, so stop()
// (or destruction) wakes it at once and joins it.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>
#include <utility>

namespace llmetrics::detail {

// How the deadline after a wake-up is set.
enum class timer_schedule {
    // deadline + period: a fixed rate (periodic samples stay on their grid);
    // after a stall longer than a period, now + period rather than a burst of
    // catch-up wake-ups.
    fixed_rate,
    // wake-up + period: each period measured from the actual wake-up, so one
    // long stall gives one large sample.
    after_wakeup,
};

class timer_thread {
public:
    using clock = std::chrono::steady_clock;
    // Called on the thread after each wake-up with how late it woke (>= 0).
    using wakeup_fn = std::function<void(std::chrono::nanoseconds lag)>;
    // Called on the thread once, before the first wait.
    using start_fn = std::function<void()>;

    timer_thread() = default;
    timer_thread(const timer_thread&) = delete;
    timer_thread& operator=(const timer_thread&) = delete;
    ~timer_thread() { stop(); }

    // Starts the thread unless it runs; `period` must be positive. start() and
    // stop() are for one controlling thread.
    void start(std::chrono::nanoseconds period, timer_schedule schedule, wakeup_fn on_wakeup, start_fn on_start = {}) {
        if (thread_.joinable())
            return;
        thread_ = std::jthread{[this, period, schedule, on_wakeup = std::move(on_wakeup),
                                on_start = std::move(on_start)](std::stop_token stop) {
            run(stop, period, schedule, on_wakeup, on_start);
        }};
    }

    void stop() {
        if (!thread_.joinable())
            return;
        thread_.request_stop();
        thread_.join();
    }

    bool running() const noexcept { return thread_.joinable(); }

private:
    void run(const std::stop_token& stop, std::chrono::nanoseconds period, timer_schedule schedule,
             const wakeup_fn& on_wakeup, const start_fn& on_start) {
        if (on_start)
            on_start();
        auto deadline = clock::now() + period;
        std::unique_lock lock{wait_mutex_};
        while (!stop.stop_requested()) {
            // Returns on timeout or when a stop is requested, never early otherwise.
            wake_.wait_until(lock, stop, deadline, [] { return false; });
            if (stop.stop_requested())
                break;
            const auto now = clock::now();
            if (now < deadline)
                continue;  // woken early; wait for the deadline
            lock.unlock();
            on_wakeup(std::chrono::duration_cast<std::chrono::nanoseconds>(now - deadline));
            lock.lock();
            if (schedule == timer_schedule::after_wakeup) {
                deadline = now + period;
            } else {
                deadline += period;
                if (deadline <= now)
                    deadline = now + period;
            }
        }
    }

    std::mutex wait_mutex_;  // only the thread waits; the condition variable needs a lock
    std::condition_variable_any wake_;
    std::jthread thread_;  // last: stopped and joined before the members it uses go away
};

}  // namespace llmetrics::detail

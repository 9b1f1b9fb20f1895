#pragma once
// The periodic system sampler (the tutorial's `collectPeriodicMetrics`). Every
// period (default 30 s) a background thread records into a system_metric_store:
//
//   memory_usage    rss (/proc/self/status VmRSS); heapUsed / heapTotal (glibc
//                   mallinfo2, when glibc's malloc serves the process);
//                   memoryLimit (physical RAM or the cgroup memory limit,
//                   whichever is lower); all in bytes; trend on rss
//   cpu_usage       user, system (getrusage, microseconds, cumulative) and percent
//                   (CPU time over wall time since the previous sample, 100 = one
//                   core; the first sample covers the whole process life);
//                   trend on percent
//   scheduling_lag  lag: how many milliseconds after its deadline the periodic
//                   timer fired (the C++ counterpart of Node's event-loop lag);
//                   trend on lag. Only the periodic thread records it.
//   uptime          uptime (ms since the sampler started, on the time_source)
//                   and processUptime (ms since the process started, from
//                   /proc/self/stat and /proc/uptime); trend on uptime
//
// A value that cannot be read is left out rather than made up. Timestamps are
// the wall readings of the injectable time_source (core/clock.hpp); the lag and
// CPU percentage are measured on the steady clock, since they are about real time.
// /proc is read by core/detail/proc_reader.hpp, as the process collector reads it.
//
// The thread (core/detail/timer_thread.hpp, the one the scheduling-lag collector
// runs too) is woken at once and joined by destruction or stop(); sample_now()
// takes a sample on the caller's thread, for tests and for programs that want one now.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "../core/clock.hpp"
#include "../core/detail/proc_reader.hpp"
#include "../core/detail/timer_thread.hpp"
#include "detail/system_readings.hpp"
#include "system_metrics.hpp"

namespace llmetrics {

class system_sampler {
public:
    static constexpr std::chrono::milliseconds default_period{30'000};

    // Starts the periodic thread when `start` is true.
    explicit system_sampler(system_metric_store& store, time_source clock = {},
                            std::chrono::milliseconds period = default_period, bool start = true)
        : store_(store), clock_(clock), period_(period), started_at_(clock_.wall_now()) {
        if (period_ <= std::chrono::milliseconds::zero())
            throw std::invalid_argument("llmetrics: the sampler period must be positive");
        if (start) this->start();
    }
    system_sampler(const system_sampler&) = delete;
    system_sampler& operator=(const system_sampler&) = delete;
    ~system_sampler() { stop(); }

    // start() and stop() are for one controlling thread; sample_now() may be
    // called from any thread at any time.
    void start() {
        // A fixed rate: the samples stay on their grid (see timer_schedule).
        timer_.start(
            period_, detail::timer_schedule::fixed_rate,
            [this](std::chrono::nanoseconds lag) {
                sample(std::chrono::duration<double, std::milli>(lag).count());
                ticks_.fetch_add(1, std::memory_order_relaxed);
            },
            [this] { sample(std::nullopt); });
    }
    void stop() { timer_.stop(); }
    bool running() const noexcept { return timer_.running(); }

    // memory_usage, cpu_usage and uptime, now, on the calling thread.
    void sample_now() { sample(std::nullopt); }

    std::chrono::milliseconds period() const noexcept { return period_; }
    // Periodic samples taken by the thread so far.
    std::uint64_t ticks() const noexcept { return ticks_.load(std::memory_order_relaxed); }

private:
    using steady = std::chrono::steady_clock;

    void sample(std::optional<double> lag_ms) {
        namespace f = system_field;
        const wall_time now = clock_.wall_now();

        system_fields memory;
        if (auto rss = proc_.self_status_bytes("VmRSS:")) memory.emplace_back(f::rss, static_cast<double>(*rss));
        if (auto heap = detail::read_heap_usage()) {
            memory.emplace_back(f::heap_used, heap->used);
            memory.emplace_back(f::heap_total, heap->total);
        }
        if (auto limit = detail::read_memory_limit_bytes(proc_)) memory.emplace_back(f::memory_limit, *limit);
        if (!memory.empty()) store_.record(system_metric::memory_usage, std::move(memory), now, f::rss);

        const auto process_uptime = detail::read_process_uptime_ms(proc_);
        if (auto cpu = detail::read_cpu_times()) {
            system_fields fields{{std::string{f::user}, cpu->user_us}, {std::string{f::system}, cpu->system_us}};
            if (auto percent = cpu_percent(*cpu, process_uptime)) fields.emplace_back(f::percent, *percent);
            store_.record(system_metric::cpu_usage, std::move(fields), now, f::percent);
        }

        if (lag_ms) store_.record(system_metric::scheduling_lag, {{std::string{f::lag}, *lag_ms}}, now, f::lag);

        system_fields up{
            {std::string{f::uptime}, std::chrono::duration<double, std::milli>(now - started_at_).count()}};
        if (process_uptime) up.emplace_back(f::process_uptime, *process_uptime);
        store_.record(system_metric::uptime, std::move(up), now, f::uptime);
    }

    // CPU time over wall time since the previous sample (percent of one core).
    std::optional<double> cpu_percent(const detail::cpu_times& cpu, std::optional<double> process_uptime_ms) {
        std::lock_guard lock{cpu_mutex_};
        const auto now = steady::now();
        const double total_us = cpu.user_us + cpu.system_us;
        std::optional<double> out;
        if (previous_) {
            const double wall_us = std::chrono::duration<double, std::micro>(now - previous_->first).count();
            if (wall_us > 0) out = (total_us - previous_->second) / wall_us * 100.0;
        } else if (process_uptime_ms && *process_uptime_ms > 0) {
            out = total_us / (*process_uptime_ms * 1000.0) * 100.0;
        }
        previous_ = std::pair{now, total_us};
        return out;
    }

    system_metric_store& store_;
    time_source clock_;
    detail::proc_reader proc_;
    std::chrono::milliseconds period_;
    wall_time started_at_;
    std::atomic<std::uint64_t> ticks_{0};
    std::mutex cpu_mutex_;  // guards previous_
    std::optional<std::pair<steady::time_point, double>> previous_;
    detail::timer_thread timer_;  // last: stopped and joined before the members it uses go away
};

}  // namespace llmetrics

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
//   uptime          uptime (ms since the sampler started, on the analytics clock)
//                   and processUptime (ms since the process started, from
//                   /proc/self/stat and /proc/uptime); trend on uptime
//
// A value that cannot be read is left out rather than made up. Timestamps come
// from the injectable analytics clock; the lag and CPU percentage are measured
// on the steady clock, since they are about real time.
//
// The thread sleeps on a condition_variable_any with a stop_token, so
// destruction (or stop()) wakes it at once and joins it; sample_now() takes a
// sample on the caller's thread, for tests and for programs that want one now.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define LLMETRICS_HAS_MALLINFO2 1
#else
#define LLMETRICS_HAS_MALLINFO2 0
#endif

#include "clock.hpp"
#include "system_metrics.hpp"

namespace llmetrics {

namespace detail {

// VmRSS from /proc/self/status, in bytes.
inline std::optional<double> read_rss_bytes() {
    std::ifstream in{"/proc/self/status"};
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) != 0) continue;
        std::istringstream fields{line.substr(6)};
        double kb = 0;
        if (fields >> kb) return kb * 1024.0;
        return std::nullopt;
    }
    return std::nullopt;
}

// Milliseconds since this process started: system uptime minus the start time
// (field 22 of /proc/self/stat, in clock ticks since boot).
inline std::optional<double> read_process_uptime_ms() {
    std::ifstream stat{"/proc/self/stat"};
    std::string text{std::istreambuf_iterator<char>{stat}, std::istreambuf_iterator<char>{}};
    const auto paren = text.rfind(')');  // the command name may contain spaces and parentheses
    if (paren == std::string::npos) return std::nullopt;
    std::istringstream fields{text.substr(paren + 1)};
    std::string field;
    for (int i = 3; i <= 22; ++i)  // fields after ")" start at number 3 (state)
        if (!(fields >> field)) return std::nullopt;
    const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
    std::ifstream up{"/proc/uptime"};
    double uptime_s = 0;
    if (ticks_per_second <= 0 || !(up >> uptime_s)) return std::nullopt;
    const double start_s = std::strtod(field.c_str(), nullptr) / static_cast<double>(ticks_per_second);
    return std::max(0.0, uptime_s - start_s) * 1000.0;
}

// Physical memory, or the cgroup (v2, then v1) memory limit when it is lower.
inline std::optional<double> read_memory_limit_bytes() {
    std::optional<double> limit;
    const long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGESIZE);
    if (pages > 0 && page_size > 0) limit = static_cast<double>(pages) * static_cast<double>(page_size);
    const auto consider = [&](const std::string& path) {
        std::ifstream in{path};
        std::string value;
        if (!(in >> value) || value == "max") return;
        char* end = nullptr;
        const double v = std::strtod(value.c_str(), &end);
        if (end != value.c_str() && v > 0 && (!limit || v < *limit)) limit = v;
    };
    std::string cgroup_path;
    {
        std::ifstream in{"/proc/self/cgroup"};
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("0::", 0) == 0) cgroup_path = line.substr(3);
    }
    if (!cgroup_path.empty() && cgroup_path != "/")
        consider("/sys/fs/cgroup" + cgroup_path + "/memory.max");
    consider("/sys/fs/cgroup/memory.max");
    consider("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    return limit;
}

struct heap_usage {
    double used = 0;
    double total = 0;
};

inline std::optional<heap_usage> read_heap_usage() {
#if LLMETRICS_HAS_MALLINFO2
    const struct mallinfo2 mi = ::mallinfo2();
    // uordblks: in use in the arenas; hblkhd: mmapped chunks (all in use);
    // arena: held by the arenas. All zero when malloc is not glibc's (jemalloc,
    // tcmalloc, a sanitizer's): then there is nothing to report.
    if (mi.arena + mi.hblkhd == 0) return std::nullopt;
    return heap_usage{static_cast<double>(mi.uordblks + mi.hblkhd),
                      static_cast<double>(mi.arena + mi.hblkhd)};
#else
    return std::nullopt;
#endif
}

struct cpu_times {
    double user_us = 0;
    double system_us = 0;
};

inline std::optional<cpu_times> read_cpu_times() {
    rusage ru{};
    if (::getrusage(RUSAGE_SELF, &ru) != 0) return std::nullopt;
    const auto us = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) * 1e6 + static_cast<double>(tv.tv_usec);
    };
    return cpu_times{us(ru.ru_utime), us(ru.ru_stime)};
}

}  // namespace detail

class system_sampler {
public:
    static constexpr std::chrono::milliseconds default_period{30'000};

    // Starts the periodic thread when `start` is true.
    explicit system_sampler(system_metric_store& store, analytics_clock clock = system_now,
                            std::chrono::milliseconds period = default_period, bool start = true)
        : store_(store), clock_(std::move(clock)), period_(period), started_at_(clock_()) {
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
        if (!thread_.joinable())
            thread_ = std::jthread{[this](std::stop_token stop) { run(std::move(stop)); }};
    }
    void stop() {
        if (!thread_.joinable()) return;
        thread_.request_stop();
        thread_.join();
    }
    bool running() const noexcept { return thread_.joinable(); }

    // memory_usage, cpu_usage and uptime, now, on the calling thread.
    void sample_now() { sample(std::nullopt); }

    std::chrono::milliseconds period() const noexcept { return period_; }
    // Periodic samples taken by the thread so far.
    std::uint64_t ticks() const noexcept { return ticks_.load(std::memory_order_relaxed); }

private:
    using steady = std::chrono::steady_clock;

    void run(std::stop_token stop) {
        sample(std::nullopt);
        auto deadline = steady::now() + period_;
        std::unique_lock lock{wait_mutex_};
        while (!stop.stop_requested()) {
            wake_.wait_until(lock, stop, deadline, [] { return false; });
            if (stop.stop_requested()) break;
            const auto now = steady::now();
            if (now < deadline) continue;  // woken early; wait for the deadline
            const double lag_ms = std::chrono::duration<double, std::milli>(now - deadline).count();
            lock.unlock();
            sample(lag_ms);
            ticks_.fetch_add(1, std::memory_order_relaxed);
            lock.lock();
            // Fixed rate; after a stall longer than a period, restart from now
            // rather than firing a burst of catch-up samples.
            deadline += period_;
            if (deadline <= now) deadline = now + period_;
        }
    }

    void sample(std::optional<double> lag_ms) {
        namespace f = system_field;
        const analytics_time now = clock_();

        system_fields memory;
        if (auto rss = detail::read_rss_bytes()) memory.emplace_back(f::rss, *rss);
        if (auto heap = detail::read_heap_usage()) {
            memory.emplace_back(f::heap_used, heap->used);
            memory.emplace_back(f::heap_total, heap->total);
        }
        if (auto limit = detail::read_memory_limit_bytes()) memory.emplace_back(f::memory_limit, *limit);
        if (!memory.empty()) store_.record(system_metric::memory_usage, std::move(memory), now, f::rss);

        const auto process_uptime = detail::read_process_uptime_ms();
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
    analytics_clock clock_;
    std::chrono::milliseconds period_;
    analytics_time started_at_;
    std::atomic<std::uint64_t> ticks_{0};
    std::mutex cpu_mutex_;  // guards previous_
    std::optional<std::pair<steady::time_point, double>> previous_;
    std::mutex wait_mutex_;
    std::condition_variable_any wake_;
    std::jthread thread_;  // last: stopped and joined before the members it uses go away
};

}  // namespace llmetrics

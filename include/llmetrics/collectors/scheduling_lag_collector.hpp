#pragma once
// Scheduling lag: the C++ counterpart of Node's event-loop lag (prom-client's
// nodejs_eventloop_lag_*). A background thread sleeps for a fixed period and
// records how much later than asked it woke up. Lag rises when the machine's
// CPUs are oversubscribed, when the process is throttled by its cgroup CPU quota,
// or when the kernel is slow to schedule it: the same conditions that delay every
// request the process serves.
//
// Exported gauges (all in seconds, prefix prepended):
//   scheduling_lag_seconds          the latest sample
//   scheduling_lag_min_seconds      over the window of the last `window` samples
//   scheduling_lag_max_seconds
//   scheduling_lag_mean_seconds
//   scheduling_lag_stddev_seconds   population standard deviation
//   scheduling_lag_p50_seconds      nearest-rank percentiles
//   scheduling_lag_p90_seconds
//   scheduling_lag_p99_seconds
// Nothing is exported before the first sample. Defaults: a 100 ms period (10
// wake-ups a second: negligible cost, fine enough to catch stalls that matter to
// request latency) and a 100-sample window, i.e. the last 10 s. Set the window
// to cover your scrape interval (150 for 15 s, 600 for 60 s at 100 ms) so no
// stall falls between two scrapes unseen by _max.
//
// On an idle Linux machine the floor is about 50-100 us: the kernel's default
// 50 us timer slack for normal threads plus the wake-up itself.
//
// The thread (core/detail/timer_thread.hpp, the one the analytics sampler runs
// too) stops and is joined by stop() or the destructor; a stop request wakes it
// at once.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/detail/sample_stats.hpp"
#include "../core/detail/timer_thread.hpp"
#include "../core/metric_type.hpp"
#include "../registry/collector.hpp"
#include "../core/snapshot.hpp"

namespace llmetrics {

// Every member has a default initializer, so designated initializers may name
// any subset: scheduling_lag_collector({.prefix = "llm_router_", .period = 10ms}).
struct scheduling_lag_options {
    std::string prefix = {};                                           // e.g. "llm_router_"
    std::chrono::nanoseconds period = std::chrono::milliseconds(100);  // sleep between samples
    std::size_t window = 100;                                          // samples kept for the statistics
};

struct scheduling_lag_stats {
    double last = 0, min = 0, max = 0, mean = 0, stddev = 0, p50 = 0, p90 = 0, p99 = 0;  // seconds
    std::size_t samples = 0;  // in the window
};

class scheduling_lag_collector final : public collector {
public:
    explicit scheduling_lag_collector(scheduling_lag_options options = {})
        : options_(std::move(options)) {
        if (options_.period <= std::chrono::nanoseconds::zero())
            options_.period = std::chrono::milliseconds(100);
        if (options_.window == 0)
            options_.window = 1;
        ring_.assign(options_.window, 0.0);
        // Each period measured from the actual wake-up, so one long stall gives
        // one large sample rather than a burst of catch-up wake-ups.
        timer_.start(options_.period, detail::timer_schedule::after_wakeup,
                     [this](std::chrono::nanoseconds lag) { record(std::chrono::duration<double>(lag).count()); });
    }

    explicit scheduling_lag_collector(std::string prefix)
        : scheduling_lag_collector(scheduling_lag_options{std::move(prefix)}) {}

    scheduling_lag_collector(const scheduling_lag_collector&) = delete;
    scheduling_lag_collector& operator=(const scheduling_lag_collector&) = delete;

    ~scheduling_lag_collector() override { stop(); }

    // Stops sampling and joins the thread; what was measured stays exported.
    void stop() { timer_.stop(); }

    const scheduling_lag_options& options() const noexcept { return options_; }

    // Samples taken since construction.
    std::uint64_t total_samples() const {
        std::lock_guard lock(data_mutex_);
        return total_;
    }

    // Statistics over the window; empty before the first sample.
    std::optional<scheduling_lag_stats> stats() const {
        std::vector<double> values;
        scheduling_lag_stats s;
        {
            std::lock_guard lock(data_mutex_);
            if (total_ == 0)
                return std::nullopt;
            const std::size_t n = total_ < ring_.size() ? static_cast<std::size_t>(total_) : ring_.size();
            values.assign(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(n));
            s.last = last_;
        }
        std::sort(values.begin(), values.end());
        const std::size_t n = values.size();
        double sum = 0;
        for (const double v : values)
            sum += v;
        s.samples = n;
        s.min = values.front();
        s.max = values.back();
        s.mean = sum / static_cast<double>(n);
        s.stddev = std::sqrt(detail::population_variance(values));
        // Nearest rank: the smallest value with at least p% of samples at or below it.
        const auto rank = [&](double p) {
            const auto r = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
            return values[std::clamp<std::size_t>(r, 1, n) - 1];
        };
        s.p50 = rank(50);
        s.p90 = rank(90);
        s.p99 = rank(99);
        return s;
    }

    void collect(std::vector<family_snapshot>& out) override {
        const auto s = stats();
        if (!s)
            return;
        add(out, "scheduling_lag_seconds", "How late the latest periodic wake-up of a sampling thread fired, in seconds.", s->last);
        add(out, "scheduling_lag_min_seconds", "Smallest scheduling lag in the sample window, in seconds.", s->min);
        add(out, "scheduling_lag_max_seconds", "Largest scheduling lag in the sample window, in seconds.", s->max);
        add(out, "scheduling_lag_mean_seconds", "Mean scheduling lag over the sample window, in seconds.", s->mean);
        add(out, "scheduling_lag_stddev_seconds", "Standard deviation of scheduling lag over the sample window, in seconds.", s->stddev);
        add(out, "scheduling_lag_p50_seconds", "Median scheduling lag over the sample window, in seconds.", s->p50);
        add(out, "scheduling_lag_p90_seconds", "90th percentile of scheduling lag over the sample window, in seconds.", s->p90);
        add(out, "scheduling_lag_p99_seconds", "99th percentile of scheduling lag over the sample window, in seconds.", s->p99);
    }

private:
    void add(std::vector<family_snapshot>& out, std::string_view name, std::string_view help,
             double value) const {
        family_snapshot& family = out.emplace_back();
        family.name.reserve(options_.prefix.size() + name.size());
        family.name.append(options_.prefix).append(name);
        family.help = std::string(help);
        family.type = metric_type::gauge;
        series_snapshot series;
        series.value = value;
        family.series.push_back(std::move(series));
    }

    void record(double lag) {
        std::lock_guard lock(data_mutex_);
        ring_[static_cast<std::size_t>(total_ % ring_.size())] = lag;
        last_ = lag;
        ++total_;
    }

    scheduling_lag_options options_;
    mutable std::mutex data_mutex_;
    std::vector<double> ring_;  // window, written round-robin
    std::uint64_t total_ = 0;
    double last_ = 0;
    detail::timer_thread timer_;  // last: stopped and joined before the members it uses go away
};

}  // namespace llmetrics

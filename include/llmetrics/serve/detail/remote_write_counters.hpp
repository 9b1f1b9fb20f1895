#pragma once
// Remote write's own counters: written by its thread, read by stats() and by its
// collector from any thread (relaxed atomics: each value is a count on its own,
// no reader needs two of them to agree).

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

#include "../remote_write_encoder.hpp"
#include "../remote_write_stats.hpp"

namespace llmetrics::detail {

struct atomic_counts {
    std::atomic<std::uint64_t> samples{0}, histograms{0}, exemplars{0};

    void add(const remote_write_counts& c) noexcept {
        samples.fetch_add(c.samples, std::memory_order_relaxed);
        histograms.fetch_add(c.histograms, std::memory_order_relaxed);
        exemplars.fetch_add(c.exemplars, std::memory_order_relaxed);
    }
    remote_write_counts load() const noexcept {
        return {samples.load(std::memory_order_relaxed), histograms.load(std::memory_order_relaxed),
                exemplars.load(std::memory_order_relaxed)};
    }
};

struct remote_write_counters {
    enum drop_reason : std::size_t { queue_full, rejected, deadline, stopped, drop_reason_count };
    static constexpr const char* drop_reason_names[drop_reason_count] = {"queue_full", "rejected", "deadline",
                                                                         "stopped"};
    // Upper bounds of the send duration histogram, in seconds.
    static constexpr double duration_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    static constexpr std::size_t duration_buckets = std::size(duration_bounds) + 1;

    atomic_counts sent, failed, retried;
    atomic_counts dropped[drop_reason_count];
    std::atomic<std::uint64_t> requests_sent{0}, snapshots{0};
    std::atomic<std::uint64_t> queue_requests{0}, queue_samples{0}, queue_bytes{0};
    std::atomic<double> last_success_seconds{0};
    std::atomic<std::uint64_t> duration_counts[duration_buckets]{};
    std::atomic<std::uint64_t> duration_sum_ns{0};

    void observe_duration(double seconds) noexcept {
        std::size_t i = 0;
        while (i < std::size(duration_bounds) && seconds > duration_bounds[i]) ++i;
        duration_counts[i].fetch_add(1, std::memory_order_relaxed);
        duration_sum_ns.fetch_add(static_cast<std::uint64_t>(std::llround(seconds * 1e9)), std::memory_order_relaxed);
    }

    remote_write_stats stats() const noexcept {
        remote_write_stats s;
        s.sent = sent.load();
        s.failed = failed.load();
        s.retried = retried.load();
        s.dropped_queue_full = dropped[queue_full].load();
        s.dropped_rejected = dropped[rejected].load();
        s.dropped_deadline = dropped[deadline].load();
        s.dropped_stopped = dropped[stopped].load();
        s.requests_sent = requests_sent.load(std::memory_order_relaxed);
        s.snapshots = snapshots.load(std::memory_order_relaxed);
        s.queue_requests = queue_requests.load(std::memory_order_relaxed);
        s.queue_samples = queue_samples.load(std::memory_order_relaxed);
        s.queue_bytes = queue_bytes.load(std::memory_order_relaxed);
        s.last_success_seconds = last_success_seconds.load(std::memory_order_relaxed);
        return s;
    }

    // The receiver's message of the last failed request (for the error log).
    mutable std::mutex error_mutex;
    std::string last_error;
};

}  // namespace llmetrics::detail

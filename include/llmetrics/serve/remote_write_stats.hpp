#pragma once
// What a remote_write client has done since it started (remote_write::stats(),
// and its collector's families).

#include <cstdint>

#include "remote_write_encoder.hpp"

namespace llmetrics {

struct remote_write_stats {
    remote_write_counts sent;     // delivered: the receiver answered 2xx
    remote_write_counts failed;   // in requests that failed: no answer, 5xx, 429 or another 4xx
    remote_write_counts retried;  // in requests sent again after a retriable failure
    // Lost, by reason: evicted from the full queue; rejected by the receiver
    // (4xx other than 429, never retried); retried for longer than max_retry_time;
    // still queued when stop()'s deadline passed.
    remote_write_counts dropped_queue_full, dropped_rejected, dropped_deadline, dropped_stopped;
    std::uint64_t requests_sent = 0;   // requests delivered
    std::uint64_t snapshots = 0;       // snapshots taken (one request each)
    std::uint64_t queue_requests = 0;  // pending now
    std::uint64_t queue_samples = 0;
    std::uint64_t queue_bytes = 0;
    double last_success_seconds = 0;   // unix time of the last delivered request; 0: none yet

    remote_write_counts dropped() const noexcept {
        return {dropped_queue_full.samples + dropped_rejected.samples + dropped_deadline.samples +
                    dropped_stopped.samples,
                dropped_queue_full.histograms + dropped_rejected.histograms + dropped_deadline.histograms +
                    dropped_stopped.histograms,
                dropped_queue_full.exemplars + dropped_rejected.exemplars + dropped_deadline.exemplars +
                    dropped_stopped.exemplars};
    }
};

}  // namespace llmetrics

#pragma once
// Remote write's queue of pending requests (already compressed), bounded in
// samples and in bytes: adding a batch that goes over either bound drops the
// oldest batches until it fits. The newest batch is always kept, even when it
// alone is over a bound, so a registry larger than the bound still gets sent.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>

#include "../remote_write_encoder.hpp"

namespace llmetrics::detail {

struct remote_write_batch {
    std::string body;  // snappy-compressed WriteRequest
    remote_write_counts counts;
    std::chrono::steady_clock::time_point created{};
    unsigned attempts = 0;  // sent so far, failed

    std::uint64_t samples() const noexcept { return counts.samples + counts.histograms; }
};

inline void add_counts(remote_write_counts& to, const remote_write_counts& c) noexcept {
    to.samples += c.samples;
    to.histograms += c.histograms;
    to.exemplars += c.exemplars;
}

class remote_write_queue {
public:
    remote_write_queue(std::uint64_t max_samples, std::uint64_t max_bytes) noexcept
        : max_samples_(max_samples), max_bytes_(max_bytes) {}

    // Appends `b`; returns what was dropped to make room (all zero when nothing).
    remote_write_counts push(remote_write_batch b) {
        samples_ += b.samples();
        bytes_ += b.body.size();
        batches_.push_back(std::move(b));
        remote_write_counts dropped;
        while (batches_.size() > 1 && (samples_ > max_samples_ || bytes_ > max_bytes_)) {
            add_counts(dropped, batches_.front().counts);
            pop();
        }
        return dropped;
    }

    bool empty() const noexcept { return batches_.empty(); }
    remote_write_batch& front() noexcept { return batches_.front(); }
    void pop() {
        samples_ -= batches_.front().samples();
        bytes_ -= batches_.front().body.size();
        batches_.pop_front();
    }

    std::size_t size() const noexcept { return batches_.size(); }
    std::uint64_t samples() const noexcept { return samples_; }
    std::uint64_t bytes() const noexcept { return bytes_; }

private:
    std::uint64_t max_samples_, max_bytes_;
    std::uint64_t samples_ = 0, bytes_ = 0;
    std::deque<remote_write_batch> batches_;
};

}  // namespace llmetrics::detail

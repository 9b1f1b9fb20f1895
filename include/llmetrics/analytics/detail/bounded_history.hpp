#pragma once
// An append-only history bounded by history_limits: once it holds more than
// `high` entries it keeps only the latest `keep`. Trimming in bulk (rather than
// dropping one entry per append) keeps the cost of an append O(1) amortised.
// Not synchronised: its owner holds the lock.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>

#include "../history_limits.hpp"

namespace llmetrics::detail {

template <class T>
class bounded_history {
public:
    using const_iterator = typename std::deque<T>::const_iterator;

    explicit bounded_history(history_limits limits = {}) : limits_(limits) { limits_.validate(); }

    void push_back(T value) {
        items_.push_back(std::move(value));
        if (items_.size() > limits_.high) {
            const std::size_t drop = items_.size() - limits_.keep;
            items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(drop));
            dropped_ += drop;
        }
    }

    std::size_t size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.empty(); }
    T& back() { return items_.back(); }
    const T& back() const { return items_.back(); }
    const T& operator[](std::size_t i) const { return items_[i]; }
    const_iterator begin() const noexcept { return items_.begin(); }
    const_iterator end() const noexcept { return items_.end(); }
    // Entries ever removed by trimming.
    std::uint64_t dropped() const noexcept { return dropped_; }
    const history_limits& limits() const noexcept { return limits_; }

    // The first index of the last `n` entries (0 when there are fewer).
    std::size_t tail_start(std::size_t n) const noexcept {
        return items_.size() > n ? items_.size() - n : 0;
    }

private:
    history_limits limits_;
    std::deque<T> items_;
    std::uint64_t dropped_ = 0;
};

}  // namespace llmetrics::detail

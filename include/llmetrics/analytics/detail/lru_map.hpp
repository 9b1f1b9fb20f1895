#pragma once
// A map from string keys to shared state, bounded by evicting the least recently
// seen key. "Seen" means touched by a record call; reading (reports, scrapes)
// does not count. Values are shared_ptr so a reader that copied them can keep
// reading one after it was evicted. Not synchronised: its owner holds the lock.

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace llmetrics::detail {

template <class V>
class lru_map {
public:
    explicit lru_map(std::size_t capacity) : capacity_(capacity) {
        if (capacity_ == 0)
            throw std::invalid_argument("llmetrics: a tracked-key limit must be at least 1");
    }
    lru_map(const lru_map&) = delete;
    lru_map& operator=(const lru_map&) = delete;

    // The value for `key`, now the most recently seen; created by `make()` when
    // absent, after evicting the least recently seen key if the map is full.
    template <class Make>
    std::shared_ptr<V> touch(std::string_view key, Make&& make) {
        if (auto it = index_.find(key); it != index_.end()) {
            order_.splice(order_.begin(), order_, it->second);
            return it->second->value;
        }
        if (index_.size() >= capacity_) {
            index_.erase(std::string_view{order_.back().key});
            order_.pop_back();
            ++evicted_;
        }
        order_.push_front(entry{std::string{key}, std::forward<Make>(make)()});
        index_.emplace(std::string_view{order_.front().key}, order_.begin());
        return order_.front().value;
    }

    std::shared_ptr<V> find(std::string_view key) const {
        auto it = index_.find(key);
        return it == index_.end() ? nullptr : it->second->value;
    }

    // (key, value) pairs, most recently seen first.
    std::vector<std::pair<std::string, std::shared_ptr<V>>> entries() const {
        std::vector<std::pair<std::string, std::shared_ptr<V>>> out;
        out.reserve(order_.size());
        for (const entry& e : order_) out.emplace_back(e.key, e.value);
        return out;
    }

    std::size_t size() const noexcept { return index_.size(); }
    std::size_t capacity() const noexcept { return capacity_; }
    std::uint64_t evicted() const noexcept { return evicted_; }

private:
    struct entry {
        std::string key;
        std::shared_ptr<V> value;
    };
    std::size_t capacity_;
    std::list<entry> order_;  // most recently seen first; nodes never move in memory
    std::unordered_map<std::string_view, typename std::list<entry>::iterator> index_;  // keys view into order_
    std::uint64_t evicted_ = 0;
};

}  // namespace llmetrics::detail

#pragma once
// A bounded multi-producer, multi-consumer queue (D. Vyukov's array queue): one
// CAS to claim a cell, one release store to hand it over. Items are swapped in
// and out, not copied, so a cell keeps the buffer it was last given: once the
// buffers of a std::string queue have grown to the size of a line, pushing and
// popping allocate nothing. Neither side ever blocks; a full queue refuses.
//
// A cell's sequence number says whose turn it is: == pos for the producer
// claiming position pos, == pos + 1 once the item is published, == pos + size
// when a consumer has taken it and the cell is free for the next round.

#include <atomic>
#include <cstddef>
#include <memory>
#include <utility>

namespace llmetrics::detail {

template <class T>
class mpmc_queue {
public:
    // Capacity is rounded up to a power of two (at least 2).
    explicit mpmc_queue(std::size_t capacity) {
        std::size_t n = 2;
        while (n < capacity) n *= 2;
        mask_ = n - 1;
        cells_ = std::make_unique<cell[]>(n);
        for (std::size_t i = 0; i < n; ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
    }

    std::size_t capacity() const noexcept { return mask_ + 1; }

    // Swaps `item` into a free cell (`item` receives that cell's old content).
    // False, `item` untouched, when the queue is full.
    bool try_push(T& item) noexcept {
        std::size_t pos = enqueue_.load(std::memory_order_relaxed);
        for (;;) {
            cell& c = cells_[pos & mask_];
            // acquire: pairs with the consumer's release after it emptied the cell.
            const std::size_t seq = c.sequence.load(std::memory_order_acquire);
            const auto diff = static_cast<std::ptrdiff_t>(seq - pos);
            if (diff == 0) {
                // relaxed: the cell itself is handed over by its sequence number.
                if (enqueue_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
                    using std::swap;
                    swap(c.item, item);
                    c.sequence.store(pos + 1, std::memory_order_release);
                    return true;
                }
            } else if (diff < 0) {
                return false;  // the cell of the previous round is not consumed yet: full
            } else {
                pos = enqueue_.load(std::memory_order_relaxed);
            }
        }
    }

    // Swaps the oldest published item into `out` (the cell keeps `out`'s old
    // content for a later producer). False when nothing is published.
    bool try_pop(T& out) noexcept {
        std::size_t pos = dequeue_.load(std::memory_order_relaxed);
        for (;;) {
            cell& c = cells_[pos & mask_];
            // acquire: pairs with the producer's release that published the item.
            const std::size_t seq = c.sequence.load(std::memory_order_acquire);
            const auto diff = static_cast<std::ptrdiff_t>(seq - (pos + 1));
            if (diff == 0) {
                if (dequeue_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
                    using std::swap;
                    swap(c.item, out);
                    c.sequence.store(pos + mask_ + 1, std::memory_order_release);
                    return true;
                }
            } else if (diff < 0) {
                return false;  // empty (or the producer of this cell has not published yet)
            } else {
                pos = dequeue_.load(std::memory_order_relaxed);
            }
        }
    }

private:
    struct cell {
        std::atomic<std::size_t> sequence{0};
        T item{};
    };
    std::unique_ptr<cell[]> cells_;
    std::size_t mask_ = 0;
    // Apart, so producers and consumers do not write one cache line.
    alignas(64) std::atomic<std::size_t> enqueue_{0};
    alignas(64) std::atomic<std::size_t> dequeue_{0};
};

}  // namespace llmetrics::detail

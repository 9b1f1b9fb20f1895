#pragma once
// Striped cells: every series keeps `stripe_count` copies of its cell, and a thread
// always writes the copy of its own stripe, so two threads hitting one series do
// not fight over a cache line. A scrape sums the stripes.
//
// Stripes live in blocks laid out as cells[stripe][slot]: the cells one stripe
// owns for many series are contiguous, so a series costs stripe_count cells and no
// padding, while different stripes never share a cache line.

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <vector>

#ifndef LLMETRICS_STRIPES
#define LLMETRICS_STRIPES 4
#endif

namespace llmetrics::detail {

inline constexpr std::size_t stripe_count = LLMETRICS_STRIPES;
static_assert(stripe_count >= 1 && (stripe_count & (stripe_count - 1)) == 0,
              "llmetrics: LLMETRICS_STRIPES must be a power of two");

inline constexpr std::size_t cache_line = 64;

inline std::atomic<unsigned> next_thread_stripe{0};

// Threads take stripes round-robin on their first write: consecutive threads get
// different stripes, which is what matters on small machines.
inline std::size_t this_thread_stripe() noexcept {
    thread_local unsigned stripe_plus_one = 0;  // constant-initialised: no TLS guard
    if (stripe_plus_one == 0) [[unlikely]]
        stripe_plus_one = next_thread_stripe.fetch_add(1, std::memory_order_relaxed) % stripe_count + 1;
    return stripe_plus_one - 1;
}

// Hands out `Width` consecutive cells per series from blocks of Slots series.
// Allocation happens under the owning family's insert lock; cells are zeroed and
// never move, so handles stay valid for the pool's life.
template <class Cell, std::size_t Slots>
class cell_pool {
public:
    static constexpr std::size_t slots_per_block = Slots;

    struct alignas(cache_line) block {
        Cell cells[stripe_count][Slots];
    };
    static_assert(sizeof(Cell) * Slots % cache_line == 0,
                  "llmetrics: internal: a stripe row must fill whole cache lines");

    // Returns the stripe-0 cell of `width` consecutive cells; stripe s of cell i
    // is at result + s * Slots + i.
    Cell* allocate(std::size_t width) {
        if (blocks_.empty() || used_ + width > Slots) {
            blocks_.push_back(std::unique_ptr<block>(new block{}));
            used_ = 0;
        }
        Cell* first = &blocks_.back()->cells[0][used_];
        used_ += width;
        return first;
    }

    std::size_t bytes() const noexcept { return blocks_.size() * sizeof(block); }

private:
    std::vector<std::unique_ptr<block>> blocks_;
    std::size_t used_ = 0;
};

}  // namespace llmetrics::detail

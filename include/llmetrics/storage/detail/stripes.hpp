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

// How many live threads write to each stripe. A thread claims the stripe with the
// fewest holders on its first write and releases it when it exits, so live
// threads share a stripe only when there are more of them than stripes, whatever
// threads came and went before (round-robin hand-out made two live threads share
// one whenever a multiple of stripe_count threads had started in between).
//
// Why relaxed suffices: the counts only steer the choice; a write to a shared
// stripe is still a correct atomic RMW (cells.hpp), so a stale count costs
// speed, never a lost increment. The CAS makes two threads claiming at once see
// each other: the loser re-reads and takes the next emptiest stripe.
inline std::array<std::atomic<unsigned>, stripe_count> stripe_holders{};

inline std::size_t claim_emptiest_stripe() noexcept {
    for (;;) {
        std::size_t best = 0;
        unsigned fewest = stripe_holders[0].load(std::memory_order_relaxed);
        for (std::size_t i = 1; i < stripe_count && fewest != 0; ++i) {
            const unsigned n = stripe_holders[i].load(std::memory_order_relaxed);
            if (n < fewest) {
                best = i;
                fewest = n;
            }
        }
        if (stripe_holders[best].compare_exchange_weak(fewest, fewest + 1, std::memory_order_relaxed))
            return best;
    }
}

// Held by a thread from its first write to its exit; the destructor gives the
// stripe back. Writes made later in the thread's exit still go to that stripe,
// which is harmless for the reason above.
struct stripe_claim {
    std::size_t stripe = stripe_count;  // none yet
    ~stripe_claim() {
        if (stripe < stripe_count) stripe_holders[stripe].fetch_sub(1, std::memory_order_relaxed);
    }
};

inline std::size_t claim_stripe_for_this_thread() noexcept {
    thread_local stripe_claim claim;  // registers its destructor on first use only
    if (claim.stripe == stripe_count) claim.stripe = claim_emptiest_stripe();
    return claim.stripe;
}

// The hot path reads one constant-initialised thread_local (no TLS guard); the
// claim, with its destructor, is touched once per thread.
inline std::size_t this_thread_stripe() noexcept {
    thread_local unsigned stripe_plus_one = 0;
    if (stripe_plus_one == 0) [[unlikely]]
        stripe_plus_one = static_cast<unsigned>(claim_stripe_for_this_thread()) + 1;
    return stripe_plus_one - 1;
}

// Sole-writer stripes, for storage whose writers use plain load + store instead of
// RMWs (native_cell.hpp): a thread takes one of `stripe_count` owned stripes for
// itself, or, when every one is held by a live thread, writes the extra stripe
// `shared_stripe` (with RMWs) that all such threads share. The owner gives its
// stripe back at exit (release; the next owner's exchange acquires, so it sees
// every store of the one before), and from then on its own late writes (other
// thread_local destructors) go to the shared stripe: a stripe never has two
// writers at once.
inline constexpr std::size_t shared_stripe = stripe_count;
inline std::array<std::atomic<bool>, stripe_count> stripe_owned{};

struct owned_stripe_claim {
    std::size_t stripe = shared_stripe;
    unsigned* cached = nullptr;  // the hot path's copy, pointed at the shared stripe at exit
    ~owned_stripe_claim() {
        if (stripe == shared_stripe) return;
        *cached = static_cast<unsigned>(shared_stripe) + 1;
        stripe_owned[stripe].store(false, std::memory_order_release);
    }
};

inline std::size_t claim_owned_stripe_for_this_thread(unsigned* cached) noexcept {
    thread_local owned_stripe_claim claim;
    claim.cached = cached;
    for (std::size_t s = 0; s < stripe_count && claim.stripe == shared_stripe; ++s)
        if (!stripe_owned[s].load(std::memory_order_relaxed) && !stripe_owned[s].exchange(true, std::memory_order_acquire))
            claim.stripe = s;
    return claim.stripe;
}

// This thread's owned stripe, or shared_stripe.
inline std::size_t this_thread_owned_stripe() noexcept {
    thread_local unsigned stripe_plus_one = 0;
    if (stripe_plus_one == 0) [[unlikely]]
        stripe_plus_one = static_cast<unsigned>(claim_owned_stripe_for_this_thread(&stripe_plus_one)) + 1;
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

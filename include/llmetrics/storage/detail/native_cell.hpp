#pragma once
// The lock-free storage of one native histogram (core/native_options.hpp says what
// it records; core/detail/native_buckets.hpp computes bucket indices).
//
// Design note
// -----------
// Per stripe (stripes.hpp) a lazily allocated block holds, for one layout (schema,
// zero threshold): a ring of counters per sign (capacity a power of two, 16 -> 32
// -> ...; the negative ring exists only once a negative value came), where bucket i
// lives at position i mod capacity; the index range [lo, hi] the ring covers in one
// atomic word, extended by CAS while hi - lo < capacity (so a position never means
// two indices); the zero and NaN counts and the sum. The count is derived (zero +
// NaN + every bucket), so count == zero + buckets + NaN holds in every scrape by
// construction. A series-wide range per sign bounds the span the bucket limit
// counts; it is only extended under the layout flag (below), and tagged by a layout
// tag a writer checks against its block's.
//
// Writers: a thread that owns a stripe (stripes.hpp: at most one live thread per
// owned stripe) is that stripe's only writer, so it adds to its counters and sum
// with a plain load + store (no RMW); threads past the owned stripes share one
// more stripe and use RMWs (fetch_add, a CAS loop for the sum). A fold never
// writes a block writers can reach (below), so an owner never races a changer's
// store either.
//
// A layout change (first block of a stripe, a bigger ring, a coarser schema, a wider
// zero bucket, a reset) replaces blocks; it never edits one in place. Each stripe
// has `state = generation (32 bits) | started (32 bits)`. A writer pins with
// state.fetch_add(1, acquire), uses blocks[generation & 1], and completes with
// exactly one release increment into that block (a bucket, the zero or the NaN
// count) or, when it needs a layout change, of abandoned[generation & 1]: it
// releases its pin before it asks for the change. Changes are serialised per
// series by an atomic flag (not a mutex: a writer only takes it on the slow path,
// after abandoning); scrapes take it too, so they never see a half-made change.
// The changer freezes the old block's ranges (a CAS sets a bit, so no writer can
// extend them any more), empties the other slot, CASes the generation (capturing
// how many writers pinned the old block: `started`), waits (spin, then yield)
// until the old block's completed operations (its increments less what a fold
// put in, plus abandoned) equal that count, folds the old counts into the new
// block (not on a reset) while no writer can reach it, then publishes it in the
// slot (release) and frees the old block. Writers pinned in between find the slot
// empty and abandon, then wait for the flag like any slow path. A writer
// pre-empted between its pin and its increment delays a layout change, never a
// normal observe: a writer never waits while pinned. A stripe renews its block
// (the same counts, started back to 0) once started passes 2^31.
//
// Owners without a locked instruction: where the asymmetric fence exists
// (asymmetric_fence.hpp, Linux membarrier), an owner does not pin. It stores
// owner_seq + 1 (odd: in an observe), then, past a compiler-only fence, loads the
// generation and its block, records, and stores owner_seq + 2 (release). A change
// of an owned stripe CASes the generation, runs the heavy fence, and if owner_seq
// is odd waits until it moves. Why that is enough: by the fence, either the
// changer's load sees the owner's odd store, or the owner's generation load sees
// the new generation (and so never touches the old block). In the first case
// the wait ends with the owner's even store, whose release makes every access of
// that observe happen before the fold and the free; an observe begun later sees
// the new generation. A fenced owner asks for a layout change only with owner_seq
// even, so a changer never waits for a thread that waits for it. The shared
// stripe, and every stripe where the fence is missing, keep the pin. The mode is
// read once per cell (fenced_), so one cell never mixes the two.
//
// The common pinned observe: the index at schema_hint_ (the latest layout's schema) and
// the block of the generation the writer last saw are loaded before the pin, so
// they overlap its latency; after the pin, the block is used only if the pin's
// generation is the one seen (else the pin's block is loaded) and the block's
// schema is the hint's. A block read for generation g before the pin is g's:
// the slot only changes for generation g + 2 after g + 1 exists, which the pin
// would show; the 32-bit generation cannot wrap around while one writer sits
// between two instructions (it takes 2^32 layout changes, each a block
// allocation and a wait).
//
// Memory orders: the pin (acquire) reads the generation CAS (release), and the
// writer loads the block pointer with acquire, reading the changer's publishing
// store (release), so it sees the block's ranges and folded counts. The completing
// increment is release (an owner's plain store too) and the changer's sums are
// acquire, so when the counts match every access of the pinned writers is done
// and the block can be read and freed. Within a block, the writer adds the sum
// before its bucket increment (release) and the scrape reads the buckets
// (acquire) before the sum: a scrape's sum includes at least the observations its
// buckets show. A scrape reads a ring only over the range it loaded, which is
// injective into positions, so it never counts an index twice.
//
// The bucket limit counts the span from the lowest to the highest index of each
// sign, summed. That bounds the populated buckets, but can reduce the resolution
// sooner than client_golang (which counts populated buckets) for gappy data.

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <thread>
#include <utility>
#include <vector>

#include "../../core/detail/native_buckets.hpp"
#include "../../core/detail/unix_time.hpp"
#include "../../core/sample.hpp"
#include "asymmetric_fence.hpp"
#include "cells.hpp"
#include "stripes.hpp"

namespace llmetrics::detail {

struct native_limits {
    int schema = 3;
    std::size_t max_buckets = 160;
    double zero_threshold = 0.0;
    double max_zero_threshold = 0.0;
    std::uint32_t min_reset_seconds = 0;
};

// An index range in one word: lo and hi biased into 31 bits each, bit 63 = frozen.
struct index_range {
    std::int32_t lo = 1, hi = 0;  // empty while lo > hi
    bool empty() const noexcept { return lo > hi; }
    bool contains(std::int32_t i) const noexcept { return lo <= i && i <= hi; }
    std::size_t span() const noexcept { return empty() ? 0 : static_cast<std::size_t>(hi - lo) + 1; }
    index_range with(std::int32_t i) const noexcept { return empty() ? index_range{i, i} : index_range{std::min(lo, i), std::max(hi, i)}; }

    static constexpr std::uint64_t frozen_bit = std::uint64_t{1} << 63;
    static constexpr std::int64_t bias = std::int64_t{1} << 30;
    std::uint64_t pack() const noexcept {
        return static_cast<std::uint64_t>(lo + bias) << 32 | static_cast<std::uint64_t>(hi + bias);
    }
    static index_range unpack(std::uint64_t w) noexcept {
        return {static_cast<std::int32_t>(static_cast<std::int64_t>((w >> 32) & 0x7fffffff) - bias),
                static_cast<std::int32_t>(static_cast<std::int64_t>(w & 0xffffffff) - bias)};
    }
};

struct native_block {
    int schema = 3;
    double zero_threshold = 0.0;
    std::uint32_t tag = 0;
    std::uint32_t pos_cap = 0, neg_cap = 0;  // powers of two, or 0
    std::uint64_t preloaded = 0;             // counts folded in; only under the series flag
    std::atomic<std::uint64_t> pos_range{index_range{}.pack()};
    std::atomic<std::uint64_t> neg_range{index_range{}.pack()};
    std::atomic<std::uint64_t> zero{0};
    std::atomic<std::uint64_t> nan{0};
    std::atomic<double> sum{0.0};
    std::atomic<std::uint64_t>* pos = nullptr;
    std::atomic<std::uint64_t>* neg = nullptr;

    static std::size_t bytes_for(std::uint32_t pos_cap, std::uint32_t neg_cap) noexcept {
        return sizeof(native_block) + (std::size_t{pos_cap} + neg_cap) * sizeof(std::atomic<std::uint64_t>);
    }
    static native_block* make(int schema, double zt, std::uint32_t tag, std::uint32_t pos_cap, std::uint32_t neg_cap) {
        void* raw = ::operator new(bytes_for(pos_cap, neg_cap), std::align_val_t{cache_line});
        auto* b = new (raw) native_block{};
        b->schema = schema;
        b->zero_threshold = zt;
        b->tag = tag;
        b->pos_cap = pos_cap;
        b->neg_cap = neg_cap;
        auto* counters = reinterpret_cast<std::atomic<std::uint64_t>*>(b + 1);
        for (std::uint32_t k = 0; k < pos_cap + neg_cap; ++k) new (counters + k) std::atomic<std::uint64_t>(0);
        b->pos = counters;
        b->neg = counters + pos_cap;
        return b;
    }
    static void destroy(native_block* b) noexcept {
        if (!b) return;
        b->~native_block();  // the counters are trivially destructible
        ::operator delete(static_cast<void*>(b), std::align_val_t{cache_line});
    }
    std::atomic<std::uint64_t>& counter(bool negative, std::int32_t i) const noexcept {
        return negative ? neg[static_cast<std::uint32_t>(i) & (neg_cap - 1)]
                        : pos[static_cast<std::uint32_t>(i) & (pos_cap - 1)];
    }
    // Every increment the block holds (rings, zero, NaN), read with acquire.
    std::uint64_t total() const noexcept {
        std::uint64_t n = zero.load(std::memory_order_acquire) + nan.load(std::memory_order_acquire);
        for (std::uint32_t k = 0; k < pos_cap + neg_cap; ++k) n += pos[k].load(std::memory_order_acquire);
        return n;
    }
};

struct alignas(cache_line) native_stripe {
    std::atomic<std::uint64_t> state{0};  // generation << 32 | started
    std::atomic<native_block*> blocks[2] = {nullptr, nullptr};
    std::atomic<std::uint64_t> abandoned[2] = {0, 0};
    std::atomic<std::uint64_t> owner_seq{0};  // fenced owners: odd while in an observe
};

// What a scrape reads: the view's fields, owning their storage (reused between
// series by the caller, so a scrape allocates only while buffers grow).
struct native_reading {
    std::int32_t schema = 3;
    double zero_threshold = 0.0;
    std::uint64_t zero_count = 0;
    std::uint64_t count = 0;
    double sum = 0.0;
    std::vector<native_bucket_span> positive_spans, negative_spans;
    std::vector<std::uint64_t> positive_counts, negative_counts;
    std::vector<std::uint64_t> scratch;

    native_histogram_view view() const noexcept {
        return {schema, zero_threshold, zero_count, count, sum,
                positive_spans, positive_counts, negative_spans, negative_counts};
    }
};

class native_cell {
public:
    static constexpr std::uint32_t first_capacity = 16;
    static constexpr unsigned generation_shift = 32;
    static constexpr std::uint64_t started_mask = (std::uint64_t{1} << generation_shift) - 1;
    static unsigned slot_of(std::uint64_t state) noexcept { return static_cast<unsigned>(state >> generation_shift) & 1; }
    static constexpr std::size_t native_stripe_count = stripe_count + 1;  // the owned ones and the shared one

    // Where stripe s sits in stripes_: the first owned stripes (claimed lowest
    // first) every other line, so two writers never touch a 128-byte line pair
    // that an adjacent-line prefetcher moves as one.
    static constexpr std::size_t place_of(std::size_t s) noexcept {
        constexpr std::size_t half = (native_stripe_count + 1) / 2;
        return s < half ? 2 * s : 2 * (s - half) + 1;
    }

    native_cell(const native_limits& limits, std::atomic<std::size_t>* bytes)
        : limits_(limits), bytes_(bytes), schema_(limits.schema), schema_hint_(limits.schema),
          zero_threshold_(limits.zero_threshold),
          last_reset_(unix_time_seconds()), fenced_(asymmetric_fence_available()) {
        stripes_ = new native_stripe[native_stripe_count];
        account(static_cast<std::ptrdiff_t>(sizeof(native_stripe) * native_stripe_count));
    }
    native_cell(const native_cell&) = delete;
    native_cell& operator=(const native_cell&) = delete;
    ~native_cell() {
        for (std::size_t s = 0; s < native_stripe_count; ++s)
            for (auto& b : stripes_[s].blocks) release(b.load(std::memory_order_relaxed));
        delete[] stripes_;
        account(-static_cast<std::ptrdiff_t>(sizeof(native_stripe) * native_stripe_count));
    }

    // NaN counts in count only (the sum becomes NaN, as the specification has it).
    void observe(double v) noexcept {
        const std::size_t s = this_thread_owned_stripe();
        if (s == shared_stripe) [[unlikely]] return observe_shared(v);
        if (fenced_) [[likely]] observe_fenced(stripes_[place_of(s)], v);
        else observe_on<true>(stripes_[place_of(s)], v);
    }

    // Whether owners write without a locked instruction (asymmetric_fence.hpp).
    bool fenced() const noexcept { return fenced_; }


    // Unix seconds of the last reset by the limit strategy or clear() (0: none).
    double reset_time() const noexcept { return reset_time_.load(std::memory_order_relaxed); }

    // A consistent reading (count == zero + buckets + NaN). Gaps of up to two empty
    // buckets are bridged with zero counts inside one span, as client_golang does.
    void read(native_reading& out) const {
        flag_guard g(busy_);
        out.schema = schema_;
        out.zero_threshold = zero_threshold_;
        out.zero_count = 0;
        std::uint64_t nan = 0;
        const index_range pos = index_range::unpack(series_pos_.load(std::memory_order_relaxed));
        const index_range neg = index_range::unpack(series_neg_.load(std::memory_order_relaxed));
        auto& scratch = out.scratch;
        scratch.assign(pos.span() + neg.span(), 0);
        double sum = 0.0;
        for (std::size_t s = 0; s < native_stripe_count; ++s) {
            const native_stripe& st = stripes_[s];
            const unsigned slot = slot_of(st.state.load(std::memory_order_acquire));
            native_block* b = st.blocks[slot].load(std::memory_order_acquire);
            if (!b) continue;
            gather(*b, false, pos, scratch.data());
            gather(*b, true, neg, scratch.data() + pos.span());
            out.zero_count += b->zero.load(std::memory_order_acquire);
            nan += b->nan.load(std::memory_order_acquire);
            sum += b->sum.load(std::memory_order_relaxed);  // after the counts: see the note
        }
        std::uint64_t buckets = 0;
        for (std::uint64_t c : scratch) buckets += c;
        out.count = out.zero_count + nan + buckets;
        out.sum = sum;
        to_spans(pos, scratch.data(), out.positive_spans, out.positive_counts);
        to_spans(neg, scratch.data() + pos.span(), out.negative_spans, out.negative_counts);
    }

    bool has_data() const {
        flag_guard g(busy_);
        for (std::size_t s = 0; s < native_stripe_count; ++s)
            for (const auto& b : stripes_[s].blocks)
                if (const native_block* p = b.load(std::memory_order_acquire); p && p->total() != 0) return true;
        return false;
    }

    // Every observation the current blocks hold (folded ones included).
    std::uint64_t observations() const {
        flag_guard g(busy_);
        std::uint64_t n = 0;
        for (std::size_t s = 0; s < native_stripe_count; ++s) {
            const native_stripe& st = stripes_[s];
            const unsigned slot = slot_of(st.state.load(std::memory_order_acquire));
            if (const native_block* b = st.blocks[slot].load(std::memory_order_acquire)) n += b->total();
        }
        return n;
    }

    // Back to the declared layout with no counts; the start timestamp moves.
    void clear() noexcept {
        flag_guard g(busy_);
        reset_locked();
    }

    // Expiry of a held series (series_map.hpp). Subtracting per bucket is not
    // sound here (a layout change may move counts between buckets), so take_out()
    // swaps every stripe to an empty block of the same layout (what grow() does,
    // without the fold) and keeps the old, quiescent blocks: a racing observation
    // is either in them or in the new ones. drop() then frees them (the series
    // restarts from zero, its layout kept); put_back() instead replaces each new
    // block by a copy holding its counts and the old ones, so nothing is lost.
    // The flag is held from take_out() until then: no layout change can come in
    // between.
    struct taken_blocks {
        std::array<native_block*, native_stripe_count> old{};
        std::uint64_t observations = 0;
    };
    void take_out(taken_blocks& t) {
        lock(busy_);
        t = {};
        for (std::size_t s = 0; s < native_stripe_count; ++s) {
            native_stripe& st = stripes_[s];
            native_block* b = current(st);
            if (!b) continue;
            freeze(*b);  // its ranges are final: the new block covers them
            native_block* fresh = native_block::make(b->schema, b->zero_threshold, b->tag, b->pos_cap, b->neg_cap);
            fresh->pos_range.store(b->pos_range.load(std::memory_order_relaxed) & ~index_range::frozen_bit,
                                   std::memory_order_relaxed);
            fresh->neg_range.store(b->neg_range.load(std::memory_order_relaxed) & ~index_range::frozen_bit,
                                   std::memory_order_relaxed);
            t.old[s] = switch_to(st, fresh);
            t.observations += t.old[s]->total();
        }
    }
    void put_back(taken_blocks& t) noexcept {
        // The current blocks are writers' (an owner writes them with plain stores),
        // so each is replaced by a copy that gets both its counts and the old ones.
        for (std::size_t s = 0; s < native_stripe_count; ++s) {
            if (!t.old[s]) continue;
            native_stripe& st = stripes_[s];
            native_block* now = current(st);
            freeze(*now);
            native_block* fresh = native_block::make(now->schema, now->zero_threshold, now->tag, now->pos_cap, now->neg_cap);
            fresh->pos_range.store(now->pos_range.load(std::memory_order_relaxed) & ~index_range::frozen_bit,
                                   std::memory_order_relaxed);
            fresh->neg_range.store(now->neg_range.load(std::memory_order_relaxed) & ~index_range::frozen_bit,
                                   std::memory_order_relaxed);
            release(switch_to(st, fresh, true, now->schema, t.old[s]));
            release(std::exchange(t.old[s], nullptr));
        }
        busy_.store(false, std::memory_order_release);
    }
    void drop(taken_blocks& t) noexcept {
        for (auto& b : t.old) release(std::exchange(b, nullptr));
        last_reset_ = unix_time_seconds();
        reset_time_.store(last_reset_, std::memory_order_relaxed);
        busy_.store(false, std::memory_order_release);
    }

    std::size_t bytes() const noexcept { return own_bytes_.load(std::memory_order_relaxed); }

    // Called under the flag at every reset, after the old blocks are quiescent (a
    // family with a classic part zeroes it there, so both parts restart together).
    void on_reset(void (*hook)(void*), void* context) noexcept {
        reset_hook_ = hook;
        reset_context_ = context;
    }

private:
    // Owned: this thread is the stripe's only writer (stripes.hpp), so its counts and
    // sum take a plain load + store; the shared stripe takes RMWs.
    //
    // The common case is inline: a positive value past the zero bucket, into a
    // bucket the block already covers (one compare excludes NaN, negatives and
    // the zero bucket). Everything else finishes the pinned attempt out of line.
    // The index is computed before the pin, at the schema of the latest layout
    // (schema_hint_), so it overlaps the pin's latency; the block's own schema
    // confirms it (a value that is no bucket's, such as NaN, gets an unused one).
    template <bool Owned>
    [[gnu::always_inline]] void observe_on(native_stripe& st, double v) noexcept {
        const int schema = schema_hint_.load(std::memory_order_relaxed);
        const std::int32_t i = native_bucket_index(v, schema);
        const std::uint64_t seen = st.state.load(std::memory_order_relaxed);
        native_block* b = st.blocks[slot_of(seen)].load(std::memory_order_acquire);
        const std::uint64_t s = st.state.fetch_add(1, std::memory_order_acquire);
        if ((s ^ seen) >> generation_shift) [[unlikely]] b = st.blocks[slot_of(s)].load(std::memory_order_acquire);
        if (b && v > b->zero_threshold && b->schema == schema && (s & started_mask) <= (started_mask >> 1)) [[likely]] {
            if (index_range::unpack(b->pos_range.load(std::memory_order_relaxed)).contains(i)) [[likely]] {
                add_to_sum<Owned>(b->sum, v);
                add_one<Owned>(b->pos[static_cast<std::uint32_t>(i) & (b->pos_cap - 1)]);
                return;
            }
        }
        observe_pinned<Owned>(st, s, b, v);
    }

    [[gnu::noinline]] void observe_shared(double v) noexcept { observe_on<false>(stripes_[place_of(shared_stripe)], v); }

    // An owner with the asymmetric fence: owner_seq odd marks the observe (plain
    // stores, this thread is its only writer), light() keeps the generation load
    // after that store, and the even store that ends it (release) publishes the
    // block writes to a changer that waits for it (switch_to).
    [[gnu::always_inline]] void observe_fenced(native_stripe& st, double v) noexcept {
        const int schema = schema_hint_.load(std::memory_order_relaxed);
        const std::int32_t i = native_bucket_index(v, schema);
        const std::uint64_t seq = st.owner_seq.load(std::memory_order_relaxed);
        st.owner_seq.store(seq + 1, std::memory_order_relaxed);
        asymmetric_fence_light();
        native_block* b = st.blocks[slot_of(st.state.load(std::memory_order_relaxed))].load(std::memory_order_acquire);
        if (b && v > b->zero_threshold && b->schema == schema &&
            index_range::unpack(b->pos_range.load(std::memory_order_relaxed)).contains(i)) [[likely]] {
            add_to_sum<true>(b->sum, v);
            add_one<true>(b->pos[static_cast<std::uint32_t>(i) & (b->pos_cap - 1)]);
            st.owner_seq.store(seq + 2, std::memory_order_release);
            return;
        }
        observe_fenced_rest(st, seq, b, v);
    }

    // The rest of a fenced observe begun as `seq` on block `b` (maybe null): a
    // layout change is asked for only between observes (owner_seq even), since the
    // changer waits for an odd owner_seq to move.
    [[gnu::noinline]] void observe_fenced_rest(native_stripe& st, std::uint64_t seq, native_block* b, double v) noexcept {
        for (;;) {
            const bool recorded = b && record<true>(*b, v);
            st.owner_seq.store(seq + 2, std::memory_order_release);
            if (recorded) return;
            make_room(st, v);
            seq += 2;
            st.owner_seq.store(seq + 1, std::memory_order_relaxed);
            asymmetric_fence_light();
            b = st.blocks[slot_of(st.state.load(std::memory_order_relaxed))].load(std::memory_order_acquire);
        }
    }

    // The rest of an attempt pinned as `s` on block `b` (maybe null), then new
    // attempts until one records.
    template <bool Owned>
    [[gnu::noinline]] void observe_pinned(native_stripe& st, std::uint64_t s, native_block* b, double v) noexcept {
        for (;;) {
            if (b && record<Owned>(*b, v)) {
                if ((s & started_mask) > (started_mask >> 1)) renew(st);
                return;
            }
            st.abandoned[slot_of(s)].fetch_add(1, std::memory_order_release);
            make_room(st, v);
            s = st.state.fetch_add(1, std::memory_order_acquire);
            b = st.blocks[slot_of(s)].load(std::memory_order_acquire);
        }
    }

    template <bool Owned>
    static void add_one(std::atomic<std::uint64_t>& n) noexcept {
        if constexpr (Owned) n.store(n.load(std::memory_order_relaxed) + 1, std::memory_order_release);
        else n.fetch_add(1, std::memory_order_release);
    }
    template <bool Owned>
    static void add_to_sum(std::atomic<double>& sum, double v) noexcept {
        if constexpr (Owned) sum.store(sum.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
        else atomic_add(sum, v);
    }

    static void lock(std::atomic<bool>& flag) noexcept {
        for (unsigned n = 0; flag.exchange(true, std::memory_order_acquire); ++n)
            if (n > 64) std::this_thread::yield();
    }
    struct flag_guard {
        std::atomic<bool>& flag;
        explicit flag_guard(std::atomic<bool>& f) noexcept : flag(f) { lock(flag); }
        ~flag_guard() { flag.store(false, std::memory_order_release); }
    };

    // One observation into a pinned block; false when it needs a layout change
    // (nothing was written then).
    template <bool Owned>
    bool record(native_block& b, double v) noexcept {
        if (v != v) {
            add_to_sum<Owned>(b.sum, v);
            add_one<Owned>(b.nan);
            return true;
        }
        const double a = std::fabs(v);
        if (a <= b.zero_threshold) {
            add_to_sum<Owned>(b.sum, v);
            add_one<Owned>(b.zero);
            return true;
        }
        const bool negative = v < 0;
        const std::int32_t i = native_bucket_index(a, b.schema);
        std::atomic<std::uint64_t>& word = negative ? b.neg_range : b.pos_range;
        const std::uint32_t cap = negative ? b.neg_cap : b.pos_cap;
        std::uint64_t w = word.load(std::memory_order_relaxed);
        while (!index_range::unpack(w).contains(i)) {  // a bucket new to this block
            const index_range wider = index_range::unpack(w).with(i);
            if ((w & index_range::frozen_bit) || wider.span() > cap) return false;
            if (!within_series(b, negative, i)) return false;
            if (word.compare_exchange_weak(w, wider.pack(), std::memory_order_relaxed)) break;
        }
        add_to_sum<Owned>(b.sum, v);
        add_one<Owned>(b.counter(negative, i));
        return true;
    }

    // The series range is read before the tag: a range stored by a newer layout
    // (tag first, then range with release) shows the newer tag here.
    bool within_series(const native_block& b, bool negative, std::int32_t i) const noexcept {
        const std::uint64_t w = (negative ? series_neg_ : series_pos_).load(std::memory_order_acquire);
        if (tag_.load(std::memory_order_relaxed) != b.tag) return false;
        return index_range::unpack(w).contains(i);
    }

    // Under the flag: whatever stops `v` from being recorded on this stripe.
    void make_room(native_stripe& st, double v) {
        flag_guard g(busy_);
        native_block* b = current(st);
        if (!b) {
            install(st, native_block::make(schema_, zero_threshold_, tag_.load(std::memory_order_relaxed),
                                           v < 0 ? 0 : first_capacity, v < 0 ? first_capacity : 0),
                    false);
            return;
        }
        const double a = std::fabs(v);
        if (v != v || a <= b->zero_threshold) return;
        const bool negative = v < 0;
        std::int32_t i = native_bucket_index(a, schema_);
        auto& series_word = negative ? series_neg_ : series_pos_;
        if (!index_range::unpack(series_word.load(std::memory_order_relaxed)).contains(i)) {
            if (!fits(negative, i)) {
                if (apply_strategy(a, negative)) return;  // new blocks: the writer retries
                // Nothing left to try (schema -4, no reset, no widening): go past the limit.
            }
            series_word.store(index_range::unpack(series_word.load(std::memory_order_relaxed)).with(i).pack(),
                              std::memory_order_release);
        }
        const std::uint64_t w = (negative ? b->neg_range : b->pos_range).load(std::memory_order_relaxed);
        const std::size_t needed = index_range::unpack(w).with(i).span();
        const std::uint32_t cap = negative ? b->neg_cap : b->pos_cap;
        if (needed > cap) grow(st, *b, negative, needed);
    }

    bool fits(bool negative, std::int32_t i) const noexcept {
        index_range pos = index_range::unpack(series_pos_.load(std::memory_order_relaxed));
        index_range neg = index_range::unpack(series_neg_.load(std::memory_order_relaxed));
        (negative ? neg : pos) = (negative ? neg : pos).with(i);
        return pos.span() + neg.span() <= limits_.max_buckets;
    }

    // The limit strategy, decided on the series ranges and applied as one change:
    // reset if allowed, else widen the zero bucket, else schema - 1, until it fits.
    // Returns false when none applies.
    bool apply_strategy(double a, bool negative) {
        const double now = unix_time_seconds();
        if (limits_.min_reset_seconds > 0 && now - last_reset_ >= limits_.min_reset_seconds) {
            reset_locked();
            return true;
        }
        index_range pos = index_range::unpack(series_pos_.load(std::memory_order_relaxed));
        index_range neg = index_range::unpack(series_neg_.load(std::memory_order_relaxed));
        int schema = schema_;
        double zt = zero_threshold_;
        for (;;) {
            if (a <= zt) break;
            const std::int32_t i = native_bucket_index(a, schema);
            index_range p = negative ? pos : pos.with(i), n = negative ? neg.with(i) : neg;
            if (p.span() + n.span() <= limits_.max_buckets) break;
            // Widen the zero bucket to the upper bound of the bucket nearest zero.
            const std::int32_t lowest = std::min(p.empty() ? INT32_MAX : p.lo, n.empty() ? INT32_MAX : n.lo);
            const double wider = native_bucket_upper(lowest, schema);
            if (wider <= limits_.max_zero_threshold && wider > zt) {
                zt = wider;
                pos = drop_below(pos, lowest);
                neg = drop_below(neg, lowest);
                continue;
            }
            if (schema <= native_min_schema) break;
            --schema;
            pos = halve(pos);
            neg = halve(neg);
        }
        if (schema == schema_ && zt == zero_threshold_) return false;
        relayout(schema, zt);
        return true;
    }

    static index_range drop_below(index_range r, std::int32_t upto) noexcept {
        if (r.empty() || r.hi <= upto) return {};
        return {std::max(r.lo, upto + 1), r.hi};
    }
    static index_range halve(index_range r) noexcept {
        return r.empty() ? r : index_range{native_halve_index(r.lo), native_halve_index(r.hi)};
    }

    // Where bucket k at the current layout goes in (schema, zt): the zero bucket
    // (false) or index `to`.
    bool map_index(std::int32_t k, int from_schema, int schema, double zt, std::int32_t& to) const noexcept {
        if (native_bucket_upper(k, from_schema) <= zt) return false;
        const int d = from_schema - schema;
        to = static_cast<std::int32_t>((static_cast<std::int64_t>(k) + (std::int64_t{1} << d) - 1) >> d);
        return true;
    }
    index_range map_range(index_range r, int from_schema, int schema, double zt) const noexcept {
        index_range out;
        for (std::int32_t k = r.lo; k <= r.hi && !r.empty(); ++k) {
            std::int32_t to = 0;
            if (map_index(k, from_schema, schema, zt, to)) {
                std::int32_t hi = 0;
                map_index(r.hi, from_schema, schema, zt, hi);
                return {to, hi};
            }
        }
        return out;
    }

    static std::uint32_t capacity_for(std::size_t span) noexcept {
        std::uint32_t c = first_capacity;
        while (c < span) c *= 2;
        return c;
    }

    // A coarser schema or a wider zero bucket: every stripe gets a new block.
    void relayout(int schema, double zt) {
        const int from = schema_;
        const std::uint32_t tag = tag_.load(std::memory_order_relaxed) + 1;
        for (std::size_t s = 0; s < native_stripe_count; ++s)
            if (native_block* b = current(stripes_[s])) freeze(*b);
        const index_range pos = map_range(index_range::unpack(series_pos_.load(std::memory_order_relaxed)), from, schema, zt);
        const index_range neg = map_range(index_range::unpack(series_neg_.load(std::memory_order_relaxed)), from, schema, zt);
        tag_.store(tag, std::memory_order_relaxed);
        series_pos_.store(pos.pack(), std::memory_order_release);
        series_neg_.store(neg.pack(), std::memory_order_release);
        schema_ = schema;
        schema_hint_.store(schema, std::memory_order_relaxed);
        zero_threshold_ = zt;
        for (std::size_t s = 0; s < native_stripe_count; ++s) {
            native_stripe& st = stripes_[s];
            native_block* old = current(st);
            if (!old) continue;
            const index_range op = index_range::unpack(old->pos_range.load(std::memory_order_relaxed));
            const index_range on = index_range::unpack(old->neg_range.load(std::memory_order_relaxed));
            const index_range np = map_range(op, from, schema, zt), nn = map_range(on, from, schema, zt);
            native_block* fresh = native_block::make(schema, zt, tag, old->pos_cap ? capacity_for(np.span()) : 0,
                                                     old->neg_cap ? capacity_for(nn.span()) : 0);
            fresh->pos_range.store(np.pack(), std::memory_order_relaxed);
            fresh->neg_range.store(nn.pack(), std::memory_order_relaxed);
            install(st, fresh, true, from);
        }
    }

    // A ring too small for the series span: this stripe alone gets a bigger block.
    void grow(native_stripe& st, native_block& old, bool negative, std::size_t needed) {
        freeze(old);
        const std::uint32_t pos_cap = negative ? old.pos_cap : std::max(old.pos_cap, capacity_for(needed));
        const std::uint32_t neg_cap = negative ? std::max(old.neg_cap, capacity_for(needed)) : old.neg_cap;
        native_block* fresh = native_block::make(old.schema, old.zero_threshold, old.tag, pos_cap, neg_cap);
        fresh->pos_range.store(old.pos_range.load(std::memory_order_relaxed) & ~index_range::frozen_bit,
                               std::memory_order_relaxed);
        fresh->neg_range.store(old.neg_range.load(std::memory_order_relaxed) & ~index_range::frozen_bit,
                               std::memory_order_relaxed);
        install(st, fresh, true, old.schema);
    }

    // The same block again, so `started` restarts from zero long before 2^32.
    void renew(native_stripe& st) {
        flag_guard g(busy_);
        if (native_block* b = current(st)) grow(st, *b, false, 0);
    }

    void reset_locked() {
        const std::uint32_t tag = tag_.load(std::memory_order_relaxed) + 1;
        tag_.store(tag, std::memory_order_relaxed);
        series_pos_.store(index_range{}.pack(), std::memory_order_release);
        series_neg_.store(index_range{}.pack(), std::memory_order_release);
        schema_ = limits_.schema;
        schema_hint_.store(schema_, std::memory_order_relaxed);
        zero_threshold_ = limits_.zero_threshold;
        for (std::size_t s = 0; s < native_stripe_count; ++s) {
            native_stripe& st = stripes_[s];
            if (native_block* old = current(st))
                install(st, native_block::make(schema_, zero_threshold_, tag, old->pos_cap ? first_capacity : 0,
                                               old->neg_cap ? first_capacity : 0),
                        false);
        }
        if (reset_hook_) reset_hook_(reset_context_);
        last_reset_ = unix_time_seconds();
        reset_time_.store(last_reset_, std::memory_order_relaxed);
    }

    static void freeze(native_block& b) noexcept {
        b.pos_range.fetch_or(index_range::frozen_bit, std::memory_order_relaxed);
        b.neg_range.fetch_or(index_range::frozen_bit, std::memory_order_relaxed);
    }

    native_block* current(const native_stripe& st) const noexcept {
        const unsigned slot = slot_of(st.state.load(std::memory_order_relaxed));
        return st.blocks[slot].load(std::memory_order_relaxed);
    }

    // Installs `fresh` in the other slot, switches writers to it, waits for the
    // ones still pinned to the old block, folds the old counts (unless a reset
    // drops them) and frees the old block. Under the flag.
    void install(native_stripe& st, native_block* fresh, bool fold, int from_schema = 0) {
        release(switch_to(st, fresh, fold, from_schema));
    }

    // Installs `fresh`, switches writers to it and returns the old block (null
    // when none) once the writers still pinned to it are done. Under the flag.
    // The new block gets the old one's counts (fold) and `also`'s before writers
    // can reach it.
    native_block* switch_to(native_stripe& st, native_block* fresh, bool fold = false, int from_schema = 0,
                            const native_block* also = nullptr) {
        account(static_cast<std::ptrdiff_t>(native_block::bytes_for(fresh->pos_cap, fresh->neg_cap)));
        std::uint64_t s = st.state.load(std::memory_order_relaxed);
        const unsigned old_slot = slot_of(s);
        st.abandoned[old_slot ^ 1].store(0, std::memory_order_relaxed);
        st.blocks[old_slot ^ 1].store(nullptr, std::memory_order_relaxed);  // writers abandon until the fold is done
        while (!st.state.compare_exchange_weak(s, ((s >> generation_shift) + 1) << generation_shift, std::memory_order_acq_rel,
                                               std::memory_order_relaxed)) {
        }
        native_block* old = st.blocks[old_slot].load(std::memory_order_relaxed);
        if (fenced_ && &st != &stripes_[place_of(shared_stripe)]) {
            // The owner either sees the new generation or is in an observe that
            // the heavy fence makes visible here as an odd owner_seq: wait for
            // that one to end (its release store; the next sees the new slot).
            asymmetric_fence_heavy();
            const std::uint64_t seq = st.owner_seq.load(std::memory_order_acquire);
            for (unsigned n = 0; (seq & 1) && st.owner_seq.load(std::memory_order_acquire) == seq; ++n)
                if (n > 64) std::this_thread::yield();
        } else {
            const std::uint64_t started = s & started_mask;
            for (unsigned n = 0;; ++n) {
                const std::uint64_t done = st.abandoned[old_slot].load(std::memory_order_acquire) +
                                           (old ? old->total() - old->preloaded : 0);
                if (done == started) break;
                if (n > 64) std::this_thread::yield();
            }
        }
        st.blocks[old_slot].store(nullptr, std::memory_order_relaxed);
        if (old && fold) fold_into(*old, *fresh, from_schema);
        if (also) fold_into(*also, *fresh, also->schema);
        st.blocks[old_slot ^ 1].store(fresh, std::memory_order_release);
        return old;
    }

    void fold_into(const native_block& old, native_block& fresh, int from_schema) noexcept {
        std::uint64_t moved = 0;
        const auto add_to_zero = [&](std::uint64_t c) { fresh.zero.fetch_add(c, std::memory_order_relaxed); };
        for (const bool negative : {false, true}) {
            const index_range r = index_range::unpack((negative ? old.neg_range : old.pos_range).load(std::memory_order_relaxed));
            for (std::int32_t k = r.lo; k <= r.hi && !r.empty(); ++k) {
                const std::uint64_t c = old.counter(negative, k).load(std::memory_order_relaxed);
                if (c == 0) continue;
                std::int32_t to = 0;
                if (map_index(k, from_schema, fresh.schema, fresh.zero_threshold, to))
                    fresh.counter(negative, to).fetch_add(c, std::memory_order_relaxed);
                else
                    add_to_zero(c);
                moved += c;
            }
        }
        const std::uint64_t zero = old.zero.load(std::memory_order_relaxed), nan = old.nan.load(std::memory_order_relaxed);
        add_to_zero(zero);
        fresh.nan.fetch_add(nan, std::memory_order_relaxed);
        atomic_add(fresh.sum, old.sum.load(std::memory_order_relaxed));
        fresh.preloaded += moved + zero + nan;
    }

    static void gather(const native_block& b, bool negative, index_range series, std::uint64_t* out) noexcept {
        const index_range r = index_range::unpack((negative ? b.neg_range : b.pos_range).load(std::memory_order_acquire));
        for (std::int32_t k = r.lo; k <= r.hi && !r.empty(); ++k)
            if (series.contains(k))
                out[k - series.lo] += b.counter(negative, k).load(std::memory_order_acquire);
    }

    static void to_spans(index_range r, const std::uint64_t* counts, std::vector<native_bucket_span>& spans,
                         std::vector<std::uint64_t>& out) {
        spans.clear();
        out.clear();
        std::int32_t last = 0;  // the index after the last bucket written
        bool any = false;
        for (std::int32_t k = r.lo; k <= r.hi && !r.empty(); ++k) {
            const std::uint64_t c = counts[k - r.lo];
            if (c == 0) continue;
            if (any && k - last <= 2) {  // same span, across a gap of up to two empty buckets
                for (; last < k; ++last) {
                    out.push_back(0);
                    ++spans.back().length;
                }
            } else {
                spans.push_back({any ? k - last : k, 0});
                any = true;
            }
            out.push_back(c);
            ++spans.back().length;
            last = k + 1;
        }
    }

    void release(native_block* b) noexcept {
        if (!b) return;
        account(-static_cast<std::ptrdiff_t>(native_block::bytes_for(b->pos_cap, b->neg_cap)));
        native_block::destroy(b);
    }
    void account(std::ptrdiff_t delta) noexcept {
        own_bytes_.fetch_add(static_cast<std::size_t>(delta), std::memory_order_relaxed);
        if (bytes_) bytes_->fetch_add(static_cast<std::size_t>(delta), std::memory_order_relaxed);
    }

    const native_limits limits_;
    std::atomic<std::size_t>* bytes_;
    native_stripe* stripes_ = nullptr;
    mutable std::atomic<bool> busy_{false};
    std::atomic<std::uint32_t> tag_{0};
    std::atomic<std::uint64_t> series_pos_{index_range{}.pack()};
    std::atomic<std::uint64_t> series_neg_{index_range{}.pack()};
    int schema_;              // under busy_
    std::atomic<int> schema_hint_;  // schema_, for writers outside the flag
    double zero_threshold_;   // under busy_
    double last_reset_;       // under busy_
    std::atomic<double> reset_time_{0.0};
    std::atomic<std::size_t> own_bytes_{0};
    const bool fenced_;  // owners use the asymmetric fence, not the pin
    void (*reset_hook_)(void*) = nullptr;
    void* reset_context_ = nullptr;
};

}  // namespace llmetrics::detail

#pragma once
// The label-set -> series index of one family.
//
// Reads are lock-free: an open-addressing table of atomic node pointers, probed
// with acquire loads. Writers (first use of a label set, remove, reset) serialise
// on one mutex, off the hot path. Nodes are never freed while the map lives, so a
// reader can never touch freed memory and handles never dangle: remove() only
// marks a node dead (and zeroes it); the same label set revives it. Dead nodes keep
// counting against the family's cardinality bound, so memory stays bounded by
// max_series nodes whatever label values arrive. A grown table replaces the old one
// for new readers; old tables are kept (at most as large as the live one in total)
// because a reader may still be probing them.
//
// Expiry (families with series_ttl<S>; `Expiring`)
// ------------------------------------------------
// Nothing changes on the write path: a sweep (at every scrape, from
// expire_series(), and from an insert that finds the family full) reads each
// series' change mark (the summed stripes of a counter, a gauge's value, a
// histogram's count, hashed over the node's slots) and stamps the sweep's time
// when the mark moved. A live node whose mark stayed for the TTL is hidden: left
// out of the exposition and
//   - retired when nobody holds it: zeroed, taken out of the table and put on a
//     free list, from which a new label set takes it (the slot is reused);
//   - emptied when a held_series holds it: each slot's take_out() empties its
//     cells by atomic exchanges (a counter's stripes, a histogram's buckets and
//     sums; a gauge goes to 0; a native histogram swaps in empty blocks of the
//     same layout and keeps the old ones, storage/detail/native_cell.hpp), and
//     the mark of what it took is compared with the one the sweep saw. Equal: the
//     node is hidden, its created time renewed, so the handle's next write brings
//     it back from zero as a new series (Prometheus sees a reset). Different (a
//     write came in between): all of it is put back (added again; a gauge only
//     if nothing was written since) and the node stays shown, as written.
// A hidden node is shown again when a later sweep sees its mark move from the
// empty node's (a kept handle wrote) or when labels(...) asks for it; a hidden
// node nobody holds any more is retired by the next sweep. remove() and reset()
// hide the same way, taking out whatever is there.
// Who holds a node: every held_series (storage/held_series.hpp) that labels(...)
// returned, temporaries included, counts itself in `holders`. Retiring is one CAS
// of holders from 0 to `retired`, so no handle can exist on a retired node, and a
// lookup (which counts itself in with a CAS that fails on `retired`, then checks
// the key) can never take one; the key bytes are rewritten only while `retired`
// is set, and published by the release store that clears it.
//
// Why no live series disappears and no write is lost: a series written at time w
// has a mark different from the one the sweep before w saw, so the first sweep
// after w stamps a time >= w and the node is not hidden before w + TTL (values
// that change nothing, inc(0) or a gauge set to the value it has, are not writes
// here: a gauge expires when its value stays the same for the TTL). Emptying a
// held node loses nothing: an exchange is one read-modify-write, so a racing
// increment lands either before it (in what was taken) or after it (left in the
// cell); relaxed order suffices because each cell is an independent tally and
// the sweep only needs atomicity per cell (a native histogram's blocks are
// quiescent when counted, and its classic half pairs acquire with the writer's
// release: native_series.hpp), and the comparison with the sweep's
// mark makes what was taken exactly what the sweep saw (else it goes back),
// added up in taken_out(); what a racing write leaves behind moves the mark, so
// the next sweep shows the node with it. Zeroing happens only on retirement, after the
// CAS saw no holder; each holder's writes happen before its release decrement, so
// no write can land after the zeroing. What a race can cost: one scrape in which
// a series written during that scrape's sweep is absent; a histogram observation
// racing the emptying may leave its bucket and have its sum taken (or the
// reverse), so the sum is off by that value while counts stay exact; a gauge
// written while its put-back runs keeps the written value.
//
// Why memory is bounded: the table holds at most max_series nodes (hidden held
// ones count), and a new node is built only when no free node has room for the
// key. Free nodes are kept per key capacity (powers of two from 16 bytes), so the
// nodes ever built are at most max_series per capacity class, and in the usual
// case (keys of similar length) at most max_series plus the hidden nodes held by
// kept handles. A family without scrapes does not grow either: inserts of new
// label sets sweep every quarter TTL, and an insert that finds the family full
// sweeps first (at most once a second of the family's clock).
//
// When a series goes: the sweep time at which its mark last moved is the earliest
// time its last write can be known to have happened by, so a series is hidden
// between TTL and TTL plus the sweep interval after its last write (sweeps come at
// every scrape, every quarter TTL of inserts, and on expire_series()).

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../../core/clock.hpp"
#include "../../core/detail/bytes.hpp"
#include "../../core/detail/unix_time.hpp"
#include "../../core/detail/utf8.hpp"
#include "../../core/options.hpp"

namespace llmetrics::detail {

// Seeded per process so label values chosen by an attacker cannot be aimed at
// one probe chain.
inline const std::uint64_t hash_seed = [] {
    std::uint64_t x = static_cast<std::uint64_t>(
        std::chrono::steady_clock::now().time_since_epoch().count());
    x ^= reinterpret_cast<std::uintptr_t>(&x);
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ULL;
    return x | 1;
}();

inline std::uint64_t mix(std::uint64_t h) noexcept {
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 32;
    return h;
}

// One multiply per 8 bytes on the lookup path, one avalanche at the end. Each
// value's length is folded in, so ("a,b", "c") and ("a", "b,c") differ.
inline std::uint64_t hash_values(std::span<const std::string_view> values) noexcept {
    constexpr std::uint64_t k = 0x9e3779b97f4a7c15ULL;
    std::uint64_t h = hash_seed;
    for (std::string_view v : values) {
        const char* p = v.data();
        std::size_t n = v.size();
        for (; n > 8; p += 8, n -= 8) h = ((h ^ load_word(p)) * k) ^ (h >> 29);
        h = ((h ^ load_small(p, n)) * k) + v.size();
    }
    return mix(h);
}

// Cuts at most max_label_value_bytes, backing off to a code point boundary.
inline std::string_view clamp_label_value(std::string_view v) noexcept {
    if (v.size() <= max_label_value_bytes) return v;
    std::size_t n = max_label_value_bytes;
    while (n > 0 && (static_cast<unsigned char>(v[n]) & 0xC0) == 0x80) --n;
    return v.substr(0, n);
}

// Bump allocator for nodes and their key bytes: no per-node malloc header.
class node_arena {
public:
    static constexpr std::size_t alignment = 8;  // nodes hold 8-byte atomics at most

    void* allocate(std::size_t bytes) {
        bytes = (bytes + alignment - 1) & ~(alignment - 1);
        if (chunks_.empty() || used_ + bytes > chunk_size_) {
            chunk_size_ = std::max<std::size_t>(bytes, 16 * 1024);
            chunks_.push_back(std::unique_ptr<std::byte[]>(new std::byte[chunk_size_]));
            used_ = 0;
            total_ += chunk_size_;
        }
        void* p = chunks_.back().get() + used_;
        used_ += bytes;
        return p;
    }
    std::size_t bytes() const noexcept { return total_; }

private:
    std::vector<std::unique_ptr<std::byte[]>> chunks_;
    std::size_t chunk_size_ = 0;
    std::size_t used_ = 0;
    std::size_t total_ = 0;
};

struct no_expiry_state {};

// A node's state for expiry (see "Expiry" above); all but `holders` under the map lock.
struct expiry_state {
    static constexpr std::uint32_t retired = std::uint32_t{1} << 31;
    std::atomic<std::uint32_t> holders{0};  // held_series on the node, or `retired`
    std::uint32_t key_capacity = 0;
    std::uint64_t mark = 0;       // change mark the last sweep saw
    std::int64_t changed_ns = 0;  // sweep time at which the mark last moved
    bool free = false;            // retired and on the free list
};

// One label set of free-form values, and the fixed table of `Slots` series for
// the family's closed-value combinations.
// Laid out in one arena allocation as [node][Slots slots][key bytes].
template <class Slot, std::size_t Values, std::size_t Slots, bool Expiring = false>
struct series_node {
    // Offsets fit in 16 bits while every value is clamped to max_label_value_bytes.
    using offset = std::conditional_t<Values * max_label_value_bytes < 65536, std::uint16_t, std::uint32_t>;
    static constexpr std::size_t slots_offset() noexcept {
        return (sizeof(series_node) + alignof(Slot) - 1) / alignof(Slot) * alignof(Slot);
    }
    static constexpr std::size_t key_offset() noexcept { return slots_offset() + Slots * sizeof(Slot); }

    std::atomic<std::uint64_t> hash{0};  // atomic: a node reused for another label set gets a new one
    std::atomic<series_node*> next{nullptr};  // creation order, for exposition
    std::atomic<double> created{0.0};
    std::array<offset, Values> ends{};  // end offset of each value in the key bytes
    std::atomic<bool> live{true};
    bool overflow = false;
    [[no_unique_address]] std::conditional_t<Expiring, expiry_state, no_expiry_state> expiry;

    Slot* slots() noexcept { return reinterpret_cast<Slot*>(reinterpret_cast<std::byte*>(this) + slots_offset()); }
    const Slot* slots() const noexcept {
        return reinterpret_cast<const Slot*>(reinterpret_cast<const std::byte*>(this) + slots_offset());
    }
    const char* key() const noexcept { return reinterpret_cast<const char*>(this) + key_offset(); }

    std::string_view value(std::size_t i) const noexcept {
        const std::size_t begin = i == 0 ? 0 : ends[i - 1];
        return {key() + begin, ends[i] - begin};
    }
    bool matches(std::uint64_t h, std::span<const std::string_view> values) const noexcept {
        if (h != hash.load(std::memory_order_relaxed)) return false;
        for (std::size_t i = 0; i < Values; ++i) {
            const std::string_view mine = value(i);
            if (mine.size() != values[i].size() || !same_bytes(mine.data(), values[i].data(), mine.size()))
                return false;
        }
        return true;
    }
};

// SlotFactory::construct(Slot* first, std::size_t n) placement-constructs the n
// slots of a new node (called under the map's lock); SlotFactory::change_mark(slot)
// is what an expiring map compares between sweeps.
template <class Slot, std::size_t Values, std::size_t Slots, class SlotFactory, bool Expiring = false>
class series_map {
public:
    using node = series_node<Slot, Values, Slots, Expiring>;

    explicit series_map(std::size_t max_series, SlotFactory factory = {}, std::int64_t ttl_seconds = 0)
        : max_series_(max_series), ttl_ns_(ttl_seconds * 1'000'000'000), factory_(std::move(factory)) {
        publish_table(16);
    }
    series_map(const series_map&) = delete;
    series_map& operator=(const series_map&) = delete;

    ~series_map() {
        for (node* n = head_.load(std::memory_order_relaxed); n;) {
            node* next = n->next.load(std::memory_order_relaxed);
            for (std::size_t i = 0; i < Slots; ++i) n->slots()[i].~Slot();
            n->~node();
            n = next;
        }
    }

    // The node for `values`, created on first use. Past the cardinality bound it
    // is the overflow node, and `dropped` grows by one. An expiring map returns
    // the node with one holder counted for the caller (held_series takes it over).
    node* find_or_create(std::span<const std::string_view> raw) {
        // Stored keys are valid UTF-8 and clamped, so raw values that match one
        // need no repair: only a miss pays for validation.
        const std::uint64_t raw_hash = hash_values(raw);
        if constexpr (Expiring) {
            if (node* n = find_held(raw_hash, raw)) {
                if (n->live.load(std::memory_order_acquire)) [[likely]]
                    return n;
                release(n);
            }
        } else {
            if (node* n = find(raw_hash, raw); n && n->live.load(std::memory_order_acquire)) [[likely]]
                return n;
        }
        return find_or_create_slow(raw);
    }

    // Held for the caller when the map expires series.
    node* overflow_node() {
        std::lock_guard lock(mutex_);
        node* n = overflow_locked();
        hold_locked(n);
        return n;
    }

    // Marks a label set dead and zeroes it (an expiring map hides it, as expiry
    // does); returns whether it was live.
    bool remove(std::span<const std::string_view> raw) {
        std::array<std::string_view, Values> values;
        std::array<std::string, Values> repaired;
        normalize(raw, values, repaired);
        std::lock_guard lock(mutex_);
        node* n = find(hash_values(values), values);
        if (!n || n->overflow || !n->live.load(std::memory_order_relaxed)) return false;
        if constexpr (Expiring) hide(n, clock_.now_ns(), nullptr);
        else kill(n);
        return true;
    }

    void clear() {
        std::lock_guard lock(mutex_);
        const std::int64_t now = clock_.now_ns();
        for (node* n = head_.load(std::memory_order_relaxed); n; n = n->next.load(std::memory_order_relaxed)) {
            if (!n->live.load(std::memory_order_relaxed)) continue;
            if constexpr (Expiring) {
                if (!n->overflow) hide(n, now, nullptr);
            } else {
                kill(n);
            }
        }
    }

    // Every node in creation order, removed ones included (see family::visit).
    template <class F>
    void for_each(F&& f) const {
        for (node* n = head_.load(std::memory_order_acquire); n; n = n->next.load(std::memory_order_acquire)) f(*n);
    }

    // Expiring maps: sweeps (unless the caller just did), then calls f for each
    // shown node, under the lock (no node is reused for another label set while f
    // reads its key).
    template <class F>
    void visit_shown(F&& f, bool sweep_first) {
        std::lock_guard lock(mutex_);
        if (sweep_first) sweep_locked(clock_.now_ns());
        for (node* n = head_.load(std::memory_order_relaxed); n; n = n->next.load(std::memory_order_relaxed))
            if (n->live.load(std::memory_order_relaxed)) f(*n);
    }

    // Hides the series unchanged for the TTL; returns how many it hid.
    std::size_t sweep() {
        std::lock_guard lock(mutex_);
        return sweep_locked(clock_.now_ns());
    }

    // Where sweeps read the time (steady_clock by default); set before the
    // family is used from other threads.
    void set_time_source(time_source clock) noexcept {
        std::lock_guard lock(mutex_);
        clock_ = clock;
        last_sweep_ns_ = clock_.now_ns();
    }

    // Gives up the holder find_or_create counted for a caller.
    static void release(node* n) noexcept { n->expiry.holders.fetch_sub(1, std::memory_order_release); }

    std::size_t size() const noexcept { return count_.load(std::memory_order_relaxed); }
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
    std::uint64_t expired() const noexcept { return expired_.load(std::memory_order_relaxed); }
    std::uint64_t taken_out() const noexcept { return taken_out_.load(std::memory_order_relaxed); }
    std::size_t bytes() const noexcept {
        std::lock_guard lock(mutex_);
        std::size_t tables = 0;
        for (const auto& t : tables_) tables += (t->mask + 1) * sizeof(std::atomic<node*>);
        std::size_t free_lists = 0;
        for (const auto& f : free_) free_lists += f.capacity() * sizeof(node*);
        return arena_.bytes() + tables + free_lists + factory_.bytes();
    }

private:
    struct table {
        std::size_t mask;
        std::unique_ptr<std::atomic<node*>[]> slots;
    };

    static constexpr std::size_t smallest_key_capacity = 16;
    static constexpr std::size_t capacity_classes = 48;

    // What is stored for raw values: clamped, then UTF-8 repaired.
    static void normalize(std::span<const std::string_view> raw, std::array<std::string_view, Values>& values,
                          std::array<std::string, Values>& repaired) {
        for (std::size_t i = 0; i < Values; ++i) {
            std::string_view v = clamp_label_value(raw[i]);
            if (!is_valid_utf8(v)) {
                repaired[i] = sanitize_utf8(v);
                v = repaired[i];
            }
            values[i] = v;
        }
    }

    node* find_or_create_slow(std::span<const std::string_view> raw) {
        std::array<std::string_view, Values> values;
        std::array<std::string, Values> repaired;
        normalize(raw, values, repaired);
        return create_slow(hash_values(values), values);
    }

    // Lock-free readers of an expiring map use find_held; find is for the others
    // and for code under the lock (where no node changes its key).
    node* find(std::uint64_t h, std::span<const std::string_view> values) const noexcept {
        const table* t = table_.load(std::memory_order_acquire);
        for (std::size_t i = h & t->mask;; i = (i + 1) & t->mask) {
            node* n = t->slots[i].load(std::memory_order_acquire);
            if (!n) return nullptr;
            if (!n->overflow && n->matches(h, values)) return n;
        }
    }

    // The key is read only once the node is held: it cannot be rewritten then. A
    // node moved by a concurrent erase may be missed; the caller then takes the
    // lock and looks again.
    node* find_held(std::uint64_t h, std::span<const std::string_view> values) const noexcept {
        const table* t = table_.load(std::memory_order_acquire);
        for (std::size_t i = h & t->mask;; i = (i + 1) & t->mask) {
            node* n = t->slots[i].load(std::memory_order_acquire);
            if (!n) return nullptr;
            if (n->overflow || n->hash.load(std::memory_order_relaxed) != h || !try_hold(n)) continue;
            if (n->matches(h, values)) return n;
            release(n);
        }
    }

    // Acquire: pairs with the release store that ends a reuse, so the new key is seen.
    static bool try_hold(node* n) noexcept {
        std::uint32_t c = n->expiry.holders.load(std::memory_order_relaxed);
        do {
            if (c & expiry_state::retired) return false;
        } while (!n->expiry.holders.compare_exchange_weak(c, c + 1, std::memory_order_acquire,
                                                           std::memory_order_relaxed));
        return true;
    }
    // Under the lock, on a node in the table: never retired there.
    static void hold_locked(node* n) noexcept {
        if constexpr (Expiring) n->expiry.holders.fetch_add(1, std::memory_order_relaxed);
    }
    // Acquire: pairs with each holder's release decrement, so their writes are done.
    static bool try_retire(node* n) noexcept {
        std::uint32_t none = 0;
        return n->expiry.holders.compare_exchange_strong(none, expiry_state::retired, std::memory_order_acquire,
                                                         std::memory_order_relaxed);
    }

    node* create_slow(std::uint64_t h, std::span<const std::string_view> values) {
        std::lock_guard lock(mutex_);
        if (node* n = find(h, values)) {
            if (!n->live.load(std::memory_order_relaxed)) revive(n);
            hold_locked(n);
            return n;
        }
        if constexpr (Expiring) sweep_on_insert();
        if (count_.load(std::memory_order_relaxed) >= max_series_) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            node* o = overflow_locked();
            hold_locked(o);
            return o;
        }
        node* n = nullptr;
        if constexpr (Expiring) n = reuse(h, values);
        if (!n) n = build(h, values, false);
        insert(n);
        hold_locked(n);
        return n;
    }

    void revive(node* n) {
        if constexpr (Expiring) {
            const std::int64_t now = clock_.now_ns();
            if (try_retire(n)) {  // nobody holds it: it restarts from zero
                for (std::size_t i = 0; i < Slots; ++i) n->slots()[i].clear();
                n->created.store(unix_time_seconds(), std::memory_order_relaxed);
                n->expiry.holders.store(0, std::memory_order_release);
            }
            n->expiry.mark = mark_of(*n);
            n->expiry.changed_ns = now;
        } else {
            n->created.store(unix_time_seconds(), std::memory_order_relaxed);
        }
        n->live.store(true, std::memory_order_release);
    }

    node* overflow_locked() {
        if (!overflow_) {
            std::array<std::string_view, Values> values;
            values.fill(overflow_label_value);
            overflow_ = build(hash_values(values), values, true);
        }
        return overflow_;
    }

    static std::size_t key_size(std::span<const std::string_view> values) noexcept {
        std::size_t n = 0;
        for (std::string_view v : values) n += v.size();
        return n;
    }
    static std::size_t capacity_class(std::size_t key_bytes) noexcept {
        std::size_t c = 0;
        while ((smallest_key_capacity << c) < key_bytes) ++c;
        return c;
    }

    node* build(std::uint64_t h, std::span<const std::string_view> values, bool overflow) {
        std::size_t key_bytes = key_size(values);
        if constexpr (Expiring) key_bytes = smallest_key_capacity << capacity_class(key_bytes);
        auto* raw = static_cast<std::byte*>(arena_.allocate(node::key_offset() + key_bytes));
        node* n = new (raw) node{};
        n->overflow = overflow;
        n->created.store(unix_time_seconds(), std::memory_order_relaxed);
        write_key(n, h, values);
        factory_.construct(n->slots(), Slots);
        if constexpr (Expiring) {
            n->expiry.key_capacity = static_cast<std::uint32_t>(key_bytes);
            n->expiry.mark = mark_of(*n);
            n->expiry.changed_ns = clock_.now_ns();
        }
        // Append to the creation-order list; readers see a complete node.
        if (node* tail = tail_) tail->next.store(n, std::memory_order_release);
        else head_.store(n, std::memory_order_release);
        tail_ = n;
        return n;
    }

    static void write_key(node* n, std::uint64_t h, std::span<const std::string_view> values) noexcept {
        n->hash.store(h, std::memory_order_relaxed);
        char* key = reinterpret_cast<char*>(n) + node::key_offset();
        std::size_t at = 0;
        for (std::size_t i = 0; i < Values; ++i) {
            if (!values[i].empty()) std::memcpy(key + at, values[i].data(), values[i].size());
            at += values[i].size();
            n->ends[i] = static_cast<typename node::offset>(at);
        }
    }

    // A retired node with room for the key, given the new label set (its slots
    // were zeroed when it retired); null when none has room.
    node* reuse(std::uint64_t h, std::span<const std::string_view> values) {
        for (std::size_t c = capacity_class(key_size(values)); c < capacity_classes; ++c) {
            if (free_[c].empty()) continue;
            node* n = free_[c].back();
            free_[c].pop_back();
            write_key(n, h, values);
            n->created.store(unix_time_seconds(), std::memory_order_relaxed);
            n->expiry.mark = mark_of(*n);
            n->expiry.changed_ns = clock_.now_ns();
            n->expiry.free = false;
            n->live.store(true, std::memory_order_relaxed);
            n->expiry.holders.store(0, std::memory_order_release);  // publishes the key to try_hold
            return n;
        }
        return nullptr;
    }

    // Out of the exposition: retired at once when nobody holds it, else emptied
    // of the values `seen` (the sweep's mark) stands for, with a new created
    // time, so a kept handle's next write starts its series from zero. False,
    // with the node still shown, when a write came after the sweep read `seen`.
    // remove() and reset() pass no mark: they take out whatever is there.
    bool hide(node* n, std::int64_t now, const std::uint64_t* seen) {
        if (try_retire(n)) {
            n->live.store(false, std::memory_order_release);
            retire(n);
            return true;
        }
        if (!take_out(n, seen)) {
            n->expiry.mark = mark_of(*n);
            n->expiry.changed_ns = now;
            return false;
        }
        n->created.store(unix_time_seconds(), std::memory_order_relaxed);
        n->live.store(false, std::memory_order_release);
        n->expiry.mark = zero_mark();  // any write since moves it
        n->expiry.changed_ns = now;
        return true;
    }

    // Empties every slot of a held node (each slot's take_out() loses no racing
    // write) and compares what it took with `seen`; on a mismatch puts it all back.
    bool take_out(node* n, const std::uint64_t* seen) {
        auto& taken = taken_;
        taken.resize(Slots);
        for (std::size_t i = 0; i < Slots; ++i) taken[i] = n->slots()[i].take_out();
        if (seen) {
            std::uint64_t m = 0;
            for (std::size_t i = 0; i < Slots; ++i) m = mix(m + SlotFactory::taken_mark(taken[i]) + i);
            if (m != *seen) {
                for (std::size_t i = 0; i < Slots; ++i) n->slots()[i].put_back(taken[i]);
                return false;
            }
        }
        std::uint64_t count = 0;
        for (std::size_t i = 0; i < Slots; ++i) {
            count += SlotFactory::taken_count(taken[i]);
            n->slots()[i].drop(taken[i]);
        }
        taken_out_.fetch_add(count, std::memory_order_relaxed);
        return true;
    }

    // The mark of a node whose slots are all empty (every change mark is 0 then).
    static std::uint64_t zero_mark() noexcept {
        std::uint64_t m = 0;
        for (std::size_t i = 0; i < Slots; ++i) m = mix(m + i);
        return m;
    }

    void retire(node* n) {
        erase(n);
        for (std::size_t i = 0; i < Slots; ++i) n->slots()[i].clear();
        n->expiry.free = true;
        free_[capacity_class(n->expiry.key_capacity)].push_back(n);
    }

    std::uint64_t mark_of(const node& n) const {
        std::uint64_t m = 0;
        for (std::size_t i = 0; i < Slots; ++i) m = mix(m + SlotFactory::change_mark(n.slots()[i]) + i);
        return m;
    }

    std::size_t sweep_locked(std::int64_t now) {
        if constexpr (!Expiring) {
            return 0;
        } else {
            std::size_t hidden = 0;
            for (node* n = head_.load(std::memory_order_relaxed); n; n = n->next.load(std::memory_order_relaxed)) {
                if (n->overflow || n->expiry.free) continue;
                const std::uint64_t mark = mark_of(*n);
                if (mark != n->expiry.mark) {  // written since the last sweep
                    n->expiry.mark = mark;
                    n->expiry.changed_ns = now;
                    n->live.store(true, std::memory_order_release);
                } else if (n->live.load(std::memory_order_relaxed)) {
                    if (now - n->expiry.changed_ns >= ttl_ns_ && hide(n, now, &mark)) ++hidden;
                } else if (try_retire(n)) {  // hidden, and its last holder went
                    retire(n);
                }
            }
            last_sweep_ns_ = now;
            expired_.fetch_add(hidden, std::memory_order_relaxed);
            return hidden;
        }
    }

    // A family nobody scrapes still expires: a new label set sweeps when the last
    // sweep is a quarter TTL old, or when the family is full and it is a second
    // old (a full family of live series would otherwise sweep on every miss).
    void sweep_on_insert() {
        const std::int64_t now = clock_.now_ns();
        const std::int64_t age = now - last_sweep_ns_;
        if (age >= ttl_ns_ / 4 || (count_.load(std::memory_order_relaxed) >= max_series_ && age >= 1'000'000'000))
            sweep_locked(now);
    }

    void insert(node* n) {
        table* t = table_.load(std::memory_order_relaxed);
        if ((count_.load(std::memory_order_relaxed) + 1) * 4 > (t->mask + 1) * 3) {  // load factor 3/4
            publish_table((t->mask + 1) * 2);
            t = table_.load(std::memory_order_relaxed);
        }
        place(*t, n);
        count_.fetch_add(1, std::memory_order_relaxed);
    }

    static void place(table& t, node* n) {
        std::size_t i = n->hash.load(std::memory_order_relaxed) & t.mask;
        while (t.slots[i].load(std::memory_order_relaxed)) i = (i + 1) & t.mask;
        t.slots[i].store(n, std::memory_order_release);
    }

    // Linear-probing deletion that shifts the following entries back into the
    // gap. A concurrent find may miss an entry being moved; it then looks again
    // under the lock. Old tables keep their entries; find_held checks the key.
    void erase(node* n) {
        table& t = *table_.load(std::memory_order_relaxed);
        std::size_t gap = n->hash.load(std::memory_order_relaxed) & t.mask;
        while (t.slots[gap].load(std::memory_order_relaxed) != n) gap = (gap + 1) & t.mask;
        for (std::size_t j = (gap + 1) & t.mask;; j = (j + 1) & t.mask) {
            node* m = t.slots[j].load(std::memory_order_relaxed);
            if (!m) break;
            const std::size_t home = m->hash.load(std::memory_order_relaxed) & t.mask;
            // m may fill the gap when its home is not in (gap, j] (cyclically).
            if (((j - home) & t.mask) >= ((j - gap) & t.mask)) {
                t.slots[gap].store(m, std::memory_order_release);
                gap = j;
            }
        }
        t.slots[gap].store(nullptr, std::memory_order_release);
        count_.fetch_sub(1, std::memory_order_relaxed);
    }

    void publish_table(std::size_t capacity) {
        auto t = std::make_unique<table>();
        t->mask = capacity - 1;
        t->slots = std::make_unique<std::atomic<node*>[]>(capacity);
        for (std::size_t i = 0; i < capacity; ++i) t->slots[i].store(nullptr, std::memory_order_relaxed);
        if (table* old = table_.load(std::memory_order_relaxed))
            for (std::size_t i = 0; i <= old->mask; ++i)
                if (node* n = old->slots[i].load(std::memory_order_relaxed)) place(*t, n);
        table_.store(t.get(), std::memory_order_release);
        tables_.push_back(std::move(t));
    }

    void kill(node* n) {
        n->created.store(unix_time_seconds(), std::memory_order_relaxed);  // a write after this restarts from zero
        n->live.store(false, std::memory_order_release);
        for (std::size_t i = 0; i < Slots; ++i) n->slots()[i].clear();
    }

    const std::size_t max_series_;
    const std::int64_t ttl_ns_;
    mutable std::mutex mutex_;
    std::atomic<table*> table_{nullptr};
    std::vector<std::unique_ptr<table>> tables_;
    std::atomic<node*> head_{nullptr};
    node* tail_ = nullptr;
    node* overflow_ = nullptr;
    std::atomic<std::size_t> count_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> expired_{0};
    std::atomic<std::uint64_t> taken_out_{0};
    node_arena arena_;
    SlotFactory factory_;
    // Expiring maps only; under the lock.
    time_source clock_;
    std::int64_t last_sweep_ns_ = clock_.now_ns();
    std::array<std::vector<node*>, Expiring ? capacity_classes : 0> free_;
    std::vector<typename Slot::taken_values> taken_;  // take_out's scratch
};

}  // namespace llmetrics::detail

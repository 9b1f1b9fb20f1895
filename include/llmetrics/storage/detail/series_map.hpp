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

// One label set of free-form values, and the fixed table of `Slots` series for
// the family's closed-value combinations.
// Laid out in one arena allocation as [node][Slots slots][key bytes].
template <class Slot, std::size_t Values, std::size_t Slots>
struct series_node {
    // Offsets fit in 16 bits while every value is clamped to max_label_value_bytes.
    using offset = std::conditional_t<Values * max_label_value_bytes < 65536, std::uint16_t, std::uint32_t>;
    static constexpr std::size_t slots_offset() noexcept {
        return (sizeof(series_node) + alignof(Slot) - 1) / alignof(Slot) * alignof(Slot);
    }
    static constexpr std::size_t key_offset() noexcept { return slots_offset() + Slots * sizeof(Slot); }

    std::uint64_t hash = 0;
    std::atomic<series_node*> next{nullptr};  // creation order, for exposition
    std::atomic<double> created{0.0};
    std::array<offset, Values> ends{};  // end offset of each value in the key bytes
    std::atomic<bool> live{true};
    bool overflow = false;

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
        if (h != hash) return false;
        for (std::size_t i = 0; i < Values; ++i) {
            const std::string_view mine = value(i);
            if (mine.size() != values[i].size() || !same_bytes(mine.data(), values[i].data(), mine.size()))
                return false;
        }
        return true;
    }
};

// SlotFactory::construct(Slot* first, std::size_t n) placement-constructs the n
// slots of a new node (called under the map's lock).
template <class Slot, std::size_t Values, std::size_t Slots, class SlotFactory>
class series_map {
public:
    using node = series_node<Slot, Values, Slots>;

    explicit series_map(std::size_t max_series, SlotFactory factory = {})
        : max_series_(max_series), factory_(std::move(factory)) {
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
    // is the overflow node, and `dropped` grows by one.
    node* find_or_create(std::span<const std::string_view> raw) {
        // Stored keys are valid UTF-8 and clamped, so raw values that match one
        // need no repair: only a miss pays for validation.
        const std::uint64_t raw_hash = hash_values(raw);
        if (node* n = find(raw_hash, raw); n && n->live.load(std::memory_order_acquire)) [[likely]]
            return n;
        return find_or_create_slow(raw);
    }

    node* overflow_node() {
        std::lock_guard lock(mutex_);
        return overflow_locked();
    }

    // Marks a label set dead and zeroes it; returns whether it was live.
    bool remove(std::span<const std::string_view> raw) {
        std::array<std::string_view, Values> values;
        std::array<std::string, Values> repaired;
        normalize(raw, values, repaired);
        std::lock_guard lock(mutex_);
        node* n = find(hash_values(values), values);
        if (!n || n->overflow || !n->live.load(std::memory_order_relaxed)) return false;
        kill(n);
        return true;
    }

    void clear() {
        std::lock_guard lock(mutex_);
        for (node* n = head_.load(std::memory_order_relaxed); n; n = n->next.load(std::memory_order_relaxed))
            if (n->live.load(std::memory_order_relaxed)) kill(n);
    }

    // Every node in creation order, removed ones included (see family::visit).
    template <class F>
    void for_each(F&& f) const {
        for (node* n = head_.load(std::memory_order_acquire); n; n = n->next.load(std::memory_order_acquire)) f(*n);
    }

    std::size_t size() const noexcept { return count_.load(std::memory_order_relaxed); }
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
    std::size_t bytes() const noexcept {
        std::lock_guard lock(mutex_);
        std::size_t tables = 0;
        for (const auto& t : tables_) tables += (t->mask + 1) * sizeof(std::atomic<node*>);
        return arena_.bytes() + tables + factory_.bytes();
    }

private:
    struct table {
        std::size_t mask;
        std::unique_ptr<std::atomic<node*>[]> slots;
    };

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

    node* find(std::uint64_t h, std::span<const std::string_view> values) const noexcept {
        const table* t = table_.load(std::memory_order_acquire);
        for (std::size_t i = h & t->mask;; i = (i + 1) & t->mask) {
            node* n = t->slots[i].load(std::memory_order_acquire);
            if (!n) return nullptr;
            if (!n->overflow && n->matches(h, values)) return n;
        }
    }

    node* create_slow(std::uint64_t h, std::span<const std::string_view> values) {
        std::lock_guard lock(mutex_);
        if (node* n = find(h, values)) {
            if (!n->live.load(std::memory_order_relaxed)) {
                n->created.store(unix_time_seconds(), std::memory_order_relaxed);
                n->live.store(true, std::memory_order_release);
            }
            return n;
        }
        if (count_.load(std::memory_order_relaxed) >= max_series_) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return overflow_locked();
        }
        node* n = build(h, values, false);
        insert(n);
        return n;
    }

    node* overflow_locked() {
        if (!overflow_) {
            std::array<std::string_view, Values> values;
            values.fill(overflow_label_value);
            overflow_ = build(hash_values(values), values, true);
        }
        return overflow_;
    }

    node* build(std::uint64_t h, std::span<const std::string_view> values, bool overflow) {
        std::size_t key_bytes = 0;
        for (std::string_view v : values) key_bytes += v.size();
        auto* raw = static_cast<std::byte*>(arena_.allocate(node::key_offset() + key_bytes));
        node* n = new (raw) node{};
        n->hash = h;
        n->overflow = overflow;
        n->created.store(unix_time_seconds(), std::memory_order_relaxed);
        char* key = reinterpret_cast<char*>(raw + node::key_offset());
        std::size_t at = 0;
        for (std::size_t i = 0; i < Values; ++i) {
            if (!values[i].empty()) std::memcpy(key + at, values[i].data(), values[i].size());
            at += values[i].size();
            n->ends[i] = static_cast<typename node::offset>(at);
        }
        factory_.construct(n->slots(), Slots);
        // Append to the creation-order list; readers see a complete node.
        if (node* tail = tail_) tail->next.store(n, std::memory_order_release);
        else head_.store(n, std::memory_order_release);
        tail_ = n;
        return n;
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
        std::size_t i = n->hash & t.mask;
        while (t.slots[i].load(std::memory_order_relaxed)) i = (i + 1) & t.mask;
        t.slots[i].store(n, std::memory_order_release);
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
    mutable std::mutex mutex_;
    std::atomic<table*> table_{nullptr};
    std::vector<std::unique_ptr<table>> tables_;
    std::atomic<node*> head_{nullptr};
    node* tail_ = nullptr;
    node* overflow_ = nullptr;
    std::atomic<std::size_t> count_{0};
    std::atomic<std::uint64_t> dropped_{0};
    node_arena arena_;
    SlotFactory factory_;
};

}  // namespace llmetrics::detail

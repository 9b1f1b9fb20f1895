#pragma once
// The label sets of monitored_router's calls and the series handles resolved for
// them. A call's label values are matched against a small per-thread cache of
// recently used sets (no hashing, no lock, no allocation once a combination has
// been seen); a miss takes a mutex and finds or creates the set by a key of its
// values. At most max_label_sets sets are kept per cache; past that a call gets
// a set of its own, whose handles are resolved again each time.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../../core/detail/bytes.hpp"
#include "../llm_router.hpp"

namespace llmetrics::detail {

// One label combination of a call and the handles (any default-constructible
// type) resolved for it.
template <class Handles>
struct label_set {
    std::string model, tenant_id, strategy, provider, operation;
    Handles handles{};

    explicit label_set(const request_labels& l)
        : model(l.model), tenant_id(l.tenant_id), strategy(l.strategy), provider(l.provider), operation(l.operation) {}

    bool matches(const request_labels& l) const noexcept {
        return same_bytes(l.model, model) && same_bytes(l.tenant_id, tenant_id) && same_bytes(l.strategy, strategy) &&
               same_bytes(l.provider, provider) && same_bytes(l.operation, operation);
    }
};

// A cached label set, or one owned by the call when the cache is full.
template <class Handles>
struct label_set_ref {
    label_set<Handles>* ptr = nullptr;
    std::unique_ptr<label_set<Handles>> owned;
    label_set<Handles>& operator*() const noexcept { return *ptr; }
};

inline std::atomic<std::uint64_t> next_label_cache_id{1};

// `Owner` only separates the per-thread slots of unrelated users.
template <class Handles, class Owner>
class label_cache {
public:
    static constexpr std::size_t max_label_sets = 1024;
    using ref = label_set_ref<Handles>;

    ref acquire(const request_labels& l) {
        static thread_local slot slots[ways];
        const std::uint64_t id = id_;
        for (const slot& s : slots)
            if (s.owner == id && s.set->matches(l)) [[likely]]
                return {s.set, nullptr};
        return acquire_slow(l, slots);
    }

    // Forgets every set (and the per-thread slots pointing at them). The sets
    // are kept until the cache is destroyed: calls in flight may hold them.
    void clear() {
        std::lock_guard lock(mutex_);
        retired_.push_back(std::move(sets_));
        sets_.clear();
        id_ = next_label_cache_id.fetch_add(1, std::memory_order_relaxed);
    }

private:
    // Per-thread slots of (cache id, set); ids are never reused, so a slot of a
    // destroyed cache never matches again.
    static constexpr std::size_t ways = 8;
    struct slot {
        std::uint64_t owner;
        label_set<Handles>* set;
    };
    using set_map = std::unordered_map<std::string, std::unique_ptr<label_set<Handles>>>;

    [[gnu::noinline]] ref acquire_slow(const request_labels& l, slot (&slots)[ways]) {
        static thread_local unsigned next_slot = 0;
        std::string key;
        for (std::string_view v : {l.model, l.tenant_id, l.strategy, l.provider, l.operation}) {
            key.append(std::to_string(v.size()));
            key.push_back(':');
            key.append(v);
        }
        std::lock_guard lock(mutex_);
        auto it = sets_.find(key);
        if (it == sets_.end()) {
            if (sets_.size() >= max_label_sets) {
                auto owned = std::make_unique<label_set<Handles>>(l);
                label_set<Handles>* p = owned.get();
                return {p, std::move(owned)};
            }
            it = sets_.emplace(std::move(key), std::make_unique<label_set<Handles>>(l)).first;
        }
        label_set<Handles>* set = it->second.get();
        slots[next_slot++ % ways] = {id_, set};
        return {set, nullptr};
    }

    std::uint64_t id_ = next_label_cache_id.fetch_add(1, std::memory_order_relaxed);
    std::mutex mutex_;
    set_map sets_;
    std::vector<set_map> retired_;
};

}  // namespace llmetrics::detail

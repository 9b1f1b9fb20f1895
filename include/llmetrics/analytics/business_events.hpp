#pragma once
// Business events (api calls, revenue, sign-ups ...) kept per type, each type's
// history bounded like the tutorial's (latest 500 once past 1,000). The number of
// types is bounded too: once `max_types` distinct types exist, events of any new
// type are recorded under the single type "__overflow__" and counted, so label
// cardinality stays bounded whatever strings callers pass.
//
// Locking: one mutex guards the type map (a lookup, or an insert for a new type),
// then the type's own mutex guards its append. Readers copy what they need under
// the same short locks, so a report never blocks recorders for longer than it
// takes to summarise one type's history.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/clock.hpp"
#include "../core/detail/utf8.hpp"
#include "detail/bounded_history.hpp"
#include "history_limits.hpp"

namespace llmetrics {

struct business_event {
    wall_time timestamp;
    double value = 0;
    nlohmann::json metadata;
};

// Events of one type within a report window.
struct business_summary {
    std::uint64_t count = 0;
    double total_value = 0;
    double avg_value = 0;  // 0 when count is 0
};

// Everything ever recorded for one type (not affected by history trimming).
struct business_totals {
    std::string type;
    std::uint64_t count = 0;
    double value_sum = 0;
};

class business_event_tracker {
public:
    static constexpr std::string_view overflow_type = "__overflow__";

    explicit business_event_tracker(history_limits limits = {}, std::size_t max_types = 100)
        : limits_(limits), max_types_(max_types) {
        limits_.validate();
        if (max_types_ == 0)
            throw std::invalid_argument("llmetrics: max_event_types must be at least 1");
    }

    // A NaN value counts as 0, as the tutorial's `value || 0` does.
    void record(std::string_view type, double value, nlohmann::json metadata, wall_time now) {
        if (std::isnan(value)) value = 0;
        state& s = find_or_add(type);
        std::lock_guard lock{s.mutex};
        s.history.push_back(business_event{now, value, std::move(metadata)});
        ++s.count;
        s.value_sum += value;
    }

    // Every known type, with the events whose timestamp lies in [start, end].
    std::map<std::string, business_summary> summarize(wall_time start, wall_time end) const {
        std::map<std::string, business_summary> out;
        for (const auto& [type, s] : states()) {
            business_summary sum;
            {
                std::lock_guard lock{s->mutex};
                for (const business_event& e : s->history) {
                    if (e.timestamp < start || e.timestamp > end) continue;
                    ++sum.count;
                    sum.total_value += e.value;
                }
            }
            if (sum.count > 0) sum.avg_value = sum.total_value / static_cast<double>(sum.count);
            out.emplace(type, sum);
        }
        return out;
    }

    std::vector<business_totals> totals() const {
        std::vector<business_totals> out;
        for (const auto& [type, s] : states()) {
            std::lock_guard lock{s->mutex};
            out.push_back({type, s->count, s->value_sum});
        }
        return out;
    }

    // The retained history of one type (a copy), oldest first.
    std::vector<business_event> events(std::string_view type) const {
        const state* s = nullptr;
        {
            std::lock_guard lock{mutex_};
            auto it = types_.find(type);
            if (it == types_.end()) return {};
            s = it->second.get();
        }
        std::lock_guard lock{s->mutex};
        return {s->history.begin(), s->history.end()};
    }

    // Events recorded under "__overflow__" because the type limit was reached.
    std::uint64_t overflowed() const {
        std::lock_guard lock{mutex_};
        return overflowed_;
    }
    std::size_t type_count() const {
        std::lock_guard lock{mutex_};
        return types_.size();
    }

private:
    struct state {
        explicit state(history_limits l) : history(l) {}
        mutable std::mutex mutex;
        detail::bounded_history<business_event> history;
        std::uint64_t count = 0;
        double value_sum = 0;
    };

    state& find_or_add(std::string_view type) {
        std::string fixed;
        if (!detail::is_valid_utf8(type)) type = fixed = detail::sanitize_utf8(type);
        std::lock_guard lock{mutex_};
        if (auto it = types_.find(type); it != types_.end()) return *it->second;
        // "__overflow__" does not count towards the limit, so it is always available.
        const std::size_t regular = types_.size() - types_.count(overflow_type);
        if (type != overflow_type && regular >= max_types_) {
            ++overflowed_;
            type = overflow_type;
            if (auto it = types_.find(type); it != types_.end()) return *it->second;
        }
        return *types_.emplace(std::string{type}, std::make_unique<state>(limits_)).first->second;
    }

    // Types never go away, so the raw pointers stay valid for the tracker's life.
    std::vector<std::pair<std::string, const state*>> states() const {
        std::lock_guard lock{mutex_};
        std::vector<std::pair<std::string, const state*>> out;
        out.reserve(types_.size());
        for (const auto& [type, s] : types_) out.emplace_back(type, s.get());
        return out;
    }

    history_limits limits_;
    std::size_t max_types_;
    mutable std::mutex mutex_;  // guards types_ and overflowed_
    std::map<std::string, std::unique_ptr<state>, std::less<>> types_;
    std::uint64_t overflowed_ = 0;
};

}  // namespace llmetrics

#pragma once
// Per-user interactions and the tutorial's satisfaction score.
//
// Each interaction is scored when it is recorded, from the user's state after
// appending it:
//   base 50
//   +20 if the user's average duration (all interactions so far) < 2,000 ms,
//   -20 if it is > 10,000 ms
//   +15 if the population variance of the last 10 durations is < 1,000 (ms^2)
//   -10 for each error among the last 10 interactions
//   clamped to 0..100
//
// An interaction is an error when its metadata has an "error" member that is
// truthy in the JavaScript sense the tutorial relies on: true, a non-zero
// number, a non-empty string, or any object or array. false, 0, "" and null are
// not errors; neither is the action's text.
//
// The number of tracked users is bounded: when a new user arrives and
// `max_users` are tracked, the least recently seen user is evicted (its data is
// gone from reports) and counted. Each user's own history is bounded like the
// business events (latest 500 once past 1,000); counts and total duration are
// kept apart from it, so averages are over every interaction. An interaction's
// metadata is read for the error flag and not stored, which keeps the memory of
// max_users full histories small.
//
// Locking: the user map's mutex is held for a lookup/insert (and an eviction),
// then the user's own mutex for the append and the O(10) score update.

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/clock.hpp"
#include "../core/detail/sample_stats.hpp"
#include "detail/bounded_history.hpp"
#include "detail/error_flag.hpp"
#include "detail/lru_map.hpp"
#include "history_limits.hpp"

namespace llmetrics {

inline constexpr std::size_t satisfaction_window = 10;

inline double satisfaction_score(double avg_duration_ms, std::span<const double> recent_durations_ms,
                                 std::size_t recent_errors) noexcept {
    double score = 50;
    if (avg_duration_ms < 2000) score += 20;
    else if (avg_duration_ms > 10000) score -= 20;
    if (detail::population_variance(recent_durations_ms) < 1000) score += 15;
    score -= 10.0 * static_cast<double>(recent_errors);
    return std::clamp(score, 0.0, 100.0);
}

struct user_interaction {
    wall_time timestamp;
    std::string action;
    double duration_ms = 0;
    bool error = false;
    double satisfaction = 0;  // metadata is read for the error flag, not stored
};

struct user_stats {
    std::uint64_t interactions = 0;  // all recorded for this user
    wall_time session_start;         // first interaction
    wall_time last_seen;
    double total_duration_ms = 0;
    double last_satisfaction = 0;
    double recent_satisfaction = 0;  // average score of the last 10 interactions
};

// Users with at least one interaction in a report window.
struct user_window_summary {
    std::size_t active_users = 0;
    std::uint64_t total_interactions = 0;
    double avg_interactions_per_user = 0;
    double avg_satisfaction_score = 0;  // mean over active users of their mean score in the window
};

class user_tracker {
public:
    explicit user_tracker(history_limits limits = {}, std::size_t max_users = 1000)
        : limits_(limits), users_(max_users) {
        limits_.validate();
    }

    // Records one interaction and returns its satisfaction score.
    double record(std::string_view user, std::string action, double duration_ms,
                  const nlohmann::json& metadata, wall_time now) {
        if (std::isnan(duration_ms)) duration_ms = 0;
        std::shared_ptr<state> s;
        {
            std::lock_guard lock{mutex_};
            s = users_.touch(user, [&] { return std::make_shared<state>(limits_, now); });
        }
        total_interactions_.fetch_add(1, std::memory_order_relaxed);
        const bool error = detail::is_error_flag(metadata);

        std::lock_guard lock{s->mutex};
        s->history.push_back(user_interaction{now, std::move(action), duration_ms, error, 0});
        ++s->count;
        s->total_duration_ms += duration_ms;
        s->last_seen = now;

        double recent[satisfaction_window];
        std::size_t n = 0, errors = 0;
        for (std::size_t i = s->history.tail_start(satisfaction_window); i < s->history.size(); ++i) {
            recent[n++] = s->history[i].duration_ms;
            errors += s->history[i].error ? 1 : 0;
        }
        const double score = satisfaction_score(s->total_duration_ms / static_cast<double>(s->count),
                                                std::span<const double>{recent, n}, errors);
        s->history.back().satisfaction = score;  // scored after the append, as the tutorial does
        return score;
    }

    user_window_summary summarize(wall_time start, wall_time end) const {
        user_window_summary out;
        double satisfaction_sum = 0;
        for (const auto& [id, s] : snapshot()) {
            std::uint64_t n = 0;
            double sum = 0;
            {
                std::lock_guard lock{s->mutex};
                for (const user_interaction& i : s->history) {
                    if (i.timestamp < start || i.timestamp > end) continue;
                    ++n;
                    sum += i.satisfaction;
                }
            }
            if (n == 0) continue;
            ++out.active_users;
            out.total_interactions += n;
            satisfaction_sum += sum / static_cast<double>(n);
        }
        if (out.active_users > 0) {
            const auto users = static_cast<double>(out.active_users);
            out.avg_interactions_per_user = static_cast<double>(out.total_interactions) / users;
            out.avg_satisfaction_score = satisfaction_sum / users;
        }
        return out;
    }

    // Mean over tracked users of each one's average score over its last 10
    // interactions (the report's summary.avgUserSatisfaction); 0 with no users.
    double average_recent_satisfaction() const {
        double sum = 0;
        std::size_t n = 0;
        for (const auto& [id, s] : snapshot()) {
            std::lock_guard lock{s->mutex};
            if (s->count == 0) continue;
            sum += recent_average(*s);
            ++n;
        }
        return n == 0 ? 0 : sum / static_cast<double>(n);
    }

    std::optional<user_stats> find(std::string_view user) const {
        std::shared_ptr<state> s;
        {
            std::lock_guard lock{mutex_};
            s = users_.find(user);
        }
        if (!s) return std::nullopt;
        std::lock_guard lock{s->mutex};
        return user_stats{s->count, s->session_start, s->last_seen, s->total_duration_ms,
                          s->history.empty() ? 0 : s->history.back().satisfaction, recent_average(*s)};
    }

    // The retained interactions of one user (a copy), oldest first.
    std::vector<user_interaction> interactions(std::string_view user) const {
        std::shared_ptr<state> s;
        {
            std::lock_guard lock{mutex_};
            s = users_.find(user);
        }
        if (!s) return {};
        std::lock_guard lock{s->mutex};
        return {s->history.begin(), s->history.end()};
    }

    std::size_t size() const {
        std::lock_guard lock{mutex_};
        return users_.size();
    }
    std::uint64_t evicted() const {
        std::lock_guard lock{mutex_};
        return users_.evicted();
    }
    // Interactions ever recorded, evicted users included.
    std::uint64_t total_interactions() const noexcept {
        return total_interactions_.load(std::memory_order_relaxed);
    }

private:
    struct state {
        state(history_limits l, wall_time now) : history(l), session_start(now), last_seen(now) {}
        mutable std::mutex mutex;
        detail::bounded_history<user_interaction> history;
        std::uint64_t count = 0;
        wall_time session_start;
        wall_time last_seen;
        double total_duration_ms = 0;
    };

    static double recent_average(const state& s) {
        if (s.history.empty()) return 0;
        double sum = 0;
        const std::size_t first = s.history.tail_start(satisfaction_window);
        for (std::size_t i = first; i < s.history.size(); ++i) sum += s.history[i].satisfaction;
        return sum / static_cast<double>(s.history.size() - first);
    }

    std::vector<std::pair<std::string, std::shared_ptr<state>>> snapshot() const {
        std::lock_guard lock{mutex_};
        return users_.entries();
    }

    history_limits limits_;
    mutable std::mutex mutex_;  // guards users_
    detail::lru_map<state> users_;
    std::atomic<std::uint64_t> total_interactions_{0};
};

}  // namespace llmetrics

#pragma once
// Per-model performance: total requests, and rolling averages of latency and
// accuracy (and the error rate) over the last 100 requests, as the tutorial
// keeps them. The rolling figures are computed when read (scrape, find), from
// the tail of the model's bounded history, so recording is only an append.
//
// The number of tracked models is bounded like the users (least recently seen
// evicted and counted), which also bounds the `model` label of the exported
// families. Locking as in user_tracker: map mutex for the lookup, the model's
// mutex for the append.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/clock.hpp"
#include "../core/detail/utf8.hpp"
#include "detail/bounded_history.hpp"
#include "detail/lru_map.hpp"
#include "history_limits.hpp"

namespace llmetrics {

struct model_performance {
    double latency_ms = 0;
    double accuracy = 0;  // in whatever unit the caller uses (the tutorial: percent)
    bool error = false;
};

struct model_sample {
    wall_time timestamp;
    model_performance performance;
};

// Rolling figures over the last `window` requests of one model.
struct model_stats {
    std::uint64_t total_requests = 0;  // every request recorded for this model
    std::size_t window = 0;            // requests the averages cover (<= rolling window)
    double avg_latency_ms = 0;
    double avg_accuracy = 0;
    double error_rate = 0;  // errors / window
};

// Requests of one model within a report window.
struct model_window_summary {
    std::uint64_t requests = 0;
    double avg_latency_ms = 0;
    double avg_accuracy = 0;
    double error_rate = 0;
};

class model_tracker {
public:
    explicit model_tracker(history_limits limits = {}, std::size_t max_models = 100,
                           std::size_t rolling_window = 100)
        : limits_(limits), rolling_window_(rolling_window), models_(max_models) {
        limits_.validate();
        if (rolling_window_ == 0 || rolling_window_ > limits_.keep)
            throw std::invalid_argument(
                "llmetrics: the model rolling window must be between 1 and the history's keep size");
    }

    // NaN latency or accuracy counts as 0, as the tutorial's `x || 0` does.
    void record(std::string_view model, model_performance p, wall_time now) {
        if (std::isnan(p.latency_ms)) p.latency_ms = 0;
        if (std::isnan(p.accuracy)) p.accuracy = 0;
        std::string fixed;
        if (!detail::is_valid_utf8(model)) model = fixed = detail::sanitize_utf8(model);
        std::shared_ptr<state> s;
        {
            std::lock_guard lock{mutex_};
            s = models_.touch(model, [&] { return std::make_shared<state>(limits_); });
        }
        std::lock_guard lock{s->mutex};
        s->history.push_back(model_sample{now, p});
        ++s->total_requests;
    }

    // Models with at least one request in [start, end].
    std::map<std::string, model_window_summary> summarize(wall_time start, wall_time end) const {
        std::map<std::string, model_window_summary> out;
        for (const auto& [id, s] : snapshot()) {
            model_window_summary m;
            std::uint64_t errors = 0;
            {
                std::lock_guard lock{s->mutex};
                for (const model_sample& x : s->history) {
                    if (x.timestamp < start || x.timestamp > end) continue;
                    ++m.requests;
                    m.avg_latency_ms += x.performance.latency_ms;
                    m.avg_accuracy += x.performance.accuracy;
                    errors += x.performance.error ? 1 : 0;
                }
            }
            if (m.requests == 0) continue;
            const auto n = static_cast<double>(m.requests);
            m.avg_latency_ms /= n;
            m.avg_accuracy /= n;
            m.error_rate = static_cast<double>(errors) / n;
            out.emplace(id, m);
        }
        return out;
    }

    std::optional<model_stats> find(std::string_view model) const {
        std::shared_ptr<state> s;
        {
            std::lock_guard lock{mutex_};
            s = models_.find(model);
        }
        if (!s) return std::nullopt;
        return rolling(*s);
    }

    // Rolling figures of every tracked model, by model id.
    std::map<std::string, model_stats> all_stats() const {
        std::map<std::string, model_stats> out;
        for (const auto& [id, s] : snapshot()) out.emplace(id, rolling(*s));
        return out;
    }

    std::size_t size() const {
        std::lock_guard lock{mutex_};
        return models_.size();
    }
    std::uint64_t evicted() const {
        std::lock_guard lock{mutex_};
        return models_.evicted();
    }
    std::size_t rolling_window() const noexcept { return rolling_window_; }

private:
    struct state {
        explicit state(history_limits l) : history(l) {}
        mutable std::mutex mutex;
        detail::bounded_history<model_sample> history;
        std::uint64_t total_requests = 0;
    };

    model_stats rolling(const state& s) const {
        std::lock_guard lock{s.mutex};
        model_stats out;
        out.total_requests = s.total_requests;
        const std::size_t first = s.history.tail_start(rolling_window_);
        std::uint64_t errors = 0;
        for (std::size_t i = first; i < s.history.size(); ++i) {
            const model_performance& p = s.history[i].performance;
            out.avg_latency_ms += p.latency_ms;
            out.avg_accuracy += p.accuracy;
            errors += p.error ? 1 : 0;
        }
        out.window = s.history.size() - first;
        if (out.window > 0) {
            const auto n = static_cast<double>(out.window);
            out.avg_latency_ms /= n;
            out.avg_accuracy /= n;
            out.error_rate = static_cast<double>(errors) / n;
        }
        return out;
    }

    std::vector<std::pair<std::string, std::shared_ptr<state>>> snapshot() const {
        std::lock_guard lock{mutex_};
        return models_.entries();
    }

    history_limits limits_;
    std::size_t rolling_window_;
    mutable std::mutex mutex_;  // guards models_
    detail::lru_map<state> models_;
};

}  // namespace llmetrics

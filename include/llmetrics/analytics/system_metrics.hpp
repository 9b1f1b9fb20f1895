#pragma once
// Named system metrics (memory, CPU, scheduling lag, uptime, or your own), each a
// bounded history of samples with numeric fields, as the tutorial's
// `recordSystemMetric(name, data)` keeps them. Each metric names the field its
// trend is computed on (the tutorial used "the second field of the object").
//
// Bounds: each history keeps the latest 500 once past 1,000 samples; at most
// `max_metrics` names (further names go to "__overflow__", counted); at most
// `max_fields` fields per sample (further fields dropped, counted), which bounds
// the `metric` and `field` labels of the exported gauge.

#include <cstddef>
#include <cstdint>
#include <functional>
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
#include "detail/compute_trend.hpp"
#include "history_limits.hpp"
#include "trend.hpp"

namespace llmetrics {

// The metrics and fields the system sampler records (see system_sampler.hpp).
namespace system_metric {
inline constexpr std::string_view memory_usage = "memory_usage";      // bytes
inline constexpr std::string_view cpu_usage = "cpu_usage";            // microseconds; percent
inline constexpr std::string_view scheduling_lag = "scheduling_lag";  // milliseconds
inline constexpr std::string_view uptime = "uptime";                  // milliseconds
}  // namespace system_metric

namespace system_field {
inline constexpr std::string_view rss = "rss";                    // memory_usage: resident set size
inline constexpr std::string_view heap_used = "heapUsed";         // memory_usage: malloc, in use
inline constexpr std::string_view heap_total = "heapTotal";       // memory_usage: malloc, held from the OS
inline constexpr std::string_view memory_limit = "memoryLimit";   // memory_usage: RAM, or a lower cgroup limit
inline constexpr std::string_view user = "user";                  // cpu_usage: user time, cumulative
inline constexpr std::string_view system = "system";              // cpu_usage: system time, cumulative
inline constexpr std::string_view percent = "percent";            // cpu_usage: of one core, since the last sample
inline constexpr std::string_view lag = "lag";                    // scheduling_lag: how late the timer fired
inline constexpr std::string_view uptime = "uptime";              // uptime: since the collector started
inline constexpr std::string_view process_uptime = "processUptime";  // uptime: since the process started
}  // namespace system_field

using system_fields = std::vector<std::pair<std::string, double>>;

struct system_sample {
    wall_time timestamp;
    system_fields fields;

    std::optional<double> field(std::string_view name) const {
        for (const auto& [n, v] : fields)
            if (n == name) return v;
        return std::nullopt;
    }
};

// One metric's samples within a report window.
struct system_metric_summary {
    std::uint64_t count = 0;
    system_sample latest;
    std::string trend_field;
    llmetrics::trend trend = llmetrics::trend::stable;
};

class system_metric_store {
public:
    static constexpr std::string_view overflow_metric = "__overflow__";

    explicit system_metric_store(history_limits limits = {}, std::size_t max_metrics = 32,
                                 std::size_t max_fields = 16)
        : limits_(limits), max_metrics_(max_metrics), max_fields_(max_fields) {
        limits_.validate();
        if (max_metrics_ == 0 || max_fields_ == 0)
            throw std::invalid_argument("llmetrics: max_system_metrics and max_fields must be at least 1");
    }

    // Records a sample; `trend_field` names the field the metric's trend uses
    // (samples without it are left out of the trend).
    void record(std::string_view metric, system_fields fields, wall_time now,
                std::string_view trend_field = "value") {
        std::uint64_t dropped = 0;
        if (fields.size() > max_fields_) {
            dropped = fields.size() - max_fields_;
            fields.resize(max_fields_);
        }
        for (auto& [name, value] : fields)
            if (!detail::is_valid_utf8(name)) name = detail::sanitize_utf8(name);
        state& s = find_or_add(metric, dropped);
        std::lock_guard lock{s.mutex};
        if (s.trend_field != trend_field) s.trend_field = trend_field;
        s.history.push_back(system_sample{now, std::move(fields)});
        ++s.count;
    }

    // Metrics with at least one sample in [start, end]: count, latest sample,
    // and the trend of the trend field over those samples, in time order.
    std::map<std::string, system_metric_summary> summarize(wall_time start, wall_time end) const {
        std::map<std::string, system_metric_summary> out;
        std::vector<double> values;
        for (const auto& [name, s] : states()) {
            system_metric_summary m;
            values.clear();
            {
                std::lock_guard lock{s->mutex};
                m.trend_field = s->trend_field;
                for (const system_sample& x : s->history) {
                    if (x.timestamp < start || x.timestamp > end) continue;
                    ++m.count;
                    m.latest = x;
                    if (auto v = x.field(m.trend_field)) values.push_back(*v);
                }
            }
            if (m.count == 0) continue;
            m.trend = detail::compute_trend(values);
            out.emplace(name, std::move(m));
        }
        return out;
    }

    // The most recent sample of a metric, whatever its age.
    std::optional<system_sample> latest(std::string_view metric) const {
        const state* s = find(metric);
        if (!s) return std::nullopt;
        std::lock_guard lock{s->mutex};
        if (s->history.empty()) return std::nullopt;
        return s->history.back();
    }

    // (metric, samples ever recorded, latest sample) for every metric.
    struct totals {
        std::string metric;
        std::uint64_t count = 0;
        system_sample latest;
    };
    std::vector<totals> all_totals() const {
        std::vector<totals> out;
        for (const auto& [name, s] : states()) {
            std::lock_guard lock{s->mutex};
            if (s->history.empty()) continue;
            out.push_back({name, s->count, s->history.back()});
        }
        return out;
    }

    // Samples recorded under "__overflow__" because the metric limit was reached.
    std::uint64_t overflowed() const {
        std::lock_guard lock{mutex_};
        return overflowed_;
    }
    // Fields dropped because a sample had more than max_fields.
    std::uint64_t dropped_fields() const {
        std::lock_guard lock{mutex_};
        return dropped_fields_;
    }

private:
    struct state {
        explicit state(history_limits l) : history(l) {}
        mutable std::mutex mutex;
        detail::bounded_history<system_sample> history;
        std::uint64_t count = 0;
        std::string trend_field;
    };

    state& find_or_add(std::string_view metric, std::uint64_t dropped_fields) {
        std::string fixed;
        if (!detail::is_valid_utf8(metric)) metric = fixed = detail::sanitize_utf8(metric);
        std::lock_guard lock{mutex_};
        dropped_fields_ += dropped_fields;
        if (auto it = metrics_.find(metric); it != metrics_.end()) return *it->second;
        const std::size_t regular = metrics_.size() - metrics_.count(overflow_metric);
        if (metric != overflow_metric && regular >= max_metrics_) {
            ++overflowed_;
            metric = overflow_metric;
            if (auto it = metrics_.find(metric); it != metrics_.end()) return *it->second;
        }
        return *metrics_.emplace(std::string{metric}, std::make_unique<state>(limits_)).first->second;
    }

    const state* find(std::string_view metric) const {
        std::lock_guard lock{mutex_};
        auto it = metrics_.find(metric);
        return it == metrics_.end() ? nullptr : it->second.get();
    }

    // Metrics never go away, so the raw pointers stay valid for the store's life.
    std::vector<std::pair<std::string, const state*>> states() const {
        std::lock_guard lock{mutex_};
        std::vector<std::pair<std::string, const state*>> out;
        out.reserve(metrics_.size());
        for (const auto& [name, s] : metrics_) out.emplace_back(name, s.get());
        return out;
    }

    history_limits limits_;
    std::size_t max_metrics_;
    std::size_t max_fields_;
    mutable std::mutex mutex_;  // guards metrics_, overflowed_, dropped_fields_
    std::map<std::string, std::unique_ptr<state>, std::less<>> metrics_;
    std::uint64_t overflowed_ = 0;
    std::uint64_t dropped_fields_ = 0;
};

}  // namespace llmetrics

#pragma once
// llmetrics::analytics_collector: the tutorial's CustomMetricsCollector as a
// runtime collector. It records business events, user interactions (with the
// satisfaction score), model performance and periodic system samples in bounded
// memory, produces the tutorial's JSON report, and exports what it tracks as
// Prometheus families when registered on a registry:
//
//   <prefix>business_events_total{type}         counter  events recorded, by type
//   <prefix>business_event_value{type}          gauge    sum of their values (a gauge: values may be negative)
//   <prefix>user_interactions_total             counter  interactions recorded
//   <prefix>users_tracked                       gauge    users currently tracked
//   <prefix>user_satisfaction                   gauge    mean over tracked users of their last-10 score (0-100)
//   <prefix>model_requests_total{model}         counter  requests recorded, by model
//   <prefix>model_latency_seconds{model}        gauge    rolling mean latency (last 100 requests)
//   <prefix>model_accuracy{model}               gauge    rolling mean accuracy (last 100)
//   <prefix>model_error_ratio{model}            gauge    rolling error rate (last 100), 0-1
//   <prefix>system_sample{metric,field}         gauge    latest value of each system sample field
//   <prefix>system_health                       gauge    health score (0-100, see health_score.hpp)
//   <prefix>evicted_total{kind="user"|"model"}  counter  least recently seen users/models evicted
//   <prefix>overflow_total{kind}                counter  events (kind="event_type") and samples
//                                                        (kind="system_metric") recorded under
//                                                        "__overflow__", fields dropped (kind="system_field")
//
// Every label is bounded: types by max_event_types (+ "__overflow__"), models by
// max_models, metrics and fields by max_system_metrics and max_fields. Users are
// never a label. The default prefix is "llmetrics_analytics_".
//
// Thread safety: every member function may be called from any thread at any
// time. Recording takes two short mutexes (the key map's, then the key's own)
// for a lookup and an append; a report or a scrape copies what it needs under
// the same locks, one key at a time, so it never stalls recorders for longer
// than summarising one key's bounded history.

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/clock.hpp"
#include "../registry/collector.hpp"
#include "../core/snapshot.hpp"
#include "business_events.hpp"
#include "health_score.hpp"
#include "history_limits.hpp"
#include "model_tracker.hpp"
#include "report.hpp"
#include "system_metrics.hpp"
#include "system_sampler.hpp"
#include "user_tracker.hpp"

namespace llmetrics {

struct analytics_options {
    // Every timestamp and report window, from its wall readings (system clock by
    // default); time_source::of(c) refers to c, which must outlive the collector.
    time_source clock{};
    history_limits history{};            // per event type, model and system metric: 1000 -> 500
    history_limits user_history{};       // per user: 1000 -> 500
    std::size_t max_event_types = 100;
    std::size_t max_users = 1000;
    std::size_t max_models = 100;
    std::size_t max_system_metrics = 32;
    std::size_t max_system_fields = 16;
    std::size_t model_rolling_window = 100;
    std::chrono::milliseconds sampler_period = system_sampler::default_period;
    bool start_sampler = true;  // false: no thread; call sampler().sample_now() yourself
    std::string metric_prefix = "llmetrics_analytics_";
};

class analytics_collector : public collector {
public:
    explicit analytics_collector(analytics_options options = {})
        : options_(check(std::move(options))),
          business_(options_.history, options_.max_event_types),
          users_(options_.user_history, options_.max_users),
          models_(options_.history, options_.max_models, options_.model_rolling_window),
          system_(options_.history, options_.max_system_metrics, options_.max_system_fields),
          sampler_(system_, options_.clock, options_.sampler_period, options_.start_sampler) {}

    analytics_collector(const analytics_collector&) = delete;
    analytics_collector& operator=(const analytics_collector&) = delete;

    void record_business_event(std::string_view type, double value,
                               nlohmann::json metadata = nlohmann::json::object()) {
        business_.record(type, value, std::move(metadata), now());
    }

    // Returns the interaction's satisfaction score. The interaction is an error
    // when metadata["error"] is truthy (true, non-zero, non-empty; see user_tracker.hpp).
    double record_user_interaction(std::string_view user, std::string action, double duration_ms,
                                   const nlohmann::json& metadata = nlohmann::json::object()) {
        return users_.record(user, std::move(action), duration_ms, metadata, now());
    }

    void record_model_performance(std::string_view model, model_performance performance) {
        models_.record(model, performance, now());
    }

    // A system metric of your own, next to the sampler's (the tutorial's recordSystemMetric).
    void record_system_metric(std::string_view metric, system_fields fields,
                              std::string_view trend_field = "value") {
        system_.record(metric, std::move(fields), now(), trend_field);
    }

    nlohmann::json generate_report(std::chrono::milliseconds range = std::chrono::hours{1}) const {
        return llmetrics::generate_report({business_, users_, models_, system_}, now(), range);
    }

    int system_health() const { return system_health_score(system_); }

    wall_time now() const { return options_.clock.wall_now(); }

    const business_event_tracker& business() const noexcept { return business_; }
    const user_tracker& users() const noexcept { return users_; }
    const model_tracker& models() const noexcept { return models_; }
    const system_metric_store& system() const noexcept { return system_; }
    system_sampler& sampler() noexcept { return sampler_; }
    const analytics_options& options() const noexcept { return options_; }

    void collect(std::vector<family_snapshot>& out) override {
        const std::string& p = options_.metric_prefix;
        const auto family = [&](std::string_view name, std::string help, metric_type type,
                                std::string unit = {}) -> family_snapshot& {
            out.push_back(family_snapshot{p + std::string{name}, std::move(help), std::move(unit), type, {}});
            return out.back();
        };
        const auto add_gauge = [](family_snapshot& f, std::vector<std::pair<std::string, std::string>> labels,
                                  double value) { f.series.push_back({std::move(labels), value, nan()}); };
        const auto add_counter = [](family_snapshot& f, std::vector<std::pair<std::string, std::string>> labels,
                                    std::uint64_t value) {
            f.series.push_back({std::move(labels), counter_value{value, 0.0}, nan()});
        };

        {
            const auto totals = business_.totals();
            auto& count = family("business_events_total", "Business events recorded, by type", metric_type::counter);
            for (const auto& t : totals) add_counter(count, {{"type", t.type}}, t.count);
            auto& value = family("business_event_value", "Sum of the values of the business events recorded, by type",
                                 metric_type::gauge);
            for (const auto& t : totals) add_gauge(value, {{"type", t.type}}, t.value_sum);
        }
        {
            add_counter(family("user_interactions_total", "User interactions recorded", metric_type::counter), {},
                        users_.total_interactions());
            const std::size_t tracked = users_.size();
            add_gauge(family("users_tracked", "Users currently tracked", metric_type::gauge), {},
                      static_cast<double>(tracked));
            auto& satisfaction = family(
                "user_satisfaction", "Mean over tracked users of their average satisfaction score (0-100) "
                                     "over their last 10 interactions",
                metric_type::gauge);
            if (tracked > 0) add_gauge(satisfaction, {}, users_.average_recent_satisfaction());
        }
        {
            const auto stats = models_.all_stats();
            auto& requests = family("model_requests_total", "Model requests recorded, by model", metric_type::counter);
            for (const auto& [id, s] : stats) add_counter(requests, {{"model", id}}, s.total_requests);
            auto& latency = family("model_latency_seconds", "Mean model latency over the last requests (rolling)",
                                   metric_type::gauge, "seconds");
            for (const auto& [id, s] : stats) add_gauge(latency, {{"model", id}}, s.avg_latency_ms / 1000.0);
            auto& accuracy =
                family("model_accuracy", "Mean model accuracy over the last requests (rolling)", metric_type::gauge);
            for (const auto& [id, s] : stats) add_gauge(accuracy, {{"model", id}}, s.avg_accuracy);
            auto& errors = family("model_error_ratio", "Share of the last requests that failed (rolling), 0-1",
                                  metric_type::gauge);
            for (const auto& [id, s] : stats) add_gauge(errors, {{"model", id}}, s.error_rate);
        }
        {
            auto& samples = family("system_sample", "Latest value of each field of each system metric sample",
                                   metric_type::gauge);
            for (const auto& t : system_.all_totals())
                for (const auto& [field, value] : t.latest.fields)
                    add_gauge(samples, {{"metric", t.metric}, {"field", field}}, value);
            add_gauge(family("system_health", "System health score (0-100)", metric_type::gauge), {},
                      static_cast<double>(system_health_score(system_)));
        }
        {
            auto& evicted = family("evicted_total", "Least recently seen users and models evicted from tracking",
                                   metric_type::counter);
            add_counter(evicted, {{"kind", "model"}}, models_.evicted());
            add_counter(evicted, {{"kind", "user"}}, users_.evicted());
            auto& overflow = family("overflow_total",
                                    "Events and samples recorded under __overflow__ and fields dropped because a "
                                    "cardinality limit was reached",
                                    metric_type::counter);
            add_counter(overflow, {{"kind", "event_type"}}, business_.overflowed());
            add_counter(overflow, {{"kind", "system_field"}}, system_.dropped_fields());
            add_counter(overflow, {{"kind", "system_metric"}}, system_.overflowed());
        }
    }

private:
    static double nan() noexcept { return std::numeric_limits<double>::quiet_NaN(); }

    static analytics_options check(analytics_options o) {
        const std::string& p = o.metric_prefix;
        for (std::size_t i = 0; i < p.size(); ++i) {
            const char c = p[i];
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                            (i > 0 && c >= '0' && c <= '9');
            if (!ok)
                throw std::invalid_argument(
                    "llmetrics: analytics_options::metric_prefix must match [a-zA-Z_:][a-zA-Z0-9_:]*");
        }
        return o;
    }

    analytics_options options_;
    business_event_tracker business_;
    user_tracker users_;
    model_tracker models_;
    system_metric_store system_;
    system_sampler sampler_;  // last: its thread stops before the store goes away
};

}  // namespace llmetrics

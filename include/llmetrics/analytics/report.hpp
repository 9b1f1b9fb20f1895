#pragma once
// The tutorial's JSON report over a time window ending now:
//
//   generatedAt   RFC 3339 (ISO-8601) UTC instant, millisecond precision, as
//                 JavaScript's toISOString writes it ("...T12:00:00.000Z")
//   timeRange     {start, end (RFC 3339), durationMs}
//   summary       {totalUsers, totalModels (tracked now, window or not),
//                  avgUserSatisfaction (user_tracker::average_recent_satisfaction),
//                  systemHealth (health_score.hpp)}
//   business      {<type>: {count, totalValue, avgValue}} for every known type,
//                 over the events in the window (0s when none)
//   users         {activeUsers, totalInteractions, avgInteractionsPerUser,
//                  avgSatisfactionScore} over the interactions in the window
//   models        {<id>: {requests, avgLatency, avgAccuracy, errorRate}} for the
//                 models with requests in the window
//   system        {<metric>: {count, latest, trend}} for the metrics with samples
//                 in the window; latest is the last such sample as an object
//                 {timestamp (ms since the epoch), <field>: value ...}; trend is
//                 computed on the metric's named trend field (trend.hpp)
//
// The window is [now - range, now], both ends included. Objects are keyed
// alphabetically (nlohmann::json); non-finite numbers print as null.

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "../core/clock.hpp"
#include "../core/detail/rfc3339.hpp"
#include "business_events.hpp"
#include "health_score.hpp"
#include "model_tracker.hpp"
#include "system_metrics.hpp"
#include "trend.hpp"
#include "user_tracker.hpp"

namespace llmetrics {

// What a report is made of.
struct analytics_sources {
    const business_event_tracker& business;
    const user_tracker& users;
    const model_tracker& models;
    const system_metric_store& system;
};

inline nlohmann::json generate_report(const analytics_sources& src, wall_time now,
                                      std::chrono::milliseconds range) {
    using nlohmann::json;
    const wall_time start = now - range;

    json business = json::object();
    for (const auto& [type, s] : src.business.summarize(start, now))
        business[type] = {{"count", s.count}, {"totalValue", s.total_value}, {"avgValue", s.avg_value}};

    const user_window_summary u = src.users.summarize(start, now);
    json users = {{"activeUsers", u.active_users},
                  {"totalInteractions", u.total_interactions},
                  {"avgInteractionsPerUser", u.avg_interactions_per_user},
                  {"avgSatisfactionScore", u.avg_satisfaction_score}};

    json models = json::object();
    for (const auto& [id, m] : src.models.summarize(start, now))
        models[id] = {{"requests", m.requests},
                      {"avgLatency", m.avg_latency_ms},
                      {"avgAccuracy", m.avg_accuracy},
                      {"errorRate", m.error_rate}};

    json system = json::object();
    for (const auto& [name, m] : src.system.summarize(start, now)) {
        json latest = json::object();
        for (const auto& [field, value] : m.latest.fields) latest[field] = value;
        latest["timestamp"] =  // ms since the epoch
            std::chrono::floor<std::chrono::milliseconds>(m.latest.timestamp).time_since_epoch().count();
        system[name] = {{"count", m.count}, {"latest", std::move(latest)}, {"trend", to_string(m.trend)}};
    }

    json summary = {{"totalUsers", src.users.size()},
                    {"totalModels", src.models.size()},
                    {"avgUserSatisfaction", src.users.average_recent_satisfaction()},
                    {"systemHealth", system_health_score(src.system)}};

    return {{"generatedAt", detail::to_rfc3339_ms(now)},
            {"timeRange", {{"start", detail::to_rfc3339_ms(start)}, {"end", detail::to_rfc3339_ms(now)}, {"durationMs", range.count()}}},
            {"summary", std::move(summary)},
            {"business", std::move(business)},
            {"users", std::move(users)},
            {"models", std::move(models)},
            {"system", std::move(system)}};
}

}  // namespace llmetrics

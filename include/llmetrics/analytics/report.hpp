#pragma once
// The tutorial's JSON report over a time window ending now:
//
//   generatedAt   ISO-8601 UTC instant, millisecond precision ("...T12:00:00.000Z")
//   timeRange     {start, end (ISO-8601), durationMs}
//   summary       {totalUsers, totalModels (tracked now, window or not),
//                  avgUserSatisfaction (user_tracker::average_recent_satisfaction),
//                  systemHealth (health.hpp)}
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
#include <cstdint>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "business_events.hpp"
#include "clock.hpp"
#include "health.hpp"
#include "model_tracker.hpp"
#include "system_metrics.hpp"
#include "trend.hpp"
#include "user_tracker.hpp"

namespace llmetrics {

// As JavaScript's Date.prototype.toISOString: "YYYY-MM-DDTHH:MM:SS.mmmZ".
inline std::string to_iso8601(analytics_time t) {
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(t);
    const auto day = floor<days>(ms);
    const year_month_day ymd{day};
    const hh_mm_ss hms{ms - day};
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
    return buf;
}

inline std::int64_t to_unix_ms(analytics_time t) {
    return std::chrono::floor<std::chrono::milliseconds>(t).time_since_epoch().count();
}

// What a report is made of.
struct analytics_sources {
    const business_event_tracker& business;
    const user_tracker& users;
    const model_tracker& models;
    const system_metric_store& system;
};

inline nlohmann::json generate_report(const analytics_sources& src, analytics_time now,
                                      std::chrono::milliseconds range) {
    using nlohmann::json;
    const analytics_time start = now - range;

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
        latest["timestamp"] = to_unix_ms(m.latest.timestamp);
        system[name] = {{"count", m.count}, {"latest", std::move(latest)}, {"trend", to_string(m.trend)}};
    }

    json summary = {{"totalUsers", src.users.size()},
                    {"totalModels", src.models.size()},
                    {"avgUserSatisfaction", src.users.average_recent_satisfaction()},
                    {"systemHealth", system_health_score(src.system)}};

    return {{"generatedAt", to_iso8601(now)},
            {"timeRange", {{"start", to_iso8601(start)}, {"end", to_iso8601(now)}, {"durationMs", range.count()}}},
            {"summary", std::move(summary)},
            {"business", std::move(business)},
            {"users", std::move(users)},
            {"models", std::move(models)},
            {"system", std::move(system)}};
}

}  // namespace llmetrics

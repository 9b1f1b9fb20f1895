#pragma once
// The exposer's own metrics: counters the connections and the router bump, and
// the collector that exports them (plus the readiness checks' results).
//
//   llmetrics_http_open_connections  gauge    connections the exposer holds open
//   llmetrics_http_scrapes_total     counter  metrics responses rendered
//   llmetrics_http_rejected_total    counter  requests turned away, by reason
//   llmetrics_http_connections_closed_total  counter  connections the exposer evicted, refused
//                                    or timed out, by reason (every reason exposed, 0 included)

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../core/metric_type.hpp"
#include "../../registry/collector.hpp"
#include "../../core/snapshot.hpp"
#include "../readiness_checks.hpp"

namespace llmetrics::detail {

// The exposer's own counters; shared with its collector so they outlive it.
struct exposer_stats {
    enum reason : std::size_t {
        bad_request,
        header_too_large,
        body_too_large,
        unauthorized,
        render_failed,
        handler_failed,
        reason_count
    };
    static constexpr std::string_view reason_names[reason_count] = {
        "bad_request", "header_too_large", "body_too_large", "unauthorized", "render_failed", "handler_failed"};

    // Why the exposer closed a connection before its client was done with it.
    enum connection_reason : std::size_t {
        evicted_idle,     // at max_connections, waiting for a request's first byte
        evicted_reading,  // at max_connections, partway through a request
        refused,          // at max_connections with every connection mid-response
        header_timeout,
        body_timeout,
        idle_timeout,
        write_timeout,
        connection_reason_count
    };
    static constexpr std::string_view connection_reason_names[connection_reason_count] = {
        "evicted_idle", "evicted_reading", "refused", "header_timeout", "body_timeout", "idle_timeout",
        "write_timeout"};

    std::atomic<std::uint64_t> rejected[reason_count]{};
    std::atomic<std::uint64_t> closed[connection_reason_count]{};
    std::atomic<std::uint64_t> scrapes{0};
    std::atomic<std::int64_t> open_connections{0};

    void count(reason r) noexcept { rejected[r].fetch_add(1, std::memory_order_relaxed); }
    void count(connection_reason r) noexcept { closed[r].fetch_add(1, std::memory_order_relaxed); }
};

// The exposer's own metrics, plus the readiness checks' results.
class exposer_collector final : public collector {
public:
    exposer_collector(std::shared_ptr<exposer_stats> stats, std::shared_ptr<health_checks> checks)
        : stats_(std::move(stats)), health_(checks->make_collector()) {}

    void collect(std::vector<family_snapshot>& out) override {
        out.push_back({"llmetrics_http_open_connections", "Connections the exposer holds open", "", metric_type::gauge,
                       {{{}, static_cast<double>(stats_->open_connections.load(std::memory_order_relaxed))}}});
        out.push_back({"llmetrics_http_scrapes_total", "Metrics responses rendered by the exposer", "",
                       metric_type::counter,
                       {{{}, counter_value{stats_->scrapes.load(std::memory_order_relaxed), 0.0}}}});
        family_snapshot rejected{"llmetrics_http_rejected_total", "Requests the exposer turned away, by reason", "",
                                 metric_type::counter, {}};
        for (std::size_t r = 0; r < exposer_stats::reason_count; ++r)
            rejected.series.push_back({{{"reason", std::string(exposer_stats::reason_names[r])}},
                                       counter_value{stats_->rejected[r].load(std::memory_order_relaxed), 0.0}});
        out.push_back(std::move(rejected));
        family_snapshot closed{"llmetrics_http_connections_closed_total",
                               "Connections the exposer evicted, refused or timed out, by reason", "",
                               metric_type::counter, {}};
        for (std::size_t r = 0; r < exposer_stats::connection_reason_count; ++r)
            closed.series.push_back({{{"reason", std::string(exposer_stats::connection_reason_names[r])}},
                                     counter_value{stats_->closed[r].load(std::memory_order_relaxed), 0.0}});
        out.push_back(std::move(closed));
        health_->collect(out);
    }

private:
    std::shared_ptr<exposer_stats> stats_;
    std::shared_ptr<collector> health_;
};

}  // namespace llmetrics::detail

#pragma once
// Remote write's self-metrics as a collector (remote_write::make_collector()):
//
//   llmetrics_remote_write_sent_total{kind}           counter  delivered (2xx)
//   llmetrics_remote_write_failed_total{kind}         counter  in requests that failed (retried or not)
//   llmetrics_remote_write_retried_total{kind}        counter  in requests sent again
//   llmetrics_remote_write_dropped_total{kind,reason} counter  lost: queue_full, rejected, deadline, stopped
//   llmetrics_remote_write_requests_total             counter  requests delivered
//   llmetrics_remote_write_queue_requests / _queue_samples / _queue_bytes  gauges  pending now
//   llmetrics_remote_write_last_success_timestamp_seconds  gauge  0 until the first delivery
//   llmetrics_remote_write_send_duration_seconds      histogram  one per request sent, whatever the answer
//
// kind is samples, histograms (native histogram samples) or exemplars.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../../core/metric_type.hpp"
#include "../../core/snapshot.hpp"
#include "../../registry/collector.hpp"
#include "remote_write_counters.hpp"

namespace llmetrics::detail {

class remote_write_collector final : public collector {
public:
    explicit remote_write_collector(std::shared_ptr<const remote_write_counters> c) : c_(std::move(c)) {}

    void collect(std::vector<family_snapshot>& out) override {
        const remote_write_counters& c = *c_;
        const remote_write_stats s = c.stats();
        out.push_back(by_kind("llmetrics_remote_write_sent_total", "Samples, native histograms and exemplars "
                                                                  "the receiver accepted", s.sent));
        out.push_back(by_kind("llmetrics_remote_write_failed_total",
                              "Samples, native histograms and exemplars in requests that failed", s.failed));
        out.push_back(by_kind("llmetrics_remote_write_retried_total",
                              "Samples, native histograms and exemplars in requests sent again", s.retried));
        family_snapshot dropped{"llmetrics_remote_write_dropped_total",
                                "Samples, native histograms and exemplars lost, by reason", "", metric_type::counter,
                                {}};
        const remote_write_counts* reasons[] = {&s.dropped_queue_full, &s.dropped_rejected, &s.dropped_deadline,
                                                &s.dropped_stopped};
        for (std::size_t r = 0; r < remote_write_counters::drop_reason_count; ++r)
            add_kinds(dropped, *reasons[r], {"reason", remote_write_counters::drop_reason_names[r]});
        out.push_back(std::move(dropped));
        out.push_back({"llmetrics_remote_write_requests_total", "Remote write requests delivered", "",
                       metric_type::counter, {{{}, counter_value{s.requests_sent, 0.0}}}});
        out.push_back(gauge("llmetrics_remote_write_queue_requests", "Remote write requests waiting to be sent",
                            static_cast<double>(s.queue_requests)));
        out.push_back(gauge("llmetrics_remote_write_queue_samples",
                            "Samples and native histograms in the requests waiting to be sent",
                            static_cast<double>(s.queue_samples)));
        out.push_back(gauge("llmetrics_remote_write_queue_bytes",
                            "Compressed bytes of the requests waiting to be sent", static_cast<double>(s.queue_bytes)));
        out.push_back(gauge("llmetrics_remote_write_last_success_timestamp_seconds",
                            "Unix time of the last request the receiver accepted", s.last_success_seconds));
        histogram_value h;
        h.bounds.assign(std::begin(remote_write_counters::duration_bounds),
                        std::end(remote_write_counters::duration_bounds));
        for (const auto& n : c.duration_counts) h.counts.push_back(n.load(std::memory_order_relaxed));
        h.sum = static_cast<double>(c.duration_sum_ns.load(std::memory_order_relaxed)) / 1e9;
        out.push_back({"llmetrics_remote_write_send_duration_seconds",
                       "Duration of one remote write request, answered or not", "", metric_type::histogram,
                       {{{}, std::move(h)}}});
    }

private:
    static void add_kinds(family_snapshot& f, const remote_write_counts& n, std::pair<std::string, std::string> extra) {
        const std::pair<const char*, std::uint64_t> kinds[] = {
            {"samples", n.samples}, {"histograms", n.histograms}, {"exemplars", n.exemplars}};
        for (const auto& [kind, value] : kinds) {
            series_snapshot s{{{"kind", kind}}, counter_value{value, 0.0}};
            if (!extra.first.empty()) s.labels.push_back(extra);
            f.series.push_back(std::move(s));
        }
    }
    static family_snapshot by_kind(std::string name, std::string help, const remote_write_counts& n) {
        family_snapshot f{std::move(name), std::move(help), "", metric_type::counter, {}};
        add_kinds(f, n, {});
        return f;
    }
    static family_snapshot gauge(std::string name, std::string help, double v) {
        return {std::move(name), std::move(help), "", metric_type::gauge, {{{}, v}}};
    }

    std::shared_ptr<const remote_write_counters> c_;
};

}  // namespace llmetrics::detail

#pragma once
// The calls every exposition format receives, from compile-time families streamed
// straight out of storage and from collector snapshots alike. An encoder sees
// families in their final order and each family's series in a stable order.
//
//   e.begin_family(const family_header&);
//   e.counter(labels_view, counter_value, double created);          // created: NaN if unknown
//   e.gauge(labels_view, double value);                             // gauge, info, unknown
//   e.histogram(labels_view, std::span<const double> bounds,        // finite, increasing
//               std::span<const std::uint64_t> counts,              // per bucket, bounds.size()+1, not cumulative
//               double sum, double created);
//   e.end_family();
//   e.finish();                                                     // once, after the last family
//
// Label values given to an encoder are valid UTF-8; escaping is the encoder's job.

#include <concepts>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "../core/metric_type.hpp"
#include "../registry/snapshot.hpp"

namespace llmetrics {

struct family_header {
    std::string_view name;  // full name; counters end in `_total`
    std::string_view help;
    std::string_view unit;  // empty when not declared
    metric_type type = metric_type::gauge;
};

struct labels_view {
    std::span<const std::string_view> names;
    std::span<const std::string_view> values;  // same size as names
};

template <class E>
concept encoder = requires(E& e, const family_header& h, labels_view l, counter_value c,
                           std::span<const double> b, std::span<const std::uint64_t> n, double d) {
    e.begin_family(h);
    e.counter(l, c, d);
    e.gauge(l, d);
    e.histogram(l, b, n, d, d);
    e.end_family();
    e.finish();
};

namespace detail {

// Feeds one collector snapshot to an encoder (begin_family .. end_family).
template <encoder E>
void emit_snapshot(E& e, const family_snapshot& family) {
    e.begin_family({family.name, family.help, family.unit, family.type});
    std::vector<std::string_view> names, values;
    for (const series_snapshot& s : family.series) {
        names.clear();
        values.clear();
        for (const auto& [name, value] : s.labels) {
            names.push_back(name);
            values.push_back(value);
        }
        const labels_view labels{names, values};
        if (const auto* c = std::get_if<counter_value>(&s.value))
            e.counter(labels, *c, s.created);
        else if (const auto* g = std::get_if<double>(&s.value))
            e.gauge(labels, *g);
        else if (const auto* h = std::get_if<histogram_value>(&s.value))
            e.histogram(labels, h->bounds, h->counts, h->sum, s.created);
    }
    e.end_family();
}

}  // namespace detail
}  // namespace llmetrics

#pragma once
// A materialised copy of families, produced by runtime collectors (process, GPU,
// analytics) at scrape time. Compile-time families are streamed straight from
// storage instead; both reach an encoder through the same calls (core/encoder.hpp).

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "metric_type.hpp"
#include "sample.hpp"

namespace llmetrics {

struct histogram_value {
    std::vector<double> bounds;         // finite upper bounds, strictly increasing; +Inf implied
    std::vector<std::uint64_t> counts;  // per bucket, NOT cumulative; size() == bounds.size() + 1
    double sum = 0.0;
};

// An exemplar owned by a snapshot; one without labels is absent.
struct exemplar_snapshot {
    std::vector<std::pair<std::string, std::string>> labels;  // name, value
    double value = 0.0;
    double timestamp = std::numeric_limits<double>::quiet_NaN();  // unix seconds; NaN = none
};

struct series_snapshot {
    std::vector<std::pair<std::string, std::string>> labels;  // name, value; in declared order
    std::variant<counter_value, double, histogram_value> value;  // counter | gauge/info/unknown | histogram
    double created = std::numeric_limits<double>::quiet_NaN();  // unix seconds; NaN = unknown
    // A counter: at most one. A histogram: one per bucket (bounds.size() + 1,
    // +Inf last; absent ones without labels), or none. Other types: none.
    std::vector<exemplar_snapshot> exemplars = {};
};

struct family_snapshot {
    std::string name;  // counters include the `_total` suffix
    std::string help;
    std::string unit;  // empty when none is declared
    metric_type type = metric_type::gauge;
    std::vector<series_snapshot> series;
};

}  // namespace llmetrics

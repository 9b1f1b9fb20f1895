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

// A native histogram owned by a snapshot (fields as native_histogram_view), with
// the classic part of a family that has both in `classic` (left empty otherwise).
struct native_histogram_value {
    std::int32_t schema = 3;
    double zero_threshold = 0.0;
    std::uint64_t zero_count = 0;
    std::uint64_t count = 0;
    double sum = 0.0;
    std::vector<native_bucket_span> positive_spans;
    std::vector<std::uint64_t> positive_counts;
    std::vector<native_bucket_span> negative_spans;
    std::vector<std::uint64_t> negative_counts;
    histogram_value classic{{}, {}, 0.0};

    native_histogram_view view() const noexcept {
        return {schema, zero_threshold, zero_count, count, sum,
                positive_spans, positive_counts, negative_spans, negative_counts};
    }
};

// An exemplar owned by a snapshot; one without labels is absent.
struct exemplar_snapshot {
    std::vector<std::pair<std::string, std::string>> labels;  // name, value
    double value = 0.0;
    double timestamp = std::numeric_limits<double>::quiet_NaN();  // unix seconds; NaN = none
};

struct series_snapshot {
    std::vector<std::pair<std::string, std::string>> labels;  // name, value; in declared order
    // counter | gauge/info/unknown | classic histogram | native (or native + classic) histogram
    std::variant<counter_value, double, histogram_value, native_histogram_value> value;
    double created = std::numeric_limits<double>::quiet_NaN();  // unix seconds; NaN = unknown
    // A counter: at most one. A histogram: one per bucket (bounds.size() + 1,
    // +Inf last; absent ones without labels), or none; a native-only one: any
    // number, each with a timestamp. Other types: none.
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

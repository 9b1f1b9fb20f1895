#pragma once
// A materialised copy of families, produced by runtime collectors (process, GPU,
// analytics) at scrape time. Compile-time families are streamed straight from
// storage instead; both reach an encoder through the same calls (see
// exposition/encoder.hpp).

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "../core/metric_type.hpp"

namespace llmetrics {

// Integer increments are kept apart from fractional ones so a counter stays exact
// past 2^53. The exposed value is integral + fractional.
struct counter_value {
    std::uint64_t integral = 0;
    double fractional = 0.0;
};

struct histogram_value {
    std::vector<double> bounds;         // finite upper bounds, strictly increasing; +Inf implied
    std::vector<std::uint64_t> counts;  // per bucket, NOT cumulative; size() == bounds.size() + 1
    double sum = 0.0;
};

// An exemplar as handed to an encoder (OpenMetrics renders it after its sample);
// the strings stay valid for the duration of the encoder call.
struct exemplar_view {
    std::span<const std::string_view> names;
    std::span<const std::string_view> values;
    double value = 0.0;
    double timestamp = std::numeric_limits<double>::quiet_NaN();
    bool present() const noexcept { return !names.empty(); }
};

struct series_snapshot {
    std::vector<std::pair<std::string, std::string>> labels;  // name, value; in declared order
    std::variant<counter_value, double, histogram_value> value;  // counter | gauge/info/unknown | histogram
    double created = std::numeric_limits<double>::quiet_NaN();  // unix seconds; NaN = unknown
};

struct family_snapshot {
    std::string name;  // counters include the `_total` suffix
    std::string help;
    std::string unit;  // empty when none is declared
    metric_type type = metric_type::gauge;
    std::vector<series_snapshot> series;
};

}  // namespace llmetrics

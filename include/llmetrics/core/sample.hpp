#pragma once
// What an encoder is handed for one family and one sample (see core/encoder.hpp):
// views that stay valid for the duration of the call, so storage can stream
// straight out of its cells and a collector snapshot can lend its strings.

#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

#include "metric_type.hpp"

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

// Integer increments are kept apart from fractional ones so a counter stays exact
// past 2^53. The exposed value is integral + fractional.
struct counter_value {
    std::uint64_t integral = 0;
    double fractional = 0.0;
};

// An exemplar as handed to an encoder (OpenMetrics renders it after its sample);
// absent when it has no labels.
struct exemplar_view {
    std::span<const std::string_view> names;
    std::span<const std::string_view> values;
    double value = 0.0;
    double timestamp = std::numeric_limits<double>::quiet_NaN();  // unix seconds; NaN = none
    bool present() const noexcept { return !names.empty(); }
};

}  // namespace llmetrics

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

// A run of consecutive native buckets, as the protobuf format has it: the first
// span's offset is the index of its first bucket, every later one's the gap after
// the previous span (so it is >= 0).
struct native_bucket_span {
    std::int32_t offset = 0;
    std::uint32_t length = 0;
};

// A native (sparse exponential) histogram as handed to an encoder; the
// Prometheus native histograms specification defines every field. Bucket i of
// schema s holds (b^(i-1), b^i] with b = 2^(2^-s); negative buckets mirror the
// positive ones; |v| <= zero_threshold goes to the zero bucket.
struct native_histogram_view {
    std::int32_t schema = 3;  // -4 ... 8
    double zero_threshold = 0.0;
    std::uint64_t zero_count = 0;
    std::uint64_t count = 0;  // zero_count + every bucket + NaN observations
    double sum = 0.0;
    std::span<const native_bucket_span> positive_spans;
    std::span<const std::uint64_t> positive_counts;  // absolute, one per bucket the spans cover
    std::span<const native_bucket_span> negative_spans;
    std::span<const std::uint64_t> negative_counts;
};

}  // namespace llmetrics

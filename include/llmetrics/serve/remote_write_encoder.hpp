#pragma once
// An encoder (core/encoder.hpp) that writes a Prometheus Remote-Write 1.0
// `prometheus.WriteRequest` protobuf message (uncompressed; remote_write.hpp
// compresses and sends it). Field numbers are those of prometheus/prompb
// types.proto and remote.proto:
//
//   WriteRequest  { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
//   TimeSeries    { repeated Label labels = 1; repeated Sample samples = 2;
//                   repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
//   Label         { string name = 1; string value = 2; }
//   Sample        { double value = 1; int64 timestamp = 2; }                 // ms since the epoch
//   Exemplar      { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
//   Histogram     { uint64 count_int = 1; double sum = 3; sint32 schema = 4; double zero_threshold = 5;
//                   uint64 zero_count_int = 6; repeated BucketSpan negative_spans = 8;
//                   repeated sint64 negative_deltas = 9; repeated BucketSpan positive_spans = 11;
//                   repeated sint64 positive_deltas = 12; int64 timestamp = 15; }
//   BucketSpan    { sint32 offset = 1; uint32 length = 2; }
//   MetricMetadata{ MetricType type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
//
// One series per sample, each with one sample stamped with the snapshot's time:
// counters under their `_total` name, gauges and unknown under their name, info
// families as `<name>_info` = 1, classic histograms as `_bucket{le}` (cumulative),
// `_sum` and `_count`. A native histogram goes into the `histograms` field of the
// series named after the family (bucket counts delta-encoded as the protocol
// wants), and its classic part, when the family has one, as a classic histogram
// beside it. Labels of each series are sorted by name (byte order, as the
// specification requires; `__name__` comes first for lowercase names), labels
// with an empty value are left out (Prometheus treats them as absent), and an
// external label is added only when the series has no label of that name.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/encoder.hpp"
#include "../exposition/detail/number_format.hpp"
#include "../exposition/detail/protobuf_wire.hpp"
#include "../exposition/detail/text_lines.hpp"

namespace llmetrics {

// What one WriteRequest carries, for the self-metrics and the queue's bounds.
struct remote_write_counts {
    std::uint64_t samples = 0;     // float samples, one per series
    std::uint64_t histograms = 0;  // native histogram samples
    std::uint64_t exemplars = 0;
};

using remote_write_label = std::pair<std::string, std::string>;  // name, value

class remote_write_encoder {
public:
    // Appends the message to `out`; `timestamp_ms` stamps every sample (and every
    // exemplar without a time of its own).
    remote_write_encoder(std::string& out, std::int64_t timestamp_ms,
                         std::span<const remote_write_label> external_labels = {}, bool metadata = true)
        : w_(out), timestamp_ms_(timestamp_ms), external_(external_labels), metadata_(metadata) {}

    void begin_family(const family_header& h) {
        base_ = h.type == metric_type::info ? detail::info_base_name(h.name) : h.name;
        suffix_ = h.type == metric_type::info ? "_info" : "";
        if (!metadata_) return;
        const std::size_t m = w_.begin_message(3);
        w_.uint64_field(1, metadata_type(h.type));
        name_.assign(base_).append(suffix_);
        w_.string_field(2, name_);
        if (!h.help.empty()) w_.string_field(4, h.help);
        if (!h.unit.empty()) w_.string_field(5, h.unit);
        w_.end_message(m);
    }

    void counter(labels_view labels, counter_value value, double /*created*/, const exemplar_view* exemplar) {
        float_series(labels, "", {}, detail::counter_as_double(value), exemplar);
    }

    void gauge(labels_view labels, double value) { float_series(labels, "", {}, value, nullptr); }

    void histogram(labels_view labels, std::span<const double> bounds, std::span<const std::uint64_t> counts,
                   double sum, double /*created*/, std::span<const exemplar_view> exemplars) {
        std::uint64_t cumulative = 0;
        char le[detail::number_buffer_size];
        for (std::size_t i = 0; i < counts.size(); ++i) {
            cumulative += counts[i];
            const std::string_view bound =
                i < bounds.size() ? std::string_view(le, detail::format_canonical(le, bounds[i])) : "+Inf";
            const exemplar_view* x = i < exemplars.size() && exemplars[i].present() ? &exemplars[i] : nullptr;
            float_series(labels, "_bucket", bound, static_cast<double>(cumulative), x);
        }
        float_series(labels, "_sum", {}, sum, nullptr);
        float_series(labels, "_count", {}, static_cast<double>(cumulative), nullptr);
    }

    void native_histogram(labels_view labels, const native_histogram_view& h, std::span<const double> bounds,
                          std::span<const std::uint64_t> counts, double created,
                          std::span<const exemplar_view> exemplars) {
        const bool classic = !counts.empty();
        if (classic) histogram(labels, bounds, counts, h.sum, created, exemplars);
        const std::size_t ts = begin_series(labels, "", {});
        const std::size_t m = w_.begin_message(4);
        w_.uint64_field(1, h.count);
        w_.double_field(3, h.sum);
        w_.sint32_field(4, h.schema);
        w_.double_field(5, h.zero_threshold);
        w_.uint64_field(6, h.zero_count);
        write_buckets(8, 9, h.negative_spans, h.negative_counts);
        write_buckets(11, 12, h.positive_spans, h.positive_counts);
        w_.int64_field(15, timestamp_ms_);
        w_.end_message(m);
        ++counts_.histograms;
        if (!classic)
            for (const exemplar_view& x : exemplars)
                if (x.present()) write_exemplar(x);
        w_.end_message(ts);
    }

    void end_family() noexcept {}
    void finish() noexcept {}

    const remote_write_counts& counts() const noexcept { return counts_; }

private:
    // prompb MetricMetadata.MetricType
    static constexpr std::uint64_t metadata_type(metric_type t) noexcept {
        switch (t) {
        case metric_type::counter: return 1;
        case metric_type::gauge: return 2;
        case metric_type::histogram: return 3;
        case metric_type::info: return 6;
        case metric_type::unknown: break;
        }
        return 0;
    }

    void float_series(labels_view labels, std::string_view suffix, std::string_view le, double value,
                      const exemplar_view* exemplar) {
        const std::size_t ts = begin_series(labels, suffix, le);
        const std::size_t s = w_.begin_message(2);
        w_.double_field(1, value);
        w_.int64_field(2, timestamp_ms_);
        w_.end_message(s);
        ++counts_.samples;
        if (exemplar) write_exemplar(*exemplar);
        w_.end_message(ts);
    }

    // Opens a TimeSeries and writes its sorted labels; returns the mark for end_message().
    std::size_t begin_series(labels_view labels, std::string_view suffix, std::string_view le) {
        name_.assign(base_).append(suffix_).append(suffix);
        scratch_.clear();
        scratch_.emplace_back("__name__", name_);
        for (std::size_t i = 0; i < labels.names.size(); ++i)
            if (!labels.values[i].empty()) scratch_.emplace_back(labels.names[i], labels.values[i]);
        if (!le.empty()) scratch_.emplace_back("le", le);
        for (const remote_write_label& l : external_)
            if (!l.first.empty() && !l.second.empty()) scratch_.emplace_back(l.first, l.second);
        // Stable: of two labels with one name, the series' own (pushed first) stays.
        std::stable_sort(scratch_.begin(), scratch_.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        scratch_.erase(std::unique(scratch_.begin(), scratch_.end(),
                                   [](const auto& a, const auto& b) { return a.first == b.first; }),
                       scratch_.end());
        const std::size_t ts = w_.begin_message(1);
        for (const auto& [name, value] : scratch_) write_label(1, name, value);
        return ts;
    }

    void write_label(std::uint32_t field, std::string_view name, std::string_view value) {
        const std::size_t l = w_.begin_message(field);
        w_.string_field(1, name);
        w_.string_field(2, value);
        w_.end_message(l);
    }

    void write_exemplar(const exemplar_view& x) {
        const std::size_t e = w_.begin_message(3);
        for (std::size_t i = 0; i < x.names.size(); ++i) write_label(1, x.names[i], x.values[i]);
        w_.double_field(2, x.value);
        w_.int64_field(3, std::isnan(x.timestamp) ? timestamp_ms_ : std::llround(x.timestamp * 1000.0));
        w_.end_message(e);
        ++counts_.exemplars;
    }

    // Spans as given, then the counts as deltas: the first bucket's count, then
    // each bucket's difference from the one before it, across spans (packed sint64).
    void write_buckets(std::uint32_t spans_field, std::uint32_t deltas_field,
                       std::span<const native_bucket_span> spans, std::span<const std::uint64_t> counts) {
        for (const native_bucket_span& span : spans) {
            const std::size_t m = w_.begin_message(spans_field);
            w_.sint32_field(1, span.offset);
            w_.uint64_field(2, span.length);
            w_.end_message(m);
        }
        if (counts.empty()) return;
        const std::size_t m = w_.begin_message(deltas_field);
        std::uint64_t previous = 0;
        for (const std::uint64_t c : counts) {
            w_.varint(detail::zigzag(static_cast<std::int64_t>(c - previous)));
            previous = c;
        }
        w_.end_message(m);
    }

    detail::proto_writer w_;
    std::int64_t timestamp_ms_;
    std::span<const remote_write_label> external_;
    bool metadata_;
    remote_write_counts counts_;
    std::string_view base_, suffix_;
    std::string name_;
    std::vector<std::pair<std::string_view, std::string_view>> scratch_;
};

static_assert(encoder<remote_write_encoder>);

}  // namespace llmetrics

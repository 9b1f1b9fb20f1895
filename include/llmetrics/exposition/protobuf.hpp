#pragma once
// Prometheus protobuf exposition format (content type `application/vnd.google.protobuf;
// proto=io.prometheus.client.MetricFamily; encoding=delimited`): a stream of
// io.prometheus.client.MetricFamily messages, each prefixed by its length as a
// varint. Schema: prometheus/client_model io/prometheus/client/metrics.proto
// (field numbers in the comments below). The only format that carries native
// histograms.
//
// - MetricFamily: name (1), help (2, always written), type (3), metric (4), unit (5,
//   when declared). Counters keep `_total`; info families are GAUGE `<base>_info`
//   (protobuf has no info type, as client_golang and the Prometheus text format
//   have it); unknown is UNTYPED. A family without series is left out (client_golang
//   drops them too).
// - Counter: value (1) = integral + fractional, exemplar (2) with its timestamp
//   when it has one, created_timestamp (3) when known (google.protobuf.Timestamp).
// - Classic histogram: sample_count (1), sample_sum (2), cumulative buckets (3)
//   without the +Inf bucket, which is written only to carry an exemplar (as
//   client_golang does), created_timestamp (15).
// - Native histogram: schema (5), zero_threshold (6), zero_count (7), negative
//   and positive spans (9, 12) with DELTA-encoded counts (10, 13; each bucket's
//   count minus the previous bucket's, across spans, the first against 0), and
//   timestamped exemplars in `exemplars` (16). A histogram without any span gets
//   the no-op span {offset 0, length 0}, so scrapers see it is native even before
//   its first observation. A family with both parts writes both in one Histogram
//   message: classic buckets with their per-bucket exemplars, and those of the
//   exemplars that have a timestamp in `exemplars` as well.
//
// Each family is built in a buffer the encoder keeps (its length must precede it)
// and handed to the output at end_family(); the buffer is reused, so a render
// allocates only while it grows to the largest family.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "../core/encoder.hpp"
#include "detail/buffered_output.hpp"
#include "detail/byte_buffer.hpp"
#include "detail/number_format.hpp"
#include "detail/protobuf_wire.hpp"
#include "detail/text_lines.hpp"
#include "output.hpp"

namespace llmetrics {

namespace detail::proto_field {
// io.prometheus.client field numbers (metrics.proto).
enum : std::uint32_t {
    family_name = 1, family_help = 2, family_type = 3, family_metric = 4, family_unit = 5,
    metric_label = 1, metric_gauge = 2, metric_counter = 3, metric_untyped = 5, metric_histogram = 7,
    label_name = 1, label_value = 2,
    gauge_value = 1, untyped_value = 1,
    counter_value = 1, counter_exemplar = 2, counter_created = 3,
    hist_sample_count = 1, hist_sample_sum = 2, hist_bucket = 3, hist_schema = 5, hist_zero_threshold = 6,
    hist_zero_count = 7, hist_negative_span = 9, hist_negative_delta = 10, hist_positive_span = 12,
    hist_positive_delta = 13, hist_created = 15, hist_exemplars = 16,
    bucket_cumulative_count = 1, bucket_upper_bound = 2, bucket_exemplar = 3,
    span_offset = 1, span_length = 2,
    exemplar_label = 1, exemplar_value = 2, exemplar_timestamp = 3,
};
// io.prometheus.client.MetricType
enum : std::uint64_t { type_counter = 0, type_gauge = 1, type_untyped = 3, type_histogram = 4 };
}  // namespace detail::proto_field

template <text_output Out>
class protobuf_encoder {
    using writer = detail::basic_proto_writer<detail::byte_buffer>;

public:
    explicit protobuf_encoder(Out& out) noexcept : out_(&out) {
        scratch& s = thread_scratch();
        if (!s.busy) {
            s.busy = true;
            family_ = &s.buffer;
        }
    }
    ~protobuf_encoder() {
        if (family_ != &own_) {
            scratch& s = thread_scratch();
            s.buffer.release_above(scratch_limit);
            s.busy = false;
        }
    }
    protobuf_encoder(const protobuf_encoder&) = delete;
    protobuf_encoder& operator=(const protobuf_encoder&) = delete;

    void begin_family(const family_header& h) {
        namespace f = detail::proto_field;
        family_->clear();
        metrics_ = 0;
        type_ = h.type;
        writer w{*family_};
        if (h.type == metric_type::info) w.string_field(f::family_name, detail::info_base_name(h.name), "_info");
        else w.string_field(f::family_name, h.name);
        w.string_field(f::family_help, h.help);
        w.uint64_field(f::family_type, type_number(h.type));
        if (!h.unit.empty() && h.type != metric_type::info) w.string_field(f::family_unit, h.unit);
    }

    void counter(labels_view labels, counter_value value, double created, const exemplar_view* exemplar) {
        namespace f = detail::proto_field;
        if (!exemplar || !exemplar->present())
            return scalar_metric(labels, f::metric_counter, f::counter_value, detail::counter_as_double(value), created,
                                 f::counter_created);
        writer w{*family_};
        const std::size_t metric = begin_metric(w, labels);
        const std::size_t body = w.begin_message(f::metric_counter);
        w.double_field(f::counter_value, detail::counter_as_double(value));
        write_exemplar(w, f::counter_exemplar, *exemplar);
        w.timestamp_field(f::counter_created, created);
        w.end_message(body);
        w.end_message(metric);
    }

    void gauge(labels_view labels, double value) {
        namespace f = detail::proto_field;
        const bool untyped = type_ == metric_type::unknown;
        scalar_metric(labels, untyped ? f::metric_untyped : f::metric_gauge, untyped ? f::untyped_value : f::gauge_value,
                      value, std::numeric_limits<double>::quiet_NaN(), 0);
    }

    void histogram(labels_view labels, std::span<const double> bounds, std::span<const std::uint64_t> counts,
                   double sum, double created, std::span<const exemplar_view> exemplars) {
        namespace f = detail::proto_field;
        writer w{*family_};
        const std::size_t metric = begin_metric(w, labels);
        const std::size_t body = w.begin_message(f::metric_histogram);
        write_classic(w, bounds, counts, sum, exemplars);
        w.timestamp_field(f::hist_created, created);
        w.end_message(body);
        w.end_message(metric);
    }

    void native_histogram(labels_view labels, const native_histogram_view& h, std::span<const double> bounds,
                          std::span<const std::uint64_t> counts, double created,
                          std::span<const exemplar_view> exemplars) {
        namespace f = detail::proto_field;
        writer w{*family_};
        const std::size_t metric = begin_metric(w, labels);
        const std::size_t body = w.begin_message(f::metric_histogram);
        const bool classic = !counts.empty();
        if (classic) {
            write_classic(w, bounds, counts, h.sum, exemplars);
        } else {
            w.uint64_field(f::hist_sample_count, h.count);
            w.double_field(f::hist_sample_sum, h.sum);
        }
        w.sint32_field(f::hist_schema, h.schema);
        w.double_field(f::hist_zero_threshold, h.zero_threshold);
        w.uint64_field(f::hist_zero_count, h.zero_count);
        write_native_buckets(w, f::hist_negative_span, f::hist_negative_delta, h.negative_spans, h.negative_counts);
        if (h.positive_spans.empty() && h.negative_spans.empty()) {
            const std::size_t span = w.begin_message(f::hist_positive_span);  // the no-op span
            w.sint32_field(f::span_offset, 0);
            w.uint64_field(f::span_length, 0);
            w.end_message(span);
        } else {
            write_native_buckets(w, f::hist_positive_span, f::hist_positive_delta, h.positive_spans,
                                 h.positive_counts);
        }
        w.timestamp_field(f::hist_created, created);
        for (const exemplar_view& x : exemplars)
            if (x.present() && (!classic || !std::isnan(x.timestamp))) write_exemplar(w, f::hist_exemplars, x);
        w.end_message(body);
        w.end_message(metric);
    }

    void end_family() {
        if (metrics_ == 0) return;
        std::string prefix;  // at most 10 bytes: held inline, never allocated
        detail::proto_writer{prefix}.varint(family_->size());
        detail::put(*out_, prefix);
        detail::put(*out_, family_->view());
    }

    void finish() noexcept {}

private:
    static constexpr std::uint64_t type_number(metric_type t) noexcept {
        namespace f = detail::proto_field;
        switch (t) {
            case metric_type::counter: return f::type_counter;
            case metric_type::histogram: return f::type_histogram;
            case metric_type::unknown: return f::type_untyped;
            case metric_type::gauge:
            case metric_type::info: break;
        }
        return f::type_gauge;
    }

    static void write_label_pairs(writer& w, std::uint32_t field, std::span<const std::string_view> names,
                                  std::span<const std::string_view> values) {
        namespace f = detail::proto_field;
        // One extend() for all pairs: the appends, not the bytes, cost the time.
        std::size_t size = 0;
        for (std::size_t i = 0; i < names.size(); ++i)
            size += detail::proto_writer::pair_size(field, f::label_name, names[i].size(), f::label_value,
                                                    values[i].size());
        if (size == 0) return;
        char* p = w.extend(size);
        for (std::size_t i = 0; i < names.size(); ++i)
            p = detail::proto_writer::write_pair(p, field, f::label_name, names[i], f::label_value, values[i]);
    }

    // A Metric holding one value (and a created timestamp unless NaN), sized
    // first and written in one piece: most series of a scrape are these.
    void scalar_metric(labels_view labels, std::uint32_t kind, std::uint32_t value_field, double value,
                       double created, std::uint32_t created_field) {
        using detail::encode_tag, detail::encode_varint, detail::varint_size, detail::wire_type;
        namespace f = detail::proto_field;
        ++metrics_;
        char stamp[writer::timestamp_body_max];
        const std::size_t stamp_size = writer::timestamp_body(stamp, created);
        std::size_t body = detail::tag_size(value_field) + 8;
        if (stamp_size != writer::none) body += detail::tag_size(created_field) + 1 + stamp_size;  // length < 128
        std::size_t metric = detail::tag_size(kind) + varint_size(body) + body;
        for (std::size_t i = 0; i < labels.names.size(); ++i)
            metric += writer::pair_size(f::metric_label, f::label_name, labels.names[i].size(), f::label_value,
                                        labels.values[i].size());
        writer w{*family_};
        char* p = w.extend(detail::tag_size(f::family_metric) + varint_size(metric) + metric);
        p += encode_tag(p, f::family_metric, wire_type::length_delimited);
        p += encode_varint(p, metric);
        for (std::size_t i = 0; i < labels.names.size(); ++i)
            p = writer::write_pair(p, f::metric_label, f::label_name, labels.names[i], f::label_value, labels.values[i]);
        p += encode_tag(p, kind, wire_type::length_delimited);
        p += encode_varint(p, body);
        p += encode_tag(p, value_field, wire_type::fixed64);
        detail::encode_double(p, value);
        p += 8;
        if (stamp_size != writer::none) {
            p += encode_tag(p, created_field, wire_type::length_delimited);
            *p++ = static_cast<char>(stamp_size);
            std::memcpy(p, stamp, stamp_size);
        }
    }

    std::size_t begin_metric(writer& w, labels_view labels) {
        ++metrics_;
        const std::size_t metric = w.begin_message(detail::proto_field::family_metric);
        write_label_pairs(w, detail::proto_field::metric_label, labels.names, labels.values);
        return metric;
    }

    static void write_exemplar(writer& w, std::uint32_t field, const exemplar_view& x) {
        namespace f = detail::proto_field;
        const std::size_t mark = w.begin_message(field);
        write_label_pairs(w, f::exemplar_label, x.names, x.values);
        w.double_field(f::exemplar_value, x.value);
        w.timestamp_field(f::exemplar_timestamp, x.timestamp);
        w.end_message(mark);
    }

    // sample_count, sample_sum and the cumulative buckets; +Inf only to carry its exemplar.
    static void write_classic(writer& w, std::span<const double> bounds,
                              std::span<const std::uint64_t> counts, double sum,
                              std::span<const exemplar_view> exemplars) {
        namespace f = detail::proto_field;
        std::uint64_t total = 0;
        for (const std::uint64_t c : counts) total += c;
        w.uint64_field(f::hist_sample_count, total);
        w.double_field(f::hist_sample_sum, sum);
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i <= bounds.size(); ++i) {
            cumulative += i < counts.size() ? counts[i] : 0;
            const exemplar_view* x = i < exemplars.size() && exemplars[i].present() ? &exemplars[i] : nullptr;
            const bool inf = i == bounds.size();
            if (inf && !x) break;
            const std::size_t bucket = w.begin_message(f::hist_bucket);
            w.uint64_field(f::bucket_cumulative_count, cumulative);
            w.double_field(f::bucket_upper_bound, inf ? std::numeric_limits<double>::infinity() : bounds[i]);
            if (x) write_exemplar(w, f::bucket_exemplar, *x);
            w.end_message(bucket);
        }
    }

    // Spans as given; counts delta-encoded: each against the previous bucket's, across spans.
    static void write_native_buckets(writer& w, std::uint32_t span_field, std::uint32_t delta_field,
                                     std::span<const native_bucket_span> spans,
                                     std::span<const std::uint64_t> counts) {
        namespace f = detail::proto_field;
        for (const native_bucket_span& s : spans) {
            const std::size_t mark = w.begin_message(span_field);
            w.sint32_field(f::span_offset, s.offset);
            w.uint64_field(f::span_length, s.length);
            w.end_message(mark);
        }
        std::uint64_t previous = 0;
        for (const std::uint64_t c : counts) {
            w.sint64_field(delta_field, static_cast<std::int64_t>(c - previous));
            previous = c;
        }
    }

    Out* out_;
    // The family being built, reused from one family to the next. The buffer is
    // the thread's, kept from one render to the next: growing a fresh one to a
    // large family on every scrape (new pages, copies on each doubling) cost
    // more than the encoding. A second encoder alive on the same thread uses
    // its own; a buffer grown past scratch_limit is not kept.
    struct scratch {
        detail::byte_buffer buffer;
        bool busy = false;
    };
    static constexpr std::size_t scratch_limit = 64u << 20;
    static scratch& thread_scratch() noexcept {
        thread_local scratch s;
        return s;
    }
    detail::byte_buffer own_;
    detail::byte_buffer* family_ = &own_;
    std::size_t metrics_ = 0;
    metric_type type_ = metric_type::gauge;
};

}  // namespace llmetrics

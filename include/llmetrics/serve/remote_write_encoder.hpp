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
//
// Speed: a series' labels are sorted (detail/remote_write_labels.hpp) and
// encoded once per call, then copied into each of its samples (a histogram has
// 13); each TimeSeries is sized before it is written, so its length goes in
// front without moving the body, and the message is built in a byte_buffer.
// Given a remote_write_cache (remote_write_cache.hpp), a series the last push
// sent is not encoded again: only its values and the timestamp are written.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/encoder.hpp"
#include "../exposition/detail/byte_buffer.hpp"
#include "../exposition/detail/number_format.hpp"
#include "../exposition/detail/protobuf_wire.hpp"
#include "../exposition/detail/text_lines.hpp"
#include "detail/remote_write_labels.hpp"
#include "remote_write_cache.hpp"

namespace llmetrics {

// What one WriteRequest carries, for the self-metrics and the queue's bounds.
struct remote_write_counts {
    std::uint64_t samples = 0;     // float samples, one per series
    std::uint64_t histograms = 0;  // native histogram samples
    std::uint64_t exemplars = 0;
};

using remote_write_label = std::pair<std::string, std::string>;  // name, value

class remote_write_encoder {
    using writer = detail::basic_proto_writer<detail::byte_buffer>;

public:
    // Appends the message to `out`; `timestamp_ms` stamps every sample (and every
    // exemplar without a time of its own).
    remote_write_encoder(detail::byte_buffer& out, std::int64_t timestamp_ms,
                         std::span<const remote_write_label> external_labels = {}, bool metadata = true)
        : w_(out), timestamp_ms_(timestamp_ms), external_(external_labels), order_(external_labels),
          metadata_(metadata) {
        // Sample { double value = 1; int64 timestamp = 2; } as field 2 of a
        // TimeSeries: the same bytes for every sample but the value's.
        std::size_t n = 0;
        sample_[n++] = 0x12;
        sample_[n++] = 0;  // the length, below
        sample_[n++] = 0x09;
        n += 8;  // the value
        sample_[n++] = 0x10;
        n += detail::encode_varint(sample_ + n, static_cast<std::uint64_t>(timestamp_ms));
        sample_[1] = static_cast<char>(n - 2);
        sample_size_ = n;
    }
    // The same into a std::string, appended at finish().
    remote_write_encoder(std::string& out, std::int64_t timestamp_ms,
                         std::span<const remote_write_label> external_labels = {}, bool metadata = true)
        : remote_write_encoder(own_, timestamp_ms, external_labels, metadata) {
        text_out_ = &out;
    }
    // The message in `cache` (cache.message() after finish()), reusing what the
    // cache's last push encoded; the cache is emptied if the push does not finish.
    remote_write_encoder(remote_write_cache& cache, std::int64_t timestamp_ms,
                         std::span<const remote_write_label> external_labels = {}, bool metadata = true)
        : remote_write_encoder(cache.out(), timestamp_ms, external_labels, metadata) {
        cache_ = &cache;
        cache.start(external_labels, metadata, std::string_view(sample_, sample_size_));
    }
    ~remote_write_encoder() {
        if (cache_ && !finished_) cache_->clear();  // a push cut short (an exception) leaves it half patched
    }
    remote_write_encoder(const remote_write_encoder&) = delete;
    remote_write_encoder& operator=(const remote_write_encoder&) = delete;

    void begin_family(const family_header& h) {
        const std::string_view base = h.type == metric_type::info ? detail::info_base_name(h.name) : h.name;
        const std::string_view suffix = h.type == metric_type::info ? "_info" : "";
        for (std::size_t i = 0; i < std::size(suffixes); ++i) {
            names_[i].assign(base).append(suffix).append(suffixes[i]);
            name_labels_[i] = encoded_label("__name__", names_[i]);
        }
        if (cache_) {
            if (cache_->find_family(h)) return;
            cache_->begin_fresh();
        }
        if (metadata_) {
            const std::size_t m = w_.begin_message(3);
            w_.uint64_field(1, metadata_type(h.type));
            w_.string_field(2, names_[plain]);
            if (!h.help.empty()) w_.string_field(4, h.help);
            if (!h.unit.empty()) w_.string_field(5, h.unit);
            w_.end_message(m);
        }
        if (cache_) cache_->end_fresh(true, true);
    }

    void counter(labels_view labels, counter_value value, double /*created*/, const exemplar_view* exemplar) {
        one_sample(remote_write_cache::kind::counter, labels, detail::counter_as_double(value), exemplar);
    }

    void gauge(labels_view labels, double value) { one_sample(remote_write_cache::kind::gauge, labels, value, nullptr); }

    void histogram(labels_view labels, std::span<const double> bounds, std::span<const std::uint64_t> counts,
                   double sum, double /*created*/, std::span<const exemplar_view> exemplars) {
        if (!cache_) return write_histogram(labels, bounds, counts, sum, exemplars);
        const bool kept = std::none_of(exemplars.begin(), exemplars.end(),
                                       [](const exemplar_view& x) { return x.present(); });
        if (kept)
            if (const auto f = cache_->find_series(remote_write_cache::kind::histogram, labels, bounds)) {
                std::uint64_t cumulative = 0;
                std::size_t i = 0;
                for (; i < counts.size(); ++i) {
                    cumulative += counts[i];
                    patch(f.base + f.offsets[i], static_cast<double>(cumulative));
                }
                patch(f.base + f.offsets[i], sum);
                patch(f.base + f.offsets[i + 1], static_cast<double>(cumulative));
                counts_.samples += counts.size() + 2;
                return;
            }
        cache_->begin_fresh();
        write_histogram(labels, bounds, counts, sum, exemplars);
        cache_->end_fresh(kept, false);
    }

    void native_histogram(labels_view labels, const native_histogram_view& h, std::span<const double> bounds,
                          std::span<const std::uint64_t> counts, double /*created*/,
                          std::span<const exemplar_view> exemplars) {
        if (cache_) cache_->begin_fresh();  // its counts change the message's shape: never kept
        write_native_histogram(labels, h, bounds, counts, exemplars);
        if (cache_) cache_->end_fresh(false, false);
    }

    void end_family() noexcept {}
    // The std::string constructor's output gets the message here.
    void finish() {
        if (cache_) {
            cache_->commit();
            finished_ = true;
            return;
        }
        if (text_out_) text_out_->append(own_.data(), own_.size());
        own_.clear();
    }

    const remote_write_counts& counts() const noexcept { return counts_; }

private:
    // A counter's or gauge's sample: the cached series' value patched, or encoded.
    void one_sample(remote_write_cache::kind k, labels_view labels, double value, const exemplar_view* exemplar) {
        if (cache_) {
            if (!exemplar)
                if (const auto f = cache_->find_series(k, labels, {})) {
                    patch(f.base + f.offsets[0], value);
                    ++counts_.samples;
                    return;
                }
            cache_->begin_fresh();
        }
        encode_labels(labels, false);
        float_series(name_labels_[plain], {}, value, exemplar);
        if (cache_) cache_->end_fresh(!exemplar, false);
    }

    // A Sample's value and timestamp at the value's place in a cached series.
    void patch(char* value_at, double value) const noexcept {
        detail::encode_double(value_at, value);
        detail::copy_small(value_at + 9, sample_ + 12, sample_size_ - 12);
    }

    void write_histogram(labels_view labels, std::span<const double> bounds, std::span<const std::uint64_t> counts,
                         double sum, std::span<const exemplar_view> exemplars) {
        prepare_le_labels(bounds);
        std::uint64_t cumulative = 0;
        encode_labels(labels, true);
        for (std::size_t i = 0; i < counts.size(); ++i) {
            cumulative += counts[i];
            const std::string_view le = le_labels_[std::min(i, bounds.size())];
            const exemplar_view* x = i < exemplars.size() && exemplars[i].present() ? &exemplars[i] : nullptr;
            float_series(name_labels_[bucket], le, static_cast<double>(cumulative), x);
        }
        encode_labels(labels, false);
        float_series(name_labels_[sum_], {}, sum, nullptr);
        float_series(name_labels_[count], {}, static_cast<double>(cumulative), nullptr);
    }

    void write_native_histogram(labels_view labels, const native_histogram_view& h, std::span<const double> bounds,
                                std::span<const std::uint64_t> counts, std::span<const exemplar_view> exemplars) {
        const bool classic = !counts.empty();
        if (classic) write_histogram(labels, bounds, counts, h.sum, exemplars);
        encode_labels(labels, false);
        const std::size_t ts = w_.begin_message(1);
        write_labels(w_.extend(labels_size(name_labels_[plain], {})), name_labels_[plain], {});
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

    enum suffix_index : std::size_t { plain, bucket, sum_, count };
    static constexpr std::string_view suffixes[] = {"", "_bucket", "_sum", "_count"};
    static constexpr std::size_t none = static_cast<std::size_t>(-1);

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

    // The series' Label messages in their order into block_, with the places of
    // the __name__ and (when `le`) le labels, which each sample fills in.
    void encode_labels(labels_view labels, bool le) {
        using kind = detail::remote_write_label_order::kind;
        block_.clear();
        name_at_ = le_at_ = none;
        std::string_view last;
        bool any = false;
        for (const auto& e : order_.order(labels.names, le)) {
            const std::string_view name = order_.name_of(e, labels.names);
            std::string_view value;
            if (e.what == kind::own) value = labels.values[e.index];
            else if (e.what == kind::external) value = external_[e.index].second;
            if ((e.what == kind::own && value.empty()) || (any && name == last)) continue;
            any = true;
            last = name;
            if (e.what == kind::name) name_at_ = block_.size();
            else if (e.what == kind::le) le_at_ = block_.size();
            else detail::basic_proto_writer<detail::byte_buffer>{block_}.string_pair_field(1, 1, name, 2, value);
        }
    }

    // A Label message (field 1 of a TimeSeries or an Exemplar), encoded.
    static std::string encoded_label(std::string_view name, std::string_view value) {
        std::string bytes(writer::pair_size(1, 1, name.size(), 2, value.size()), '\0');
        writer::write_pair(bytes.data(), 1, 1, name, 2, value);
        return bytes;
    }

    // The `le` labels of the family's buckets, +Inf last, kept while the bounds stay the same.
    void prepare_le_labels(std::span<const double> bounds) {
        if (bounds.size() == le_bounds_.size() &&
            (bounds.empty() || std::memcmp(bounds.data(), le_bounds_.data(), bounds.size() * sizeof(double)) == 0))
            return;
        le_bounds_.assign(bounds.begin(), bounds.end());
        le_labels_.clear();
        char le[detail::number_buffer_size];
        for (const double b : bounds) {
            // Through a std::string: copy_piece's 16-byte moves made GCC 12 warn about
            // reading past the stack buffer (-Warray-bounds), which they never do.
            const std::string text(le, detail::format_canonical(le, b));
            le_labels_.push_back(encoded_label("le", text));
        }
        le_labels_.push_back(encoded_label("le", "+Inf"));
    }

    // Bytes of the series' labels with these encoded __name__ and le labels (le empty: none).
    std::size_t labels_size(std::string_view name, std::string_view le) const noexcept {
        return block_.size() + name.size() + (le_at_ != none ? le.size() : 0);
    }
    char* write_labels(char* p, std::string_view name, std::string_view le) const noexcept {
        const std::string_view b = block_.view();
        const bool with_le = le_at_ != none && !le.empty();
        const std::size_t cut = with_le ? le_at_ : b.size();
        p = detail::copy_piece(p, b.substr(0, name_at_));
        p = detail::copy_piece(p, name);
        p = detail::copy_piece(p, b.substr(name_at_, cut - name_at_));
        if (with_le) {
            p = detail::copy_piece(p, le);
            p = detail::copy_piece(p, b.substr(cut));
        }
        return p;
    }

    void float_series(std::string_view name, std::string_view le, double value, const exemplar_view* exemplar) {
        ++counts_.samples;
        const std::size_t labels = labels_size(name, le);
        if (exemplar) {  // rare: sized as it is written
            const std::size_t ts = w_.begin_message(1);
            write_sample(write_labels(w_.extend(labels + sample_size_), name, le), value);
            write_exemplar(*exemplar);
            return w_.end_message(ts);
        }
        const std::size_t body = labels + sample_size_;
        char* p = w_.extend(1 + detail::varint_size(body) + body);
        *p++ = 0x0A;  // WriteRequest.timeseries (1), length-delimited
        p += detail::encode_varint(p, body);
        p = write_labels(p, name, le);
        write_sample(p, value);
        if (cache_) cache_->add_sample(static_cast<std::size_t>(p + 3 - w_.buffer().data()));
    }

    void write_sample(char* p, double value) const noexcept {
        std::memcpy(p, sample_, sample_size_);
        detail::encode_double(p + 3, value);
    }

    void write_exemplar(const exemplar_view& x) {
        const std::size_t e = w_.begin_message(3);
        for (std::size_t i = 0; i < x.names.size(); ++i) w_.string_pair_field(1, 1, x.names[i], 2, x.values[i]);
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

    detail::byte_buffer own_;  // the message, for the std::string constructor
    std::string* text_out_ = nullptr;
    writer w_;
    std::int64_t timestamp_ms_;
    std::span<const remote_write_label> external_;
    detail::remote_write_label_order order_;
    bool metadata_;
    remote_write_counts counts_;
    std::string names_[std::size(suffixes)];        // the family's sample names, by suffix
    std::string name_labels_[std::size(suffixes)];  // and their __name__ labels, encoded
    std::vector<double> le_bounds_;
    std::vector<std::string> le_labels_;
    detail::byte_buffer block_;                // the series' labels but __name__ and le
    std::size_t name_at_ = none, le_at_ = none;
    char sample_[24];
    std::size_t sample_size_ = 0;
    remote_write_cache* cache_ = nullptr;
    bool finished_ = false;
};

static_assert(encoder<remote_write_encoder>);

}  // namespace llmetrics

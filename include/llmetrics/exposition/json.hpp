#pragma once
// JSON exposition (content type `application/json`). One document, no
// whitespace between tokens, a newline at the end:
//
//   {"families":[
//     {"name":"llm_router_http_requests_total",    names as in Prometheus text:
//      "type":"counter",                             counters keep `_total`, info
//      "help":"Total number of HTTP requests",       families end in `_info`
//      "unit":"seconds",                             only when one is declared
//      "series":[
//        {"labels":{"method":"GET","tenant_id":"a"},"value":42},
//        ...]},
//     {"name":"llm_router_request_duration_seconds","type":"histogram","help":"...",
//      "series":[
//        {"labels":{"route":"/chat"},
//         "buckets":[{"le":"0.1","count":1},{"le":"1.0","count":3},{"le":"+Inf","count":4}],
//         "sum":2.75,"count":4}]}]}
//
// - "type" is one of counter, gauge, histogram, info, unknown.
// - Families and series come in the same order as in the text formats; labels
//   keep their declared order.
// - Values are JSON numbers: counters that only saw integer increments as exact
//   integers (past 2^53 too), everything else as the shortest text that reads
//   back as the same double. JSON has no NaN or infinities, so those values
//   are the strings "NaN", "+Inf" and "-Inf" instead.
// - Bucket counts are cumulative, the last bucket is "+Inf", and "count"
//   equals it; "le" is a string in the canonical spelling of detail/number_format.hpp.
// - Strings are escaped as RFC 8259 requires (`\"`, `\\`, \n \r \t \b \f and
//   \u00XX for the other control characters); everything else is UTF-8 as is.
// - A native histogram adds its native buckets (after the classic "buckets" of a
//   family that has both; native-only: no "buckets"), then "sum" and "count"
//   (zero, bucket and NaN observations):
//     {"labels":{...},"native":{"schema":3,"zero_threshold":2.938735877055719e-39,
//      "zero_count":1,"positive":[{"index":-5,"count":2},{"index":12,"count":1}],
//      "negative":[]},"sum":3.5,"count":4}
//   "index" i is the bucket (b^(i-1), b^i] with b = 2^(2^-schema) ([-b^i, -b^(i-1))
//   in "negative"), ascending; "count" is that bucket's own (not cumulative) count;
//   only buckets the histogram holds are listed (empty ones may be among them).
// - Units show as "unit"; created timestamps and exemplars are left out.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "../core/encoder.hpp"
#include "detail/buffered_output.hpp"
#include "detail/json_text.hpp"
#include "detail/number_format.hpp"
#include "detail/text_lines.hpp"
#include "output.hpp"

namespace llmetrics {

template <text_output Out>
class json_encoder {
public:
    explicit json_encoder(Out& out) noexcept : out_(&out) {}

    void begin_family(const family_header& h) {
        detail::put(*out_, families_ == 0 ? "{\"families\":[" : ",");
        ++families_;
        series_ = 0;
        detail::put(*out_, "{\"name\":\"");
        if (h.type == metric_type::info) {
            detail::write_json_chars(*out_, detail::info_base_name(h.name));
            detail::put(*out_, "_info");
        } else {
            detail::write_json_chars(*out_, h.name);
        }
        detail::put(*out_, "\",\"type\":\"");
        detail::put(*out_, to_string(h.type));
        detail::put(*out_, "\",\"help\":");
        detail::write_json_string(*out_, h.help);
        if (!h.unit.empty()) {
            detail::put(*out_, ",\"unit\":");
            detail::write_json_string(*out_, h.unit);
        }
        detail::put(*out_, ",\"series\":[");
    }

    void counter(labels_view labels, counter_value value, double /*created*/, const exemplar_view* /*exemplar*/) {
        begin_series(labels);
        detail::put(*out_, ",\"value\":");
        if (value.fractional == 0)
            detail::write_uint(*out_, value.integral);
        else
            detail::write_json_number(*out_, detail::counter_as_double(value));
        detail::put(*out_, '}');
    }

    void gauge(labels_view labels, double value) {
        begin_series(labels);
        detail::put(*out_, ",\"value\":");
        detail::write_json_number(*out_, value);
        detail::put(*out_, '}');
    }

    void histogram(labels_view labels, std::span<const double> bounds, std::span<const std::uint64_t> counts,
                   double sum, double /*created*/, std::span<const exemplar_view> /*exemplars*/) {
        begin_series(labels);
        const std::uint64_t total = write_buckets(bounds, counts);
        write_sum_count(sum, total);
    }

    void native_histogram(labels_view labels, const native_histogram_view& h, std::span<const double> bounds,
                          std::span<const std::uint64_t> counts, double /*created*/,
                          std::span<const exemplar_view> /*exemplars*/) {
        begin_series(labels);
        if (!counts.empty()) write_buckets(bounds, counts);
        detail::put(*out_, ",\"native\":{\"schema\":");
        detail::write_int(*out_, h.schema);
        detail::put(*out_, ",\"zero_threshold\":");
        detail::write_json_number(*out_, h.zero_threshold);
        detail::put(*out_, ",\"zero_count\":");
        detail::write_uint(*out_, h.zero_count);
        detail::put(*out_, ",\"positive\":");
        write_native_buckets(h.positive_spans, h.positive_counts);
        detail::put(*out_, ",\"negative\":");
        write_native_buckets(h.negative_spans, h.negative_counts);
        detail::put(*out_, '}');
        write_sum_count(h.sum, h.count);
    }

    void end_family() { detail::put(*out_, "]}"); }

    void finish() { detail::put(*out_, families_ == 0 ? "{\"families\":[]}\n" : "]}\n"); }

private:
    // `"buckets":[...]` (cumulative, ending with +Inf); returns the total count.
    std::uint64_t write_buckets(std::span<const double> bounds, std::span<const std::uint64_t> counts) {
        detail::put(*out_, ",\"buckets\":[");
        const bool cached = le_.prepare(bounds);
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i <= bounds.size(); ++i) {
            cumulative += i < counts.size() ? counts[i] : 0;
            detail::put(*out_, i == 0 ? "{\"le\":\"" : ",{\"le\":\"");
            if (i == bounds.size()) detail::put(*out_, "+Inf");
            else if (cached) detail::put(*out_, le_[i]);
            else detail::write_canonical(*out_, bounds[i]);
            detail::put(*out_, "\",\"count\":");
            detail::write_uint(*out_, cumulative);
            detail::put(*out_, '}');
        }
        detail::put(*out_, ']');
        return cumulative;
    }

    void write_sum_count(double sum, std::uint64_t count) {
        detail::put(*out_, ",\"sum\":");
        detail::write_json_number(*out_, sum);
        detail::put(*out_, ",\"count\":");
        detail::write_uint(*out_, count);
        detail::put(*out_, '}');
    }

    // `[{"index":i,"count":c},...]`, the index walked along the spans.
    void write_native_buckets(std::span<const native_bucket_span> spans, std::span<const std::uint64_t> counts) {
        detail::put(*out_, '[');
        std::int64_t index = 0;
        std::size_t at = 0;
        for (std::size_t s = 0; s < spans.size(); ++s) {
            index += spans[s].offset;
            for (std::uint32_t k = 0; k < spans[s].length && at < counts.size(); ++k, ++index, ++at) {
                detail::put(*out_, at == 0 ? "{\"index\":" : ",{\"index\":");
                detail::write_int(*out_, index);
                detail::put(*out_, ",\"count\":");
                detail::write_uint(*out_, counts[at]);
                detail::put(*out_, '}');
            }
        }
        detail::put(*out_, ']');
    }

    void begin_series(labels_view labels) {
        detail::put(*out_, series_++ == 0 ? "{\"labels\":{" : ",{\"labels\":{");
        for (std::size_t i = 0; i < labels.names.size(); ++i) {
            if (i != 0) detail::put(*out_, ',');
            detail::write_json_string(*out_, labels.names[i]);
            detail::put(*out_, ':');
            detail::write_json_string(*out_, labels.values[i]);
        }
        detail::put(*out_, '}');
    }

    Out* out_;
    detail::le_cache le_;
    std::size_t families_ = 0;
    std::size_t series_ = 0;
};

}  // namespace llmetrics

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
        detail::put(*out_, "],\"sum\":");
        detail::write_json_number(*out_, sum);
        detail::put(*out_, ",\"count\":");
        detail::write_uint(*out_, cumulative);
        detail::put(*out_, '}');
    }

    void native_histogram(labels_view labels, const native_histogram_view& h, std::span<const double> bounds,
                          std::span<const std::uint64_t> counts, double created,
                          std::span<const exemplar_view> exemplars) {
        detail::native_as_classic(*this, labels, h, bounds, counts, created, exemplars);
    }

    void end_family() { detail::put(*out_, "]}"); }

    void finish() { detail::put(*out_, families_ == 0 ? "{\"families\":[]}\n" : "]}\n"); }

private:
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

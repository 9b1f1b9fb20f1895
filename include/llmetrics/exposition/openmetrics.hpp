#pragma once
// OpenMetrics 1.0 text format
// (content type `application/openmetrics-text; version=1.0.0; charset=utf-8`).
//
//   # TYPE <family> counter|gauge|histogram|info|unknown
//   # UNIT <family> <unit>                      (when declared; never for info)
//   # HELP <family> <help, with \ " and newline escaped>
//   <family>_total{...} 42                     counters: the family name has no `_total`
//   <family>_created{...} 1700000000.25        when the creation time is known
//   ...
//   # EOF
//
// Exemplars (core/encoder.hpp) follow the `_total` line of a counter and the
// bucket line they fell into: `... 7 # {trace_id="abc"} 0.35 1700000000.5`.
// Info families are named without the `_info` suffix (a trailing `_info` is
// taken off) and always show the value 1.
// Histograms: cumulative `_bucket` lines (canonical `le`, ending with +Inf), then
// `_sum` and `_count`, then `_created`. The spec treats `_sum` as a counter, so a
// histogram with a negative bound, or whose sum is negative or NaN, shows only
// its buckets (the +Inf bucket still carries the count): `_sum` and `_count`
// appear together or not at all.

#include <cmath>
#include <cstdint>
#include <span>
#include <string_view>

#include "../core/encoder.hpp"
#include "detail/buffered_output.hpp"
#include "detail/number_format.hpp"
#include "detail/text_lines.hpp"
#include "output.hpp"

namespace llmetrics {

template <text_output Out>
class openmetrics_encoder {
public:
    explicit openmetrics_encoder(Out& out) noexcept : out_(&out) {}

    void begin_family(const family_header& h) {
        type_ = h.type;
        name_ = h.name;
        if (h.type == metric_type::counter && name_.ends_with("_total"))
            name_.remove_suffix(sizeof("_total") - 1);
        if (h.type == metric_type::info) name_ = detail::info_base_name(name_);
        write_meta("TYPE", to_string(h.type));
        if (!h.unit.empty() && h.type != metric_type::info) write_meta("UNIT", h.unit);
        if (!h.help.empty()) {
            detail::put(*out_, "# HELP ");
            detail::put(*out_, name_);
            detail::put(*out_, ' ');
            detail::write_escaped(*out_, h.help, true);
            detail::put(*out_, '\n');
        }
    }

    void counter(labels_view labels, counter_value value, double created, const exemplar_view* exemplar) {
        if (std::isnan(created)) {
            detail::write_sample_start(*out_, name_, "_total", labels);
            detail::write_counter(*out_, value);
            if (exemplar) write_exemplar(*exemplar);
            detail::put(*out_, '\n');
            return;
        }
        const detail::series_labels escaped{labels};
        detail::write_sample_start(*out_, name_, "_total", escaped);
        detail::write_counter(*out_, value);
        if (exemplar) write_exemplar(*exemplar);
        detail::put(*out_, '\n');
        write_created(escaped, created);
    }

    void gauge(labels_view labels, double value) {
        if (type_ == metric_type::info) {
            detail::write_sample_start(*out_, name_, "_info", labels);
            detail::put(*out_, "1\n");  // the spec allows no other value
            return;
        }
        detail::write_sample_start(*out_, name_, "", labels);
        detail::write_double(*out_, value);
        detail::put(*out_, '\n');
    }

    // `exemplars`: one per bucket (bounds.size() + 1, +Inf last), or empty.
    void histogram(labels_view labels, std::span<const double> bounds, std::span<const std::uint64_t> counts,
                   double sum, double created, std::span<const exemplar_view> exemplars) {
        const detail::series_labels escaped{labels};
        const std::uint64_t total =
            detail::write_buckets(*out_, le_, name_, escaped, bounds, counts, [&](std::size_t bucket) {
                if (bucket < exemplars.size()) write_exemplar(exemplars[bucket]);
            });
        const bool negative_buckets = !bounds.empty() && bounds.front() < 0;
        if (!negative_buckets && sum >= 0) {  // false for NaN too
            detail::write_sample_start(*out_, name_, "_sum", escaped);
            detail::write_double(*out_, sum);
            detail::put(*out_, '\n');
            detail::write_sample_start(*out_, name_, "_count", escaped);
            detail::write_uint(*out_, total);
            detail::put(*out_, '\n');
        }
        write_created(escaped, created);
    }

    void native_histogram(labels_view labels, const native_histogram_view& h, std::span<const double> bounds,
                          std::span<const std::uint64_t> counts, double created,
                          std::span<const exemplar_view> exemplars) {
        detail::native_as_classic(*this, labels, h, bounds, counts, created, exemplars);
    }

    void end_family() noexcept {}

    void finish() { detail::put(*out_, "# EOF\n"); }

private:
    void write_meta(std::string_view keyword, std::string_view text) {
        detail::put(*out_, "# ");
        detail::put(*out_, keyword);
        detail::put(*out_, ' ');
        detail::put(*out_, name_);
        detail::put(*out_, ' ');
        detail::put(*out_, text);
        detail::put(*out_, '\n');
    }

    void write_exemplar(const exemplar_view& e) {
        if (!e.present()) return;
        detail::put(*out_, " # {");
        detail::write_label_pairs(*out_, labels_view{e.names, e.values});
        detail::put(*out_, "} ");
        detail::write_double(*out_, e.value);
        if (!std::isnan(e.timestamp)) {
            detail::put(*out_, ' ');
            detail::write_timestamp(*out_, e.timestamp);
        }
    }

    void write_created(const detail::series_labels& labels, double created) {
        if (std::isnan(created)) return;
        detail::write_sample_start(*out_, name_, "_created", labels);
        detail::write_timestamp(*out_, created);
        detail::put(*out_, '\n');
    }

    Out* out_;
    detail::le_cache le_;
    std::string_view name_;
    metric_type type_ = metric_type::gauge;
};

}  // namespace llmetrics

#pragma once
// Prometheus text exposition format 0.0.4
// (content type `text/plain; version=0.0.4; charset=utf-8`).
//
//   # HELP <name> <help, with \ and newline escaped>
//   # TYPE <name> counter|gauge|histogram|untyped
//   <name>{<label>="<value, with \ " and newline escaped>",...} <value>
//
// Counters keep their `_total` name; info families become a gauge named
// `<name>_info` (the suffix is not doubled when the name has it already);
// unknown families are `untyped`. Histogram bounds use the
// canonical spelling of detail/number_format.hpp (`le="1.0"`, `le="0.25"`, `le="+Inf"`).
// The format has no units, no created timestamps and no exemplars, so all
// three are left out.

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
class prometheus_text_encoder {
public:
    explicit prometheus_text_encoder(Out& out) noexcept : out_(&out) {}

    void begin_family(const family_header& h) {
        name_ = h.type == metric_type::info ? detail::info_base_name(h.name) : h.name;
        suffix_ = h.type == metric_type::info ? "_info" : "";
        if (!h.help.empty()) {
            detail::put(*out_, "# HELP ");
            write_name();
            detail::put(*out_, ' ');
            detail::write_escaped(*out_, h.help, false);
            detail::put(*out_, '\n');
        }
        detail::put(*out_, "# TYPE ");
        write_name();
        detail::put(*out_, ' ');
        detail::put(*out_, type_name(h.type));
        detail::put(*out_, '\n');
    }

    void counter(labels_view labels, counter_value value, double /*created*/, const exemplar_view* /*exemplar*/) {
        detail::write_sample_start(*out_, name_, suffix_, labels);
        detail::write_counter(*out_, value);
        detail::put(*out_, '\n');
    }

    void gauge(labels_view labels, double value) {
        detail::write_sample_start(*out_, name_, suffix_, labels);
        detail::write_double(*out_, value);
        detail::put(*out_, '\n');
    }

    void histogram(labels_view labels, std::span<const double> bounds, std::span<const std::uint64_t> counts,
                   double sum, double /*created*/, std::span<const exemplar_view> /*exemplars*/) {
        const detail::series_labels escaped{labels};
        const std::uint64_t total = detail::write_buckets(*out_, le_, name_, escaped, bounds, counts);
        detail::write_sample_start(*out_, name_, "_sum", escaped);
        detail::write_double(*out_, sum);
        detail::put(*out_, '\n');
        detail::write_sample_start(*out_, name_, "_count", escaped);
        detail::write_uint(*out_, total);
        detail::put(*out_, '\n');
    }

    void native_histogram(labels_view labels, const native_histogram_view& h, std::span<const double> bounds,
                          std::span<const std::uint64_t> counts, double created,
                          std::span<const exemplar_view> exemplars) {
        detail::native_as_classic(*this, labels, h, bounds, counts, created, exemplars);
    }

    void end_family() noexcept {}
    void finish() noexcept {}

private:
    static constexpr std::string_view type_name(metric_type t) noexcept {
        switch (t) {
        case metric_type::counter: return "counter";
        case metric_type::histogram: return "histogram";
        case metric_type::gauge:
        case metric_type::info: return "gauge";
        case metric_type::unknown: break;
        }
        return "untyped";
    }

    void write_name() {
        detail::put(*out_, name_);
        detail::put(*out_, suffix_);
    }

    Out* out_;
    detail::le_cache le_;
    std::string_view name_;
    std::string_view suffix_;
};

}  // namespace llmetrics

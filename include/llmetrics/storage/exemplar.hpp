#pragma once
// OpenMetrics exemplars: a sample of the label set (usually a trace id) behind a
// counter increment or a histogram observation.
//
//     requests.inc(lm::exemplar{{{"trace_id", trace}}});
//     latency.observe(0.42, lm::exemplar{{{"trace_id", trace}}});
//
// Each counter series keeps its latest exemplar, each histogram bucket its own.
// Storage is allocated the first time a series gets one, so a series that never
// sees an exemplar costs one null pointer. Recording is wait-free: a seqlock
// whose writer gives up (drops the exemplar) when another writer holds it; the
// text is kept in atomic words so a concurrent scrape never reads torn bytes
// (it retries, then leaves the exemplar out of that scrape).
//
// Limits: OpenMetrics allows 128 code points of label names and values in all;
// llmetrics also caps the encoded label set at 240 bytes and 8 labels. Exemplars
// over a limit, or with invalid label names, are dropped and counted as rejected.

#include <cstddef>
#include <initializer_list>
#include <limits>
#include <string_view>

namespace llmetrics {

inline constexpr std::size_t max_exemplar_code_points = 128;
inline constexpr std::size_t max_exemplar_bytes = 240;
inline constexpr std::size_t max_exemplar_labels = 8;

struct exemplar_label {
    std::string_view name;
    std::string_view value;
};

// What a handle is given: labels, and a timestamp (unix seconds; NaN = "now").
struct exemplar {
    std::initializer_list<exemplar_label> labels;
    double timestamp = std::numeric_limits<double>::quiet_NaN();
};

}  // namespace llmetrics

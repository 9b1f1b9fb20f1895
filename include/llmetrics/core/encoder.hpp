#pragma once
// The encoder protocol: the calls every exposition format receives, from
// compile-time families streamed out of storage and from collector snapshots
// alike. An encoder sees families in their final order and each family's series
// in a stable order.
//
//   e.begin_family(const family_header&);
//   e.counter(labels_view, counter_value, double created,           // created: NaN if unknown
//             const exemplar_view* exemplar);                       // null when none
//   e.gauge(labels_view, double value);                             // gauge, info, unknown
//   e.histogram(labels_view, std::span<const double> bounds,        // finite, increasing
//               std::span<const std::uint64_t> counts,              // per bucket, bounds.size()+1, not cumulative
//               double sum, double created,
//               std::span<const exemplar_view> exemplars);          // one per bucket (+Inf last), or empty
//   e.native_histogram(labels_view, const native_histogram_view&,   // core/sample.hpp
//               std::span<const double> bounds,                     // the classic part of a family that
//               std::span<const std::uint64_t> counts,              //   has both (as for histogram());
//                                                                   //   both empty for a native-only one
//               double created,                                     // the start timestamp: moves on reset
//               std::span<const exemplar_view> exemplars);          // classic part: one per bucket, or empty;
//                                                                   //   native-only: any number, timestamped
//   e.end_family();
//   e.finish();                                                     // once, after the last family
//
// Every encoder takes the exemplar arguments; a format without exemplars ignores
// them, and an exemplar_view that is not present() stands for "none in this
// bucket". Label values given to an encoder are valid UTF-8; escaping is the
// encoder's job. The strings a family_header and a labels_view point to stay valid
// until the matching end_family(); those of an exemplar_view for the call only.

#include <concepts>
#include <cstdint>
#include <span>

#include "sample.hpp"

namespace llmetrics {

template <class E>
concept encoder = requires(E& e, const family_header& h, labels_view l, counter_value c,
                           std::span<const double> b, std::span<const std::uint64_t> n, double d,
                           const exemplar_view* x, std::span<const exemplar_view> xs,
                           const native_histogram_view& nh) {
    e.begin_family(h);
    e.counter(l, c, d, x);
    e.gauge(l, d);
    e.histogram(l, b, n, d, d, xs);
    e.native_histogram(l, nh, b, n, d, xs);
    e.end_family();
    e.finish();
};

}  // namespace llmetrics

#pragma once
// The spelling of bucket bounds and quantiles that every format writes (the
// OpenMetrics canonical form, see detail/number_format.hpp): 0.0 0.25 1.0 1e+06.

#include <string>

#include "detail/number_format.hpp"

namespace llmetrics {

// The spelling of a bucket bound or quantile in every format llmetrics writes:
// use it to build alert rules and dashboards that
// match `le` label values byte for byte.
inline std::string canonical_number(double v) {
    char buf[detail::number_buffer_size];
    return std::string(buf, detail::format_canonical(buf, v));
}

}  // namespace llmetrics

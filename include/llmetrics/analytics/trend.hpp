#pragma once
// The trend of a series of samples: compare the average of the second half with
// the average of the first half (the first half has floor(n/2) samples).
//
//   change = (second - first) / |first|
//   change > +threshold -> increasing, change < -threshold -> decreasing, else stable
//
// Fixes against the tutorial: the caller names the field the trend is computed
// on (the tutorial took "the second field of the object"); dividing by |first|
// keeps the direction right for negative averages; and a zero first-half average
// is defined, not a division by zero: the trend follows the sign of the second
// half (positive: increasing, negative: decreasing, zero: stable). Fewer than two
// samples, and non-finite samples (skipped), cannot make a trend. The rule is in
// detail/compute_trend.hpp.

#include <string_view>

namespace llmetrics {

enum class trend { stable, increasing, decreasing };

constexpr std::string_view to_string(trend t) noexcept {
    switch (t) {
    case trend::increasing: return "increasing";
    case trend::decreasing: return "decreasing";
    case trend::stable: break;
    }
    return "stable";
}

}  // namespace llmetrics

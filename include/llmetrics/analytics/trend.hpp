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
// samples, and non-finite samples (skipped), cannot make a trend.

#include <cmath>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

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

inline constexpr double default_trend_threshold = 0.1;

inline trend compute_trend(std::span<const double> samples,
                           double threshold = default_trend_threshold) {
    std::vector<double> v;
    v.reserve(samples.size());
    for (double x : samples)
        if (std::isfinite(x)) v.push_back(x);
    if (v.size() < 2) return trend::stable;

    const std::size_t half = v.size() / 2;
    double first = 0, second = 0;
    for (std::size_t i = 0; i < half; ++i) first += v[i];
    for (std::size_t i = half; i < v.size(); ++i) second += v[i];
    first /= static_cast<double>(half);
    second /= static_cast<double>(v.size() - half);

    if (first == 0.0) {
        if (second > 0.0) return trend::increasing;
        if (second < 0.0) return trend::decreasing;
        return trend::stable;
    }
    const double change = (second - first) / std::fabs(first);
    if (change > threshold) return trend::increasing;
    if (change < -threshold) return trend::decreasing;
    return trend::stable;
}

}  // namespace llmetrics

#pragma once
// The trend rule of trend.hpp: the average of the second half of the samples
// against the average of the first half.

#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "../trend.hpp"

namespace llmetrics::detail {

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

}  // namespace llmetrics::detail

#pragma once
// Statistics over a window of samples, shared by the scheduling-lag collector
// (its standard deviation) and the analytics user tracker (its satisfaction score).

#include <cstddef>
#include <span>

namespace llmetrics::detail {

// Population variance (divides by n, the window is the whole population); 0
// for an empty span. Sums in the order given.
inline double population_variance(std::span<const double> xs) noexcept {
    if (xs.empty())
        return 0;
    double mean = 0;
    for (const double x : xs)
        mean += x;
    mean /= static_cast<double>(xs.size());
    double sum = 0;
    for (const double x : xs)
        sum += (x - mean) * (x - mean);
    return sum / static_cast<double>(xs.size());
}

}  // namespace llmetrics::detail

#pragma once
// The metric types llmetrics stores and exposes.

#include <string_view>

namespace llmetrics {

enum class metric_type { counter, gauge, histogram, info, unknown };

constexpr std::string_view to_string(metric_type type) noexcept {
    switch (type) {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
    case metric_type::histogram: return "histogram";
    case metric_type::info: return "info";
    case metric_type::unknown: break;
    }
    return "unknown";
}

}  // namespace llmetrics

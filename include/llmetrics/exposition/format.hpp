#pragma once
// The exposition formats llmetrics writes, and the HTTP content type of each.

#include <string_view>

namespace llmetrics {

enum class format { prometheus, openmetrics, json };

constexpr std::string_view content_type(format f) noexcept {
    switch (f) {
    case format::openmetrics: return "application/openmetrics-text; version=1.0.0; charset=utf-8";
    case format::json: return "application/json";
    case format::prometheus: break;
    }
    return "text/plain; version=0.0.4; charset=utf-8";
}

constexpr std::string_view to_string(format f) noexcept {
    switch (f) {
    case format::openmetrics: return "openmetrics";
    case format::json: return "json";
    case format::prometheus: break;
    }
    return "prometheus";
}

}  // namespace llmetrics

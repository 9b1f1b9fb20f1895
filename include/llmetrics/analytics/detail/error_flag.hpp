#pragma once
// Whether an interaction's metadata marks it as an error: it has an "error"
// member that is truthy in the JavaScript sense the tutorial relies on (true, a
// non-zero number, a non-empty string, or any object or array; false, 0, "" and
// null are not errors). See user_tracker.hpp.

#include <cmath>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace llmetrics::detail {

inline bool is_error_flag(const nlohmann::json& metadata) {
    if (!metadata.is_object()) return false;
    auto it = metadata.find("error");
    if (it == metadata.end()) return false;
    const nlohmann::json& e = *it;
    if (e.is_boolean()) return e.get<bool>();
    if (e.is_number_float()) {
        const double d = e.get<double>();
        return d != 0 && !std::isnan(d);
    }
    if (e.is_number()) return e.get<std::int64_t>() != 0;
    if (e.is_string()) return !e.get_ref<const std::string&>().empty();
    return e.is_object() || e.is_array() || e.is_binary();
}

}  // namespace llmetrics::detail

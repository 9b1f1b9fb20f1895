#pragma once
// The Pushgateway's grouping key as a URL path: `/metrics/job/<job>{/<label>/<value>}`,
// with values that are not plain URL text in the `@base64` form (RFC 4648 URL-safe).

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../core/detail/name_rules.hpp"
#include "base64.hpp"

namespace llmetrics {

using grouping_labels = std::vector<std::pair<std::string, std::string>>;

namespace detail {

inline bool is_url_unreserved(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

// One `<name>/<value>` path element pair of a grouping key.
inline void append_grouping_pair(std::string& path, std::string_view name, std::string_view value) {
    bool plain = !value.empty() && value != "." && value != "..";
    for (const char c : value) plain = plain && is_url_unreserved(c);
    path += '/';
    path += name;
    if (plain) {
        path += '/';
        path += value;
    } else {
        path += "@base64/";
        path += value.empty() ? std::string("=") : base64_encode(value, base64_alphabet::url_safe);
    }
}

// `/metrics/job/<job>{/<label>/<value>}`; throws std::invalid_argument for an
// empty job, an invalid or reserved label name, or a label given twice.
inline std::string grouping_path(std::string_view job, const grouping_labels& grouping) {
    if (job.empty()) throw std::invalid_argument("llmetrics: a Pushgateway job name must not be empty");
    std::string path = "/metrics";
    append_grouping_pair(path, "job", job);
    for (std::size_t i = 0; i < grouping.size(); ++i) {
        const std::string& name = grouping[i].first;
        if (!is_valid_label_name(name) || name == "job" || name.starts_with("__"))
            throw std::invalid_argument("llmetrics: '" + name +
                                        "' cannot be a Pushgateway grouping label (use [a-zA-Z_][a-zA-Z0-9_]*, "
                                        "not `job`, not starting with `__`)");
        for (std::size_t j = 0; j < i; ++j)
            if (grouping[j].first == name)
                throw std::invalid_argument("llmetrics: grouping label '" + name + "' is given twice");
        append_grouping_pair(path, name, grouping[i].second);
    }
    return path;
}

}  // namespace detail
}  // namespace llmetrics

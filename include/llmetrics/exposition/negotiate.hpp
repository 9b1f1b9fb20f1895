#pragma once
// Picks an exposition format from an HTTP Accept header (RFC 9110 §12.5.1).
//
// Each format takes the quality of the most specific media range that matches
// it (`type/subtype;version=...` over `type/subtype` over `type/*` over `*/*`),
// and the highest quality above zero wins:
//   openmetrics   application/openmetrics-text, version 1.0.0 or no version
//                 (other versions, e.g. the 0.0.1 Prometheus also offers, do not match)
//   prometheus    text/plain, version 0.0.4 or no version
//   json          application/json
// Ties go to a format the header names explicitly, in the order openmetrics,
// prometheus, json; among formats reached only through a wildcard, to
// prometheus, so `*/*` (curl) gets Prometheus text. A missing header, one that
// matches nothing, or q=0 everywhere also gets Prometheus text, which every
// scraper reads. Types and parameter names are case-insensitive, whitespace is
// tolerated, a malformed media range is skipped, and nothing throws.

#include <cmath>
#include <cstddef>
#include <string_view>

#include "detail/http_tokens.hpp"
#include "format.hpp"

namespace llmetrics {
namespace detail {

struct media_range {
    std::string_view type, subtype;
    std::string_view version;  // unquoted value without escapes; empty when absent
    bool has_version = false;
    double q = 1.0;
};

// Parses one media range; false when it is malformed.
inline bool parse_media_range(std::string_view text, media_range& r) noexcept {
    std::size_t semi = find_unquoted(text, ';');
    const std::string_view type = trim_http(text.substr(0, semi));
    if (type == "*") {  // old clients send a bare `*`
        r.type = r.subtype = "*";
    } else {
        const std::size_t slash = type.find('/');
        if (slash == std::string_view::npos) return false;
        r.type = trim_http(type.substr(0, slash));
        r.subtype = trim_http(type.substr(slash + 1));
        if (!is_token(r.type) || !is_token(r.subtype)) return false;
        if (r.type == "*" && r.subtype != "*") return false;
    }
    while (semi < text.size()) {
        text.remove_prefix(semi + 1);
        semi = find_unquoted(text, ';');
        const std::string_view param = trim_http(text.substr(0, semi));
        if (param.empty()) continue;
        const std::size_t eq = param.find('=');
        if (eq == std::string_view::npos) return false;
        const std::string_view name = trim_http(param.substr(0, eq));
        std::string_view value = trim_http(param.substr(eq + 1));
        if (!value.empty() && value.front() == '"') {
            if (value.size() < 2 || value.back() != '"') return false;  // unterminated
            value = value.substr(1, value.size() - 2);
        }
        if (iequals(name, "q")) {
            const double q = parse_qvalue(value);
            if (q < 0) return false;
            r.q = q;
        } else if (iequals(name, "version")) {
            r.version = value;
            r.has_version = true;
        }
    }
    return true;
}

// How specifically `r` names format `f`: 0 no match, 1 `*/*`, 2 `type/*`,
// 3 `type/subtype`, 4 `type/subtype;version=<the one we write>`.
inline int match_specificity(const media_range& r, format f) noexcept {
    std::string_view type = "application", subtype, version;
    switch (f) {
    case format::openmetrics: subtype = "openmetrics-text"; version = "1.0.0"; break;
    case format::prometheus: type = "text"; subtype = "plain"; version = "0.0.4"; break;
    case format::json: subtype = "json"; break;
    }
    if (r.type == "*") return 1;
    if (!iequals(r.type, type)) return 0;
    if (r.subtype == "*") return 2;
    if (!iequals(r.subtype, subtype)) return 0;
    if (!r.has_version || version.empty()) return 3;
    return r.version == version ? 4 : 0;
}

}  // namespace detail

inline format negotiate(std::string_view accept_header) noexcept {
    constexpr format formats[] = {format::openmetrics, format::prometheus, format::json};
    double quality[3] = {0, 0, 0};
    int specificity[3] = {0, 0, 0};
    while (!accept_header.empty()) {
        const std::size_t comma = detail::find_unquoted(accept_header, ',');
        const std::string_view part = detail::trim_http(accept_header.substr(0, comma));
        accept_header.remove_prefix(comma < accept_header.size() ? comma + 1 : comma);
        detail::media_range r;
        if (part.empty() || !detail::parse_media_range(part, r)) continue;
        for (int i = 0; i < 3; ++i) {
            const int s = detail::match_specificity(r, formats[i]);
            if (s == 0 || s < specificity[i]) continue;
            if (s > specificity[i] || r.q > quality[i]) quality[i] = r.q;
            specificity[i] = s;
        }
    }
    // Explicitly named formats first (openmetrics, prometheus, json), then the
    // wildcard-only ones (prometheus, openmetrics, json); strictly higher q wins.
    constexpr int order[] = {0, 1, 2};
    constexpr int wildcard_order[] = {1, 0, 2};
    int best = -1;
    for (const bool explicit_pass : {true, false}) {
        for (const int i : explicit_pass ? order : wildcard_order) {
            if ((specificity[i] >= 3) != explicit_pass || quality[i] <= 0) continue;
            if (best < 0 || quality[i] > quality[best]) best = i;
        }
    }
    return best < 0 ? format::prometheus : formats[best];
}

}  // namespace llmetrics

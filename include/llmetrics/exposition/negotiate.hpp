#pragma once
// Picks an exposition format from an HTTP Accept header (RFC 9110 §12.5.1).
//
// Each format takes the quality of the most specific media range that matches
// it (`type/subtype;version=...` over `type/subtype` over `type/*` over `*/*`),
// and the highest quality above zero wins. Media types come from the format
// table (format.hpp):
//   openmetrics    application/openmetrics-text, version 1.0.0 or no version
//                  (other versions, e.g. the 0.0.1 Prometheus also offers, do not match)
//   prometheus     text/plain, version 0.0.4 or no version
//   prometheus_v1  text/plain, version 1.0.0 (Prometheus 3)
//   json           application/json
//   protobuf       application/vnd.google.protobuf, only with
//                  proto=io.prometheus.client.MetricFamily and encoding=delimited
// Anything else matches nothing and is never answered.
// Ties go to a format the header names explicitly, in the order openmetrics,
// prometheus, prometheus_v1, json, protobuf; among formats reached only through a
// wildcard, to prometheus, so `*/*` (curl) gets Prometheus text. A missing
// header, one that matches nothing, or q=0 everywhere also gets Prometheus
// text, which every scraper reads. The `escaping=` parameter of the range that
// chose the format is answered back (underscores when absent or unknown). Types
// and parameter names are case-insensitive, whitespace is tolerated, a
// malformed media range is skipped, and nothing throws.
//
// Prometheus' default Accept headers and what they get (tests/unit/test_negotiate.cpp):
//   2.42                 openmetrics  (q=1 for OpenMetrics 1.0.0)
//   2.42, native histograms on (--enable-feature=native-histograms): protobuf (q=1)
//   3.x                  openmetrics, escaping=allow-utf-8 (q=0.6)
//   3.x, native histograms or created timestamps: protobuf (q=0.6 against 0.5)

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
    std::string_view proto, encoding;  // protobuf's parameters; empty when absent
    bool has_escaping = false;  // a known `escaping=` value
    escaping_scheme escaping = escaping_scheme::underscores;
    double q = 1.0;
};

// A known `escaping=` value (Prometheus' names for them); false for others.
inline bool parse_escaping(std::string_view value, escaping_scheme& out) noexcept {
    for (const escaping_scheme e : {escaping_scheme::underscores, escaping_scheme::dots, escaping_scheme::values,
                                    escaping_scheme::allow_utf8}) {
        if (iequals(value, to_string(e))) {
            out = e;
            return true;
        }
    }
    return false;
}

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
        } else if (iequals(name, "proto")) {
            r.proto = value;
        } else if (iequals(name, "encoding")) {
            r.encoding = value;
        } else if (iequals(name, "escaping")) {
            r.has_escaping = parse_escaping(value, r.escaping);
        }
    }
    return true;
}

// How specifically `r` names the format of `Entry` (format.hpp): 0 no match,
// 1 `*/*`, 2 `type/*`, 3 `type/subtype`, 4 `type/subtype;version=<the one we write>`
// (for protobuf: with the proto= and encoding= we write, and nothing less).
template <class Entry>
int match_specificity(const media_range& r) noexcept {
    if (r.type == "*") return 1;
    if (!iequals(r.type, Entry::media_type)) return 0;
    if (r.subtype == "*") return 2;
    if (!iequals(r.subtype, Entry::media_subtype)) return 0;
    if constexpr (requires { Entry::media_proto; })
        return r.proto == Entry::media_proto && iequals(r.encoding, Entry::media_encoding) ? 4 : 0;
    if (!r.has_version || Entry::media_version.empty()) return 3;
    return r.version == Entry::media_version ? 4 : 0;
}

}  // namespace detail

// What negotiate_exposition() chose: the format and the `escaping=` scheme to
// name in the answer's content type (only formats that have it carry it).
struct exposition_choice {
    format fmt = format::prometheus;
    escaping_scheme escaping = escaping_scheme::underscores;

    constexpr std::string_view content_type() const noexcept { return llmetrics::content_type(fmt, escaping); }
};

inline exposition_choice negotiate_exposition(std::string_view accept_header) noexcept {
    constexpr std::size_t n = format_list::size;
    double quality[n] = {};
    int specificity[n] = {};
    escaping_scheme escaping[n] = {};
    while (!accept_header.empty()) {
        const std::size_t comma = detail::find_unquoted(accept_header, ',');
        const std::string_view part = detail::trim_http(accept_header.substr(0, comma));
        accept_header.remove_prefix(comma < accept_header.size() ? comma + 1 : comma);
        detail::media_range r;
        if (part.empty() || !detail::parse_media_range(part, r)) continue;
        std::size_t i = 0;
        format_list::for_each([&](auto entry) {
            const int s = detail::match_specificity<decltype(entry)>(r);
            if (s != 0 && s >= specificity[i]) {
                if (s > specificity[i] || r.q > quality[i]) {
                    quality[i] = r.q;
                    escaping[i] = r.has_escaping ? r.escaping : escaping_scheme::underscores;
                }
                specificity[i] = s;
            }
            ++i;
        });
    }
    // Explicitly named formats first, in table order; then the wildcard-only ones,
    // the fallback first; strictly higher q wins.
    format ids[n] = {};
    bool fallback[n] = {};
    std::size_t k = 0;
    format_list::for_each([&](auto entry) {
        ids[k] = decltype(entry)::id;
        fallback[k++] = decltype(entry)::fallback;
    });
    int best = -1;
    const auto consider = [&](std::size_t i, bool explicit_pass) {
        if ((specificity[i] >= 3) != explicit_pass || quality[i] <= 0) return;
        if (best < 0 || quality[i] > quality[best]) best = static_cast<int>(i);
    };
    for (std::size_t i = 0; i < n; ++i) consider(i, true);
    for (std::size_t i = 0; i < n; ++i)
        if (fallback[i]) consider(i, false);
    for (std::size_t i = 0; i < n; ++i)
        if (!fallback[i]) consider(i, false);
    if (best < 0) return {format_list::fallback::id, escaping_scheme::underscores};
    return {ids[best], escaping[best]};
}

inline format negotiate(std::string_view accept_header) noexcept { return negotiate_exposition(accept_header).fmt; }

}  // namespace llmetrics

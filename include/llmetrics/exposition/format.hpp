#pragma once
// The exposition formats llmetrics writes: one table that rendering, content
// types and negotiation all read. A format is one entry in `format_list` (its
// media type for negotiation, its content type, its encoder) plus a value of
// `format`; render(), content_type(), to_string() and negotiate() follow.

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "output.hpp"

namespace llmetrics {

// prometheus_v1 is Prometheus text 1.0.0 (Prometheus 3): for the legacy-valid
// names llmetrics writes, the 0.0.4 body under its own content type. protobuf is
// the delimited io.prometheus.client.MetricFamily stream, the one format with
// native histograms.
enum class format { prometheus, openmetrics, json, prometheus_v1, protobuf };

// Prometheus 3's `escaping=` parameter: how a scraper wants names outside
// [a-zA-Z_:][a-zA-Z0-9_:]* written. Every name llmetrics writes is inside, so
// each scheme leaves the body as it is; the answer names the one asked for.
enum class escaping_scheme { underscores, dots, values, allow_utf8 };

constexpr std::string_view to_string(escaping_scheme e) noexcept {
    switch (e) {
        case escaping_scheme::dots: return "dots";
        case escaping_scheme::values: return "values";
        case escaping_scheme::allow_utf8: return "allow-utf-8";
        case escaping_scheme::underscores: break;
    }
    return "underscores";
}

template <text_output Out>
class prometheus_text_encoder;  // exposition/prometheus_text.hpp
template <text_output Out>
class openmetrics_encoder;  // exposition/openmetrics.hpp
template <text_output Out>
class json_encoder;  // exposition/json.hpp
template <text_output Out>
class protobuf_encoder;  // exposition/protobuf.hpp

namespace formats {

// What one entry says. Negotiation (negotiate.hpp) matches `media_type/
// media_subtype`, and `media_version` when the Accept header names a version
// (empty: the format has none); `fallback` is the one format written when
// nothing else is acceptable, also preferred among formats reached only through
// a wildcard; `escaping`: the answer's content type carries `escaping=` (the
// formats Prometheus 3 sends the parameter for).
struct prometheus {
    static constexpr format id = format::prometheus;
    static constexpr std::string_view name = "prometheus";
    static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";
    static constexpr std::string_view media_type = "text", media_subtype = "plain", media_version = "0.0.4";
    static constexpr bool fallback = true, escaping = false;
    template <class Out>
    using encoder = prometheus_text_encoder<Out>;
};

struct prometheus_v1 {
    static constexpr format id = format::prometheus_v1;
    static constexpr std::string_view name = "prometheus_v1";
    static constexpr std::string_view content_type = "text/plain; version=1.0.0; charset=utf-8";
    static constexpr std::string_view media_type = "text", media_subtype = "plain", media_version = "1.0.0";
    static constexpr bool fallback = false, escaping = true;
    template <class Out>
    using encoder = prometheus_text_encoder<Out>;
};

struct openmetrics {
    static constexpr format id = format::openmetrics;
    static constexpr std::string_view name = "openmetrics";
    static constexpr std::string_view content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    static constexpr std::string_view media_type = "application", media_subtype = "openmetrics-text",
                                      media_version = "1.0.0";
    static constexpr bool fallback = false, escaping = true;
    template <class Out>
    using encoder = openmetrics_encoder<Out>;
};

struct json {
    static constexpr format id = format::json;
    static constexpr std::string_view name = "json";
    static constexpr std::string_view content_type = "application/json";
    static constexpr std::string_view media_type = "application", media_subtype = "json", media_version = "";
    static constexpr bool fallback = false, escaping = false;
    template <class Out>
    using encoder = json_encoder<Out>;
};

// Matched only by a range naming this type with both parameters as given here
// (Prometheus and client_golang always send them); a wildcard reaches it too.
struct protobuf {
    static constexpr format id = format::protobuf;
    static constexpr std::string_view name = "protobuf";
    static constexpr std::string_view content_type =
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";
    static constexpr std::string_view media_type = "application", media_subtype = "vnd.google.protobuf",
                                      media_version = "";
    static constexpr std::string_view media_proto = "io.prometheus.client.MetricFamily", media_encoding = "delimited";
    static constexpr bool fallback = false, escaping = true;
    template <class Out>
    using encoder = protobuf_encoder<Out>;
};

}  // namespace formats

namespace detail {
template <class First, class... Rest>
constexpr auto fallback_format() {
    if constexpr (First::fallback || sizeof...(Rest) == 0) return First{};
    else return fallback_format<Rest...>();
}

// "<Entry's content type>; escaping=<E>", built once at compile time.
template <class Entry, escaping_scheme E>
struct escaped_content_type {
    static constexpr std::string_view base = Entry::content_type, key = "; escaping=", scheme = to_string(E);
    static constexpr std::size_t size = base.size() + key.size() + scheme.size();
    static constexpr std::array<char, size> chars = [] {
        std::array<char, size> out{};
        std::size_t i = 0;
        for (const std::string_view part : {base, key, scheme})
            for (const char c : part) out[i++] = c;
        return out;
    }();
    static constexpr std::string_view value{chars.data(), size};
};
}  // namespace detail

template <class... Formats>
struct format_table {
    static_assert(((Formats::fallback ? 1 : 0) + ...) == 1,
                  "llmetrics: exactly one entry of a format_table must have fallback = true");
    using fallback = decltype(detail::fallback_format<Formats...>());
    static constexpr std::size_t size = sizeof...(Formats);

    // Calls f(entry) for each entry, in table order.
    template <class F>
    static constexpr void for_each(F&& f) {
        (f(Formats{}), ...);
    }

    // Calls f(entry) for the entry of `id` (the fallback when no entry has it) and
    // returns what it returns.
    template <class F>
    static constexpr auto with(format id, F&& f) {
        bool done = false;
        if constexpr (std::is_void_v<decltype(f(fallback{}))>) {
            ((!done && Formats::id == id ? (f(Formats{}), done = true) : false), ...);
            if (!done) f(fallback{});
        } else {
            decltype(f(fallback{})) out{};
            ((!done && Formats::id == id ? (out = f(Formats{}), done = true) : false), ...);
            return done ? out : f(fallback{});
        }
    }
};

// Table order is the preference among formats an Accept header names with equal quality.
// (`text/plain` without a version: 0.0.4 before 1.0.0, which every scraper reads;
// protobuf last: a binary body only where it is preferred.)
using format_list = format_table<formats::openmetrics, formats::prometheus, formats::prometheus_v1, formats::json,
                                 formats::protobuf>;

// The media type of `f` without the `escaping=` parameter.
constexpr std::string_view content_type(format f) noexcept {
    return format_list::with(f, [](auto entry) { return decltype(entry)::content_type; });
}

// The content type to answer with: `escaping=<e>` appended where the format has it.
constexpr std::string_view content_type(format f, escaping_scheme e) noexcept {
    return format_list::with(f, [e](auto entry) -> std::string_view {
        using entry_type = decltype(entry);
        if constexpr (!entry_type::escaping) {
            return entry_type::content_type;
        } else {
            switch (e) {
                case escaping_scheme::dots: return detail::escaped_content_type<entry_type, escaping_scheme::dots>::value;
                case escaping_scheme::values:
                    return detail::escaped_content_type<entry_type, escaping_scheme::values>::value;
                case escaping_scheme::allow_utf8:
                    return detail::escaped_content_type<entry_type, escaping_scheme::allow_utf8>::value;
                case escaping_scheme::underscores: break;
            }
            return detail::escaped_content_type<entry_type, escaping_scheme::underscores>::value;
        }
    });
}

constexpr std::string_view to_string(format f) noexcept {
    return format_list::with(f, [](auto entry) { return decltype(entry)::name; });
}

}  // namespace llmetrics

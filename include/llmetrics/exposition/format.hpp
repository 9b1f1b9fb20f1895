#pragma once
// The exposition formats llmetrics writes: one table that rendering, content
// types and negotiation all read. A format is one entry in `format_list` (its
// media type for negotiation, its content type, its encoder) plus a value of
// `format`; render(), content_type(), to_string() and negotiate() follow.

#include <cstddef>
#include <string_view>
#include <type_traits>

#include "output.hpp"

namespace llmetrics {

enum class format { prometheus, openmetrics, json };

template <text_output Out>
class prometheus_text_encoder;  // exposition/prometheus_text.hpp
template <text_output Out>
class openmetrics_encoder;  // exposition/openmetrics.hpp
template <text_output Out>
class json_encoder;  // exposition/json.hpp

namespace formats {

// What one entry says. Negotiation (negotiate.hpp) matches `media_type/
// media_subtype`, and `media_version` when the Accept header names a version
// (empty: the format has none); `fallback` is the one format written when
// nothing else is acceptable, also preferred among formats reached only through
// a wildcard.
struct prometheus {
    static constexpr format id = format::prometheus;
    static constexpr std::string_view name = "prometheus";
    static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";
    static constexpr std::string_view media_type = "text", media_subtype = "plain", media_version = "0.0.4";
    static constexpr bool fallback = true;
    template <class Out>
    using encoder = prometheus_text_encoder<Out>;
};

struct openmetrics {
    static constexpr format id = format::openmetrics;
    static constexpr std::string_view name = "openmetrics";
    static constexpr std::string_view content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    static constexpr std::string_view media_type = "application", media_subtype = "openmetrics-text",
                                      media_version = "1.0.0";
    static constexpr bool fallback = false;
    template <class Out>
    using encoder = openmetrics_encoder<Out>;
};

struct json {
    static constexpr format id = format::json;
    static constexpr std::string_view name = "json";
    static constexpr std::string_view content_type = "application/json";
    static constexpr std::string_view media_type = "application", media_subtype = "json", media_version = "";
    static constexpr bool fallback = false;
    template <class Out>
    using encoder = json_encoder<Out>;
};

}  // namespace formats

namespace detail {
template <class First, class... Rest>
constexpr auto fallback_format() {
    if constexpr (First::fallback || sizeof...(Rest) == 0) return First{};
    else return fallback_format<Rest...>();
}
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
using format_list = format_table<formats::openmetrics, formats::prometheus, formats::json>;

constexpr std::string_view content_type(format f) noexcept {
    return format_list::with(f, [](auto entry) { return decltype(entry)::content_type; });
}

constexpr std::string_view to_string(format f) noexcept {
    return format_list::with(f, [](auto entry) { return decltype(entry)::name; });
}

}  // namespace llmetrics

#pragma once
// Pieces shared by the exposition formats, mostly by the two line-based ones
// (Prometheus text 0.0.4 and OpenMetrics 1.0): escaping and the
// `name{labels} value` sample line.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "encoder.hpp"
#include "number_format.hpp"
#include "output.hpp"

namespace llmetrics::detail {

// An info family's name without its `_info` suffix: the formats add it to
// the sample (OpenMetrics) or family (Prometheus text, JSON) name themselves.
constexpr std::string_view info_base_name(std::string_view name) noexcept {
    if (name.ends_with("_info")) name.remove_suffix(sizeof("_info") - 1);
    return name;
}

// Writes `text` with backslash and newline escaped, and the double quote too
// when `quote` is set. Unescaped runs go out in one piece.
// Whether any byte is a backslash, a newline or (when quoting) a double quote.
inline bool needs_escaping(std::string_view text, bool quote) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    const auto has_byte = [](std::uint64_t w, std::uint64_t pattern) {
        const std::uint64_t x = w ^ pattern;
        return ((x - ones) & ~x & highs) != 0;
    };
    std::size_t i = 0;
    for (; i + 8 <= text.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, text.data() + i, 8);
        if (has_byte(w, ones * '\\') || has_byte(w, ones * '\n') || (quote && has_byte(w, ones * '"'))) return true;
    }
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\\' || c == '\n' || (quote && c == '"')) return true;
    }
    return false;
}

template <text_output Out>
void write_escaped(Out& out, std::string_view text, bool quote) {
    // Fast path: most values need no escaping; find that out eight bytes at a time.
    if (!needs_escaping(text, quote)) return put(out, text);
    std::size_t run = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        std::string_view escape;
        if (c == '\\') escape = "\\\\";
        else if (c == '\n') escape = "\\n";
        else if (c == '"' && quote) escape = "\\\"";
        else continue;
        if (i > run) put(out, text.substr(run, i - run));
        put(out, escape);
        run = i + 1;
    }
    if (run < text.size()) put(out, text.substr(run));
}

// `{a="x",b="y"[,extra_name="extra_value"]}`, or nothing when there is no label at
// all. Label values are escaped the same way in both text formats.
// `a="x",b="y"` without braces.
template <text_output Out>
void write_label_pairs(Out& out, labels_view labels) {
    for (std::size_t i = 0; i < labels.names.size(); ++i) {
        if (i != 0) put(out, ',');
        put(out, labels.names[i]);
        put(out, "=\"");
        write_escaped(out, labels.values[i], true);
        put(out, '"');
    }
}

template <text_output Out>
void write_labels(Out& out, labels_view labels, std::string_view extra_name = {},
                  std::string_view extra_value = {}) {
    const bool extra = !extra_name.empty();
    if (labels.names.empty() && !extra) return;
    put(out, '{');
    write_label_pairs(out, labels);
    if (extra) {
        if (!labels.names.empty()) put(out, ',');
        put(out, extra_name);
        put(out, "=\"");
        put(out, extra_value);  // a number: never needs escaping
        put(out, '"');
    }
    put(out, '}');
}

// The start of a sample line: `<base><suffix><labels> `.
template <text_output Out>
void write_sample_start(Out& out, std::string_view base, std::string_view suffix, labels_view labels,
                        std::string_view extra_name = {}, std::string_view extra_value = {}) {
    put(out, base);
    put(out, suffix);
    write_labels(out, labels, extra_name, extra_value);
    put(out, ' ');
}

// The `_bucket` lines of a histogram (cumulative, ending with +Inf); returns the
// total count, which is what `_count` must show.
template <text_output Out>
std::uint64_t write_buckets(Out& out, std::string_view base, labels_view labels,
                            std::span<const double> bounds, std::span<const std::uint64_t> counts) {
    // The series' labels are escaped once and repeated on every bucket line.
    thread_local std::string pairs;
    pairs.clear();
    write_label_pairs(pairs, labels);
    if (!pairs.empty()) pairs += ',';
    std::uint64_t cumulative = 0;
    char le[number_buffer_size];
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
        cumulative += i < counts.size() ? counts[i] : 0;
        const std::size_t n =
            format_canonical(le, i < bounds.size() ? bounds[i] : std::numeric_limits<double>::infinity());
        put(out, base);
        put(out, "_bucket{");
        put(out, pairs);
        put(out, "le=\"");
        put(out, std::string_view(le, n));
        put(out, "\"} ");
        write_uint(out, cumulative);
        put(out, '\n');
    }
    return cumulative;
}

}  // namespace llmetrics::detail

#pragma once
// Pieces shared by the exposition formats, mostly by the two line-based ones
// (Prometheus text 0.0.4 and OpenMetrics 1.0): escaping and the
// `name{labels} value` sample line.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "../../core/sample.hpp"
#include "buffered_output.hpp"
#include "number_format.hpp"

namespace llmetrics::detail {

// An info family's name without its `_info` suffix: the formats add it to
// the sample (OpenMetrics) or family (Prometheus text, JSON) name themselves.
constexpr std::string_view info_base_name(std::string_view name) noexcept {
    if (name.ends_with("_info")) name.remove_suffix(sizeof("_info") - 1);
    return name;
}

// A native histogram in a classic-only format (Prometheus text, OpenMetrics 1.0):
// the classic part when the family has one, else as client_golang renders a
// native-only histogram there: the `+Inf` bucket (= count), `_sum` and `_count`,
// with the most recent exemplar on the `+Inf` bucket.
template <class Encoder>
void native_as_classic(Encoder& e, labels_view labels, const native_histogram_view& h,
                       std::span<const double> bounds, std::span<const std::uint64_t> counts, double created,
                       std::span<const exemplar_view> exemplars) {
    if (!counts.empty()) return e.histogram(labels, bounds, counts, h.sum, created, exemplars);
    const std::uint64_t all = h.count;
    std::span<const exemplar_view> latest;
    for (std::size_t i = 0; i < exemplars.size(); ++i)
        if (exemplars[i].present() && (latest.empty() || !(exemplars[i].timestamp < latest[0].timestamp)))
            latest = exemplars.subspan(i, 1);
    e.histogram(labels, {}, std::span<const std::uint64_t>(&all, 1), h.sum, created, latest);
}

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

// Writes `text` with backslash and newline escaped, and the double quote too
// when `quote` is set. Unescaped runs go out in one piece.
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

// The same pieces written into reserved room (buffered_output::reserve): each
// returns the end of what it wrote (copy_piece: buffered_output.hpp).
inline char* copy_escaped(char* d, std::string_view text, bool quote) noexcept {
    if (!needs_escaping(text, quote)) return copy_piece(d, text);
    for (const char c : text) {
        if (c == '\\' || c == '\n' || (c == '"' && quote)) {
            *d++ = '\\';
            *d++ = c == '\n' ? 'n' : c;
        } else {
            *d++ = c;
        }
    }
    return d;
}

// Room write_label_pairs needs at most (every value byte escaped).
inline std::size_t label_pairs_bound(labels_view labels) noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < labels.names.size(); ++i) n += labels.names[i].size() + 2 * labels.values[i].size() + 4;
    return n;
}

inline char* copy_label_pairs(char* d, labels_view labels) noexcept {
    for (std::size_t i = 0; i < labels.names.size(); ++i) {
        if (i != 0) *d++ = ',';
        d = copy_piece(d, labels.names[i]);
        *d++ = '=';
        *d++ = '"';
        d = copy_escaped(d, labels.values[i], true);
        *d++ = '"';
    }
    return d;
}

// `{pairs[,extra_name="extra_value"]} `: the part of a sample line after the name;
// copy_pairs(d) writes the pairs at d and returns their end.
template <class CopyPairs>
char* copy_label_block(char* d, bool any_label, std::string_view extra_name, std::string_view extra_value,
                       CopyPairs copy_pairs) noexcept {
    const bool extra = !extra_name.empty();
    if (any_label || extra) {
        *d++ = '{';
        d = copy_pairs(d);
        if (extra) {
            if (any_label) *d++ = ',';
            d = copy_piece(d, extra_name);
            *d++ = '=';
            *d++ = '"';
            d = copy_piece(d, extra_value);
            *d++ = '"';
        }
        *d++ = '}';
    }
    *d++ = ' ';
    return d;
}

// `a="x",b="y"` without braces. Label values are escaped the same way in both
// text formats.
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

// `{a="x",b="y"[,extra_name="extra_value"]}`, or nothing when there is no label at all.
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
    if constexpr (is_buffered_output<Out>::value) {
        const std::size_t room = base.size() + suffix.size() + label_pairs_bound(labels) + extra_name.size() +
                                 extra_value.size() + 8;
        if (char* d = out.reserve(room)) [[likely]] {
            d = copy_piece(d, base);
            d = copy_piece(d, suffix);
            return out.commit(copy_label_block(d, !labels.names.empty(), extra_name, extra_value,
                                               [&](char* p) noexcept { return copy_label_pairs(p, labels); }));
        }
    }
    put(out, base);
    put(out, suffix);
    write_labels(out, labels, extra_name, extra_value);
    put(out, ' ');
}

// A fixed-capacity text_output on the stack; remembers when something did not fit.
template <std::size_t N>
struct stack_text {
    char data[N];
    std::size_t size = 0;
    bool overflow = false;

    void append(const char* first, const char* last) noexcept {
        const auto n = static_cast<std::size_t>(last - first);
        if (overflow || n > N - size) {
            overflow = true;
            return;
        }
        std::memcpy(data + size, first, n);
        size += n;
    }
    std::string_view view() const noexcept { return {data, size}; }
};

// The canonical `le` texts of a histogram's bounds, kept from one series to the
// next: all series of a family share their bounds, and formatting a double costs
// more than the rest of a bucket line.
class le_cache {
public:
    static constexpr std::size_t max_bounds = 64;

    // Formats `bounds` unless they are the ones already held; false when there
    // are too many to hold (the caller then formats each bound itself).
    bool prepare(std::span<const double> bounds) noexcept {
        if (bounds.size() > max_bounds) return false;
        if (bounds.size() == size_ &&
            (size_ == 0 || std::memcmp(bounds.data(), values_, size_ * sizeof(double)) == 0))
            return true;
        size_ = bounds.size();
        for (std::size_t i = 0; i < size_; ++i) {
            values_[i] = bounds[i];
            lengths_[i] = static_cast<unsigned char>(format_canonical(text_[i], bounds[i]));
        }
        return true;
    }

    std::string_view operator[](std::size_t i) const noexcept { return {text_[i], lengths_[i]}; }

private:
    double values_[max_bounds];
    char text_[max_bounds][number_buffer_size];
    unsigned char lengths_[max_bounds];
    std::size_t size_ = max_bounds + 1;  // nothing held yet
};

// A series' labels, escaped once for the several lines that repeat them
// (buckets, _sum, _count, _created). Values too long for the stack buffer are
// escaped again on each line instead.
class series_labels {
public:
    explicit series_labels(labels_view labels) noexcept : labels_(labels) {
        if (label_pairs_bound(labels) <= sizeof(pairs_.data))
            pairs_.size = static_cast<std::size_t>(copy_label_pairs(pairs_.data, labels) - pairs_.data);
        else
            write_label_pairs(pairs_, labels);
    }

    // `{a="x",b="y"[,extra_name="extra_value"]}`, or nothing when there is no label at all.
    template <text_output Out>
    void write(Out& out, std::string_view extra_name = {}, std::string_view extra_value = {}) const {
        if (pairs_.overflow) return write_labels(out, labels_, extra_name, extra_value);
        const bool extra = !extra_name.empty();
        if (labels_.names.empty() && !extra) return;
        put(out, '{');
        put(out, pairs_.view());
        if (extra) {
            if (!labels_.names.empty()) put(out, ',');
            put(out, extra_name);
            put(out, "=\"");
            put(out, extra_value);
            put(out, '"');
        }
        put(out, '}');
    }

    // Whether the pairs fitted the stack buffer; pairs() is valid only then.
    bool escaped() const noexcept { return !pairs_.overflow; }
    std::string_view pairs() const noexcept { return pairs_.view(); }
    bool any() const noexcept { return !labels_.names.empty(); }

private:
    labels_view labels_;
    stack_text<1024> pairs_;
};

template <text_output Out>
void write_sample_start(Out& out, std::string_view base, std::string_view suffix, const series_labels& labels,
                        std::string_view extra_name = {}, std::string_view extra_value = {}) {
    if constexpr (is_buffered_output<Out>::value) {
        if (labels.escaped()) {
            const std::string_view pairs = labels.pairs();
            const std::size_t room =
                base.size() + suffix.size() + pairs.size() + extra_name.size() + extra_value.size() + 8;
            if (char* d = out.reserve(room)) [[likely]] {
                d = copy_piece(d, base);
                d = copy_piece(d, suffix);
                return out.commit(copy_label_block(d, labels.any(), extra_name, extra_value,
                                                   [pairs](char* p) noexcept { return copy_piece(p, pairs); }));
            }
        }
    }
    put(out, base);
    put(out, suffix);
    labels.write(out, extra_name, extra_value);
    put(out, ' ');
}

// The `_bucket` lines of a histogram (cumulative, ending with +Inf); returns the
// total count, which is what `_count` must show. Allocates nothing.
// `annotate(i)` may add to the end of bucket line i (OpenMetrics exemplars).
template <text_output Out, class Annotate>
std::uint64_t write_buckets(Out& out, le_cache& cache, std::string_view base, const series_labels& labels,
                            std::span<const double> bounds, std::span<const std::uint64_t> counts,
                            Annotate&& annotate) {
    const bool cached = cache.prepare(bounds);
    std::uint64_t cumulative = 0;
    char le[number_buffer_size];
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
        cumulative += i < counts.size() ? counts[i] : 0;
        std::string_view le_text = "+Inf";
        if (i < bounds.size()) le_text = cached ? cache[i] : std::string_view(le, format_canonical(le, bounds[i]));
        write_sample_start(out, base, "_bucket", labels, "le", le_text);
        write_uint(out, cumulative);
        annotate(i);
        put(out, '\n');
    }
    return cumulative;
}

template <text_output Out>
std::uint64_t write_buckets(Out& out, le_cache& cache, std::string_view base, const series_labels& labels,
                            std::span<const double> bounds, std::span<const std::uint64_t> counts) {
    return write_buckets(out, cache, base, labels, bounds, counts, [](std::size_t) {});
}

}  // namespace llmetrics::detail

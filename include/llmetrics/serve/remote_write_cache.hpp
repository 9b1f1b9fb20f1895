#pragma once
// What one remote write push keeps for the next (remote_write_encoder's cache
// constructor): the WriteRequest it built and where each series' bytes and
// sample values lie in it. Between pushes a series' labels do not change, so a
// series found here costs only its new values and timestamp: written in place
// while the series come in last push's order (the usual case), copied from the
// last message when something came or went before them. Only series not in the
// last push are encoded. A series is found by its family (header), kind, label
// names, bucket bounds and label values, all compared byte for byte, so a
// label set that changes, goes (removed, expired by series_ttl) or comes back
// is never sent with stale bytes. Series carrying exemplars and native
// histograms are encoded afresh each push and not kept.
//
// Memory is the last push's only (series it did not see are not carried over):
// the message (about 150 bytes per float sample with the benchmark's labels), a
// second one while a push differs from the last, and per series its key (label
// values, bounds; names shared by a family's series), a 36-byte record and 4
// bytes per sample; memory_bytes() says how much.
//
// One cache serves one sequence of pushes with the same external labels and
// metadata setting (a change empties it); it is not thread-safe.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../core/detail/bytes.hpp"
#include "../core/sample.hpp"
#include "../exposition/detail/byte_buffer.hpp"
#include "../exposition/detail/protobuf_wire.hpp"

namespace llmetrics {

class remote_write_encoder;

class remote_write_cache {
public:
    // The WriteRequest of the last push that finished (empty before the first).
    std::string_view message() const noexcept { return now_.message.view(); }
    // Series kept (a classic histogram is one series of many samples).
    std::size_t series() const noexcept { return now_.series; }
    // Heap bytes held, buffers at their capacity.
    std::size_t memory_bytes() const noexcept { return now_.memory_bytes() + next_.memory_bytes(); }
    void clear() noexcept {
        now_.clear();
        next_.clear();
        sample_size_ = 0;
    }

private:
    friend class remote_write_encoder;
    enum class kind : unsigned char { family, counter, gauge, histogram };
    static constexpr std::uint32_t no_family = 0xFFFFFFFF, is_family = 0xFFFFFFFE;

    struct segment {
        std::uint32_t begin = 0, size = 0;             // its bytes in the message
        std::uint32_t shape_at = 0, shape_size = 0;    // in keys: kind and label names (a family: its header)
        std::uint32_t values_at = 0, values_size = 0;  // in keys: bucket bounds and label values
        std::uint32_t offsets_at = 0, samples = 0;     // in offsets: each sample's value, from begin
        std::uint32_t family = no_family;              // index of its family's segment; is_family for one
        std::string_view shape(const std::string& keys) const noexcept { return {keys.data() + shape_at, shape_size}; }
        std::string_view values(const std::string& keys) const noexcept {
            return {keys.data() + values_at, values_size};
        }
    };
    struct tables {
        detail::byte_buffer message;
        std::vector<segment> segments;
        std::string keys;
        std::vector<std::uint32_t> offsets;
        std::size_t series = 0;
        void clear() noexcept {
            message.clear();
            segments.clear();
            keys.clear();
            offsets.clear();
            series = 0;
        }
        std::size_t memory_bytes() const noexcept {
            return message.capacity() + segments.capacity() * sizeof(segment) + keys.capacity() +
                   offsets.capacity() * sizeof(std::uint32_t);
        }
    };
    // Where a found series' samples are: patch value k at base + offsets[k].
    struct found {
        char* base = nullptr;
        const std::uint32_t* offsets = nullptr;
        explicit operator bool() const noexcept { return base != nullptr; }
    };

    // --- one push (called by remote_write_encoder) ---

    void start(std::span<const std::pair<std::string, std::string>> external, bool metadata,
               std::string_view sample_bytes) {
        const bool same = metadata == metadata_ && sample_size_ == sample_bytes.size() &&
                          std::equal(external.begin(), external.end(), external_.begin(), external_.end());
        if (!same) {
            clear();
            external_.assign(external.begin(), external.end());
            metadata_ = metadata;
            sample_size_ = sample_bytes.size();
        }
        cursor_ = 0;
        written_ = 0;
        aligned_series_ = 0;
        aligned_ = true;
        index_built_ = false;
        index_.clear();
        old_family_ = new_family_ = no_family;
        next_.clear();
    }

    // The family's segment, found (its bytes placed) or not (the caller then
    // writes its metadata between begin_fresh() and end_fresh()).
    bool find_family(const family_header& h) {
        shape_scratch_.clear();
        shape_scratch_.push_back(static_cast<char>(kind::family));
        shape_scratch_.push_back(static_cast<char>(h.type));
        for (const std::string_view s : {h.name, h.help, h.unit}) append_string(shape_scratch_, s);
        names_seen_.clear();
        seen_shape_at_ = no_family;
        old_family_ = no_family;
        if (aligned_ && cursor_ < now_.segments.size()) {
            const segment& s = now_.segments[cursor_];
            if (s.family == is_family && s.shape(now_.keys) == shape_scratch_) {
                old_family_ = new_family_ = static_cast<std::uint32_t>(cursor_);
                advance_aligned(s);
                return true;
            }
        }
        diverge();
        values_scratch_.clear();
        const std::size_t at = lookup(is_family);
        new_family_ = static_cast<std::uint32_t>(next_.segments.size());
        if (at == npos) return false;
        old_family_ = static_cast<std::uint32_t>(at);
        copy_segment(now_.segments[at], is_family);
        cursor_ = at + 1;
        return true;
    }

    // The series' segment, its bytes placed, or nothing: encode it between
    // begin_fresh() and end_fresh().
    found find_series(kind k, labels_view labels, std::span<const double> bounds) {
        if (old_family_ == no_family) {  // a new family: nothing of it is kept
            build_key(k, labels, bounds);
            diverge();
            return {};
        }
        if (aligned_ && cursor_ < now_.segments.size()) {
            const segment& s = now_.segments[cursor_];
            if (matches(s, k, labels, bounds)) {
                char* base = now_.message.data() + written_;
                advance_aligned(s);
                return {base, now_.offsets.data() + s.offsets_at};
            }
        }
        build_key(k, labels, bounds);
        diverge();
        std::size_t at = npos;
        if (cursor_ < now_.segments.size() && same_key(now_.segments[cursor_], old_family_)) at = cursor_;
        else at = lookup(old_family_);
        if (at == npos) return {};
        const segment& s = now_.segments[at];
        const std::size_t begin = next_.message.size();
        copy_segment(s, new_family_);
        cursor_ = at + 1;
        return {next_.message.data() + begin, next_.offsets.data() + next_.segments.back().offsets_at};
    }

    // A segment encoded by the caller into out(); `keep`: remember it for the next push.
    detail::byte_buffer& out() noexcept { return next_.message; }
    void begin_fresh() {
        diverge();
        fresh_begin_ = next_.message.size();
        fresh_offsets_ = next_.offsets.size();
    }
    void add_sample(std::size_t value_at) {
        next_.offsets.push_back(static_cast<std::uint32_t>(value_at - fresh_begin_));
    }
    void end_fresh(bool keep, bool family) {
        if (!keep) {
            next_.offsets.resize(fresh_offsets_);
            return;
        }
        segment s;
        s.begin = static_cast<std::uint32_t>(fresh_begin_);
        s.size = static_cast<std::uint32_t>(next_.message.size() - fresh_begin_);
        s.offsets_at = static_cast<std::uint32_t>(fresh_offsets_);
        s.samples = static_cast<std::uint32_t>(next_.offsets.size() - fresh_offsets_);
        s.family = family ? is_family : new_family_;
        add_keys(s, shape_scratch_, values_scratch_);
        next_.segments.push_back(s);
        if (!family) ++next_.series;
    }

    // After the last family: the message is message().
    void commit() {
        if (aligned_) {  // series after the cursor did not come: cut them off
            now_.message.resize(written_);
            now_.segments.resize(cursor_);
            now_.series = aligned_series_;
            return;
        }
        std::swap(now_, next_);
        next_.clear();
    }

    // --- matching ---

    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    static void append_string(std::string& out, std::string_view s) {
        char len[10];
        out.append(len, detail::encode_varint(len, s.size()));
        out.append(s);
    }
    // The value part of a series' key: bounds (raw doubles), then label values.
    void build_values(std::string& out, labels_view labels, std::span<const double> bounds) const {
        out.clear();
        char len[10];
        out.append(len, detail::encode_varint(len, bounds.size()));
        if (!bounds.empty()) out.append(reinterpret_cast<const char*>(bounds.data()), bounds.size_bytes());
        for (const std::string_view v : labels.values) append_string(out, v);
    }
    void build_key(kind k, labels_view labels, std::span<const double> bounds) {
        shape_scratch_.clear();
        shape_scratch_.push_back(static_cast<char>(k));
        for (const std::string_view n : labels.names) append_string(shape_scratch_, n);
        build_values(values_scratch_, labels, bounds);
    }

    // Whether the series is segment s of the current family, without building its key.
    bool matches(const segment& s, kind k, labels_view labels, std::span<const double> bounds) {
        if (s.family != old_family_) return false;
        const std::string_view shape = s.shape(now_.keys);
        if (!same_names(shape, s.shape_at, k, labels.names)) return false;
        const char* p = now_.keys.data() + s.values_at;
        const char* end = p + s.values_size;
        if (bounds.size() >= 0x80) return slow_same_values(s, labels, bounds);
        if (p == end || static_cast<unsigned char>(*p) != bounds.size()) return false;
        ++p;
        if (static_cast<std::size_t>(end - p) < bounds.size_bytes() ||
            !detail::same_bytes(p, reinterpret_cast<const char*>(bounds.data()), bounds.size_bytes()))
            return false;
        p += bounds.size_bytes();
        for (const std::string_view v : labels.values) {
            if (p == end) return false;
            const auto n = static_cast<unsigned char>(*p);
            if (n >= 0x80 || v.size() >= 0x80) return slow_same_values(s, labels, bounds);  // a long value
            if (n != v.size() || static_cast<std::size_t>(end - ++p) < n || !detail::same_bytes(p, v.data(), n))
                return false;
            p += n;
        }
        return p == end;
    }
    bool slow_same_values(const segment& s, labels_view labels, std::span<const double> bounds) {
        build_values(values_check_, labels, bounds);
        return s.values(now_.keys) == values_check_;
    }
    // Names compared by pointer once a series of this family had the same ones
    // with the same stored shape (the strings stay put until end_family()).
    bool same_names(std::string_view shape, std::uint32_t shape_at, kind k, std::span<const std::string_view> names) {
        if (shape_at == seen_shape_at_ && k == seen_kind_ && names.size() == names_seen_.size()) {
            std::size_t i = 0;
            while (i < names.size() && names[i].data() == names_seen_[i].data() &&
                   names[i].size() == names_seen_[i].size())
                ++i;
            if (i == names.size()) return true;
        }
        if (shape.empty() || shape[0] != static_cast<char>(k)) return false;
        shape.remove_prefix(1);
        for (const std::string_view n : names) {
            if (shape.empty()) return false;
            const auto len = static_cast<unsigned char>(shape[0]);
            if (len >= 0x80) return false;  // names are short; a long one is simply not kept fast
            shape.remove_prefix(1);
            if (shape.size() < len || shape.substr(0, len) != n) return false;
            shape.remove_prefix(len);
        }
        if (!shape.empty()) return false;
        names_seen_.assign(names.begin(), names.end());
        seen_shape_at_ = shape_at;
        seen_kind_ = k;
        return true;
    }
    bool same_key(const segment& s, std::uint32_t family) const noexcept {
        return s.family == family && s.shape(now_.keys) == shape_scratch_ && s.values(now_.keys) == values_scratch_;
    }

    static std::size_t hash_key(std::uint32_t family, std::string_view shape, std::string_view values) noexcept {
        const std::size_t h = std::hash<std::string_view>{}(shape) * 31 + std::hash<std::string_view>{}(values);
        return h ^ (std::size_t{family} * 0x9E3779B97F4A7C15ull);
    }
    // The last push's segment with the scratch key in `family`, or npos.
    std::size_t lookup(std::uint32_t family) {
        if (!index_built_) {
            index_built_ = true;
            index_.reserve(now_.segments.size());
            for (std::size_t i = 0; i < now_.segments.size(); ++i) {
                const segment& s = now_.segments[i];
                index_.emplace(hash_key(s.family, s.shape(now_.keys), s.values(now_.keys)), static_cast<std::uint32_t>(i));
            }
        }
        const auto [first, last] = index_.equal_range(hash_key(family, shape_scratch_, values_scratch_));
        for (auto it = first; it != last; ++it)
            if (same_key(now_.segments[it->second], family)) return it->second;
        return npos;
    }

    // --- placing bytes ---

    void advance_aligned(const segment& s) noexcept {
        written_ += s.size;
        ++cursor_;
        if (s.family != is_family) ++aligned_series_;
    }

    // From here on the message is built in next_: it starts as the part of the
    // last message this push has matched so far.
    void diverge() {
        if (!aligned_) return;
        aligned_ = false;
        next_.clear();
        next_.message.append(now_.message.data(), written_);
        next_.segments.assign(now_.segments.begin(), now_.segments.begin() + static_cast<std::ptrdiff_t>(cursor_));
        if (cursor_ > 0) {
            const segment& last = now_.segments[cursor_ - 1];
            next_.keys.assign(now_.keys, 0, last.values_at + last.values_size);
            next_.offsets.assign(now_.offsets.begin(),
                                 now_.offsets.begin() + static_cast<std::ptrdiff_t>(last.offsets_at + last.samples));
        }
        next_.series = aligned_series_;
    }

    // The last push's segment s, bytes and key, appended to next_.
    void copy_segment(const segment& s, std::uint32_t family) {
        segment c = s;
        c.begin = static_cast<std::uint32_t>(next_.message.size());
        next_.message.append(now_.message.data() + s.begin, s.size);
        c.offsets_at = static_cast<std::uint32_t>(next_.offsets.size());
        next_.offsets.insert(next_.offsets.end(), now_.offsets.begin() + s.offsets_at,
                             now_.offsets.begin() + s.offsets_at + s.samples);
        c.family = family;
        add_keys(c, s.shape(now_.keys), s.values(now_.keys));
        next_.segments.push_back(c);
        if (family != is_family) ++next_.series;
    }
    // The key of a segment of next_: its shape shared with the segment before when equal.
    void add_keys(segment& s, std::string_view shape, std::string_view values) {
        if (!next_.segments.empty()) {
            const segment& before = next_.segments.back();
            if (before.shape(next_.keys) == shape) {
                s.shape_at = before.shape_at;
                s.shape_size = before.shape_size;
                s.values_at = static_cast<std::uint32_t>(next_.keys.size());
                s.values_size = static_cast<std::uint32_t>(values.size());
                next_.keys.append(values);
                return;
            }
        }
        s.shape_at = static_cast<std::uint32_t>(next_.keys.size());
        s.shape_size = static_cast<std::uint32_t>(shape.size());
        next_.keys.append(shape);
        s.values_at = static_cast<std::uint32_t>(next_.keys.size());
        s.values_size = static_cast<std::uint32_t>(values.size());
        next_.keys.append(values);
    }

    tables now_, next_;  // now_: the last push's; next_: this push's once it differs
    std::vector<std::pair<std::string, std::string>> external_;
    bool metadata_ = true;
    std::size_t sample_size_ = 0;

    // This push.
    std::size_t cursor_ = 0;    // next segment of now_ expected
    std::size_t written_ = 0;   // aligned: bytes of now_.message already this push's
    bool aligned_ = true;       // so far this push is now_ with new values
    std::size_t aligned_series_ = 0;  // series matched while aligned
    std::uint32_t old_family_ = no_family, new_family_ = no_family;  // the current family's segment in now_, next_
    std::size_t fresh_begin_ = 0, fresh_offsets_ = 0;
    std::string shape_scratch_, values_scratch_, values_check_;
    std::vector<std::string_view> names_seen_;
    std::uint32_t seen_shape_at_ = no_family;
    kind seen_kind_ = kind::family;
    bool index_built_ = false;
    std::unordered_multimap<std::size_t, std::uint32_t> index_;
};

}  // namespace llmetrics

#pragma once
// The protocol buffers wire format, written by hand so the library stays
// header-only: varints, zigzag, fixed64 doubles, length-delimited fields and
// nested messages, appended to a std::string. The protobuf exposition format and
// remote write build their messages from these; tests decode the result with
// Debian's protobuf library (the real decoder).
//
// A nested message's length is not known until it is written: begin_message()
// reserves one length byte, end_message() writes the real varint and, only when
// the body is 128 bytes or more, moves the body right by the extra bytes. The
// encoding stays minimal (what protoc itself writes) at one move per large
// message.

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "buffered_output.hpp"

namespace llmetrics::detail {

enum class wire_type : std::uint32_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

inline std::size_t varint_size(std::uint64_t v) noexcept {
    std::size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}

inline std::uint64_t zigzag(std::int64_t v) noexcept {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

// Writes v as a varint at p (room for 10 bytes); returns the bytes written.
inline std::size_t encode_varint(char* p, std::uint64_t v) noexcept {
    std::size_t n = 0;
    while (v >= 0x80) {
        p[n++] = static_cast<char>((v & 0x7F) | 0x80);
        v >>= 7;
    }
    p[n++] = static_cast<char>(v);
    return n;
}

// Bytes of a field's tag.
inline std::size_t tag_size(std::uint32_t field) noexcept { return varint_size(std::uint64_t{field} << 3); }

// Writes v at p as fixed64 (8 bytes, little-endian).
inline void encode_double(char* p, double v) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(p, &v, 8);
    } else {
        std::uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(bits >> (8 * i));
    }
}

inline std::size_t encode_tag(char* p, std::uint32_t field, wire_type type) noexcept {
    return encode_varint(p, (std::uint64_t{field} << 3) | static_cast<std::uint32_t>(type));
}

// Each field goes out in as few appends as it can (a tag and its value or length
// in one): a string append costs more than encoding the bytes. Buffer is
// std::string, or detail::byte_buffer where appends are hot (the exposition).
template <class Buffer>
class basic_proto_writer {
public:
    explicit basic_proto_writer(Buffer& out) noexcept : out_(&out) {}

    void varint(std::uint64_t v) {
        char buf[10];
        out_->append(buf, encode_varint(buf, v));
    }

    void tag(std::uint32_t field, wire_type type) {
        char buf[10];
        out_->append(buf, encode_tag(buf, field, type));
    }

    // Scalar fields; proto2 and proto3 readers both accept an explicit default.
    void uint64_field(std::uint32_t field, std::uint64_t v) {
        char buf[20];
        const std::size_t n = encode_tag(buf, field, wire_type::varint);
        out_->append(buf, n + encode_varint(buf + n, v));
    }
    void int64_field(std::uint32_t field, std::int64_t v) { uint64_field(field, static_cast<std::uint64_t>(v)); }
    void sint64_field(std::uint32_t field, std::int64_t v) { uint64_field(field, zigzag(v)); }
    void sint32_field(std::uint32_t field, std::int32_t v) { uint64_field(field, zigzag(v)); }
    void bool_field(std::uint32_t field, bool v) { uint64_field(field, v ? 1 : 0); }
    void double_field(std::uint32_t field, double v) {
        char buf[18];
        const std::size_t n = encode_tag(buf, field, wire_type::fixed64);
        encode_double(buf + n, v);
        out_->append(buf, n + 8);
    }
    void string_field(std::uint32_t field, std::string_view v) {
        char buf[20];
        const std::size_t n = encode_tag(buf, field, wire_type::length_delimited);
        out_->append(buf, n + encode_varint(buf + n, v.size()));
        out_->append(v.data(), v.size());
    }
    // One string field written from two pieces (a name and its suffix).
    void string_field(std::uint32_t field, std::string_view first, std::string_view second) {
        char buf[20];
        const std::size_t n = encode_tag(buf, field, wire_type::length_delimited);
        out_->append(buf, n + encode_varint(buf + n, first.size() + second.size()));
        out_->append(first.data(), first.size());
        out_->append(second.data(), second.size());
    }
    // A nested message of two string fields (a LabelPair), its length known up
    // front. pair_size() is what it takes; write_pair() writes it at p (which has
    // that much room) and returns the end, so many pairs can share one extend().
    static std::size_t pair_size(std::uint32_t field, std::uint32_t first_field, std::size_t first,
                                 std::uint32_t second_field, std::size_t second) noexcept {
        const std::size_t body = pair_body_size(first_field, first, second_field, second);
        return tag_size(field) + varint_size(body) + body;
    }
    [[gnu::always_inline]] static char* write_pair(char* p, std::uint32_t field, std::uint32_t first_field,
                                                   std::string_view first, std::uint32_t second_field,
                                                   std::string_view second) noexcept {
        const std::size_t body = pair_body_size(first_field, first.size(), second_field, second.size());
        if ((field | first_field | second_field) >= 16 || body >= 128) [[unlikely]]
            return write_long_pair(p, field, first_field, first, second_field, second);
        *p++ = static_cast<char>(field << 3 | 2);  // one-byte tags and lengths
        *p++ = static_cast<char>(body);
        *p++ = static_cast<char>(first_field << 3 | 2);
        *p++ = static_cast<char>(first.size());
        p = copy_piece(p, first);
        *p++ = static_cast<char>(second_field << 3 | 2);
        *p++ = static_cast<char>(second.size());
        return copy_piece(p, second);
    }
    void string_pair_field(std::uint32_t field, std::uint32_t first_field, std::string_view first,
                           std::uint32_t second_field, std::string_view second) {
        write_pair(extend(pair_size(field, first_field, first.size(), second_field, second.size())), field,
                   first_field, first, second_field, second);
    }

    // Room for n more bytes, to be filled by the caller; returns where they start.
    char* extend(std::size_t n) {
        const std::size_t at = out_->size();
        out_->resize(at + n);
        return out_->data() + at;
    }

    // A google.protobuf.Timestamp message (seconds = 1, nanos = 2, nanos in
    // [0, 1e9)) for unix seconds `t`; fields at zero are left out, as proto3 does.
    // Nothing at all for a time that is not finite.
    void timestamp_field(std::uint32_t field, double t) {
        char body[timestamp_body_max];
        const std::size_t n = timestamp_body(body, t);
        if (n == none) return;
        char buf[34];  // tag, length (< 128), body: one append
        std::size_t at = encode_tag(buf, field, wire_type::length_delimited);
        buf[at++] = static_cast<char>(n);
        std::memcpy(buf + at, body, timestamp_body_max);
        out_->append(buf, at + n);
    }

    // The body of the Timestamp message for `t` at p (room for timestamp_body_max
    // bytes): its size, or `none` for a time that is not finite (no message at all).
    static constexpr std::size_t timestamp_body_max = 22, none = static_cast<std::size_t>(-1);
    static std::size_t timestamp_body(char* p, double t) noexcept {
        if (!std::isfinite(t)) return none;  // NaN: unknown; an infinite time has no Timestamp
        // floor() is a libm call on baseline x86-64; a truncation and a step down is not.
        double whole;
        if (std::fabs(t) < 0x1p62) {
            const auto s = static_cast<std::int64_t>(t);
            whole = static_cast<double>(s - (static_cast<double>(s) > t ? 1 : 0));
        } else {
            whole = std::floor(t);
        }
        // t - whole is in [0, 1): rounding half up by hand spares a libm call per series.
        auto nanos = static_cast<std::int64_t>((t - whole) * 1e9 + 0.5);
        if (nanos >= 1000000000) {
            whole += 1;
            nanos -= 1000000000;
        }
        std::size_t n = 0;
        if (whole != 0) {
            p[n++] = 0x08;  // seconds = 1, varint
            n += encode_varint(p + n, static_cast<std::uint64_t>(static_cast<std::int64_t>(whole)));
        }
        if (nanos != 0) {
            p[n++] = 0x10;  // nanos = 2, varint
            n += encode_varint(p + n, static_cast<std::uint64_t>(nanos));
        }
        return n;
    }

    // A nested message: `field`'s tag, then its length, then what is written until
    // end_message(mark). Marks nest.
    std::size_t begin_message(std::uint32_t field) {
        char buf[11];
        const std::size_t n = encode_tag(buf, field, wire_type::length_delimited);
        buf[n] = '\0';  // the length, written by end_message()
        out_->append(buf, n + 1);
        return out_->size();
    }
    // A length-prefixed record without a tag (the "delimited" stream framing).
    std::size_t begin_delimited() {
        out_->push_back('\0');
        return out_->size();
    }
    void end_message(std::size_t mark) {
        const std::size_t body = out_->size() - mark;
        const std::size_t extra = varint_size(body) - 1;
        if (extra) {
            out_->resize(out_->size() + extra);
            char* base = out_->data() + mark;
            std::memmove(base + extra, base, body);
        }
        char* at = out_->data() + mark - 1;
        std::uint64_t v = body;
        while (v >= 0x80) {
            *at++ = static_cast<char>((v & 0x7F) | 0x80);
            v >>= 7;
        }
        *at = static_cast<char>(v);
    }

    Buffer& buffer() noexcept { return *out_; }

private:
    [[gnu::noinline]] static char* write_long_pair(char* p, std::uint32_t field, std::uint32_t first_field,
                                                   std::string_view first, std::uint32_t second_field,
                                                   std::string_view second) noexcept {
        p += encode_tag(p, field, wire_type::length_delimited);
        p += encode_varint(p, pair_body_size(first_field, first.size(), second_field, second.size()));
        for (const auto& [f, v] : {std::pair{first_field, first}, std::pair{second_field, second}}) {
            p += encode_tag(p, f, wire_type::length_delimited);
            p += encode_varint(p, v.size());
            if (!v.empty()) std::memcpy(p, v.data(), v.size());
            p += v.size();
        }
        return p;
    }
    static std::size_t pair_body_size(std::uint32_t first_field, std::size_t first, std::uint32_t second_field,
                                      std::size_t second) noexcept {
        return tag_size(first_field) + varint_size(first) + first + tag_size(second_field) + varint_size(second) +
               second;
    }

    Buffer* out_;
};

using proto_writer = basic_proto_writer<std::string>;

}  // namespace llmetrics::detail

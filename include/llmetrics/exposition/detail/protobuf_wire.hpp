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

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

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

class proto_writer {
public:
    explicit proto_writer(std::string& out) noexcept : out_(&out) {}

    void varint(std::uint64_t v) {
        char buf[10];
        std::size_t n = 0;
        while (v >= 0x80) {
            buf[n++] = static_cast<char>((v & 0x7F) | 0x80);
            v >>= 7;
        }
        buf[n++] = static_cast<char>(v);
        out_->append(buf, n);
    }

    void tag(std::uint32_t field, wire_type type) { varint((std::uint64_t{field} << 3) | static_cast<std::uint32_t>(type)); }

    // Scalar fields; proto2 and proto3 readers both accept an explicit default.
    void uint64_field(std::uint32_t field, std::uint64_t v) {
        tag(field, wire_type::varint);
        varint(v);
    }
    void int64_field(std::uint32_t field, std::int64_t v) { uint64_field(field, static_cast<std::uint64_t>(v)); }
    void sint64_field(std::uint32_t field, std::int64_t v) { uint64_field(field, zigzag(v)); }
    void sint32_field(std::uint32_t field, std::int32_t v) { uint64_field(field, zigzag(v)); }
    void bool_field(std::uint32_t field, bool v) { uint64_field(field, v ? 1 : 0); }
    void double_field(std::uint32_t field, double v) {
        tag(field, wire_type::fixed64);
        std::uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        char buf[8];
        for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(bits >> (8 * i));  // little-endian
        out_->append(buf, 8);
    }
    void string_field(std::uint32_t field, std::string_view v) {
        tag(field, wire_type::length_delimited);
        varint(v.size());
        out_->append(v.data(), v.size());
    }
    // One string field written from two pieces (a name and its suffix).
    void string_field(std::uint32_t field, std::string_view first, std::string_view second) {
        tag(field, wire_type::length_delimited);
        varint(first.size() + second.size());
        out_->append(first.data(), first.size());
        out_->append(second.data(), second.size());
    }
    // A google.protobuf.Timestamp message (seconds = 1, nanos = 2, nanos in
    // [0, 1e9)) for unix seconds `t`; fields at zero are left out, as proto3 does.
    // Nothing at all for a time that is not finite.
    void timestamp_field(std::uint32_t field, double t) {
        if (!std::isfinite(t)) return;  // NaN: unknown; an infinite time has no Timestamp
        double whole = std::floor(t);
        auto nanos = static_cast<std::int64_t>(std::llround((t - whole) * 1e9));
        if (nanos >= 1000000000) {
            whole += 1;
            nanos -= 1000000000;
        }
        const std::size_t mark = begin_message(field);
        if (whole != 0) int64_field(1, static_cast<std::int64_t>(whole));
        if (nanos != 0) int64_field(2, nanos);
        end_message(mark);
    }

    // A nested message: `field`'s tag, then its length, then what is written until
    // end_message(mark). Marks nest.
    std::size_t begin_message(std::uint32_t field) {
        tag(field, wire_type::length_delimited);
        return begin_delimited();
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

    std::string& buffer() noexcept { return *out_; }

private:
    std::string* out_;
};

}  // namespace llmetrics::detail

#pragma once
// W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/):
//
//     00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
//     version trace-id (16 bytes)       parent-id (8 bytes) flags
//
// parse_traceparent() accepts a header only when it is well formed, and
// otherwise returns std::nullopt: a header from outside is never trusted, so
// a bad one starts a new trace instead of being repaired. Hex must be lower
// case; all-zero ids and version ff are invalid; version 00 must be exactly 55
// characters. A later version is read as the specification asks (the 00 fields
// at the same places, then the end or a '-'), and passed on as version 00.
// Flags other than `sampled` are reserved and dropped.
//
// generate_trace_context() makes fresh random ids (a per-thread generator, no
// lock); child() keeps the trace id and makes a new parent id. The "current"
// context is thread-local: set it for the duration of a request with
// scoped_trace_context, and read it anywhere below: monitored_router and
// http_request_timer attach its trace id as an exemplar ({trace_id="..."}) to
// what they record, and the request log writes it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include "../storage/exemplar.hpp"

namespace llmetrics {

struct trace_context {
    std::array<std::uint8_t, 16> trace_id{};
    std::array<std::uint8_t, 8> parent_id{};
    std::uint8_t flags = 0;

    static constexpr std::uint8_t sampled_flag = 0x01;
    bool sampled() const noexcept { return (flags & sampled_flag) != 0; }

    // 32 lower-case hex digits, as exemplars and logs carry it.
    std::string trace_id_hex() const;
    // 16 lower-case hex digits.
    std::string parent_id_hex() const;
    // The header to send downstream: always version 00.
    std::string to_traceparent() const;
    // Same trace, new parent id (the span this process starts).
    trace_context child() const;

    friend bool operator==(const trace_context&, const trace_context&) = default;
};

namespace detail {

constexpr int lower_hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// Reads 2*N lower-case hex digits into `out`; false on any other character.
template <std::size_t N>
constexpr bool read_hex(std::string_view s, std::array<std::uint8_t, N>& out) noexcept {
    for (std::size_t i = 0; i < N; ++i) {
        const int hi = lower_hex_value(s[2 * i]), lo = lower_hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return true;
}

template <std::size_t N>
constexpr bool all_zero(const std::array<std::uint8_t, N>& a) noexcept {
    for (std::uint8_t b : a)
        if (b) return false;
    return true;
}

template <std::size_t N>
std::string to_hex(const std::array<std::uint8_t, N>& a) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(2 * N, '0');
    for (std::size_t i = 0; i < N; ++i) {
        out[2 * i] = digits[a[i] >> 4];
        out[2 * i + 1] = digits[a[i] & 15];
    }
    return out;
}

inline std::mt19937_64& trace_random() {
    thread_local std::mt19937_64 engine = [] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
        return std::mt19937_64(seq);
    }();
    return engine;
}

// Random bytes, never all zero (an all-zero id is invalid).
template <std::size_t N>
void random_id(std::array<std::uint8_t, N>& out) {
    do {
        for (std::size_t i = 0; i < N; i += 8) {
            std::uint64_t r = trace_random()();
            for (std::size_t j = i; j < N && j < i + 8; ++j, r >>= 8) out[j] = static_cast<std::uint8_t>(r);
        }
    } while (all_zero(out));
}

inline std::optional<trace_context>& current_trace_slot() noexcept {
    thread_local std::optional<trace_context> current;
    return current;
}

}  // namespace detail

// The context a `traceparent` header carries, or std::nullopt when the header
// is not a valid one. Surrounding spaces and tabs (HTTP optional whitespace)
// are ignored.
inline std::optional<trace_context> parse_traceparent(std::string_view h) noexcept {
    while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
    while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
    // vv-<32>-<16>-ff: 2 + 1 + 32 + 1 + 16 + 1 + 2
    constexpr std::size_t v00_size = 55;
    if (h.size() < v00_size) return std::nullopt;
    std::array<std::uint8_t, 1> version{};
    if (!detail::read_hex(h.substr(0, 2), version) || version[0] == 0xff) return std::nullopt;
    if (version[0] == 0x00 && h.size() != v00_size) return std::nullopt;
    // A later version may append fields, each after a '-'.
    if (h.size() > v00_size && h[v00_size] != '-') return std::nullopt;
    if (h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;

    trace_context c;
    std::array<std::uint8_t, 1> flags{};
    if (!detail::read_hex(h.substr(3, 32), c.trace_id) || !detail::read_hex(h.substr(36, 16), c.parent_id) ||
        !detail::read_hex(h.substr(53, 2), flags))
        return std::nullopt;
    if (detail::all_zero(c.trace_id) || detail::all_zero(c.parent_id)) return std::nullopt;
    // Only the sampled bit is defined; the others are reserved and must be
    // sent as zero, so they are not passed on.
    c.flags = static_cast<std::uint8_t>(flags[0] & trace_context::sampled_flag);
    return c;
}

// A new trace: random trace and parent ids.
inline trace_context generate_trace_context(bool sampled = true) {
    trace_context c;
    detail::random_id(c.trace_id);
    detail::random_id(c.parent_id);
    c.flags = sampled ? trace_context::sampled_flag : 0;
    return c;
}

inline std::string trace_context::trace_id_hex() const { return detail::to_hex(trace_id); }
inline std::string trace_context::parent_id_hex() const { return detail::to_hex(parent_id); }

inline std::string trace_context::to_traceparent() const {
    const std::array<std::uint8_t, 1> f{flags};
    return std::string("00-") + trace_id_hex() + "-" + parent_id_hex() + "-" + detail::to_hex(f);
}

inline trace_context trace_context::child() const {
    trace_context c = *this;
    do detail::random_id(c.parent_id);
    while (c.parent_id == parent_id);
    return c;
}

// The continued trace of an incoming request: the header's trace as a child
// span when it is valid, a new trace otherwise.
inline trace_context continue_or_start_trace(std::string_view traceparent_header) {
    if (auto c = parse_traceparent(traceparent_header)) return c->child();
    return generate_trace_context();
}

// This thread's current trace context, if a scoped_trace_context set one.
inline const std::optional<trace_context>& current_trace_context() noexcept { return detail::current_trace_slot(); }

// The current trace id as 32 hex digits, or an empty string without a context.
inline std::string current_trace_id() {
    const auto& c = current_trace_context();
    return c ? c->trace_id_hex() : std::string();
}

// Makes `c` the current context until the end of the scope, then restores the
// one before (so scopes nest).
class scoped_trace_context {
public:
    explicit scoped_trace_context(const trace_context& c) noexcept : previous_(detail::current_trace_slot()) {
        detail::current_trace_slot() = c;
    }
    scoped_trace_context(const scoped_trace_context&) = delete;
    scoped_trace_context& operator=(const scoped_trace_context&) = delete;
    ~scoped_trace_context() { detail::current_trace_slot() = previous_; }

private:
    std::optional<trace_context> previous_;
};

namespace detail {

// Calls fn(&e) with e = {trace_id="<32 hex digits>"} while a trace context is
// current, and fn(nullptr) otherwise. fn is generic, so the common untraced
// call compiles to plain recording: one thread-local read is all it adds. The
// id is written on the stack: nothing is allocated.
template <class Fn>
decltype(auto) with_trace_exemplar(Fn&& fn) {
    const auto& c = current_trace_context();
    if (!c) [[likely]]
        return std::forward<Fn>(fn)(nullptr);
    static constexpr char digits[] = "0123456789abcdef";
    char hex[2 * 16];
    for (std::size_t i = 0; i < c->trace_id.size(); ++i) {
        hex[2 * i] = digits[c->trace_id[i] >> 4];
        hex[2 * i + 1] = digits[c->trace_id[i] & 15];
    }
    const exemplar e{{{"trace_id", std::string_view(hex, sizeof hex)}}};
    return std::forward<Fn>(fn)(&e);
}

// Record plainly (nullptr) or with the exemplar, as with_trace_exemplar passes it.
template <class Series>
void inc_traced(Series& s, std::nullptr_t) noexcept {
    s.inc();
}
template <class Series>
void inc_traced(Series& s, const exemplar* e) noexcept {
    s.inc(*e);
}
template <class Series, class T>
void inc_traced(Series& s, T amount, std::nullptr_t) noexcept {
    s.inc(amount);
}
template <class Series, class T>
void inc_traced(Series& s, T amount, const exemplar* e) noexcept {
    s.inc(amount, *e);
}
template <class Series>
void observe_traced(Series& s, double v, std::nullptr_t) noexcept {
    s.observe(v);
}
template <class Series>
void observe_traced(Series& s, double v, const exemplar* e) noexcept {
    s.observe(v, *e);
}

}  // namespace detail

}  // namespace llmetrics

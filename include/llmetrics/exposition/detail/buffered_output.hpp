#pragma once
// How encoders write: put() appends a piece to any text_output, and
// buffered_output gathers the pieces into large blocks for the real output.

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "../output.hpp"

namespace llmetrics::detail {


// Collects the many small pieces of an exposition in a local buffer and hands
// them to the real output in large blocks: an encoder writes ~20 pieces per
// sample line, and a call into std::string or a stream per piece dominated
// rendering time.
template <class Out>
class buffered_output {
public:
    explicit buffered_output(Out& out) noexcept : out_(out) {}
    buffered_output(const buffered_output&) = delete;
    buffered_output& operator=(const buffered_output&) = delete;
    ~buffered_output() { flush(); }

    void append(const char* first, const char* last) { write(first, static_cast<std::size_t>(last - first)); }

    void write(const char* p, std::size_t n) {
        // Most pieces are a few bytes: copy them with fixed-size moves, not a call.
        if (n <= 16 && sizeof(buffer_) - used_ >= 16) [[likely]] {
            char* d = buffer_ + used_;
            if (n >= 8) {
                std::memcpy(d, p, 8);
                std::memcpy(d + n - 8, p + n - 8, 8);
            } else if (n >= 4) {
                std::memcpy(d, p, 4);
                std::memcpy(d + n - 4, p + n - 4, 4);
            } else if (n > 0) {
                d[0] = p[0];
                d[n / 2] = p[n / 2];
                d[n - 1] = p[n - 1];
            }
            used_ += n;
            return;
        }
        if (n > sizeof(buffer_) - used_) [[unlikely]] {
            flush();
            if (n >= sizeof(buffer_)) return forward(p, n);
        }
        std::memcpy(buffer_ + used_, p, n);
        used_ += n;
    }

    void flush() {
        if (used_ != 0) forward(buffer_, used_);
        used_ = 0;
    }

private:
    void forward(const char* p, std::size_t n);

    Out& out_;
    std::size_t used_ = 0;
    char buffer_[16 * 1024];
};

template <class T>
struct is_buffered_output : std::false_type {};
template <class T>
struct is_buffered_output<buffered_output<T>> : std::true_type {};

template <text_output Out>
inline void put(Out& out, std::string_view text) {
    if constexpr (is_buffered_output<Out>::value)
        out.write(text.data(), text.size());
    else
    // std::string's (pointer, size) append is the fast one; its iterator-range
    // overload goes through replace() and costs several times more.
    if constexpr (std::is_same_v<Out, std::string>)
        out.append(text.data(), text.size());
    else if constexpr (requires { out.append(text.data(), text.data() + text.size()); })
        out.append(text.data(), text.data() + text.size());
    else
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

template <text_output Out>
inline void put(Out& out, char c) {
    put(out, std::string_view(&c, 1));
}

template <class Out>
void buffered_output<Out>::forward(const char* p, std::size_t n) {
    put(out_, std::string_view(p, n));
}

}  // namespace llmetrics::detail

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

// Copies n <= 16 bytes with fixed-size moves (two overlapping ones), no call.
[[gnu::always_inline]] inline void copy_small(char* d, const char* p, std::size_t n) noexcept {
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
}

// Copies s to d and returns its end. Pieces up to 64 bytes (names, label sets)
// go in 16-byte moves, the last one overlapping; a call to memcpy costs more
// than the copy at these sizes.
[[gnu::always_inline]] inline char* copy_piece(char* d, std::string_view s) noexcept {
    const std::size_t n = s.size();
    if (n <= 16) [[likely]] {
        copy_small(d, s.data(), n);
    } else if (n <= 64) {
        for (std::size_t i = 0; i + 16 < n; i += 16) std::memcpy(d + i, s.data() + i, 16);
        std::memcpy(d + n - 16, s.data() + n - 16, 16);
    } else {
        std::memcpy(d, s.data(), n);
    }
    return d + n;
}

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

    // Inlined into every encoder: most pieces are a few bytes, copied with
    // fixed-size moves; anything else takes the out-of-line path.
    [[gnu::always_inline]] void write(const char* p, std::size_t n) {
        if (n <= 16 && sizeof(buffer_) - used_ >= 16) [[likely]] {
            copy_small(buffer_ + used_, p, n);
            used_ += n;
            return;
        }
        write_large(p, n);
    }

    // Room for n contiguous bytes (flushing first when needed), or null when n
    // exceeds the whole buffer. A writer fills it through a local pointer, which
    // stays in a register (stores through a member pointer would force the
    // compiler to reload it after every char store), then commits the end.
    [[gnu::always_inline]] char* reserve(std::size_t n) {
        if (n > sizeof(buffer_) - used_) [[unlikely]] {
            flush();
            if (n > sizeof(buffer_)) return nullptr;
        }
        return buffer_ + used_;
    }
    [[gnu::always_inline]] void commit(const char* end) noexcept { used_ = static_cast<std::size_t>(end - buffer_); }

    void flush() {
        if (used_ != 0) forward(buffer_, used_);
        used_ = 0;
    }

private:
    [[gnu::noinline]] void write_large(const char* p, std::size_t n) {
        if (n > sizeof(buffer_) - used_) {
            flush();
            if (n >= sizeof(buffer_)) return forward(p, n);
        }
        std::memcpy(buffer_ + used_, p, n);
        used_ += n;
    }
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
[[gnu::always_inline]] inline void put(Out& out, std::string_view text) {
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
[[gnu::always_inline]] inline void put(Out& out, char c) {
    put(out, std::string_view(&c, 1));
}

template <class Out>
void buffered_output<Out>::forward(const char* p, std::size_t n) {
    put(out_, std::string_view(p, n));
}

}  // namespace llmetrics::detail

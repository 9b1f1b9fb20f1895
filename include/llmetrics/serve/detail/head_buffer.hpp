#pragma once
// A connection's input buffer: a flat_buffer with a fixed maximum size, which
// also notices obsolete line folding in a request head. Beast's parser joins an
// obs-fold line (one starting with SP or HTAB) to the field before it and says
// nothing, but a server should refuse it (RFC 9112 §5.2; request_screen.hpp).
// The parser consumes a head's bytes from the buffer once it has parsed them, so
// consume() sees each of them exactly once; it looks at them until the blank line
// that ends the head, and never at a body.

#include <cstddef>

#include <boost/beast/core/flat_buffer.hpp>

namespace llmetrics::detail {

class head_buffer : public boost::beast::flat_buffer {
public:
    explicit head_buffer(std::size_t limit) : boost::beast::flat_buffer(limit) {}

    // Before parsing a head: look at what the parser consumes from now on.
    void watch_head() noexcept {
        watching_ = true;
        folded_ = false;
        last_ = last2_ = 0;
    }
    bool folded() const noexcept { return folded_; }

    // Hides flat_buffer::consume: Beast's read algorithms call it on this type.
    void consume(std::size_t n) noexcept {
        if (watching_) scan(static_cast<const char*>(data().data()), n < size() ? n : size());
        boost::beast::flat_buffer::consume(n);
    }

private:
    void scan(const char* p, std::size_t n) noexcept {
        // Beast refuses a bare CR or LF, so lines end in CRLF: a line after LF that
        // starts with SP or HTAB is a fold, and CRLF CRLF ends the head.
        for (std::size_t i = 0; i < n; ++i) {
            const char c = p[i];
            if (last_ == '\n' && (c == ' ' || c == '\t')) folded_ = true;
            if (last2_ == '\n' && last_ == '\r' && c == '\n') {
                watching_ = false;
                return;
            }
            last2_ = last_;
            last_ = c;
        }
    }

    bool watching_ = false;
    bool folded_ = false;
    char last_ = 0, last2_ = 0;
};

}  // namespace llmetrics::detail

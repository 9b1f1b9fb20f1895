#pragma once
// A connection's input buffer: a flat_buffer with a fixed maximum size that also
// watches the request head Beast's parser reads through it, for two things the
// parser of Boost 1.74 does not do:
//  - bound the head as a whole. Its header_limit bounds what one parse step sees,
//    but the parser consumes each complete field as it goes, so a head arriving
//    in small reads (many fields, each under the limit) would grow without end.
//    Here the head's consumed bytes are counted, and once they and what is
//    buffered reach the limit, read_size_helper() (Beast's hook for how much to
//    read next) answers 0 and the read fails with http::error::buffer_overflow.
//  - notice obsolete line folding (a line starting with SP or HTAB), which the
//    parser silently joins to the field before it, though a server should refuse
//    it (RFC 9112 §5.2; request_screen.hpp).
// The parser consumes a head's bytes from the buffer once it has parsed them, so
// consume() sees each of them exactly once; it looks at them until the blank line
// that ends the head, and never at a body.

#include <algorithm>
#include <cstddef>

#include <boost/beast/core/flat_buffer.hpp>

namespace llmetrics::detail {

class head_buffer : public boost::beast::flat_buffer {
public:
    head_buffer(std::size_t head_limit, std::size_t limit)
        : boost::beast::flat_buffer(limit), head_limit_(head_limit) {}

    // Before parsing a head: watch what the parser consumes from now on.
    void watch_head() noexcept {
        watching_ = true;
        folded_ = false;
        head_bytes_ = 0;
        last_ = last2_ = 0;
    }
    bool folded() const noexcept { return folded_; }

    // Hides flat_buffer::consume: Beast's read algorithms call it on this type.
    void consume(std::size_t n) noexcept {
        if (watching_) scan(static_cast<const char*>(data().data()), n < size() ? n : size());
        boost::beast::flat_buffer::consume(n);
    }

    // Beast's read_size() asks this (found by argument-dependent lookup) how much
    // to read next; 0 fails the read. Else the answer Beast gives any buffer.
    friend std::size_t read_size_helper(head_buffer& b, std::size_t max_size) noexcept {
        if (b.watching_ && b.head_bytes_ + b.size() >= b.head_limit_) return 0;  // the head is over its limit
        const std::size_t room = b.max_size() - b.size();
        const std::size_t spare = b.capacity() - b.size();
        return std::min(std::max<std::size_t>(512, spare), std::min(max_size, room));
    }

private:
    void scan(const char* p, std::size_t n) noexcept {
        // Beast refuses a bare CR or LF, so lines end in CRLF: a line after LF that
        // starts with SP or HTAB is a fold, and CRLF CRLF ends the head.
        for (std::size_t i = 0; i < n; ++i) {
            const char c = p[i];
            ++head_bytes_;
            if (last_ == '\n' && (c == ' ' || c == '\t')) folded_ = true;
            if (last2_ == '\n' && last_ == '\r' && c == '\n') {
                watching_ = false;
                return;
            }
            last2_ = last_;
            last_ = c;
        }
    }

    std::size_t head_limit_;
    std::size_t head_bytes_ = 0;
    bool watching_ = false;
    bool folded_ = false;
    char last_ = 0, last2_ = 0;
};

}  // namespace llmetrics::detail

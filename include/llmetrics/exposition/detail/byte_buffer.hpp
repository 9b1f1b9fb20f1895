#pragma once
// A growable byte buffer for encoders that build a message before its length
// is known (protobuf). Unlike std::string, appending a few bytes is a couple of
// inline moves (std::string calls memmove for each append, which cost more than
// encoding the bytes) and growing does not zero-fill the new room.

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace llmetrics::detail {

class byte_buffer {
public:
    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return capacity_; }
    char* data() noexcept { return data_.get(); }
    const char* data() const noexcept { return data_.get(); }
    std::string_view view() const noexcept { return {data_.get(), size_}; }
    void clear() noexcept { size_ = 0; }

    [[gnu::always_inline]] void append(const char* p, std::size_t n) {
        if (capacity_ - size_ < n) [[unlikely]] grow(n);
        char* d = data_.get() + size_;
        if (n <= 16) [[likely]]
            for (std::size_t i = 0; i < n; ++i) d[i] = p[i];
        else
            copy_long(d, p, n);
        size_ += n;
    }
    void push_back(char c) {
        if (capacity_ == size_) [[unlikely]] grow(1);
        data_[size_++] = c;
    }
    // New bytes are left as they are: the caller writes them.
    void resize(std::size_t n) {
        if (n > capacity_) grow(n - size_);
        size_ = n;
    }
    // Frees the memory once it is larger than `limit` bytes.
    void release_above(std::size_t limit) noexcept {
        if (capacity_ > limit) {
            data_.reset();
            capacity_ = size_ = 0;
        }
    }

private:
    // Out of line: inlined into a caller with a small stack buffer, GCC 12's
    // -Warray-bounds reads this branch as copying past that buffer.
    [[gnu::noinline]] static void copy_long(char* d, const char* p, std::size_t n) noexcept { std::memcpy(d, p, n); }

    [[gnu::noinline]] void grow(std::size_t more) {
        std::size_t next = capacity_ < 4096 ? 4096 : capacity_ * 2;
        while (next - size_ < more) next *= 2;
        std::unique_ptr<char[]> bigger(new char[next]);
        if (size_) std::memcpy(bigger.get(), data_.get(), size_);
        data_ = std::move(bigger);
        capacity_ = next;
    }

    std::unique_ptr<char[]> data_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

}  // namespace llmetrics::detail

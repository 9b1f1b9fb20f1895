#pragma once
// Where rendered text goes: any buffer that can append characters. Supported out
// of the box: std::string, fmt::memory_buffer (anything with append(first, last)),
// and std::ostream (anything with write(ptr, n)).

#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>

namespace llmetrics {

template <class Out>
concept text_output = requires(Out& out, const char* p, std::size_t n) {
    out.append(p, p + n);
} || requires(Out& out, const char* p, std::size_t n) {
    out.write(p, static_cast<std::streamsize>(n));
};

namespace detail {

template <text_output Out>
inline void put(Out& out, std::string_view text) {
    if constexpr (requires { out.append(text.data(), text.data() + text.size()); })
        out.append(text.data(), text.data() + text.size());
    else
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

template <text_output Out>
inline void put(Out& out, char c) {
    put(out, std::string_view(&c, 1));
}

}  // namespace detail
}  // namespace llmetrics

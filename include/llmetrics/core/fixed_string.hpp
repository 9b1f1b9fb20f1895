#pragma once
// A string usable as a template argument: how family names, help texts and label
// names become part of a family's type.

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace llmetrics {

template <std::size_t N>
struct fixed_string {
    char data[N + 1]{};

    constexpr fixed_string() = default;
    constexpr fixed_string(const char (&text)[N + 1]) { std::copy_n(text, N + 1, data); }

    static constexpr std::size_t size() noexcept { return N; }
    constexpr std::string_view view() const noexcept { return {data, N}; }
    constexpr operator std::string_view() const noexcept { return view(); }
    constexpr const char* c_str() const noexcept { return data; }

    template <std::size_t M>
    constexpr fixed_string<N + M> operator+(const fixed_string<M>& rhs) const {
        fixed_string<N + M> out;
        std::copy_n(data, N, out.data);
        std::copy_n(rhs.data, M + 1, out.data + N);
        return out;
    }
    template <std::size_t M>
    constexpr bool operator==(const fixed_string<M>& rhs) const noexcept {
        return view() == rhs.view();
    }
};

template <std::size_t N>
fixed_string(const char (&)[N]) -> fixed_string<N - 1>;

}  // namespace llmetrics

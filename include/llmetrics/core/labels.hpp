#pragma once
// Label declarations. A family declares its label names in order with
// `labels<"method", "route">`; a label whose values form a closed set is declared
// with `value_set<"status", "success", "error">` beside it, which turns that label
// into an index into a fixed table instead of part of the lookup key.

#include <array>
#include <cstddef>
#include <string_view>

#include "detail/name_rules.hpp"
#include "fixed_string.hpp"

namespace llmetrics {

template <fixed_string... Names>
struct labels {
    static constexpr std::size_t size = sizeof...(Names);
    static constexpr std::array<std::string_view, size> names{Names.view()...};

    static constexpr std::size_t index_of(std::string_view name) noexcept {
        for (std::size_t i = 0; i < size; ++i)
            if (names[i] == name) return i;
        return size;
    }

    // Name rules are checked by the family that declares these labels (core/family.hpp).
    static constexpr bool unique = [] {
        for (std::size_t i = 0; i < size; ++i)
            for (std::size_t j = i + 1; j < size; ++j)
                if (names[i] == names[j]) return false;
        return true;
    }();
};

// Declares the closed set of values a label may take.
template <fixed_string Label, fixed_string... Values>
struct value_set {
    static constexpr std::string_view label = Label.view();
    static constexpr std::size_t size = sizeof...(Values);
    static constexpr std::array<std::string_view, size> values{Values.view()...};

    static constexpr std::size_t index_of(std::string_view value) noexcept {
        for (std::size_t i = 0; i < size; ++i)
            if (values[i] == value) return i;
        return size;
    }

    static_assert(size > 0, "llmetrics: value_set<Label, Values...> needs at least one value");
    static constexpr bool unique = [] {
        for (std::size_t i = 0; i < size; ++i)
            for (std::size_t j = i + 1; j < size; ++j)
                if (values[i] == values[j]) return false;
        return true;
    }();
    static_assert(unique, "llmetrics: a value appears twice in value_set<...>; list each once");
};

// A label value known at compile time: `family.labels(lm::value<"success">)`.
// For a label with a value_set it is checked against the set when compiled.
template <fixed_string Value>
struct static_value {
    static constexpr std::string_view view = Value.view();
};
template <fixed_string Value>
inline constexpr static_value<Value> value{};

// A value given by label name: `family.labels(lm::label<"route">{"/chat"}, ...)`.
// Names are matched against the declaration at compile time, in any order.
template <fixed_string Name>
struct label {
    static constexpr std::string_view name = Name.view();
    std::string_view value;
};

}  // namespace llmetrics

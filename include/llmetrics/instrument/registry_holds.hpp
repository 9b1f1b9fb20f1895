#pragma once
// `registry_holds_v<Registry, F>`: whether a registry type (or a class derived
// from one) declares family F. The instrumentation uses it to record into
// whichever catalog families a registry holds and skip the others, at compile
// time.

#include <type_traits>

#include "../core/fixed_string.hpp"
#include "../registry/registry.hpp"

namespace llmetrics {

namespace detail {

template <class F, fixed_string P, class... Fs>
std::bool_constant<(std::is_same_v<F, Fs> || ...)> holds_family(const registry_base<P, Fs...>*);
template <class F>
std::false_type holds_family(const void*);

template <fixed_string P, class... Fs>
std::true_type registry_base_match(const registry_base<P, Fs...>*);
std::false_type registry_base_match(const void*);

}  // namespace detail

template <class Registry, class F>
inline constexpr bool registry_holds_v =
    decltype(detail::holds_family<F>(static_cast<const std::remove_cvref_t<Registry>*>(nullptr)))::value;

// Whether T is a llmetrics registry (or derives from one).
template <class T>
inline constexpr bool is_registry_v =
    decltype(detail::registry_base_match(static_cast<const std::remove_cvref_t<T>*>(nullptr)))::value;

}  // namespace llmetrics

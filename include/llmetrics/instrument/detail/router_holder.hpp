#pragma once
// How monitored_router holds the router it decorates: by reference (an lvalue,
// or std::reference_wrapper), by value (an rvalue), or through a pointer
// (std::unique_ptr, std::shared_ptr, raw pointer). unwrap_router reaches the
// router whichever it is; stored_router says what CTAD stores for an argument.

#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace llmetrics::detail {

template <class T>
struct is_reference_wrapper : std::false_type {};
template <class T>
struct is_reference_wrapper<std::reference_wrapper<T>> : std::true_type {};

template <class T>
struct is_router_pointer : std::is_pointer<T> {};
template <class T, class D>
struct is_router_pointer<std::unique_ptr<T, D>> : std::true_type {};
template <class T>
struct is_router_pointer<std::shared_ptr<T>> : std::true_type {};

template <class T>
struct is_shared_ptr : std::false_type {};
template <class T>
struct is_shared_ptr<std::shared_ptr<T>> : std::true_type {};

template <class S>
auto& unwrap_router(S& stored) noexcept {
    if constexpr (is_reference_wrapper<std::remove_cv_t<S>>::value) return stored.get();
    else if constexpr (is_router_pointer<std::remove_cv_t<S>>::value) return *stored;
    else return stored;
}

template <class S>
using unwrapped_router_t =
    std::remove_reference_t<decltype(unwrap_router(std::declval<std::remove_reference_t<S>&>()))>;

// What CTAD stores for a constructor argument of type A (as deduced by A&&):
// lvalues by reference (shared_ptr lvalues by copy: shared ownership), rvalues by value.
template <class A>
struct stored_router {
    using type = std::remove_cvref_t<A>;
};
template <class T>
struct stored_router<T&> {
    using type = std::conditional_t<is_shared_ptr<std::remove_cv_t<T>>::value, std::remove_cv_t<T>, T&>;
};

}  // namespace llmetrics::detail

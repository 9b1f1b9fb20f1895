#pragma once
// Which kinds of buckets a histogram family has (core/family.hpp: F::native,
// F::classic); any other type counts as classic only, so a wrong argument
// reports its own error first.

namespace llmetrics::detail {

template <class F>
inline constexpr bool histogram_has_native = [] {
    if constexpr (requires { F::native; }) return bool(F::native);
    else return false;
}();
template <class F>
inline constexpr bool histogram_has_classic = [] {
    if constexpr (requires { F::classic; }) return bool(F::classic);
    else return true;
}();

}  // namespace llmetrics::detail

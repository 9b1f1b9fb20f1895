#pragma once
// Which families a registry holds, at compile time. The instrumentation records
// into whichever catalog families a registry holds and skips the others.
//
//   registry_holds_v<Registry, F>   Registry (or a class derived from one) declares F itself.
//   registry_role_t<Registry, F>    the family of Registry that plays F's part: F itself if
//                                   declared, else the first family of the same type and label
//                                   names (in order) whose exposed name is F's name or ends in
//                                   "_" + F's name; void when none does.
//
// Roles let code written against the catalog record into families a user
// declared by hand, e.g. the README's
//     counter<"llm_router_model_inference_total", ..., labels<"model_id", "strategy", "status", "tenant_id">>
// plays catalog::model_inference_total in an unprefixed registry.

#include <cstddef>
#include <string_view>
#include <type_traits>

#include "../core/fixed_string.hpp"
#include "registry.hpp"

namespace llmetrics {

namespace detail {

template <class F, fixed_string P, class... Fs>
std::bool_constant<(std::is_same_v<F, Fs> || ...)> holds_family(const registry_base<P, Fs...>*);
template <class F>
std::false_type holds_family(const void*);

template <fixed_string P, class... Fs>
std::true_type registry_base_match(const registry_base<P, Fs...>*);
std::false_type registry_base_match(const void*);

template <class Role, fixed_string P, class F>
constexpr bool plays_role() {
    if constexpr (F::type != Role::type || !std::is_same_v<typename F::label_names, typename Role::label_names>) {
        return false;
    } else {
        constexpr std::string_view full = joined_name<P, F>.view();
        constexpr std::string_view role = Role::name;
        if constexpr (full == role) return true;
        else return full.size() > role.size() && full.substr(full.size() - role.size()) == role &&
                    full[full.size() - role.size() - 1] == '_';
    }
}

template <class Role, fixed_string P, class... Fs>
struct find_role {
    using type = void;
};
template <class Role, fixed_string P, class F, class... Fs>
struct find_role<Role, P, F, Fs...> {
    using type = std::conditional_t<plays_role<Role, P, F>(), F, typename find_role<Role, P, Fs...>::type>;
};

// Pointers, so that "no family" can be void.
template <class Role, fixed_string P, class... Fs>
auto role_family(const registry_base<P, Fs...>*)
    -> std::conditional_t<(std::is_same_v<Role, Fs> || ...), Role, typename find_role<Role, P, Fs...>::type>*;
template <class Role>
void* role_family(const void*);

}  // namespace detail

template <class Registry, class F>
inline constexpr bool registry_holds_v =
    decltype(detail::holds_family<F>(static_cast<const std::remove_cvref_t<Registry>*>(nullptr)))::value;

template <class Registry, class F>
using registry_role_t = std::remove_pointer_t<decltype(detail::role_family<F>(
    static_cast<const std::remove_cvref_t<Registry>*>(nullptr)))>;

template <class Registry, class F>
inline constexpr bool registry_has_role_v = !std::is_void_v<registry_role_t<Registry, F>>;

// Whether T is a llmetrics registry (or derives from one).
template <class T>
inline constexpr bool is_registry_v =
    decltype(detail::registry_base_match(static_cast<const std::remove_cvref_t<T>*>(nullptr)))::value;

}  // namespace llmetrics

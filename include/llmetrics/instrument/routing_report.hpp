#pragma once
// What a router reports of how it served a call: the attempts it made at its
// upstreams (deployments or endpoints), in order, the states and rate limits of
// the upstreams it saw, and the time it spent itself. monitored_router derives
// the gateway families (instrument/gateway_catalog.hpp) from it:
//
//   each attempt                        upstream_attempts_total{model, upstream, result} + 1
//   an attempt after a failed one       retries_total{model, reason = the failure} + 1   (same model)
//                                       fallbacks_total{from, to, reason} + 1             (another model)
//   a model's last attempt failed       retries_exhausted_total{model} + 1
//   each upstream status                upstream_health{model, upstream, state} = 1 (0 for the others),
//                                       upstream_remaining_requests / _tokens = the values reported
//   overhead_seconds                    router_overhead_seconds{model}
//
// So every attempt but a call's first is a retry or a fallback: attempts =
// calls reporting attempts + retries + fallbacks.
//
// A result reports it through routing_traits<T> (specialise it for a type you
// cannot change), a free function `llmetrics_routing(const T&)` found by ADL
// returning routing_facts, or a member `routing` (a routing_report, routing_facts
// or a pointer to a routing_report). Failed calls have no result: the options
// may carry a `routing_report* routing` that the router fills during the call
// (request_options has one), read after success and failure alike by process()
// and process_stream(); asynchronous calls and manual scopes read the result's,
// or what scope.report() was given.
//
//     lm::routing_report report;
//     router.process(prompt, {.model = "gpt-4", .routing = &report});
//
// Nothing reported, nothing recorded: an empty report costs a branch. Views in
// the report (model, upstream, result) must stay valid until the call returns.

#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

namespace llmetrics {

// The words an attempt ends with (the `result`, `reason` value sets).
namespace attempt_result {
inline constexpr std::string_view success = "success";
inline constexpr std::string_view rate_limited = "rate_limited";
inline constexpr std::string_view timeout = "timeout";
inline constexpr std::string_view server_error = "server_error";
inline constexpr std::string_view connection_error = "connection_error";
inline constexpr std::string_view context_window = "context_window";
inline constexpr std::string_view content_policy = "content_policy";
inline constexpr std::string_view other = "other";
}  // namespace attempt_result

struct upstream_attempt {
    std::string_view model{};     // empty: the call's model
    std::string_view upstream{};  // deployment or endpoint name
    std::string_view result{};    // attempt_result::*
};

enum class upstream_state { up, degraded, cooling_down };

inline constexpr std::string_view upstream_state_names[] = {"up", "degraded", "cooling_down"};

struct upstream_status {
    std::string_view model{};  // empty: the call's model
    std::string_view upstream{};
    upstream_state state = upstream_state::up;
    std::optional<double> remaining_requests{};  // from the upstream's rate-limit headers
    std::optional<double> remaining_tokens{};
};

// Views of what one call reports.
struct routing_facts {
    std::span<const upstream_attempt> attempts{};
    std::span<const upstream_status> upstreams{};
    std::optional<double> overhead_seconds{};  // router time excluding upstream calls

    bool empty() const noexcept { return attempts.empty() && upstreams.empty() && !overhead_seconds; }
};

// An owning report a router can fill (and a result or the options can carry).
struct routing_report {
    std::vector<upstream_attempt> attempts{};
    std::vector<upstream_status> upstreams{};
    std::optional<double> overhead_seconds{};

    routing_facts facts() const noexcept { return {attempts, upstreams, overhead_seconds}; }
    void clear() noexcept {
        attempts.clear();
        upstreams.clear();
        overhead_seconds.reset();
    }
};

namespace detail {

template <class T>
concept has_adl_routing = requires(const T& r) {
    { llmetrics_routing(r) } -> std::convertible_to<routing_facts>;
};

template <class T>
routing_facts default_routing(const T& r) noexcept {
    if constexpr (has_adl_routing<T>) {
        return llmetrics_routing(r);
    } else if constexpr (std::is_same_v<T, routing_facts>) {
        return r;
    } else if constexpr (std::is_same_v<T, routing_report>) {
        return r.facts();
    } else if constexpr (std::is_class_v<T> && requires { r.routing; }) {
        using M = std::remove_cvref_t<decltype(r.routing)>;
        if constexpr (std::is_same_v<M, routing_report> || std::is_same_v<M, routing_facts>) {
            return default_routing(r.routing);
        } else if constexpr (std::is_pointer_v<M> &&
                             std::is_same_v<std::remove_cv_t<std::remove_pointer_t<M>>, routing_report>) {
            return r.routing ? r.routing->facts() : routing_facts{};
        } else {
            return {};
        }
    } else {
        return {};
    }
}

}  // namespace detail

// Customization point: what a result (or options) type reports of its routing.
template <class T>
struct routing_traits {
    using llmetrics_default_traits = void;  // marks the primary template
    static routing_facts read(const T& x) noexcept { return detail::default_routing(x); }
};

template <class T>
routing_facts read_routing(const T& x) noexcept {
    return routing_traits<std::remove_cvref_t<T>>::read(x);
}

namespace detail {
template <class T>
concept has_default_routing_traits = requires { typename routing_traits<T>::llmetrics_default_traits; };

// read_routing into `out`, field by field, when `out` holds nothing yet: the
// hot path's form. A whole routing_facts assigned from a returned one is a
// 48-byte copy through the stack, measurable per call (see add_usage_fields).
template <class T>
void add_routing(const T& x, routing_facts& out) noexcept {
    if (!out.empty()) return;
    using U = std::remove_cvref_t<T>;
    if constexpr (has_default_routing_traits<U> && !has_adl_routing<U> && std::is_class_v<U> &&
                  requires { x.routing; }) {
        using M = std::remove_cvref_t<decltype(x.routing)>;
        const routing_report* r = nullptr;
        if constexpr (std::is_same_v<M, routing_report>) r = &x.routing;
        else if constexpr (std::is_pointer_v<M> &&
                           std::is_same_v<std::remove_cv_t<std::remove_pointer_t<M>>, routing_report>)
            r = x.routing;
        else if constexpr (std::is_same_v<M, routing_facts>) out = x.routing;
        if (r) {
            out.attempts = r->attempts;
            out.upstreams = r->upstreams;
            if (r->overhead_seconds) out.overhead_seconds = *r->overhead_seconds;
        }
    } else if constexpr (has_default_routing_traits<U> && !has_adl_routing<U> && !std::is_same_v<U, routing_facts> &&
                         !std::is_same_v<U, routing_report>) {
        // nothing to read
    } else {
        out = read_routing(x);
    }
}
}  // namespace detail

}  // namespace llmetrics

#pragma once
// The gateway families a call's routing report fills that are lists rather than
// one sample per call (instrument/routing_report.hpp says what each records):
// attempts, retries, fallbacks, retries exhausted, upstream health and rate
// limits. The single-sample gateway rows (tokens, sizes, overhead, in flight)
// are in the role table (router_roles.hpp). Series are looked up per entry:
// attempts are few per call, and a router that reports none skips all of this.

#include <cstddef>
#include <string_view>

#include "../../registry/holds.hpp"
#include "../gateway_catalog.hpp"
#include "../routing_report.hpp"
#include "../trace_context.hpp"
#include "role_table.hpp"

namespace llmetrics::detail {

struct routing_recorder {
    template <class Registry>
    static constexpr bool records_anything =
        registry_has_role_v<Registry, catalog::gateway::upstream_attempts_total> ||
        registry_has_role_v<Registry, catalog::gateway::retries_total> ||
        registry_has_role_v<Registry, catalog::gateway::fallbacks_total> ||
        registry_has_role_v<Registry, catalog::gateway::retries_exhausted_total> ||
        registry_has_role_v<Registry, catalog::gateway::upstream_health> ||
        registry_has_role_v<Registry, catalog::gateway::upstream_remaining_requests> ||
        registry_has_role_v<Registry, catalog::gateway::upstream_remaining_tokens>;

    template <class Registry, class Exemplar>
    static void record(Registry& metrics, const call_facts& c, Exemplar ex) {
        if constexpr (records_anything<Registry>) {
            if (!c.routing) return;
            record_attempts(metrics, c, ex);
            record_upstreams(metrics, c);
        }
    }

private:
    template <class Role, class Registry>
    static auto& family_of(Registry& metrics) {
        return metrics.template get<registry_role_t<Registry, Role>>();
    }

    static std::string_view model_of(std::string_view reported, const call_facts& c) noexcept {
        return reported.empty() ? c.model : reported;
    }
    // A failure names a retry or a fallback; an attempt repeated after a success
    // (a hedged request) has no failure to name.
    static std::string_view reason_of(std::string_view result) noexcept {
        return result == attempt_result::success ? attempt_result::other : result;
    }

    template <class Registry, class Exemplar>
    static void record_attempts(Registry& metrics, const call_facts& c, Exemplar ex) {
        namespace gw = catalog::gateway;
        const auto attempts = c.routing->attempts;
        for (std::size_t i = 0; i < attempts.size(); ++i) {
            const upstream_attempt& a = attempts[i];
            const std::string_view model = model_of(a.model, c);
            if constexpr (registry_has_role_v<Registry, gw::upstream_attempts_total>)
                inc_traced(family_of<gw::upstream_attempts_total>(metrics).labels(model, a.upstream, a.result), ex);
            if (i > 0) {
                const upstream_attempt& before = attempts[i - 1];
                const std::string_view before_model = model_of(before.model, c);
                if (before_model == model) {
                    if constexpr (registry_has_role_v<Registry, gw::retries_total>)
                        inc_traced(family_of<gw::retries_total>(metrics).labels(model, reason_of(before.result)), ex);
                } else {
                    if constexpr (registry_has_role_v<Registry, gw::fallbacks_total>)
                        inc_traced(family_of<gw::fallbacks_total>(metrics).labels(before_model, model,
                                                                               reason_of(before.result)),
                                   ex);
                }
            }
            if constexpr (registry_has_role_v<Registry, gw::retries_exhausted_total>) {
                const bool last_on_model = i + 1 == attempts.size() || model_of(attempts[i + 1].model, c) != model;
                if (last_on_model && a.result != attempt_result::success)
                    inc_traced(family_of<gw::retries_exhausted_total>(metrics).labels(model), ex);
            }
        }
    }

    template <class Registry>
    static void record_upstreams(Registry& metrics, const call_facts& c) {
        namespace gw = catalog::gateway;
        for (const upstream_status& s : c.routing->upstreams) {
            const std::string_view model = model_of(s.model, c);
            if constexpr (registry_has_role_v<Registry, gw::upstream_health>) {
                auto& health = family_of<gw::upstream_health>(metrics);
                for (std::size_t k = 0; k < std::size(upstream_state_names); ++k)
                    health.labels(model, s.upstream, upstream_state_names[k])
                        .set(static_cast<std::size_t>(s.state) == k ? 1.0 : 0.0);
            }
            if constexpr (registry_has_role_v<Registry, gw::upstream_remaining_requests>) {
                if (s.remaining_requests)
                    family_of<gw::upstream_remaining_requests>(metrics).labels(model, s.upstream)
                        .set(*s.remaining_requests);
            }
            if constexpr (registry_has_role_v<Registry, gw::upstream_remaining_tokens>) {
                if (s.remaining_tokens)
                    family_of<gw::upstream_remaining_tokens>(metrics).labels(model, s.upstream)
                        .set(*s.remaining_tokens);
            }
        }
    }
};

}  // namespace llmetrics::detail

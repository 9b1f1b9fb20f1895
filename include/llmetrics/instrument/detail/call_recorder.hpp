#pragma once
// What monitored_router shares with the calls it hands out: the registries, the
// clock, the label defaults and the label cache, and how a finished call is
// recorded: one fold over the role table (instrument/detail/router_roles.hpp)
// per registry. Recording never throws: a failure to record (allocating a
// first-seen series) must not turn a served request into a failed one.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../label_defaults.hpp"
#include "../llm_router.hpp"
#include "../../core/clock.hpp"
#include "../../registry/holds.hpp"
#include "../gateway_catalog.hpp"
#include "../trace_context.hpp"
#include "label_cache.hpp"
#include "role_table.hpp"
#include "router_roles.hpp"
#include "routing_recorder.hpp"

namespace llmetrics::detail {

// A tenant_budgets (instrument/tenant_budgets.hpp) attached to monitored_router,
// its type erased: charge(self, tenant, cents) takes from the tenant's budget.
struct budget_sink {
    void* self = nullptr;
    void (*charge)(void* self, std::string_view tenant, double cents) = nullptr;
};
struct no_budget_sink {};

template <class Traits, class... Registries>
class call_recorder {
public:
    using traits = Traits;
    using handles = std::tuple<router_roles::handles<Registries>...>;
    using cache_type = label_cache<handles, call_recorder>;
    using set_ref = typename cache_type::ref;
    using set_type = label_set<handles>;

    explicit call_recorder(Registries&... registries) noexcept : registries_(&registries...) {}

    time_source clock;
    label_defaults defaults;
    cache_type cache;

    // Whether a registry holds the remaining-budget family; only then can a
    // tenant_budgets be attached, and only then does a call look for one.
    static constexpr bool records_budget =
        (registry_has_role_v<Registries, catalog::gateway::tenant_budget_remaining_cents> || ...);
    [[no_unique_address]] std::conditional_t<records_budget, budget_sink, no_budget_sink> budgets{};

    // The label set of a call with these options, defaults filled in.
    template <class Options>
    set_ref acquire(const Options& options) {
        request_labels l = read_request_labels(options);
        if (l.model.empty()) l.model = defaults.model;
        if (l.tenant_id.empty()) l.tenant_id = defaults.tenant_id;
        if (l.strategy.empty()) l.strategy = defaults.strategy;
        if constexpr (uses_provider_or_operation) {
            if (l.provider.empty()) l.provider = defaults.provider;
            if (l.operation.empty()) l.operation = defaults.operation;
        } else {
            l.provider = {};  // not part of any series: keep them out of the cache key
            l.operation = {};
        }
        return cache.acquire(l);
    }

    // A call of this label set begins (in-flight gauges); nothing when no registry counts it.
    void record_start(set_type& s) const noexcept {
        if constexpr ((router_roles::records_event<call_event::start, Registries> || ...))
            record<call_event::start>(facts_of(s), &s.handles);
    }

    void record_success(set_type& s, double seconds, const usage& u, const stream_timing* timing,
                        const routing_facts* routing = nullptr) const noexcept {
        call_facts c = facts_of(s);
        c.seconds = seconds;
        c.use = &u;
        c.timing = timing;
        c.routing = routing && !routing->empty() ? routing : nullptr;
        record<call_event::success>(c, &s.handles);
        if constexpr (records_budget) {
            // The same cents as the spend row (router_roles.hpp), so both move together.
            if (budgets.charge && u.cost) {
                try {
                    budgets.charge(budgets.self, c.tenant_id, *u.cost * 100.0);
                } catch (...) {
                }
            }
        }
    }

    void record_failure(set_type& s, double seconds, std::string_view error_type,
                        const routing_facts* routing = nullptr) const noexcept {
        call_facts c = facts_of(s);
        c.seconds = seconds;
        c.error_type = error_type;
        c.routing = routing && !routing->empty() ? routing : nullptr;
        record<call_event::failure>(c, &s.handles);
    }

    // A chunk of a streamed call: Event is first_chunk (seconds since the start)
    // or next_chunk (seconds since the previous chunk).
    template <call_event Event>
    void record_chunk(set_type& s, double seconds) const noexcept {
        call_facts c = facts_of(s);
        c.seconds = seconds;
        record<Event>(c, &s.handles);
    }

    // Whether any registry records chunks as they arrive (only the GenAI client families do).
    static constexpr bool records_chunks =
        ((router_roles::records_event<call_event::first_chunk, Registries> ||
          router_roles::records_event<call_event::next_chunk, Registries>) ||
         ...);

    // Inside a catch block: the exception's type names the failure.
    void record_failure_current(set_type& s, double seconds, const routing_facts* routing = nullptr) const noexcept {
        try {
            const auto name = traits::error_type();
            record_failure(s, seconds, std::string_view(name), routing);
        } catch (...) {
        }
    }

    // What a call reports of its routing: the first of `sources` (results, then
    // options) that reports anything. Read only when a registry records it.
    template <class... Sources>
    static routing_facts routing_of(const Sources&... sources) noexcept {
        routing_facts r;
        if constexpr (reads_routing) (add_routing(sources, r), ...);
        return r;
    }

    // Whether any registry records what a routing report carries.
    static constexpr bool reads_routing =
        ((routing_recorder::records_anything<Registries> ||
          registry_has_role_v<Registries, catalog::gateway::router_overhead_seconds>) ||
         ...);

    // The client went away (stage: cancellation.hpp's stage_name); not an error.
    // A call that started ends with it (in-flight gauges go down).
    void record_cancellation(set_type& s, std::string_view stage, bool call_started = true) const noexcept {
        call_facts c = facts_of(s);
        c.stage = stage;
        if (call_started) record<call_event::cancellation>(c, &s.handles);
        else record<call_event::unstarted_cancellation>(c, &s.handles);
    }

    void record_load(const model_labels& l, double seconds) const noexcept {
        call_facts c = facts_of(l);
        c.seconds = seconds;
        record<call_event::load>(c, nullptr);
    }

    void record_load_failure(const model_labels& l) const noexcept {
        record<call_event::load_failure>(facts_of(l), nullptr);
    }

    // Whether any registry records provider or operation (only the GenAI families do).
    static constexpr bool uses_provider_or_operation =
        ((router_roles::reads<Registries>(&call_facts::provider) ||
          router_roles::reads<Registries>(&call_facts::operation)) ||
         ...);

private:
    static call_facts facts_of(const set_type& s) noexcept {
        call_facts c;
        c.model = s.model;
        c.strategy = s.strategy;
        c.tenant_id = s.tenant_id;
        c.provider = s.provider;
        c.operation = s.operation;
        return c;
    }
    static call_facts facts_of(const model_labels& l) noexcept {
        call_facts c;
        c.model = l.id.empty() ? std::string_view("unknown") : l.id;
        c.format = l.format.empty() ? std::string_view("unknown") : l.format;
        c.loader = l.loader.empty() ? std::string_view("auto") : l.loader;
        return c;
    }

    // Loads and load failures have no label set (h is null): their rows are never cached.
    template <call_event Event>
    void record(const call_facts& c, handles* h) const noexcept {
        const auto each_registry = [&](auto ex) {
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                (router_roles::record<Event>(*std::get<I>(registries_), h ? &std::get<I>(*h) : nullptr, c, ex), ...);
                if constexpr (Event == call_event::success || Event == call_event::failure)
                    (routing_recorder::record(*std::get<I>(registries_), c, ex), ...);
            }(std::index_sequence_for<Registries...>{});
        };
        try {
            // Model loads happen outside requests: they carry no exemplar.
            if constexpr (!event_has_label_set(Event)) each_registry(nullptr);
            else with_trace_exemplar(each_registry);
        } catch (...) {
        }
    }

    std::tuple<Registries*...> registries_;
};

}  // namespace llmetrics::detail

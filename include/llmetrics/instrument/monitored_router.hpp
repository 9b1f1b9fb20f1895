#pragma once
// `monitored_router`: the tutorial's `MonitoredLLMRouter` as a decorator over any
// type modelling llm_router (instrument/llm_router.hpp):
//
//     my_router engine;
//     llmetrics::catalog_registry metrics;
//     llmetrics::monitored_router router{engine, metrics};     // engine by reference
//     auto result = router.process("Hello", {.model = "gpt-4", .tenant_id = "tenant-a"});
//
// The router is held by reference (an lvalue, or std::reference_wrapper), by
// value (an rvalue: `monitored_router{my_router{}, metrics}`) or through a
// pointer (std::unique_ptr, std::shared_ptr, raw pointer). Registries are held
// by reference and must outlive the decorator.
//
// What a call records is exactly what the tutorial records, in whichever of
// these families the given registries hold (checked at compile time; a family a
// registry does not hold costs nothing). A registry holds a family when it
// declares the catalog type, or a family of the same kind and label names whose
// name ends in the catalog name (registry/holds.hpp), so families
// declared by hand as `llm_router_model_inference_total` etc. work too:
//
//   process() succeeds   model_inference_total{model_id, strategy, "success", tenant_id} + 1
//                        model_inference_duration_seconds{model_id, strategy, tenant_id} (seconds)
//                        model_inference_tokens{model_id, strategy, tenant_id} (total tokens, 0 if absent)
//                        request_cost_cents{model_id, tenant_id} (cost x 100, only if a cost is present)
//   process() throws     errors_total{<exception type>, model_id, tenant_id} + 1
//                        model_inference_total{..., "error", ...} + 1, then rethrows the same exception
//   register_model()     model_load_time_seconds{id, format, loader or "auto"} (seconds)
//     ...throws          errors_total{"ModelLoadError", id, "unknown"} + 1, then rethrows
//
// Label defaults as the tutorial: model "default", strategy "balanced", tenant
// "unknown" (change them with set_defaults()). The exception type is the short
// demangled name (instrument/error_type.hpp), overridable per router through
// router_traits<R>::error_type().
//
// Beyond the tutorial, when the registries hold them:
//   - catalog::streaming families: time to first token and time per output
//     token (streaming calls), input and output tokens apart (any call whose
//     result reports them);
//   - the gateway families (instrument/gateway_catalog.hpp): attempts, retries,
//     fallbacks, retries exhausted and upstream states from the call's routing
//     report (instrument/routing_report.hpp: the result's, else the options'),
//     cached input and reasoning output tokens, request and response tokens,
//     router overhead, requests in flight per model (from the start of a
//     call to its end), and spend per tenant from the result's cost (charged
//     to a tenant_budgets too once attach()ed: instrument/tenant_budgets.hpp);
//   - the OpenTelemetry GenAI families (instrument/genai_catalog.hpp), labelled
//     with gen_ai_operation_name / gen_ai_provider_name (from the options, else
//     the defaults "chat" / "unknown") and gen_ai_request_model: the operation
//     duration of every call (error_type empty, or the exception's type name),
//     input and output token usage, and on streaming calls the time to first
//     token and per output token. Pass a genai_registry beside or instead of the
//     tutorial's:
//         llmetrics::monitored_router router{engine, metrics, genai};
//
// Exemplars: while a trace context is current on the thread that records
// (scoped_trace_context, instrument/trace_context.hpp), every sample recorded
// for the call carries {trace_id="<32 hex digits>"} as its exemplar. Async
// results are recorded on the thread that obtains them, so scope the context
// there too.
//
// Durations come from the TSC where that is safe, else std::chrono::steady_clock
// (core/tsc_clock.hpp: calibrated once per process, when the first decorator is
// built), or from the clock given to set_time_source() (tests and simulations:
// core/clock.hpp).
//
// Paths:
//   process(prompt, options)                    synchronous
//   process_stream(prompt, options, on_chunk)   router's process_stream; each on_chunk call is an output
//                                               token (or the chunk's reported output tokens)
//   process_async(prompt, options)              router's process_async returning std::future<T> or an
//                                               awaitable; recorded when the result is obtained
//   track_async(options, callable)              same, for any callable returning a future or awaitable
//   start(options) -> scope                     manual: scope.token() per output token, then
//                                               scope.succeed(result) or scope.fail(); a scope left
//                                               unfinished records an error "Abandoned"
//
// Clients that go away (instrument/cancellation.hpp): a chunk callback that
// returns false, or client_disconnected thrown by the router or the callback,
// makes the call a cancellation, counted in catalog::streaming::client_cancellations_total
// {model_id, tenant_id, stage} (mid_stream once a chunk was delivered, else
// before_first_token) and nothing else; record_cancellation(options,
// cancellation_stage::queued) counts one that left before the call started.
// A chunk's time (first token, per output token) is when the callback returns:
// for a callback that hands the chunk to a socket, when it was handed over.
//
// What each family records, and from which fact of the call each label comes,
// is one table (instrument/detail/router_roles.hpp); recording is a fold over it.
//
// Hot path: the label values of a call are matched against a small per-thread
// cache of resolved series handles (instrument/detail/label_cache.hpp: no
// hashing, no lock, no allocation once a label combination has been seen); a
// miss takes a mutex and resolves the handles once per (model, strategy, tenant,
// provider, operation). At most max_cached_label_sets combinations are cached
// per decorator; past that, calls still record correctly but resolve their
// series each time.
//
// Cached handles outlive family.remove() / reset(): the next write through them
// brings the removed series back from zero (storage/family.hpp), so no call is
// lost. clear_cache() only frees the cached handle sets.
//
// Thread safety: process(), process_stream(), process_async() and
// register_model() may be called from any number of threads at once;
// set_defaults(), set_time_source(), attach() and clear_cache() must not run concurrently
// with calls. A scope, future or awaitable it returns must not outlive it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../registry/holds.hpp"
#include "cancellation.hpp"
#include "detail/async.hpp"
#include "detail/call_recorder.hpp"
#include "detail/call_scope.hpp"
#include "detail/router_holder.hpp"
#include "label_defaults.hpp"
#include "llm_router.hpp"
#include "tenant_budgets.hpp"
#include "../core/clock.hpp"
#include "../core/tsc_clock.hpp"

namespace llmetrics {

namespace detail {
// Function calls, not concepts or folds, in the static_asserts below: compilers
// then print the message alone instead of the whole constraint or role table.
template <class Router>
constexpr bool models_llm_router() {
    return llm_router<Router>;
}
template <class... Registries>
constexpr bool each_records_something() {
    return ((router_roles::records_anything<Registries> || routing_recorder::records_anything<Registries>) && ...);
}
}  // namespace detail

template <class R, class... Registries>
class monitored_router {
    static_assert(sizeof...(Registries) > 0,
                  "llmetrics: monitored_router needs at least one registry: monitored_router{router, metrics}");
    static_assert((is_registry_v<Registries> && ...),
                  "llmetrics: monitored_router's arguments after the router must be llmetrics registries");

public:
    using stored_type = R;
    using router_type = detail::unwrapped_router_t<R>;

    static_assert(detail::models_llm_router<std::remove_const_t<router_type>>(),
                  "llmetrics: the wrapped type does not model llmetrics::llm_router: give it "
                  "process(prompt, options) and register_model(config), or specialise "
                  "llmetrics::router_traits for it (see llmetrics/instrument/llm_router.hpp)");
    static_assert(detail::each_records_something<Registries...>(),
                  "llmetrics: a registry given to monitored_router holds none of the families it records; use "
                  "llmetrics::catalog_registry, llmetrics::genai_registry, llmetrics::llm_router_gateway_registry, "
                  "or add families from llmetrics::catalog / llmetrics::genai");

    using traits = router_traits<std::remove_const_t<router_type>>;
    using options_type = typename traits::options_type;
    using model_config_type = typename traits::model_config_type;

private:
    using recorder = detail::call_recorder<traits, Registries...>;

public:
    // A call in progress: scope.token() per output token, then scope.succeed(result)
    // or scope.fail() (instrument/detail/call_scope.hpp). Moves, never copies.
    using scope = detail::call_scope<recorder>;
    // A std::future<T> recorded when its result is obtained (instrument/detail/async.hpp).
    template <class T>
    using future = detail::observed_future<T, scope>;
    // An awaitable recorded when the await resumes.
    template <class A>
    using awaitable = detail::observed_awaitable<A, scope>;

    // Label combinations whose handles one decorator caches.
    static constexpr std::size_t max_cached_label_sets = recorder::cache_type::max_label_sets;

    template <class Router>
    explicit monitored_router(Router&& router, Registries&... registries)
        : router_(std::forward<Router>(router)), rec_(std::make_unique<recorder>(registries...)) {
        rec_->clock = default_duration_source();
    }

    monitored_router(monitored_router&&) noexcept = default;
    monitored_router(const monitored_router&) = delete;
    monitored_router& operator=(const monitored_router&) = delete;
    monitored_router& operator=(monitored_router&&) = delete;

    router_type& router() noexcept { return detail::unwrap_router(router_); }
    const router_type& router() const noexcept { return detail::unwrap_router(router_); }

    void set_defaults(label_defaults defaults) { rec_->defaults = std::move(defaults); }
    const label_defaults& defaults() const noexcept { return rec_->defaults; }

    // Every call whose result reports a cost adds it to tenant_spend_cents_total
    // (when a registry holds it); attached, `budgets` also charges it to the
    // tenant's remaining budget, so both move by the same cents. `budgets` must
    // belong to one of this router's registries and outlive the router.
    template <class Registry>
    void attach(tenant_budgets<Registry>& budgets) noexcept {
        static_assert((std::is_same_v<Registry, Registries> || ...),
                      "llmetrics: attach() takes the tenant_budgets of a registry this monitored_router records "
                      "into (where its spend goes): construct it from that registry");
        rec_->budgets = {&budgets, [](void* self, std::string_view tenant, double cents) {
                             static_cast<tenant_budgets<Registry>*>(self)->charge_budget(tenant, cents);
                         }};
    }

    // Durations are read from `clock` from now on (see core/clock.hpp). The
    // default is the TSC where it is safe, steady_clock elsewhere (core/tsc_clock.hpp);
    // set_time_source({}) picks steady_clock.
    void set_time_source(time_source clock) noexcept { rec_->clock = clock; }
    const time_source& clock() const noexcept { return rec_->clock; }

    // Forgets every cached handle (and the per-thread cache entries pointing at
    // them): use after remove()/reset() on a family this decorator records. The
    // forgotten handle sets are kept (calls in flight may hold them) until the
    // decorator is destroyed, so call it rarely.
    void clear_cache() { rec_->cache.clear(); }

    decltype(auto) initialize() { return traits::initialize(router()); }

    // --- synchronous ------------------------------------------------------

    template <class Prompt, class Options = options_type>
    auto process(Prompt&& prompt, const Options& options = Options{})
        -> decltype(traits::process(std::declval<router_type&>(), std::forward<Prompt>(prompt), options)) {
        const auto set = rec_->acquire(options);
        const recorder& rec = *rec_;
        rec.record_start(*set);
        const std::int64_t start = rec.clock.now_ns();
        return detail::call_observed(
            [&]() -> decltype(auto) { return traits::process(router(), std::forward<Prompt>(prompt), options); },
            [&] {
                const double seconds = rec.clock.seconds_since(start);
                const routing_facts routing = recorder::routing_of(options);
                rec.record_failure_current(*set, seconds, &routing);
            },
            [&](const auto&... result) {
                const double seconds = rec.clock.seconds_since(start);  // before reading the result
                usage u;
                (detail::read_usage_into(result, u), ...);
                const routing_facts routing = recorder::routing_of(result..., options);
                rec.record_success(*set, seconds, u, nullptr, &routing);
            });
    }

    template <class Config = model_config_type>
    decltype(auto) register_model(const Config& config) {
        const model_labels labels = read_model_labels(config);
        const recorder& rec = *rec_;
        const std::int64_t start = rec.clock.now_ns();
        return detail::call_observed([&]() -> decltype(auto) { return traits::register_model(router(), config); },
                                     [&] { rec.record_load_failure(labels); },
                                     [&](const auto&...) { rec.record_load(labels, rec.clock.seconds_since(start)); });
    }

    // --- manual and streaming ------------------------------------------------

    // A call in progress, timed from now.
    template <class Options = options_type>
    scope start(const Options& options = Options{}) {
        auto set = rec_->acquire(options);
        rec_->record_start(*set);
        return scope(*rec_, std::move(set), rec_->clock.now_ns());
    }

    template <class Prompt, class OnChunk, class Options = options_type>
    decltype(auto) process_stream(Prompt&& prompt, const Options& options, OnChunk&& on_chunk) {
        scope s = start(options);
        chunk_counter<std::remove_reference_t<OnChunk>> counting{&s, &on_chunk};
        return detail::call_observed(
            [&]() -> decltype(auto) {
                return traits::process_stream(router(), std::forward<Prompt>(prompt), options, counting);
            },
            [&] {
                s.report(recorder::routing_of(options));
                counting.client_gone ? s.cancel() : s.fail();
            },
            [&](const auto&... result) {
                s.report(recorder::routing_of(result..., options));
                if (counting.client_gone) s.cancel();
                else s.succeed(result...);
            });
    }

    // A call whose client went away before it started (stage queued), or at
    // another stage the caller knows.
    template <class Options = options_type>
    void record_cancellation(const Options& options, cancellation_stage stage) {
        const auto set = rec_->acquire(options);
        rec_->record_cancellation(*set, stage_name(stage), false);
    }

    // --- asynchronous --------------------------------------------------------

    // The router's process_async(prompt, options), whose std::future<T> becomes a
    // monitored_router::future<T> and whose awaitable becomes a
    // monitored_router::awaitable (co_await it as the original).
    template <class Prompt, class Options = options_type>
    auto process_async(Prompt&& prompt, const Options& options = Options{}) {
        return track_async(options, [&]() -> decltype(auto) {
            return traits::process_async(router(), std::forward<Prompt>(prompt), options);
        });
    }

    // Times `make()` (which starts the operation and returns a std::future or an
    // awaitable) and records the outcome when the result is obtained.
    template <class Options, class Make>
    auto track_async(const Options& options, Make&& make) {
        scope s = start(options);
        using pending_t = std::remove_cvref_t<decltype(std::invoke(std::forward<Make>(make)))>;
        static_assert(detail::std_future<pending_t> || detail::awaitable<pending_t>,
                      "llmetrics: an asynchronous call must return a std::future<T> or an awaitable");
        pending_t pending = detail::call_observed([&]() -> pending_t { return std::invoke(std::forward<Make>(make)); },
                                                  [&] { s.fail(); }, [](const auto&) {});
        if constexpr (detail::std_future<pending_t>)
            return future<typename detail::future_value<pending_t>::type>(std::move(pending), std::move(s));
        else
            return awaitable<pending_t>(std::move(pending), std::move(s));
    }

private:
    // Marks each chunk once the callback has taken it; a callback returning
    // false says the client is gone, and the chunk was not delivered.
    template <class OnChunk>
    struct chunk_counter {
        scope* s;
        OnChunk* on_chunk;
        bool client_gone = false;
        template <class... A>
        decltype(auto) operator()(A&&... chunk) {
            const std::size_t tokens = chunk_tokens(chunk...);
            using result_t = decltype((*on_chunk)(std::forward<A>(chunk)...));
            if constexpr (std::is_void_v<result_t>) {
                (*on_chunk)(std::forward<A>(chunk)...);
                s->token(tokens);
            } else {
                result_t delivered = (*on_chunk)(std::forward<A>(chunk)...);
                if constexpr (std::is_same_v<std::remove_cvref_t<result_t>, bool>) {
                    if (!delivered) client_gone = true;
                    else s->token(tokens);
                } else {
                    s->token(tokens);
                }
                return delivered;
            }
        }
    };

    // A chunk that reports its output tokens counts that many; anything else one.
    template <class... A>
    static std::size_t chunk_tokens(const A&... chunk) noexcept {
        if constexpr (sizeof...(A) == 1) {
            const usage u = read_usage(chunk...);
            if (u.output_tokens && *u.output_tokens >= 0) return static_cast<std::size_t>(*u.output_tokens);
        }
        return 1;
    }

    R router_;
    std::unique_ptr<recorder> rec_;  // stays put when the decorator moves: scopes point at it
};

template <class Router, class... Registries>
    requires(sizeof...(Registries) > 0)
monitored_router(Router&&, Registries&...)
    -> monitored_router<typename detail::stored_router<Router>::type, Registries...>;

}  // namespace llmetrics

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
// name ends in the catalog name (instrument/registry_holds.hpp), so families
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
// Durations come from std::chrono::steady_clock, or from the clock given to
// set_time_source() (tests and simulations: instrument/time_source.hpp).
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
// Hot path: the label values of a call are matched against a small per-thread
// cache of resolved series handles (no hashing, no lock, no allocation once a
// label combination has been seen); a miss takes a mutex and resolves the handles
// once per (model, strategy, tenant, provider, operation). At most
// max_cached_label_sets combinations are cached per decorator; past that, calls
// still record correctly but resolve their series each time.
//
// Cached handles outlive family.remove() / reset(): the next write through them
// brings the removed series back from zero (storage/family_store.hpp), so no call is
// lost. clear_cache() only frees the cached handle sets.
//
// Thread safety: process(), process_stream(), process_async() and
// register_model() may be called from any number of threads at once;
// set_defaults(), set_time_source() and clear_cache() must not run concurrently
// with calls. A scope, future or awaitable it returns must not outlive it.

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../core/labels.hpp"
#include "../storage/family_store.hpp"
#include "catalog.hpp"
#include "genai_catalog.hpp"
#include "llm_router.hpp"
#include "registry_holds.hpp"
#include "time_source.hpp"
#include "trace_context.hpp"

namespace llmetrics {

// Label values used when a call's options leave one empty.
struct label_defaults {
    std::string model = "default";
    std::string strategy = "balanced";
    std::string tenant_id = "unknown";
    std::string provider = "unknown";  // gen_ai_provider_name
    std::string operation = "chat";    // gen_ai_operation_name
};

namespace detail {

// --- how the router is held ------------------------------------------------

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
using unwrapped_router_t = std::remove_reference_t<decltype(unwrap_router(std::declval<std::remove_reference_t<S>&>()))>;

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

// --- series handles resolved on first use ----------------------------------

template <class F>
class lazy_series {
public:
    using series_type = typename family<F>::series_type;

    template <class Registry, class... A>
    series_type& get(Registry& metrics, const A&... values) {
        series_type* s = ptr_.load(std::memory_order_acquire);
        if (!s) [[unlikely]] {
            s = &metrics.template get<F>().labels(values...);
            ptr_.store(s, std::memory_order_release);  // a racing thread stores the same handle
        }
        return *s;
    }

private:
    std::atomic<series_type*> ptr_{nullptr};
};

struct no_series {};

template <class Registry, class F, bool = registry_has_role_v<Registry, F>>
struct lazy_for {
    using type = no_series;
};
template <class Registry, class F>
struct lazy_for<Registry, F, true> {
    using type = lazy_series<registry_role_t<Registry, F>>;
};
// The lazy handle of the family playing F's part in Registry, or nothing.
template <class Registry, class F>
using lazy_if = typename lazy_for<Registry, F>::type;

// The handles of one label combination in one registry.
template <class Registry>
struct registry_handles {
    lazy_if<Registry, catalog::model_inference_total> inference_ok;
    lazy_if<Registry, catalog::model_inference_total> inference_error;
    lazy_if<Registry, catalog::model_inference_duration_seconds> duration;
    lazy_if<Registry, catalog::model_inference_tokens> tokens;
    lazy_if<Registry, catalog::request_cost_cents> cost;
    lazy_if<Registry, catalog::streaming::time_to_first_token_seconds> first_token;
    lazy_if<Registry, catalog::streaming::time_per_output_token_seconds> per_output_token;
    lazy_if<Registry, catalog::streaming::tokens_total> input_tokens;
    lazy_if<Registry, catalog::streaming::tokens_total> output_tokens;
    lazy_if<Registry, genai::client_operation_duration> genai_duration;
    lazy_if<Registry, genai::client_token_usage> genai_input_tokens;
    lazy_if<Registry, genai::client_token_usage> genai_output_tokens;
    lazy_if<Registry, genai::server_time_to_first_token> genai_first_token;
    lazy_if<Registry, genai::server_time_per_output_token> genai_per_output_token;
};

template <class Registry>
inline constexpr bool records_anything =
    registry_has_role_v<Registry, catalog::model_inference_total> ||
    registry_has_role_v<Registry, catalog::model_inference_duration_seconds> ||
    registry_has_role_v<Registry, catalog::model_inference_tokens> || registry_has_role_v<Registry, catalog::request_cost_cents> ||
    registry_has_role_v<Registry, catalog::errors_total> || registry_has_role_v<Registry, catalog::model_load_time_seconds> ||
    registry_has_role_v<Registry, catalog::streaming::time_to_first_token_seconds> ||
    registry_has_role_v<Registry, catalog::streaming::time_per_output_token_seconds> ||
    registry_has_role_v<Registry, catalog::streaming::tokens_total> ||
    registry_has_role_v<Registry, genai::client_operation_duration> ||
    registry_has_role_v<Registry, genai::client_token_usage> ||
    registry_has_role_v<Registry, genai::server_time_to_first_token> ||
    registry_has_role_v<Registry, genai::server_time_per_output_token>;

inline std::atomic<std::uint64_t> next_router_id{1};

// Equality for the short label values of the cache: a few overlapping word
// loads instead of a call to memcmp (or a byte loop) per value.
inline std::uint64_t load8(const char* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
inline std::uint32_t load4(const char* p) noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
inline bool same_text(std::string_view a, std::string_view b) noexcept {
    std::size_t n = a.size();
    if (n != b.size()) return false;
    const char* p = a.data();
    const char* q = b.data();
    if (n >= 8) {
        for (; n > 8; n -= 8, p += 8, q += 8)
            if (load8(p) != load8(q)) return false;
        return load8(p + n - 8) == load8(q + n - 8);  // the last 8 bytes, overlapping what was compared
    }
    if (n >= 4) return load4(p) == load4(q) && load4(p + n - 4) == load4(q + n - 4);
    if (n == 0) return true;
    return p[0] == q[0] && p[n / 2] == q[n / 2] && p[n - 1] == q[n - 1];
}

// --- async results ----------------------------------------------------------

template <class T>
struct future_value {};
template <class T>
struct future_value<std::future<T>> {
    using type = T;
};
template <class T>
concept std_future = requires { typename future_value<std::remove_cvref_t<T>>::type; };

template <class A>
concept has_member_co_await = requires(A&& a) { static_cast<A&&>(a).operator co_await(); };
template <class A>
concept has_free_co_await = requires(A&& a) { operator co_await(static_cast<A&&>(a)); };
template <class A>
concept is_awaiter = requires(A& a) {
    { a.await_ready() } -> std::convertible_to<bool>;
    a.await_resume();
};
template <class A>
concept awaitable = has_member_co_await<A> || has_free_co_await<A> || is_awaiter<std::remove_reference_t<A>>;

template <class A>
decltype(auto) get_awaiter(A&& a) {
    if constexpr (has_member_co_await<A>) return static_cast<A&&>(a).operator co_await();
    else if constexpr (has_free_co_await<A>) return operator co_await(static_cast<A&&>(a));
    else return static_cast<A&&>(a);
}

// Returns fn()'s result as fn returned it (a reference stays a reference), after
// on_success(result) (or on_success() for void); when fn throws, on_failure()
// runs and the same exception propagates.
template <class Fn, class OnFailure, class OnSuccess>
decltype(auto) call_observed(Fn&& fn, OnFailure&& on_failure, OnSuccess&& on_success) {
    using result_t = decltype(std::forward<Fn>(fn)());
    if constexpr (std::is_void_v<result_t>) {
        try {
            std::forward<Fn>(fn)();
        } catch (...) {
            on_failure();
            throw;
        }
        on_success();
    } else {
        auto call = [&]() -> result_t {
            try {
                return std::forward<Fn>(fn)();
            } catch (...) {
                on_failure();
                throw;
            }
        };
        result_t result = call();
        on_success(result);
        if constexpr (std::is_reference_v<result_t>) return static_cast<result_t>(result);
        else return result;
    }
}

}  // namespace detail

template <class R, class... Registries>
class monitored_router {
    static_assert(sizeof...(Registries) > 0,
                  "llmetrics: monitored_router needs at least one registry: monitored_router{router, metrics}");
    static_assert((is_registry_v<Registries> && ...),
                  "llmetrics: monitored_router's arguments after the router must be llmetrics registries");
    static_assert((detail::records_anything<Registries> && ...),
                  "llmetrics: a registry given to monitored_router holds none of the families it records; use "
                  "llmetrics::catalog_registry, llmetrics::genai_registry, or add families from "
                  "llmetrics::catalog / llmetrics::genai");

public:
    using stored_type = R;
    using router_type = detail::unwrapped_router_t<R>;
    using traits = router_traits<std::remove_const_t<router_type>>;
    using options_type = typename traits::options_type;
    using model_config_type = typename traits::model_config_type;

    static_assert(llm_router<std::remove_const_t<router_type>>,
                  "llmetrics: the wrapped type does not model llmetrics::llm_router: give it "
                  "process(prompt, options) and register_model(config), or specialise "
                  "llmetrics::router_traits for it (see llmetrics/instrument/llm_router.hpp)");

    // Label combinations whose handles one decorator caches.
    static constexpr std::size_t max_cached_label_sets = 1024;

    template <class Router>
    explicit monitored_router(Router&& router, Registries&... registries)
        : router_(std::forward<Router>(router)), state_(std::make_unique<state>()) {
        state_->registries = std::tuple<Registries*...>(&registries...);
    }

    monitored_router(monitored_router&&) noexcept = default;
    monitored_router(const monitored_router&) = delete;
    monitored_router& operator=(const monitored_router&) = delete;
    monitored_router& operator=(monitored_router&&) = delete;

    router_type& router() noexcept { return detail::unwrap_router(router_); }
    const router_type& router() const noexcept { return detail::unwrap_router(router_); }

    void set_defaults(label_defaults defaults) { state_->defaults = std::move(defaults); }
    const label_defaults& defaults() const noexcept { return state_->defaults; }

    // Durations are read from `clock` from now on (see instrument/time_source.hpp).
    void set_time_source(time_source clock) noexcept { state_->clock = clock; }
    const time_source& clock() const noexcept { return state_->clock; }

    // Forgets every cached handle (and the per-thread cache entries pointing at
    // them): use after remove()/reset() on a family this decorator records. The
    // forgotten handle sets are kept (calls in flight may hold them) until the
    // decorator is destroyed, so call it rarely.
    void clear_cache() {
        std::lock_guard lock(state_->mutex);
        state_->retired.push_back(std::move(state_->bundles));  // threads may still hold pointers
        state_->bundles.clear();
        state_->id = detail::next_router_id.fetch_add(1, std::memory_order_relaxed);
    }

    decltype(auto) initialize() { return traits::initialize(router()); }

    class scope;
    template <class T>
    class future;
    template <class A>
    class awaitable;

    // --- synchronous ------------------------------------------------------

    template <class Prompt, class Options = options_type>
    auto process(Prompt&& prompt, const Options& options = Options{})
        -> decltype(traits::process(std::declval<router_type&>(), std::forward<Prompt>(prompt), options)) {
        const bundle_ref b = acquire(resolve(options));
        const state& st = *state_;
        const std::int64_t start = st.clock.now_ns();
        return detail::call_observed(
            [&]() -> decltype(auto) { return traits::process(router(), std::forward<Prompt>(prompt), options); },
            [&] { record_failure_current(st, *b, st.clock.seconds_since(start)); },
            [&](const auto&... result) {
                const double seconds = st.clock.seconds_since(start);  // before reading the result
                usage u;
                (detail::read_usage_into(result, u), ...);
                record_success(st, *b, seconds, u, nullptr);
            });
    }

    template <class Config = model_config_type>
    decltype(auto) register_model(const Config& config) {
        const model_labels labels = read_model_labels(config);
        const state& st = *state_;
        const std::int64_t start = st.clock.now_ns();
        return detail::call_observed([&]() -> decltype(auto) { return traits::register_model(router(), config); },
                                     [&] { record_load_failure(st, labels); },
                                     [&](const auto&...) { record_load(st, labels, st.clock.seconds_since(start)); });
    }

    // --- manual and streaming ------------------------------------------------

    // A call in progress, timed from now. Moves, never copies.
    template <class Options = options_type>
    scope start(const Options& options = Options{}) {
        bundle_ref b = acquire(resolve(options));
        return scope(*state_, std::move(b), state_->clock.now_ns());
    }

    template <class Prompt, class OnChunk, class Options = options_type>
    decltype(auto) process_stream(Prompt&& prompt, const Options& options, OnChunk&& on_chunk) {
        scope s = start(options);
        chunk_counter<std::remove_reference_t<OnChunk>> counting{&s, &on_chunk};
        return detail::call_observed(
            [&]() -> decltype(auto) {
                return traits::process_stream(router(), std::forward<Prompt>(prompt), options, counting);
            },
            [&] { s.fail(); }, [&](const auto&... result) { s.succeed(result...); });
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
    struct bundle {
        std::string model, tenant_id, strategy, provider, operation;
        std::tuple<detail::registry_handles<Registries>...> handles;

        explicit bundle(const request_labels& l)
            : model(l.model), tenant_id(l.tenant_id), strategy(l.strategy), provider(l.provider), operation(l.operation) {}

        bool matches(const request_labels& l) const noexcept {
            return detail::same_text(l.model, model) && detail::same_text(l.tenant_id, tenant_id) &&
                   detail::same_text(l.strategy, strategy) && detail::same_text(l.provider, provider) &&
                   detail::same_text(l.operation, operation);
        }
    };

    // A cached bundle, or one owned by the call when the cache is full.
    struct bundle_ref {
        bundle* ptr = nullptr;
        std::unique_ptr<bundle> owned;
        bundle& operator*() const noexcept { return *ptr; }
    };

    struct state {
        std::tuple<Registries*...> registries;
        std::uint64_t id = detail::next_router_id.fetch_add(1, std::memory_order_relaxed);
        time_source clock;
        label_defaults defaults;
        std::mutex mutex;
        std::unordered_map<std::string, std::unique_ptr<bundle>> bundles;
        std::vector<std::unordered_map<std::string, std::unique_ptr<bundle>>> retired;
    };

    struct stream_timing {
        double first_token_seconds = 0.0;
        std::optional<double> per_output_token_seconds;
    };

    template <class OnChunk>
    struct chunk_counter {
        scope* s;
        OnChunk* on_chunk;
        template <class... A>
        decltype(auto) operator()(A&&... chunk) {
            s->token(chunk_tokens(chunk...));
            return (*on_chunk)(std::forward<A>(chunk)...);
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

    // Whether any registry holds a GenAI family (the only users of provider and operation).
    static constexpr bool uses_genai_labels =
        ((registry_has_role_v<Registries, genai::client_operation_duration> ||
          registry_has_role_v<Registries, genai::client_token_usage> ||
          registry_has_role_v<Registries, genai::server_time_to_first_token> ||
          registry_has_role_v<Registries, genai::server_time_per_output_token>) ||
         ...);

    template <class Options>
    request_labels resolve(const Options& options) const noexcept {
        request_labels l = read_request_labels(options);
        const label_defaults& d = state_->defaults;
        if (l.model.empty()) l.model = d.model;
        if (l.tenant_id.empty()) l.tenant_id = d.tenant_id;
        if (l.strategy.empty()) l.strategy = d.strategy;
        if constexpr (uses_genai_labels) {
            if (l.provider.empty()) l.provider = d.provider;
            if (l.operation.empty()) l.operation = d.operation;
        } else {
            l.provider = {};  // not part of any series: keep them out of the cache key
            l.operation = {};
        }
        return l;
    }

    // Per-thread cache of (decorator id, bundle); ids are never reused, so an
    // entry of a destroyed decorator never matches again.
    static constexpr std::size_t cache_ways = 8;
    struct cache_slot {
        std::uint64_t owner;
        bundle* b;
    };

    bundle_ref acquire(const request_labels& l) const {
        static thread_local cache_slot cache[cache_ways];
        const std::uint64_t id = state_->id;
        for (const cache_slot& slot : cache)
            if (slot.owner == id && slot.b->matches(l)) [[likely]]
                return {slot.b, nullptr};
        return acquire_slow(l, cache);
    }

    [[gnu::noinline]] bundle_ref acquire_slow(const request_labels& l, cache_slot (&cache)[cache_ways]) const {
        static thread_local unsigned next_slot = 0;
        std::string key;
        for (std::string_view v : {l.model, l.tenant_id, l.strategy, l.provider, l.operation}) {
            key.append(std::to_string(v.size()));
            key.push_back(':');
            key.append(v);
        }
        state& st = *state_;
        std::lock_guard lock(st.mutex);
        auto it = st.bundles.find(key);
        if (it == st.bundles.end()) {
            if (st.bundles.size() >= max_cached_label_sets) {
                auto owned = std::make_unique<bundle>(l);
                bundle* p = owned.get();
                return {p, std::move(owned)};
            }
            it = st.bundles.emplace(std::move(key), std::make_unique<bundle>(l)).first;
        }
        bundle* b = it->second.get();
        cache[next_slot++ % cache_ways] = {st.id, b};
        return {b, nullptr};
    }

    template <class Fn>
    static void for_each_registry(const state& st, bundle& b, Fn&& fn) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (fn(*std::get<I>(st.registries), std::get<I>(b.handles)), ...);
        }(std::index_sequence_for<Registries...>{});
    }

    template <class Registry, class F>
    static constexpr bool has = registry_has_role_v<Registry, F>;

    static void record_success(const state& st, bundle& b, double seconds, const usage& u,
                               const stream_timing* timing) noexcept {
        try {
            detail::with_trace_exemplar([&](auto ex) {
                for_each_registry(st, b, [&](auto& metrics, auto& h) {
                    using reg = std::remove_cvref_t<decltype(metrics)>;
                    if constexpr (has<reg, catalog::model_inference_total>)
                        detail::inc_traced(h.inference_ok.get(metrics, b.model, b.strategy, value<"success">, b.tenant_id), ex);
                    if constexpr (has<reg, catalog::model_inference_duration_seconds>)
                        detail::observe_traced(h.duration.get(metrics, b.model, b.strategy, b.tenant_id), seconds, ex);
                    if constexpr (has<reg, catalog::model_inference_tokens>)
                        detail::observe_traced(h.tokens.get(metrics, b.model, b.strategy, b.tenant_id), u.total().value_or(0.0), ex);
                    if constexpr (has<reg, catalog::request_cost_cents>)
                        if (u.cost) detail::observe_traced(h.cost.get(metrics, b.model, b.tenant_id), *u.cost * 100.0, ex);
                    if constexpr (has<reg, catalog::streaming::tokens_total>) {
                        if (u.input_tokens)
                            detail::inc_traced(h.input_tokens.get(metrics, b.model, b.tenant_id, value<"input">), *u.input_tokens, ex);
                        if (u.output_tokens)
                            detail::inc_traced(h.output_tokens.get(metrics, b.model, b.tenant_id, value<"output">), *u.output_tokens, ex);
                    }
                    if constexpr (has<reg, catalog::streaming::time_to_first_token_seconds>)
                        if (timing)
                            detail::observe_traced(h.first_token.get(metrics, b.model, b.strategy, b.tenant_id),
                                                   timing->first_token_seconds, ex);
                    if constexpr (has<reg, catalog::streaming::time_per_output_token_seconds>)
                        if (timing && timing->per_output_token_seconds)
                            detail::observe_traced(h.per_output_token.get(metrics, b.model, b.strategy, b.tenant_id),
                                                   *timing->per_output_token_seconds, ex);
                    if constexpr (has<reg, genai::client_operation_duration>)
                        detail::observe_traced(h.genai_duration.get(metrics, b.operation, b.provider, b.model, std::string_view{}),
                                               seconds, ex);
                    if constexpr (has<reg, genai::client_token_usage>) {
                        if (u.input_tokens)
                            detail::observe_traced(
                                h.genai_input_tokens.get(metrics, b.operation, b.provider, b.model, value<"input">),
                                *u.input_tokens, ex);
                        if (u.output_tokens)
                            detail::observe_traced(
                                h.genai_output_tokens.get(metrics, b.operation, b.provider, b.model, value<"output">),
                                *u.output_tokens, ex);
                    }
                    if constexpr (has<reg, genai::server_time_to_first_token>)
                        if (timing)
                            detail::observe_traced(h.genai_first_token.get(metrics, b.operation, b.provider, b.model),
                                                   timing->first_token_seconds, ex);
                    if constexpr (has<reg, genai::server_time_per_output_token>)
                        if (timing && timing->per_output_token_seconds)
                            detail::observe_traced(h.genai_per_output_token.get(metrics, b.operation, b.provider, b.model),
                                                   *timing->per_output_token_seconds, ex);
                });
            });
        } catch (...) {
            // Recording must never turn a served request into a failed one (the
            // only thing that can throw here is allocating a first-seen series).
        }
    }

    static void record_failure(const state& st, bundle& b, double seconds, std::string_view error_type) noexcept {
        try {
            detail::with_trace_exemplar([&](auto ex) {
                for_each_registry(st, b, [&](auto& metrics, auto& h) {
                    using reg = std::remove_cvref_t<decltype(metrics)>;
                    if constexpr (has<reg, catalog::errors_total>)
                        detail::inc_traced(metrics.template get<registry_role_t<reg, catalog::errors_total>>().labels(
                                               error_type, b.model, b.tenant_id),
                                           ex);
                    if constexpr (has<reg, catalog::model_inference_total>)
                        detail::inc_traced(h.inference_error.get(metrics, b.model, b.strategy, value<"error">, b.tenant_id), ex);
                    if constexpr (has<reg, genai::client_operation_duration>)
                        detail::observe_traced(metrics.template get<registry_role_t<reg, genai::client_operation_duration>>()
                                                   .labels(b.operation, b.provider, b.model, error_type),
                                               seconds, ex);
                });
            });
        } catch (...) {
        }
    }

    // Inside a catch block: names the exception, records, and lets the caller rethrow.
    static void record_failure_current(const state& st, bundle& b, double seconds) noexcept {
        try {
            const auto name = traits::error_type();
            record_failure(st, b, seconds, std::string_view(name));
        } catch (...) {
        }
    }

    static void record_load(const state& st, const model_labels& l, double seconds) noexcept {
        try {
            const std::string_view id = l.id.empty() ? std::string_view("unknown") : l.id;
            const std::string_view format = l.format.empty() ? std::string_view("unknown") : l.format;
            const std::string_view loader = l.loader.empty() ? std::string_view("auto") : l.loader;
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                ([&](auto& metrics) {
                    using reg = std::remove_cvref_t<decltype(metrics)>;
                    if constexpr (has<reg, catalog::model_load_time_seconds>)
                        metrics.template get<registry_role_t<reg, catalog::model_load_time_seconds>>().labels(id, format, loader).observe(seconds);
                }(*std::get<I>(st.registries)),
                 ...);
            }(std::index_sequence_for<Registries...>{});
        } catch (...) {
        }
    }

    static void record_load_failure(const state& st, const model_labels& l) noexcept {
        try {
            const std::string_view id = l.id.empty() ? std::string_view("unknown") : l.id;
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                ([&](auto& metrics) {
                    using reg = std::remove_cvref_t<decltype(metrics)>;
                    if constexpr (has<reg, catalog::errors_total>)
                        metrics.template get<registry_role_t<reg, catalog::errors_total>>().labels("ModelLoadError", id, "unknown").inc();
                }(*std::get<I>(st.registries)),
                 ...);
            }(std::index_sequence_for<Registries...>{});
        } catch (...) {
        }
    }

    R router_;
    std::unique_ptr<state> state_;

public:
    // A call in progress. token() marks output tokens as they arrive (the first
    // gives the time to first token); succeed(result) or fail() records the call
    // once. Destroyed unfinished, it records a failure with error_type
    // "Abandoned".
    class scope {
    public:
        scope(scope&& other) noexcept
            : state_(std::exchange(other.state_, nullptr)),
              b_(std::move(other.b_)),
              start_(other.start_),
              end_(other.end_),
              first_(other.first_),
              last_(other.last_),
              tokens_(other.tokens_) {}
        scope(const scope&) = delete;
        scope& operator=(const scope&) = delete;
        scope& operator=(scope&&) = delete;
        ~scope() {
            if (state_) fail("Abandoned");
        }

        void token(std::size_t count = 1) noexcept {
            if (!state_) return;
            const std::int64_t now = state_->clock.now_ns();
            if (first_ < 0) first_ = now;
            last_ = now;
            tokens_ += count;
        }

        // The end of the call, if it is known before the result is read (a future
        // seen ready); the first mark wins.
        void mark_end() noexcept {
            if (state_ && end_ < 0) end_ = state_->clock.now_ns();
        }

        // Records success with the token counts and cost the result reports.
        template <class Result>
        void succeed(const Result& result) noexcept {
            finish_success(read_usage(result));
        }
        void succeed() noexcept { finish_success(usage{}); }

        // Records failure; inside a catch block the exception's type names it.
        void fail() noexcept {
            if (!state_) return;
            try {
                const auto name = traits::error_type();
                fail(std::string_view(name));
            } catch (...) {
                fail(std::string_view("Unknown"));
            }
        }
        void fail(std::string_view error_type) noexcept {
            if (!state_) return;
            const state& st = *std::exchange(state_, nullptr);
            record_failure(st, *b_, seconds_to(st, end_or_now(st)), error_type);
        }

        bool done() const noexcept { return state_ == nullptr; }
        std::uint64_t tokens() const noexcept { return tokens_; }
        double elapsed_seconds() const noexcept { return state_ ? seconds_to(*state_, end_or_now(*state_)) : 0.0; }

    private:
        friend class monitored_router;
        scope(const state& st, bundle_ref b, std::int64_t start) noexcept
            : state_(&st), b_(std::move(b)), start_(start) {}

        std::int64_t end_or_now(const state& st) const noexcept { return end_ >= 0 ? end_ : st.clock.now_ns(); }
        double seconds_to(const state&, std::int64_t t) const noexcept { return static_cast<double>(t - start_) * 1e-9; }

        void finish_success(usage u) noexcept {
            if (!state_) return;
            const state& st = *std::exchange(state_, nullptr);
            const double seconds = seconds_to(st, end_or_now(st));
            if (first_ < 0) return record_success(st, *b_, seconds, u, nullptr);
            if (!u.output_tokens) u.output_tokens = static_cast<double>(tokens_);
            stream_timing timing;
            timing.first_token_seconds = static_cast<double>(first_ - start_) * 1e-9;
            if (*u.output_tokens > 1 && last_ > first_)
                timing.per_output_token_seconds = static_cast<double>(last_ - first_) * 1e-9 / (*u.output_tokens - 1);
            record_success(st, *b_, seconds, u, &timing);
        }

        const state* state_;
        bundle_ref b_;
        std::int64_t start_;
        std::int64_t end_ = -1;
        std::int64_t first_ = -1;
        std::int64_t last_ = -1;
        std::uint64_t tokens_ = 0;
    };

    // A std::future<T> whose outcome is recorded when get() returns or throws.
    // The duration ends when the result is first seen: a wait(), wait_for() or
    // wait_until() that finds it ready, or else get(). Destroyed without get(),
    // a ready result is read and recorded; a pending one records "Abandoned".
    template <class T>
    class future {
    public:
        future(std::future<T> inner, scope s) noexcept : inner_(std::move(inner)), scope_(std::move(s)) {}
        future(future&&) noexcept = default;
        future& operator=(future&&) = delete;
        ~future() {
            if (scope_.done() || !inner_.valid()) return;
            if (inner_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;  // scope: Abandoned
            try {
                if constexpr (std::is_void_v<T>) {
                    inner_.get();
                    scope_.succeed();
                } else {
                    scope_.succeed(inner_.get());
                }
            } catch (...) {
                scope_.fail();
            }
        }

        decltype(auto) get() {
            return detail::call_observed([&]() -> decltype(auto) { return inner_.get(); }, [&] { scope_.fail(); },
                                         [&](const auto&... result) { scope_.succeed(result...); });
        }

        bool valid() const noexcept { return inner_.valid(); }
        void wait() {
            inner_.wait();
            scope_.mark_end();
        }
        template <class Rep, class Period>
        std::future_status wait_for(const std::chrono::duration<Rep, Period>& timeout) {
            const auto status = inner_.wait_for(timeout);
            if (status == std::future_status::ready) scope_.mark_end();
            return status;
        }
        template <class Clock, class Duration>
        std::future_status wait_until(const std::chrono::time_point<Clock, Duration>& deadline) {
            const auto status = inner_.wait_until(deadline);
            if (status == std::future_status::ready) scope_.mark_end();
            return status;
        }

    private:
        std::future<T> inner_;
        scope scope_;
    };

    // Wraps an awaitable: `co_await` it as the original; the outcome is recorded
    // when the await resumes (value or exception, which is rethrown unchanged).
    template <class A>
    class awaitable {
    public:
        awaitable(A inner, scope s) noexcept(std::is_nothrow_move_constructible_v<A>)
            : inner_(std::move(inner)), scope_(std::move(s)) {}

        auto operator co_await() & { return make_awaiter(inner_); }
        auto operator co_await() && { return make_awaiter(std::move(inner_)); }

    private:
        template <class Inner>
        struct awaiter {
            Inner inner;  // the awaiter, or a reference to the awaitable that is its own awaiter
            scope* s;

            bool await_ready() { return inner.await_ready(); }
            template <class Promise>
            decltype(auto) await_suspend(std::coroutine_handle<Promise> h) {
                return inner.await_suspend(h);
            }
            decltype(auto) await_resume() {
                return detail::call_observed([&]() -> decltype(auto) { return inner.await_resume(); },
                                             [&] { s->fail(); }, [&](const auto&... result) { s->succeed(result...); });
            }
        };

        template <class Self>
        auto make_awaiter(Self&& self) {
            using inner_t = decltype(detail::get_awaiter(std::forward<Self>(self)));
            return awaiter<inner_t>{detail::get_awaiter(std::forward<Self>(self)), &scope_};
        }

        A inner_;
        scope scope_;
    };
};

template <class Router, class... Registries>
    requires(sizeof...(Registries) > 0)
monitored_router(Router&&, Registries&...)
    -> monitored_router<typename detail::stored_router<Router>::type, Registries...>;

}  // namespace llmetrics

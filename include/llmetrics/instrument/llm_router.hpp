#pragma once
// What an LLM router is to the instrumentation, after the tutorial's
// `LLMRouter`: `process(prompt, options)` returns a result that may carry token
// counts and a cost, `register_model(config)` loads a model described by an id,
// a format and a loader, and `initialize()` is optional.
//
// Nothing here asks a router to derive from anything or to use these types.
// Every access goes through a customization point that a user can specialise
// for a type they cannot change:
//
//   router_traits<R>        how to call process / register_model / initialize
//                           (and the optional process_stream / process_async);
//                           derive a specialisation from default_router_traits<R>
//                           and replace only what differs.
//   options_traits<O>       the labels of a call (model, strategy, tenant, GenAI
//                           operation and provider) read from its options.
//   result_traits<T>        token counts and cost read from a result.
//   routing_traits<T>       attempts, upstream states and router overhead read from
//                           a result or options (instrument/routing_report.hpp).
//   model_config_traits<C>  id, format and loader read from a model config.
//
// Without a specialisation, options, results and configs are read by member
// name (see the defaults below), or through a free function found by ADL:
// `llmetrics_request_labels(const O&)`, `llmetrics_usage(const T&)`,
// `llmetrics_model_labels(const C&)`.
//
// Adapting a router that knows nothing of llmetrics:
//
//     namespace legacy {
//     struct Params { std::string modelName; std::string customer; };
//     struct Reply { std::string text; int prompt_len; int completion_len; double usd; };
//     struct Engine {
//         Reply Generate(const std::string& prompt, const Params& params);
//         void Load(const std::string& name);
//     };
//     }
//
//     template <>
//     struct llmetrics::router_traits<legacy::Engine> : llmetrics::default_router_traits<legacy::Engine> {
//         using options_type = legacy::Params;
//         static legacy::Reply process(legacy::Engine& e, std::string_view prompt, const legacy::Params& p) {
//             return e.Generate(std::string(prompt), p);
//         }
//         static void register_model(legacy::Engine& e, const llmetrics::model_config& c) { e.Load(c.id); }
//     };
//     template <>
//     struct llmetrics::options_traits<legacy::Params> {
//         static llmetrics::request_labels read(const legacy::Params& p) {
//             return {.model = p.modelName, .tenant_id = p.customer};
//         }
//     };
//     template <>
//     struct llmetrics::result_traits<legacy::Reply> {
//         static llmetrics::usage read(const legacy::Reply& r) {
//             return {.input_tokens = r.prompt_len, .output_tokens = r.completion_len, .cost = r.usd};
//         }
//     };
//
//     legacy::Engine engine;
//     llmetrics::monitored_router router{engine, metrics};   // llm_router<legacy::Engine> holds
//     router.process("Hello", legacy::Params{"gpt-4", "tenant-a"});

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "error_type.hpp"
#include "routing_report.hpp"

namespace llmetrics {

// ---------------------------------------------------------------------------
// Vocabulary types. A router written for llmetrics may use them directly.

// Options of one call. String views: the caller's strings are read during the
// call, never copied on the hot path. Empty means "use the default" (model
// "default", strategy "balanced", tenant "unknown", as the tutorial).
//
//     router.process("Hello", {.model = "gpt-4", .tenant_id = "tenant-a"});
struct request_options {
    std::string_view model{};
    std::string_view tenant_id{};
    std::string_view strategy{};
    std::size_t max_tokens = 0;  // 0: the router's default
    std::optional<double> temperature{};
    bool stream = false;
    std::string_view provider{};   // gen_ai.provider.name, e.g. "openai"
    std::string_view operation{};  // gen_ai.operation.name, e.g. "chat"
    // Filled by a router that reports its attempts (instrument/routing_report.hpp),
    // failed calls included; read by monitored_router after the call.
    routing_report* routing = nullptr;
};

// A model to register, as the tutorial's modelConfig.
//
//     router.register_model({.id = "llama-2-7b", .format = "gguf", .source = "models/llama.gguf"});
struct model_config {
    std::string id{};
    std::string format{};
    std::string loader{};  // empty: "auto"
    std::string source{};  // path or URL
};

// Token counts and cost of one result; whatever the router does not report is
// absent (the tutorial records 0 tokens then, and no cost).
struct usage {
    std::optional<double> input_tokens{};
    std::optional<double> output_tokens{};
    std::optional<double> total_tokens{};
    std::optional<double> cost{};  // in currency units (dollars); recorded x100 as cents
    // Parts of input and output as providers report them (gateway tokens_total).
    std::optional<double> cached_input_tokens{};
    std::optional<double> reasoning_output_tokens{};
    // Input written to the provider's prompt cache (GenAI draft's cache_write).
    std::optional<double> cache_write_input_tokens{};

    // total_tokens, else input + output when either is known.
    std::optional<double> total() const noexcept {
        if (total_tokens) return *total_tokens;  // (not `return total_tokens`: see add_usage_fields)
        if (input_tokens || output_tokens) return input_tokens.value_or(0.0) + output_tokens.value_or(0.0);
        return std::nullopt;
    }
};

// A result shaped like the tutorial's (`result.metrics.totalTokens`, `.cost`).
struct inference_result {
    std::string text{};
    std::string model{};
    struct metrics_type {
        std::optional<std::uint64_t> input_tokens{};
        std::optional<std::uint64_t> output_tokens{};
        std::optional<std::uint64_t> total_tokens{};
        std::optional<double> cost{};
        std::optional<std::uint64_t> cached_input_tokens{};
        std::optional<std::uint64_t> reasoning_output_tokens{};
        std::optional<std::uint64_t> cache_write_input_tokens{};
    } metrics{};
    routing_report routing{};  // attempts and upstream states, when the router reports them
};

// The label values of a call as read from its options (empty: default).
struct request_labels {
    std::string_view model{};
    std::string_view tenant_id{};
    std::string_view strategy{};
    std::string_view provider{};
    std::string_view operation{};
};

// The label values of a model registration (empty: "unknown"; loader: "auto").
struct model_labels {
    std::string_view id{};
    std::string_view format{};
    std::string_view loader{};
};

// ---------------------------------------------------------------------------
// Member-name readers behind the default traits.

namespace detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

// Sets `out` from a number or an engaged optional number; leaves it alone
// otherwise. Assigns a double, never a whole optional (see add_usage_fields).
template <class T>
void set_number(std::optional<double>& out, const T& v) noexcept {
    if constexpr (is_optional<T>::value) {
        if constexpr (std::is_arithmetic_v<typename T::value_type> && !std::is_same_v<typename T::value_type, bool>) {
            if (v) out = static_cast<double>(*v);
        }
    } else if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
        out = static_cast<double>(v);
    }
}

template <class T>
std::string_view text_of(const T& v) noexcept {
    if constexpr (is_optional<T>::value) {
        if (v) return text_of(*v);
        return {};
    } else if constexpr (std::is_same_v<std::decay_t<T>, const char*> || std::is_same_v<std::decay_t<T>, char*>) {
        return v ? std::string_view(v) : std::string_view{};
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
        return std::string_view(v);
    } else {
        return {};
    }
}

// Fills the fields of `u` still missing from one object, by the names routers
// commonly use. Filled in place, field by field: GCC copies a std::optional
// assigned from another optional as one 16-byte load right after two narrower
// stores, a store-forwarding stall that cost ~40 ns per call on the hot path.
template <class T>
void add_usage_fields(usage& u, const T& o) noexcept {
    if constexpr (std::is_class_v<T>) {
        if (!u.input_tokens) {
            if constexpr (requires { o.input_tokens; }) set_number(u.input_tokens, o.input_tokens);
            else if constexpr (requires { o.prompt_tokens; }) set_number(u.input_tokens, o.prompt_tokens);
            else if constexpr (requires { o.inputTokens; }) set_number(u.input_tokens, o.inputTokens);
        }
        if (!u.output_tokens) {
            if constexpr (requires { o.output_tokens; }) set_number(u.output_tokens, o.output_tokens);
            else if constexpr (requires { o.completion_tokens; }) set_number(u.output_tokens, o.completion_tokens);
            else if constexpr (requires { o.outputTokens; }) set_number(u.output_tokens, o.outputTokens);
        }
        if (!u.total_tokens) {
            if constexpr (requires { o.total_tokens; }) set_number(u.total_tokens, o.total_tokens);
            else if constexpr (requires { o.totalTokens; }) set_number(u.total_tokens, o.totalTokens);
        }
        if (!u.cost) {
            if constexpr (requires { o.cost; }) set_number(u.cost, o.cost);
        }
        if (!u.cached_input_tokens) {
            if constexpr (requires { o.cached_input_tokens; }) set_number(u.cached_input_tokens, o.cached_input_tokens);
            else if constexpr (requires { o.cached_tokens; }) set_number(u.cached_input_tokens, o.cached_tokens);
            else if constexpr (requires { o.cache_read_input_tokens; })
                set_number(u.cached_input_tokens, o.cache_read_input_tokens);
        }
        if (!u.reasoning_output_tokens) {
            if constexpr (requires { o.reasoning_output_tokens; })
                set_number(u.reasoning_output_tokens, o.reasoning_output_tokens);
            else if constexpr (requires { o.reasoning_tokens; })
                set_number(u.reasoning_output_tokens, o.reasoning_tokens);
        }
        if (!u.cache_write_input_tokens) {
            if constexpr (requires { o.cache_write_input_tokens; })
                set_number(u.cache_write_input_tokens, o.cache_write_input_tokens);
            else if constexpr (requires { o.cache_creation_input_tokens; })
                set_number(u.cache_write_input_tokens, o.cache_creation_input_tokens);
        }
    }
}

template <class T>
concept has_adl_usage = requires(const T& r) {
    { llmetrics_usage(r) } -> std::convertible_to<usage>;
};
template <class T>
concept has_adl_request_labels = requires(const T& o) {
    { llmetrics_request_labels(o) } -> std::convertible_to<request_labels>;
};
template <class T>
concept has_adl_model_labels = requires(const T& c) {
    { llmetrics_model_labels(c) } -> std::convertible_to<model_labels>;
};

template <class T>
void fill_default_usage(const T& r, usage& u) noexcept {
    if constexpr (has_adl_usage<T>) {
        u = llmetrics_usage(r);
    } else if constexpr (std::is_same_v<T, usage>) {
        u = r;
    } else {
        // `result.metrics.*` (the tutorial), `result.usage.*` (OpenAI style), or
        // members of the result itself; the first one found wins per field.
        if constexpr (requires { r.metrics; }) {
            if constexpr (std::is_class_v<std::remove_cvref_t<decltype(r.metrics)>>) add_usage_fields(u, r.metrics);
        }
        if constexpr (requires { r.usage; }) {
            if constexpr (std::is_class_v<std::remove_cvref_t<decltype(r.usage)>>) add_usage_fields(u, r.usage);
        }
        add_usage_fields(u, r);
    }
}

template <class T>
usage default_usage(const T& r) noexcept {
    usage u;
    fill_default_usage(r, u);
    return u;
}

template <class O>
request_labels default_request_labels(const O& o) noexcept {
    if constexpr (has_adl_request_labels<O>) {
        return llmetrics_request_labels(o);
    } else {
        request_labels l;
        if constexpr (std::is_class_v<O>) {
            if constexpr (requires { o.model; }) l.model = text_of(o.model);
            else if constexpr (requires { o.model_id; }) l.model = text_of(o.model_id);
            else if constexpr (requires { o.modelId; }) l.model = text_of(o.modelId);
            if constexpr (requires { o.tenant_id; }) l.tenant_id = text_of(o.tenant_id);
            else if constexpr (requires { o.tenantId; }) l.tenant_id = text_of(o.tenantId);
            else if constexpr (requires { o.tenant; }) l.tenant_id = text_of(o.tenant);
            if constexpr (requires { o.strategy; }) l.strategy = text_of(o.strategy);
            if constexpr (requires { o.provider; }) l.provider = text_of(o.provider);
            if constexpr (requires { o.operation; }) l.operation = text_of(o.operation);
        }
        return l;
    }
}

template <class C>
model_labels default_model_labels(const C& c) noexcept {
    if constexpr (has_adl_model_labels<C>) {
        return llmetrics_model_labels(c);
    } else {
        model_labels l;
        if constexpr (std::is_class_v<C>) {
            if constexpr (requires { c.id; }) l.id = text_of(c.id);
            else if constexpr (requires { c.model_id; }) l.id = text_of(c.model_id);
            else if constexpr (requires { c.name; }) l.id = text_of(c.name);
            if constexpr (requires { c.format; }) l.format = text_of(c.format);
            if constexpr (requires { c.loader; }) l.loader = text_of(c.loader);
        }
        return l;
    }
}

template <class R>
auto options_type_of() {
    if constexpr (requires { typename R::options_type; }) return std::type_identity<typename R::options_type>{};
    else return std::type_identity<request_options>{};
}
template <class R>
auto model_config_type_of() {
    if constexpr (requires { typename R::model_config_type; })
        return std::type_identity<typename R::model_config_type>{};
    else return std::type_identity<model_config>{};
}

}  // namespace detail

// ---------------------------------------------------------------------------
// Customization points.

template <class T>
struct result_traits {
    using llmetrics_default_traits = void;  // marks the primary template
    static usage read(const T& result) noexcept { return detail::default_usage(result); }
};

template <class O>
struct options_traits {
    static request_labels read(const O& options) noexcept { return detail::default_request_labels(options); }
};

template <class C>
struct model_config_traits {
    static model_labels read(const C& config) noexcept { return detail::default_model_labels(config); }
};

template <class T>
usage read_usage(const T& result) noexcept {
    return result_traits<std::remove_cvref_t<T>>::read(result);
}
namespace detail {
// read_usage into an existing object: the hot path's form (no usage copies).
template <class T>
void read_usage_into(const T& result, usage& out) noexcept {
    using traits = result_traits<std::remove_cvref_t<T>>;
    if constexpr (requires { typename traits::llmetrics_default_traits; })
        fill_default_usage(result, out);
    else
        out = traits::read(result);
}
}  // namespace detail

template <class O>
request_labels read_request_labels(const O& options) noexcept {
    return options_traits<std::remove_cvref_t<O>>::read(options);
}
template <class C>
model_labels read_model_labels(const C& config) noexcept {
    return model_config_traits<std::remove_cvref_t<C>>::read(config);
}

// How the instrumentation calls a router R; by default, its members.
template <class R>
struct default_router_traits {
    // R::options_type / R::model_config_type when R declares them.
    using options_type = typename decltype(detail::options_type_of<R>())::type;
    using model_config_type = typename decltype(detail::model_config_type_of<R>())::type;

    // (Router = R keeps the member lookup dependent, so a router without the
    // member simply does not offer the operation.)
    template <class Prompt, class Options, class Router = R>
    static auto process(Router& r, Prompt&& prompt, const Options& options)
        -> decltype(r.process(std::forward<Prompt>(prompt), options)) {
        return r.process(std::forward<Prompt>(prompt), options);
    }

    template <class Config, class Router = R>
    static auto register_model(Router& r, const Config& config) -> decltype(r.register_model(config)) {
        return r.register_model(config);
    }

    template <class Router = R>
    static decltype(auto) initialize(Router& r) {
        if constexpr (requires { r.initialize(); }) return r.initialize();
    }

    // Optional: streaming calls `on_chunk(chunk)` for each chunk as it arrives. A
    // callback may return bool: false means the client is gone, stop producing
    // (instrument/cancellation.hpp).
    template <class Prompt, class Options, class OnChunk, class Router = R>
    static auto process_stream(Router& r, Prompt&& prompt, const Options& options, OnChunk&& on_chunk)
        -> decltype(r.process_stream(std::forward<Prompt>(prompt), options, std::forward<OnChunk>(on_chunk))) {
        return r.process_stream(std::forward<Prompt>(prompt), options, std::forward<OnChunk>(on_chunk));
    }

    // Optional: returns a std::future<T> or an awaitable.
    template <class Prompt, class Options, class Router = R>
    static auto process_async(Router& r, Prompt&& prompt, const Options& options)
        -> decltype(r.process_async(std::forward<Prompt>(prompt), options)) {
        return r.process_async(std::forward<Prompt>(prompt), options);
    }

    // The error_type label for the exception being handled (called inside a
    // catch block). The default is the exception's short type name.
    static std::string_view error_type() { return current_error_type_name(); }
};

template <class R>
struct router_traits : default_router_traits<R> {};

// A router the instrumentation can wrap: process(prompt, options) and
// register_model(config) callable through router_traits<R>.
template <class R>
concept llm_router = requires(R& r, const std::string& prompt, const typename router_traits<R>::options_type& options,
                              const typename router_traits<R>::model_config_type& config) {
    router_traits<R>::process(r, prompt, options);
    router_traits<R>::register_model(r, config);
};

namespace detail {
// Stands for a user's chunk callback when checking streaming_llm_router.
struct any_chunk_sink {
    template <class... A>
    void operator()(const A&...) const noexcept {}
};
}  // namespace detail

template <class R>
concept streaming_llm_router = llm_router<R> && requires(R& r, const std::string& prompt,
                                                         const typename router_traits<R>::options_type& options) {
    router_traits<R>::process_stream(r, prompt, options, detail::any_chunk_sink{});
};

template <class R>
concept async_llm_router = llm_router<R> && requires(R& r, const std::string& prompt,
                                                     const typename router_traits<R>::options_type& options) {
    router_traits<R>::process_async(r, prompt, options);
};

}  // namespace llmetrics

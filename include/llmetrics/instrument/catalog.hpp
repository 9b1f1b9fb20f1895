#pragma once
// The tutorial's twelve metric families ("LLM Runner Router" monitoring, the
// prom-client `PrometheusMetrics` class), as family types. Names are given
// without the `llm_router_` prefix: the registry adds it at compile time, so
//
//     llmetrics::catalog_registry metrics;      // registry<prefix<"llm_router_">, the twelve>
//     metrics.get<llmetrics::catalog::errors_total>()       // exposed as llm_router_errors_total
//
// or pick families, or extend the set:
//
//     llmetrics::llm_router_registry<my_extra_family> metrics;   // the twelve + yours
//     llmetrics::llm_router_catalog::apply<my_registry_template>  // the list itself
//
// Help texts, label names (in order) and buckets are the tutorial's. `status`
// is a closed set {success, error}. Each family is a struct deriving from its
// descriptor, not an alias, so that diagnostics name it (`F = errors_total`)
// instead of spelling out its whole template.
//
// Beyond the tutorial, `catalog::streaming` holds three families a router
// measures once it streams (time to first token, time per output token, input
// and output tokens apart), named after vLLM's and bucketed as the OpenTelemetry
// GenAI conventions advise; monitored_router fills them when the registry holds
// them (see llm_router_streaming_registry).

#include "../core/buckets.hpp"
#include "../core/family.hpp"
#include "../core/labels.hpp"
#include "../core/options.hpp"
#include "../registry/registry.hpp"

namespace llmetrics {

// A list of family types that can be spread into any variadic template.
template <class... Fs>
struct family_list {
    static constexpr std::size_t size = sizeof...(Fs);
    template <template <class...> class T, class... Before>
    using apply = T<Before..., Fs...>;
    template <class... More>
    using append = family_list<Fs..., More...>;
};

namespace catalog {

struct http_requests_total : counter<
    "http_requests_total", "Total number of HTTP requests",
    labels<"method", "route", "status_code", "tenant_id">> {};

struct http_request_duration_seconds : histogram<
    "http_request_duration_seconds", "Duration of HTTP requests in seconds",
    labels<"method", "route", "tenant_id">, buckets<0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10>> {};

struct model_inference_total : counter<
    "model_inference_total", "Total number of model inferences",
    labels<"model_id", "strategy", "status", "tenant_id">, value_set<"status", "success", "error">> {};

struct model_inference_duration_seconds : histogram<
    "model_inference_duration_seconds", "Duration of model inference in seconds",
    labels<"model_id", "strategy", "tenant_id">, buckets<0.1, 0.5, 1, 2, 5, 10, 30, 60>> {};

struct model_inference_tokens : histogram<
    "model_inference_tokens", "Number of tokens generated per inference",
    labels<"model_id", "strategy", "tenant_id">, buckets<1, 10, 50, 100, 200, 500, 1000, 2000>> {};

struct active_connections : gauge<"active_connections", "Number of active connections", labels<"tenant_id">> {};

struct queue_depth : gauge<"queue_depth", "Current queue depth", labels<"queue_type", "tenant_id">> {};

struct cache_hits_total : counter<
    "cache_hits_total", "Total number of cache hits", labels<"cache_type", "tenant_id">> {};

struct cache_misses_total : counter<
    "cache_misses_total", "Total number of cache misses", labels<"cache_type", "tenant_id">> {};

struct request_cost_cents : histogram<
    "request_cost_cents", "Cost of requests in cents", labels<"model_id", "tenant_id">,
    buckets<0.1, 0.5, 1, 2, 5, 10, 20, 50>> {};

struct model_load_time_seconds : histogram<
    "model_load_time_seconds", "Time taken to load models", labels<"model_id", "format", "loader">,
    buckets<0.1, 0.5, 1, 2, 5, 10, 30, 60, 120>> {};

struct errors_total : counter<
    "errors_total", "Total number of errors", labels<"error_type", "model_id", "tenant_id">> {};

// The twelve, in the tutorial's order.
using families = family_list<http_requests_total, http_request_duration_seconds, model_inference_total,
                             model_inference_duration_seconds, model_inference_tokens, active_connections,
                             queue_depth, cache_hits_total, cache_misses_total, request_cost_cents,
                             model_load_time_seconds, errors_total>;

// Streaming extensions (not in the tutorial).
namespace streaming {

struct time_to_first_token_seconds : histogram<
    "time_to_first_token_seconds", "Time from request to the first output token in seconds",
    labels<"model_id", "strategy", "tenant_id">,
    buckets<0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10>> {};

struct time_per_output_token_seconds : histogram<
    "time_per_output_token_seconds", "Time per output token after the first in seconds",
    labels<"model_id", "strategy", "tenant_id">,
    buckets<0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5>> {};

struct tokens_total : counter<
    "tokens_total", "Total number of input and output tokens", labels<"model_id", "tenant_id", "token_type">,
    value_set<"token_type", "input", "output">> {};

using families = family_list<time_to_first_token_seconds, time_per_output_token_seconds, tokens_total>;

// Clients that went away before their answer was complete, by the stage they
// left at (instrument/cancellation.hpp). Not in `families`: add it by name.
struct client_cancellations_total : counter<
    "client_cancellations_total", "Requests whose client disconnected before the answer was complete, by stage",
    labels<"model_id", "tenant_id", "stage">, value_set<"stage", "queued", "before_first_token", "mid_stream">> {};

}  // namespace streaming

// Native twins: the same names, help and labels with native (sparse exponential)
// buckets only, schema 3 (about 4% relative error at any scale), at
// most 160 buckets per series. Each plays its classic family's role
// (registry/holds.hpp), so monitored_router records into it, and the generated
// rules and dashboard query it as native, wherever a registry holds it instead.
// Its buckets travel in the protobuf format only: Prometheus 2.40+ with
// --enable-feature=native-histograms (text formats show count and sum).
namespace native {

struct model_inference_duration_seconds : native_histogram<
    "model_inference_duration_seconds", "Duration of model inference in seconds",
    labels<"model_id", "strategy", "tenant_id">> {};

struct time_to_first_token_seconds : native_histogram<
    "time_to_first_token_seconds", "Time from request to the first output token in seconds",
    labels<"model_id", "strategy", "tenant_id">> {};

struct time_per_output_token_seconds : native_histogram<
    "time_per_output_token_seconds", "Time per output token after the first in seconds",
    labels<"model_id", "strategy", "tenant_id">> {};

}  // namespace native

}  // namespace catalog

// The twelve as a list: `llm_router_catalog::apply<registry, prefix<"llm_router_">>`.
using llm_router_catalog = catalog::families;

// registry<prefix<"llm_router_">, the twelve, Extra...>.
template <class... Extra>
using llm_router_registry =
    typename llm_router_catalog::template append<Extra...>::template apply<registry, prefix<"llm_router_">>;

// The twelve under the tutorial's prefix.
using catalog_registry = llm_router_registry<>;

// The twelve under the tutorial's prefix with model inference duration native,
// and the streaming extensions with native time to first token and per token.
using llm_router_native_registry =
    registry<prefix<"llm_router_">, catalog::http_requests_total, catalog::http_request_duration_seconds,
             catalog::model_inference_total, catalog::native::model_inference_duration_seconds,
             catalog::model_inference_tokens, catalog::active_connections, catalog::queue_depth,
             catalog::cache_hits_total, catalog::cache_misses_total, catalog::request_cost_cents,
             catalog::model_load_time_seconds, catalog::errors_total,
             catalog::native::time_to_first_token_seconds, catalog::native::time_per_output_token_seconds,
             catalog::streaming::tokens_total>;

// The twelve and the streaming extensions under the tutorial's prefix.
using llm_router_streaming_registry =
    llm_router_registry<catalog::streaming::time_to_first_token_seconds,
                        catalog::streaming::time_per_output_token_seconds, catalog::streaming::tokens_total>;

}  // namespace llmetrics

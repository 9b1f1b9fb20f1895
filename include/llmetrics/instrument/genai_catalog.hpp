#pragma once
// OpenTelemetry GenAI semantic-convention metrics, named as Prometheus renders
// them (dots become underscores, unit "s" becomes the `_seconds` suffix, the
// annotation unit "{token}" adds nothing, a counter ends in `_total`), with the
// conventions' advised bucket boundaries, so dashboards and alerts written for
// those conventions work on a llmetrics registry unchanged.
//
// The conventions keep renaming, so two generations are offered:
//
// genai:: (semantic-conventions 1.41, the last release of the main repository;
// the default, as the conventions ask instrumentations not to change what they
// emit unless opted in):
//   gen_ai.client.operation.duration              -> gen_ai_client_operation_duration_seconds
//   gen_ai.client.token.usage                     -> gen_ai_client_token_usage
//   gen_ai.client.operation.time_to_first_chunk   -> gen_ai_client_operation_time_to_first_chunk_seconds
//   gen_ai.client.operation.time_per_output_chunk -> gen_ai_client_operation_time_per_output_chunk_seconds
//   gen_ai.server.request.duration                -> gen_ai_server_request_duration_seconds
//   gen_ai.server.time_to_first_token             -> gen_ai_server_time_to_first_token_seconds
//   gen_ai.server.time_per_output_token           -> gen_ai_server_time_per_output_token_seconds
//
// genai::latest:: (the semantic-conventions-genai draft: client inference
// metrics, token usage as counters per token kind):
//   gen_ai.client.inference.duration              -> gen_ai_client_inference_duration_seconds
//   gen_ai.client.inference.time_to_first_chunk   -> gen_ai_client_inference_time_to_first_chunk_seconds
//   gen_ai.client.inference.time_per_output_chunk -> gen_ai_client_inference_time_per_output_chunk_seconds
//   gen_ai.client.inference.usage.input_tokens    -> gen_ai_client_inference_usage_input_tokens_total
//   gen_ai.client.inference.usage.output_tokens   -> gen_ai_client_inference_usage_output_tokens_total
//   gen_ai.client.inference.usage.cache_read.input_tokens -> ..._usage_cache_read_input_tokens_total
//   gen_ai.client.inference.usage.cache_write.input_tokens -> ..._usage_cache_write_input_tokens_total
//   gen_ai.client.inference.usage.reasoning.output_tokens -> ..._usage_reasoning_output_tokens_total
//   gen_ai.client.inference.operation.input_tokens  -> gen_ai_client_inference_operation_input_tokens
//   gen_ai.client.inference.operation.output_tokens -> gen_ai_client_inference_operation_output_tokens
// The server metrics did not move; a latest registry keeps genai::'s.
//
// Attributes become labels the same way: gen_ai.operation.name ->
// gen_ai_operation_name, gen_ai.provider.name -> gen_ai_provider_name,
// gen_ai.request.model -> gen_ai_request_model (all three on every family:
// required or "if available", which a router always has), error.type ->
// error_type (conditionally required on errors: empty, which Prometheus reads as
// absent, on success), gen_ai.token.type -> gen_ai_token_type (closed set:
// input, output). Recommended attributes (server.address, gen_ai.response.model,
// gen_ai.token.modality) are left out to bound the series count.
//
// When each is recorded (monitored_router): durations and token usage when a
// call ends; the client chunk metrics as chunks arrive (time to first chunk at
// the first, time per output chunk from the previous chunk to this one, for
// every later chunk: the conventions' definition, so they carry no error_type,
// which is not known yet), streamed calls only; the server TTFT/TPOT on
// streamed successes. Durations use the conventions' boundaries 0.01 .. 81.92 s
// (the chunk metrics share them), server TTFT and TPOT their own.
//
// These names carry no prefix: put them in a registry without one,
//
//     llmetrics::genai_registry genai;                               // 1.41 names
//     llmetrics::genai_registry_for<llmetrics::genai_semconv::both> genai;   // both at once
//     llmetrics::monitored_router router{my_router, metrics, genai};  // both catalogs
//
// or choose at start-up the way OTEL_SEMCONV_STABILITY_OPT_IN does:
// genai_semconv_from_opt_in(std::getenv("OTEL_SEMCONV_STABILITY_OPT_IN")).

#include <cstddef>
#include <string_view>

#include "../core/buckets.hpp"
#include "../core/family.hpp"
#include "../core/labels.hpp"
#include "../core/options.hpp"
#include "../registry/registry.hpp"
#include "catalog.hpp"

namespace llmetrics {
namespace genai {

// The conventions' duration boundaries (seconds), shared by the client chunk metrics.
using duration_buckets =
    buckets<0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92>;
using token_buckets =
    buckets<1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864>;
using operation_labels = labels<"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model">;
using operation_error_labels =
    labels<"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "error_type">;

struct client_operation_duration : histogram<
    "gen_ai_client_operation_duration_seconds", "GenAI operation duration", operation_error_labels,
    duration_buckets, unit<"seconds">> {};

struct client_token_usage : histogram<
    "gen_ai_client_token_usage", "Number of input and output tokens used",
    labels<"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "gen_ai_token_type">,
    token_buckets, value_set<"gen_ai_token_type", "input", "output">> {};

struct server_time_to_first_token : histogram<
    "gen_ai_server_time_to_first_token_seconds", "Time to generate first token for successful responses",
    operation_labels,
    buckets<0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10>,
    unit<"seconds">> {};

struct server_time_per_output_token : histogram<
    "gen_ai_server_time_per_output_token_seconds",
    "Time per output token generated after the first token for successful responses", operation_labels,
    buckets<0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5>, unit<"seconds">> {};

struct client_operation_time_to_first_chunk : histogram<
    "gen_ai_client_operation_time_to_first_chunk_seconds",
    "Time to receive the first chunk of a streamed response", operation_labels, duration_buckets,
    unit<"seconds">> {};

struct client_operation_time_per_output_chunk : histogram<
    "gen_ai_client_operation_time_per_output_chunk_seconds",
    "Time from the previous chunk to this one, for each chunk after the first", operation_labels,
    duration_buckets, unit<"seconds">> {};

struct server_request_duration : histogram<
    "gen_ai_server_request_duration_seconds", "GenAI server request duration to the last output token",
    operation_error_labels, duration_buckets, unit<"seconds">> {};

using families = family_list<client_operation_duration, client_token_usage, client_operation_time_to_first_chunk,
                             client_operation_time_per_output_chunk, server_request_duration,
                             server_time_to_first_token, server_time_per_output_token>;

// Native twins of the three durations (see catalog::native): they play the
// classic families' roles where a registry holds them instead.
namespace native {

struct client_operation_duration : native_histogram<
    "gen_ai_client_operation_duration_seconds", "GenAI operation duration", operation_error_labels,
    unit<"seconds">> {};

struct server_time_to_first_token : native_histogram<
    "gen_ai_server_time_to_first_token_seconds", "Time to generate first token for successful responses",
    operation_labels, unit<"seconds">> {};

struct server_time_per_output_token : native_histogram<
    "gen_ai_server_time_per_output_token_seconds",
    "Time per output token generated after the first token for successful responses", operation_labels,
    unit<"seconds">> {};

using families = family_list<client_operation_duration, llmetrics::genai::client_token_usage,
                             server_time_to_first_token, server_time_per_output_token>;

}  // namespace native

// The semantic-conventions-genai draft: client inference metrics.
namespace latest {

struct client_inference_duration : histogram<
    "gen_ai_client_inference_duration_seconds", "GenAI inference duration", operation_error_labels,
    duration_buckets, unit<"seconds">> {};

struct client_inference_time_to_first_chunk : histogram<
    "gen_ai_client_inference_time_to_first_chunk_seconds",
    "Time to receive the first chunk of a streamed response", operation_labels, duration_buckets,
    unit<"seconds">> {};

struct client_inference_time_per_output_chunk : histogram<
    "gen_ai_client_inference_time_per_output_chunk_seconds",
    "Time from the previous chunk to this one, for each chunk after the first", operation_labels,
    duration_buckets, unit<"seconds">> {};

struct client_inference_usage_input_tokens : counter<
    "gen_ai_client_inference_usage_input_tokens_total", "Input tokens used by inference", operation_labels> {};

struct client_inference_usage_output_tokens : counter<
    "gen_ai_client_inference_usage_output_tokens_total", "Output tokens used by inference", operation_labels> {};

struct client_inference_usage_cache_read_input_tokens : counter<
    "gen_ai_client_inference_usage_cache_read_input_tokens_total",
    "Input tokens read from the provider's cache (part of input)", operation_labels> {};

struct client_inference_usage_cache_write_input_tokens : counter<
    "gen_ai_client_inference_usage_cache_write_input_tokens_total",
    "Input tokens written to the provider's cache (part of input)", operation_labels> {};

struct client_inference_usage_reasoning_output_tokens : counter<
    "gen_ai_client_inference_usage_reasoning_output_tokens_total", "Reasoning tokens (part of output)",
    operation_labels> {};

struct client_inference_operation_input_tokens : histogram<
    "gen_ai_client_inference_operation_input_tokens", "Input tokens per inference operation", operation_labels,
    token_buckets> {};

struct client_inference_operation_output_tokens : histogram<
    "gen_ai_client_inference_operation_output_tokens", "Output tokens per inference operation", operation_labels,
    token_buckets> {};

// The draft's client families, to add beside genai::families for both at once.
using client_families =
    family_list<client_inference_duration, client_inference_time_to_first_chunk,
                client_inference_time_per_output_chunk, client_inference_usage_input_tokens,
                client_inference_usage_output_tokens, client_inference_usage_cache_read_input_tokens,
                client_inference_usage_cache_write_input_tokens, client_inference_usage_reasoning_output_tokens,
                client_inference_operation_input_tokens, client_inference_operation_output_tokens>;

// The draft's families: its client families and the server metrics that did not move.
using families = client_families::append<server_request_duration, server_time_to_first_token,
                                         server_time_per_output_token>;

}  // namespace latest
}  // namespace genai

// Which generation of the conventions a registry emits.
enum class genai_semconv {
    v1_41,   // semantic-conventions 1.41 (the default)
    latest,  // the semantic-conventions-genai draft
    both,    // both at once, for a migration: dashboards of either kind keep working
};

// The choice OTEL_SEMCONV_STABILITY_OPT_IN makes: a comma-separated list in which
// `gen_ai_latest_experimental` selects the draft and `gen_ai_latest_experimental/dup`
// both generations (the `/dup` suffix as the HTTP conventions spell "emit both").
// Anything else, an empty or absent value included, keeps 1.41.
constexpr genai_semconv genai_semconv_from_opt_in(std::string_view list) noexcept {
    genai_semconv chosen = genai_semconv::v1_41;
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (item == "gen_ai_latest_experimental/dup") return genai_semconv::both;
        if (item == "gen_ai_latest_experimental") chosen = genai_semconv::latest;
    }
    return chosen;
}
constexpr genai_semconv genai_semconv_from_opt_in(const char* list) noexcept {
    return list ? genai_semconv_from_opt_in(std::string_view(list)) : genai_semconv::v1_41;
}

// The GenAI families of semantic-conventions 1.41, unprefixed.
using genai_catalog = genai::families;
using genai_registry = genai_catalog::apply<registry>;
// The same with native durations.
using genai_native_registry = genai::native::families::apply<registry>;
// The draft's names.
using genai_latest_registry = genai::latest::families::apply<registry>;
// Both generations at once: 1.41's families and the draft's client families.
using genai_dup_registry =
    genai::latest::client_families::apply<genai::families::template append>::template apply<registry>;

namespace detail {
template <genai_semconv G>
struct genai_registry_of {
    using type = genai_registry;
};
template <>
struct genai_registry_of<genai_semconv::latest> {
    using type = genai_latest_registry;
};
template <>
struct genai_registry_of<genai_semconv::both> {
    using type = genai_dup_registry;
};
}  // namespace detail

// The registry of one generation, chosen at compile time:
// genai_registry_for<genai_semconv::latest>.
template <genai_semconv G>
using genai_registry_for = typename detail::genai_registry_of<G>::type;

}  // namespace llmetrics

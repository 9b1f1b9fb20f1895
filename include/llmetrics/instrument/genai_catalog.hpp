#pragma once
// OpenTelemetry GenAI semantic-convention metrics, named as Prometheus renders
// them (dots become underscores, unit "s" becomes the `_seconds` suffix, the
// annotation unit "{token}" adds nothing), with the conventions' advised bucket
// boundaries, so dashboards and alerts written for those conventions work on a
// llmetrics registry unchanged:
//
//   gen_ai.client.operation.duration       -> gen_ai_client_operation_duration_seconds
//   gen_ai.client.token.usage              -> gen_ai_client_token_usage
//   gen_ai.server.time_to_first_token      -> gen_ai_server_time_to_first_token_seconds
//   gen_ai.server.time_per_output_token    -> gen_ai_server_time_per_output_token_seconds
//
// Attributes become labels the same way: gen_ai.operation.name ->
// gen_ai_operation_name, gen_ai.provider.name -> gen_ai_provider_name,
// gen_ai.request.model -> gen_ai_request_model, error.type -> error_type (empty,
// which Prometheus reads as absent, on success), gen_ai.token.type ->
// gen_ai_token_type (closed set: input, output). No name contains ':' (OpenMetrics
// keeps it for recording rules).
//
// These names carry no prefix: put them in a registry without one,
//
//     llmetrics::genai_registry genai;
//     llmetrics::monitored_router router{my_router, metrics, genai};   // both catalogs
//
// or use monitored_router with `genai` alone.

#include "../core/buckets.hpp"
#include "../core/family.hpp"
#include "../core/labels.hpp"
#include "../core/options.hpp"
#include "../registry/registry.hpp"
#include "catalog.hpp"

namespace llmetrics {
namespace genai {

struct client_operation_duration : histogram<
    "gen_ai_client_operation_duration_seconds", "GenAI operation duration",
    labels<"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "error_type">,
    buckets<0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92>,
    unit<"seconds">> {};

struct client_token_usage : histogram<
    "gen_ai_client_token_usage", "Number of input and output tokens used",
    labels<"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "gen_ai_token_type">,
    buckets<1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864>,
    value_set<"gen_ai_token_type", "input", "output">> {};

struct server_time_to_first_token : histogram<
    "gen_ai_server_time_to_first_token_seconds", "Time to generate first token for successful responses",
    labels<"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model">,
    buckets<0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10>,
    unit<"seconds">> {};

struct server_time_per_output_token : histogram<
    "gen_ai_server_time_per_output_token_seconds",
    "Time per output token generated after the first token for successful responses",
    labels<"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model">,
    buckets<0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5>, unit<"seconds">> {};

using families = family_list<client_operation_duration, client_token_usage, server_time_to_first_token,
                             server_time_per_output_token>;

// Native twins of the three durations (see catalog::native): they play the
// classic families' roles where a registry holds them instead.
namespace native {

struct client_operation_duration : native_histogram<
    "gen_ai_client_operation_duration_seconds", "GenAI operation duration",
    labels<"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "error_type">,
    unit<"seconds">> {};

struct server_time_to_first_token : native_histogram<
    "gen_ai_server_time_to_first_token_seconds", "Time to generate first token for successful responses",
    labels<"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model">, unit<"seconds">> {};

struct server_time_per_output_token : native_histogram<
    "gen_ai_server_time_per_output_token_seconds",
    "Time per output token generated after the first token for successful responses",
    labels<"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model">, unit<"seconds">> {};

using families = family_list<client_operation_duration, llmetrics::genai::client_token_usage,
                             server_time_to_first_token, server_time_per_output_token>;

}  // namespace native
}  // namespace genai

// The four GenAI families, unprefixed.
using genai_catalog = genai::families;
using genai_registry = genai_catalog::apply<registry>;
// The same with native durations.
using genai_native_registry = genai::native::families::apply<registry>;

}  // namespace llmetrics

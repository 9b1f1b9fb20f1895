#pragma once
// Everything monitored_router records, as one table (vocabulary in
// instrument/detail/role_table.hpp). Adding a family the decorator fills is
// adding a row here; a registry that does not hold a row's family skips it.

#include "../catalog.hpp"
#include "../gateway_catalog.hpp"
#include "../genai_catalog.hpp"
#include "role_table.hpp"

namespace llmetrics::detail {

// Short names for the table only.
namespace router_roles_table {
using f = call_facts;
template <fixed_string L>
using model = from<L, &f::model>;
template <fixed_string L>
using strategy = from<L, &f::strategy>;
template <fixed_string L>
using tenant = from<L, &f::tenant_id>;
template <fixed_string L>
using provider = from<L, &f::provider>;
template <fixed_string L>
using operation = from<L, &f::operation>;
template <fixed_string L>
using error = from<L, &f::error_type>;
using ev = call_event;
namespace cat = llmetrics::catalog;
namespace stream = llmetrics::catalog::streaming;
namespace gen = llmetrics::genai;
namespace next = llmetrics::genai::latest;
namespace gw = llmetrics::catalog::gateway;
// A row of a GenAI family: operation, provider and request model, then More.
template <class Role, call_event Event, class Amount, class... More>
using genai_row = role_row<Role, Event, Amount, operation<"gen_ai_operation_name">, provider<"gen_ai_provider_name">,
                           model<"gen_ai_request_model">, More...>;

// clang-format off
using table = role_table<
    // The tutorial's catalog.
    role_row<cat::model_inference_total, ev::success, count_one,
             model<"model_id">, strategy<"strategy">, fixed<"status", "success">, tenant<"tenant_id">>,
    role_row<cat::model_inference_total, ev::failure, count_one,
             model<"model_id">, strategy<"strategy">, fixed<"status", "error">, tenant<"tenant_id">>,
    role_row<cat::model_inference_duration_seconds, ev::success, call_seconds,
             model<"model_id">, strategy<"strategy">, tenant<"tenant_id">>,
    role_row<cat::model_inference_tokens, ev::success, total_tokens,
             model<"model_id">, strategy<"strategy">, tenant<"tenant_id">>,
    role_row<cat::request_cost_cents, ev::success, cost_cents, model<"model_id">, tenant<"tenant_id">>,
    role_row<cat::errors_total, ev::failure, count_one,
             error<"error_type">, model<"model_id">, tenant<"tenant_id">>,
    role_row<cat::model_load_time_seconds, ev::load, call_seconds,
             model<"model_id">, from<"format", &f::format>, from<"loader", &f::loader>>,
    role_row<cat::errors_total, ev::load_failure, count_one,
             fixed<"error_type", "ModelLoadError">, model<"model_id">, fixed<"tenant_id", "unknown">>,
    // Streaming extensions.
    role_row<stream::tokens_total, ev::success, input_tokens,
             model<"model_id">, tenant<"tenant_id">, fixed<"token_type", "input">>,
    role_row<stream::tokens_total, ev::success, output_tokens,
             model<"model_id">, tenant<"tenant_id">, fixed<"token_type", "output">>,
    role_row<stream::time_to_first_token_seconds, ev::success, first_token_seconds,
             model<"model_id">, strategy<"strategy">, tenant<"tenant_id">>,
    role_row<stream::time_per_output_token_seconds, ev::success, per_output_token_seconds,
             model<"model_id">, strategy<"strategy">, tenant<"tenant_id">>,
    role_row<stream::client_cancellations_total, ev::cancellation, count_one,
             model<"model_id">, tenant<"tenant_id">, from<"stage", &f::stage>>,
    role_row<stream::client_cancellations_total, ev::unstarted_cancellation, count_one,
             model<"model_id">, tenant<"tenant_id">, from<"stage", &f::stage>>,
    // OpenTelemetry GenAI conventions (error_type empty on success).
    genai_row<gen::client_operation_duration, ev::success, call_seconds, fixed<"error_type", "">>,
    genai_row<gen::client_operation_duration, ev::failure, call_seconds, error<"error_type">>,
    genai_row<gen::client_token_usage, ev::success, input_tokens, fixed<"gen_ai_token_type", "input">>,
    genai_row<gen::client_token_usage, ev::success, output_tokens, fixed<"gen_ai_token_type", "output">>,
    genai_row<gen::server_time_to_first_token, ev::success, first_token_seconds>,
    genai_row<gen::server_time_per_output_token, ev::success, per_output_token_seconds>,
    genai_row<gen::server_request_duration, ev::success, call_seconds, fixed<"error_type", "">>,
    genai_row<gen::server_request_duration, ev::failure, call_seconds, error<"error_type">>,
    genai_row<gen::client_operation_time_to_first_chunk, ev::first_chunk, call_seconds>,
    genai_row<gen::client_operation_time_per_output_chunk, ev::next_chunk, call_seconds>,
    // The semantic-conventions-genai draft.
    genai_row<next::client_inference_duration, ev::success, call_seconds, fixed<"error_type", "">>,
    genai_row<next::client_inference_duration, ev::failure, call_seconds, error<"error_type">>,
    genai_row<next::client_inference_time_to_first_chunk, ev::first_chunk, call_seconds>,
    genai_row<next::client_inference_time_per_output_chunk, ev::next_chunk, call_seconds>,
    genai_row<next::client_inference_usage_input_tokens, ev::success, input_tokens>,
    genai_row<next::client_inference_usage_output_tokens, ev::success, output_tokens>,
    genai_row<next::client_inference_usage_cache_read_input_tokens, ev::success, cached_input_tokens>,
    genai_row<next::client_inference_usage_cache_write_input_tokens, ev::success, cache_write_input_tokens>,
    genai_row<next::client_inference_usage_reasoning_output_tokens, ev::success, reasoning_output_tokens>,
    genai_row<next::client_inference_operation_input_tokens, ev::success, input_tokens>,
    genai_row<next::client_inference_operation_output_tokens, ev::success, output_tokens>,
    // Gateway families (attempts, retries, fallbacks and upstream states are
    // lists: instrument/detail/routing_recorder.hpp records them).
    role_row<gw::tokens_total, ev::success, cached_input_tokens,
             model<"model_id">, tenant<"tenant_id">, fixed_if_declared<"token_type", "cached_input">>,
    role_row<gw::tokens_total, ev::success, reasoning_output_tokens,
             model<"model_id">, tenant<"tenant_id">, fixed_if_declared<"token_type", "reasoning_output">>,
    // Spend, in the cents request_cost_cents records (the budget part: call_recorder).
    role_row<gw::tenant_spend_cents_total, ev::success, cost_cents, tenant<"tenant_id">>,
    role_row<gw::request_tokens, ev::success, input_tokens, model<"model_id">>,
    role_row<gw::response_tokens, ev::success, output_tokens, model<"model_id">>,
    role_row<gw::router_overhead_seconds, ev::success, overhead_seconds, model<"model_id">>,
    role_row<gw::router_overhead_seconds, ev::failure, overhead_seconds, model<"model_id">>,
    role_row<gw::requests_in_flight, ev::start, add_one, model<"model_id">>,
    role_row<gw::requests_in_flight, ev::success, take_one, model<"model_id">>,
    role_row<gw::requests_in_flight, ev::failure, take_one, model<"model_id">>,
    role_row<gw::requests_in_flight, ev::cancellation, take_one, model<"model_id">>>;
// clang-format on

}  // namespace router_roles_table

using router_roles = router_roles_table::table;

}  // namespace llmetrics::detail

#pragma once
// The families LLM router and gateway teams share beyond the tutorial's twelve:
// attempts per upstream, retries, fallbacks, upstream health and rate limits,
// tokens by type, spend and budget per tenant, router overhead, request and
// response sizes, in-flight and queued requests. Names are given without a
// prefix (the registry adds it: llm_router_upstream_attempts_total, ...); every
// label is bounded: models and upstreams come from the router's configuration,
// tenants are bounded by max_series, the rest are closed value sets.
//
//     llmetrics::llm_router_gateway_registry metrics;   // the twelve + streaming + these
//     llmetrics::monitored_router router{engine, metrics};
//
// monitored_router fills them from what a call reports (instrument/routing_report.hpp
// for attempts and upstream states, the result's cached and reasoning tokens,
// spend from the result's cost, and budgets through an attached tenant_budgets:
// instrument/tenant_budgets.hpp), queued requests through model_queue_guard
// (instrument/guards.hpp).
//
// What was followed, and where this differs:
//   - LiteLLM proxy: deployment success/failure counts, `litellm_deployment_state`
//     (0 healthy, 1 partial outage, 2 complete outage), remaining requests and
//     tokens per deployment, successful fallbacks from the requested model to the
//     fallback one, spend and remaining budget, overhead latency (time in the
//     proxy beside the provider call). Here the attempts are one counter with a
//     `result` label, and the health state is one 0/1 series per state
//     (up, degraded, cooling_down: LiteLLM's cooldown), so `== 1` selects a
//     state and no numeric code has to be remembered.
//   - TensorZero's latency overhead: the request's duration minus the time spent
//     waiting for the provider; router_overhead_seconds is that.
//   - Gateway API inference extension (llm-d endpoint picker): request and
//     response sizes per model, input/output token histograms, running and queued
//     requests per model: request_tokens, response_tokens, requests_in_flight,
//     requests_queued.
//   - Envoy AI Gateway: gen_ai.client.token.usage by gen_ai.token.type, and its
//     token usage record's inclusive contract (input covers cached reads, output
//     covers reasoning; the details are subsets); the GenAI conventions' next
//     draft names cache_read.input and reasoning.output. Here they are four
//     `token_type` values of one counter; cached_input is part of input and
//     reasoning_output part of output: sum only input and output for a total.
// Labels use the tutorial's `model_id` and `tenant_id`, so the dashboard's
// model and tenant filters apply.

#include "../core/buckets.hpp"
#include "../core/family.hpp"
#include "../core/labels.hpp"
#include "../core/options.hpp"
#include "../registry/registry.hpp"
#include "catalog.hpp"

namespace llmetrics {
namespace catalog::gateway {

// An attempt at an upstream ends in "success" or one of the failures
// rate_limited, timeout, server_error, connection_error, context_window,
// content_policy, other; retries and fallbacks name the failure that caused them
// with the same words (routing_report.hpp: attempt_result).

struct upstream_attempts_total : counter<
    "upstream_attempts_total", "Attempts at an upstream (deployment or endpoint) by result",
    labels<"model_id", "upstream", "result">,
    value_set<"result", "success", "rate_limited", "timeout", "server_error", "connection_error", "context_window",
              "content_policy", "other">> {};

struct retries_total : counter<
    "retries_total", "Attempts repeated on the same model, by the failure that caused them",
    labels<"model_id", "reason">,
    value_set<"reason", "rate_limited", "timeout", "server_error", "connection_error", "context_window",
              "content_policy", "other">> {};

struct fallbacks_total : counter<
    "fallbacks_total", "Requests moved from one model to another, by the failure that caused it",
    labels<"from_model", "to_model", "reason">,
    value_set<"reason", "rate_limited", "timeout", "server_error", "connection_error", "context_window",
              "content_policy", "other">> {};

struct retries_exhausted_total : counter<
    "retries_exhausted_total", "Times the router gave up on a model after its last attempt failed",
    labels<"model_id">> {};

// 1 for the upstream's current state, 0 for the others.
struct upstream_health : gauge<
    "upstream_health", "Upstream state: 1 for the current one of up, degraded, cooling_down",
    labels<"model_id", "upstream", "state">, value_set<"state", "up", "degraded", "cooling_down">> {};

struct upstream_remaining_requests : gauge<
    "upstream_remaining_requests", "Requests left in the upstream's rate-limit window, as it last reported",
    labels<"model_id", "upstream">> {};

struct upstream_remaining_tokens : gauge<
    "upstream_remaining_tokens", "Tokens left in the upstream's rate-limit window, as it last reported",
    labels<"model_id", "upstream">> {};

// Plays catalog::streaming::tokens_total's role (same name and labels, two more
// token types): a registry holds one or the other.
struct tokens_total : counter<
    "tokens_total", "Total number of tokens by type (cached_input is part of input, reasoning_output of output)",
    labels<"model_id", "tenant_id", "token_type">,
    value_set<"token_type", "input", "output", "cached_input", "reasoning_output">> {};

struct tenant_spend_cents_total : counter<
    "tenant_spend_cents_total", "Money spent per tenant in cents", labels<"tenant_id">> {};

struct tenant_budget_remaining_cents : gauge<
    "tenant_budget_remaining_cents", "Budget left per tenant in cents (only tenants given a budget)",
    labels<"tenant_id">> {};

struct router_overhead_seconds : histogram<
    "router_overhead_seconds", "Time spent in the router itself, excluding upstream calls, in seconds",
    labels<"model_id">,
    buckets<0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1>> {};

// Powers of 4, as the GenAI conventions advise for token usage.
struct request_tokens : histogram<
    "request_tokens", "Input tokens per request", labels<"model_id">,
    exponential_buckets<1, 4, 12>> {};

struct response_tokens : histogram<
    "response_tokens", "Output tokens per response", labels<"model_id">,
    exponential_buckets<1, 4, 12>> {};

struct requests_in_flight : gauge<
    "requests_in_flight", "Requests being processed by the router now", labels<"model_id">> {};

struct requests_queued : gauge<
    "requests_queued", "Requests waiting in the router's queue now", labels<"model_id">> {};

using families =
    family_list<upstream_attempts_total, retries_total, fallbacks_total, retries_exhausted_total, upstream_health,
                upstream_remaining_requests, upstream_remaining_tokens, tokens_total, tenant_spend_cents_total,
                tenant_budget_remaining_cents, router_overhead_seconds, request_tokens, response_tokens,
                requests_in_flight, requests_queued>;

}  // namespace catalog::gateway

// The twelve, time to first token and per output token, and the gateway families
// (whose tokens_total replaces the streaming one).
namespace catalog::gateway {
using with_tutorial = llm_router_catalog::append<
    streaming::time_to_first_token_seconds, streaming::time_per_output_token_seconds, upstream_attempts_total,
    retries_total, fallbacks_total, retries_exhausted_total, upstream_health, upstream_remaining_requests,
    upstream_remaining_tokens, tokens_total, tenant_spend_cents_total, tenant_budget_remaining_cents,
    router_overhead_seconds, request_tokens, response_tokens, requests_in_flight, requests_queued>;
}  // namespace catalog::gateway

// ... under the tutorial's prefix.
using llm_router_gateway_registry = catalog::gateway::with_tutorial::apply<registry, prefix<"llm_router_">>;

}  // namespace llmetrics

#pragma once
// The demo's registry: the tutorial's twelve families, with model inference
// duration kept both in the tutorial's classic buckets and in native ones
// (schema 3). Text scrapes and `_bucket` queries see what they always saw; a
// Prometheus started with --enable-feature=native-histograms negotiates the
// protobuf format and stores the native histogram. The family plays the
// catalog's role (registry/holds.hpp), so monitored_router, the rules and the
// dashboard use it unchanged. The gateway families (attempts, retries,
// fallbacks, upstream health and limits, tokens by type, spend and budget,
// overhead, sizes, in flight, queued) follow the twelve; streamed answers
// (`"stream": true`, --stream-share) add time to first token, time per output
// token and client cancellations.

#include <llmetrics/instrument/catalog.hpp>
#include <llmetrics/instrument/gateway_catalog.hpp>
#include <llmetrics/instrument/tenant_budgets.hpp>

namespace llmetrics_demo {

namespace lm = llmetrics;

struct inference_duration_seconds : lm::histogram<
    "model_inference_duration_seconds", "Duration of model inference in seconds",
    lm::labels<"model_id", "strategy", "tenant_id">, lm::buckets<0.1, 0.5, 1, 2, 5, 10, 30, 60>,
    lm::native_schema<3>> {};

using demo_registry =
    lm::registry<lm::prefix<"llm_router_">, lm::catalog::http_requests_total, lm::catalog::http_request_duration_seconds,
                 lm::catalog::model_inference_total, inference_duration_seconds, lm::catalog::model_inference_tokens,
                 lm::catalog::active_connections, lm::catalog::queue_depth, lm::catalog::cache_hits_total,
                 lm::catalog::cache_misses_total, lm::catalog::request_cost_cents,
                 lm::catalog::model_load_time_seconds, lm::catalog::errors_total,
                 lm::catalog::gateway::upstream_attempts_total, lm::catalog::gateway::retries_total,
                 lm::catalog::gateway::fallbacks_total, lm::catalog::gateway::retries_exhausted_total,
                 lm::catalog::gateway::upstream_health, lm::catalog::gateway::upstream_remaining_requests,
                 lm::catalog::gateway::upstream_remaining_tokens, lm::catalog::gateway::tokens_total,
                 lm::catalog::gateway::tenant_spend_cents_total, lm::catalog::gateway::tenant_budget_remaining_cents,
                 lm::catalog::gateway::router_overhead_seconds, lm::catalog::gateway::request_tokens,
                 lm::catalog::gateway::response_tokens, lm::catalog::gateway::requests_in_flight,
                 lm::catalog::gateway::requests_queued, lm::catalog::streaming::time_to_first_token_seconds,
                 lm::catalog::streaming::time_per_output_token_seconds,
                 lm::catalog::streaming::client_cancellations_total>;

// The budgets of the demo's two named tenants, in cents (tenant-b's small one
// runs out within a few hundred requests); other tenants have none.
inline void give_demo_budgets(lm::tenant_budgets<demo_registry>& budgets) {
    budgets.set_budget("tenant-a", 100'000);
    budgets.set_budget("tenant-b", 10);
}

}  // namespace llmetrics_demo

// A router that retries and falls back reports what it did in a routing_report;
// monitored_router turns it into the gateway families (attempts by upstream and
// result, retries, fallbacks, retries exhausted, upstream health), and records
// the result's cost as the tenant's spend, charged to an attached tenant_budgets. The report travels in the
// options, so a call that fails in the end is counted too.
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

#include <llmetrics/instrument.hpp>

namespace lm = llmetrics;

// gpt-4's deployment is rate limited; the router falls back to gpt-3.5-turbo.
struct fallback_router {
    lm::inference_result process(std::string_view, const lm::request_options& o) {
        namespace ar = lm::attempt_result;
        if (o.routing) {
            o.routing->attempts = {{"gpt-4", "azure-east", ar::rate_limited},
                                   {"gpt-3.5-turbo", "openai", ar::success}};
            o.routing->upstreams = {{"gpt-4", "azure-east", lm::upstream_state::cooling_down}};
        }
        lm::inference_result r;
        r.metrics.input_tokens = 20;
        r.metrics.output_tokens = 80;
        r.metrics.cached_input_tokens = 16;  // part of the 20
        r.metrics.cost = 0.0004;
        return r;
    }
    void register_model(const lm::model_config&) {}
};

int main() {
    fallback_router engine;
    lm::llm_router_gateway_registry metrics;  // the twelve + streaming + gateway families
    lm::monitored_router router{engine, metrics};
    lm::tenant_budgets budgets{metrics};
    budgets.set_budget("tenant-a", 100);  // cents
    router.attach(budgets);

    lm::routing_report report;
    // The result's cost (0.04 cents): spend += 0.04, budget -= 0.04.
    router.process("Hello", {.model = "gpt-4", .tenant_id = "tenant-a", .routing = &report});

    const std::string body = lm::render(metrics, lm::format::prometheus);
    for (std::size_t pos = 0, end; pos < body.size(); pos = end + 1) {
        end = body.find('\n', pos);
        const std::string_view line(body.data() + pos, end - pos);
        const bool shown = line.starts_with("llm_router_upstream_attempts_total") ||
                           line.starts_with("llm_router_fallbacks_total") ||
                           line.starts_with("llm_router_retries_exhausted") ||
                           line.starts_with("llm_router_upstream_health") ||
                           line.starts_with("llm_router_tokens_total") || line.starts_with("llm_router_tenant_");
        if (shown && !line.ends_with(" 0")) std::printf("%.*s\n", static_cast<int>(line.size()), line.data());
    }
}

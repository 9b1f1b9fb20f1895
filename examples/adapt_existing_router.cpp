// Instrumenting a router type you cannot change. monitored_router accepts any
// type modelling the llm_router concept; the customization points say how to
// call it (router_traits), which labels a call has (options_traits) and what a
// result reports (result_traits). Specialise only what differs from the
// defaults, which read members by their common names.
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include <llmetrics/instrument.hpp>

namespace lm = llmetrics;

namespace legacy {  // a third-party engine: names and shapes of its own
struct Params { std::string modelName, customer; };
struct Reply { std::string text; int promptLen, completionLen; double usd; };
struct Engine {
    Reply Generate(const std::string& prompt, const Params&) { return {"ok", int(prompt.size()), 42, 0.0125}; }
    void Load(const std::string&) {}
};
}  // namespace legacy

template <>
struct lm::router_traits<legacy::Engine> : lm::default_router_traits<legacy::Engine> {
    using options_type = legacy::Params;
    static legacy::Reply process(legacy::Engine& e, std::string_view prompt, const legacy::Params& p) {
        return e.Generate(std::string(prompt), p);
    }
    static void register_model(legacy::Engine& e, const lm::model_config& c) { e.Load(c.id); }
};
template <>
struct lm::options_traits<legacy::Params> {
    static lm::request_labels read(const legacy::Params& p) { return {.model = p.modelName, .tenant_id = p.customer}; }
};
template <>
struct lm::result_traits<legacy::Reply> {
    static lm::usage read(const legacy::Reply& r) {
        return {.input_tokens = r.promptLen, .output_tokens = r.completionLen, .cost = r.usd};
    }
};
static_assert(lm::llm_router<legacy::Engine>, "llmetrics: the traits above make Engine a router");

int main() {
    // snippet-begin
    legacy::Engine engine;
    lm::catalog_registry metrics;                  // the tutorial's twelve families, prefixed llm_router_
    lm::monitored_router router{engine, metrics};  // any type modelling lm::llm_router
    router.process("Hello, world", legacy::Params{"gpt-4", "tenant-a"});  // counted, timed, tokens, cost
    // snippet-end

    const std::string body = lm::render(metrics, lm::format::prometheus);
    for (std::size_t pos = 0, end; pos < body.size(); pos = end + 1) {
        end = body.find('\n', pos);
        const std::string_view line(body.data() + pos, end - pos);
        if (line.starts_with("llm_router_model_inference_total") ||
            line.starts_with("llm_router_model_inference_tokens_sum") ||
            line.starts_with("llm_router_request_cost_cents_sum"))
            std::printf("%.*s\n", static_cast<int>(line.size()), line.data());
    }
}

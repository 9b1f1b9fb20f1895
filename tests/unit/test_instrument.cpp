// Instrumentation: the tutorial's catalog, the GenAI catalog, monitored_router
// (sync, failure, register_model, streaming, futures, awaitables, foreign
// routers), the RAII guards, the HTTP timer and the recording helpers.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include <llmetrics/instrument/detail/mpmc_queue.hpp>
#include <llmetrics/llmetrics.hpp>
#include <llmetrics/instrument/catalog.hpp>
#include <llmetrics/instrument/genai_catalog.hpp>
#include <llmetrics/instrument/llm_router.hpp>
#include <llmetrics/instrument/monitored_router.hpp>
#include <llmetrics/instrument/recorders.hpp>
#include <llmetrics/instrument/guards.hpp>
#include <llmetrics/instrument/trace_context.hpp>
#include <llmetrics/instrument/http_request_timer.hpp>

#include "text_sample.hpp"

namespace lm = llmetrics;

namespace {

// --- helpers ------------------------------------------------------------------

// The first line of `text` that starts with `prefix`, or "".
std::string line_starting(const std::string& text, std::string_view prefix) {
    std::size_t pos = 0;
    while ((pos = text.find(prefix, pos)) != std::string::npos) {
        if (pos == 0 || text[pos - 1] == '\n') return text.substr(pos, text.find('\n', pos) - pos);
        pos += prefix.size();
    }
    return {};
}

bool has_line_starting(const std::string& text, std::string_view prefix) {
    return !prefix.empty() && !line_starting(text, prefix).empty();
}

struct fake_clock {
    std::chrono::nanoseconds t{0};
    std::chrono::nanoseconds now() const noexcept { return t; }
    void advance(double seconds) { t += std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9)); }
};

}  // namespace

// Exceptions the routers below throw; named like a user's error hierarchy.
namespace acme {
struct QuotaExceeded : std::runtime_error {
    explicit QuotaExceeded(int id) : std::runtime_error("quota"), id(id) {}
    int id;
};
namespace detail {
template <class T>
struct Wrapped : std::runtime_error {
    Wrapped() : std::runtime_error("wrapped") {}
};
}  // namespace detail
}  // namespace acme

namespace {

// A router written for llmetrics' vocabulary types.
struct fake_router {
    fake_clock* clock = nullptr;
    double latency = 1.5;
    std::optional<std::uint64_t> input_tokens = 20;
    std::optional<std::uint64_t> output_tokens = 100;
    std::optional<std::uint64_t> total_tokens = 120;
    std::optional<double> cost = 0.042;
    int fail_with = 0;  // 0: succeed; otherwise throw acme::QuotaExceeded{fail_with}
    int calls = 0;
    int initialized = 0;
    std::vector<std::string> models{};
    std::string last_tenant{};

    void initialize() { ++initialized; }

    lm::inference_result process(std::string_view prompt, const lm::request_options& options) {
        ++calls;
        last_tenant = std::string(options.tenant_id);
        if (clock) clock->advance(latency);
        if (fail_with) throw acme::QuotaExceeded(fail_with);
        lm::inference_result r;
        r.text = std::string(prompt);
        r.metrics.input_tokens = input_tokens;
        r.metrics.output_tokens = output_tokens;
        r.metrics.total_tokens = total_tokens;
        r.metrics.cost = cost;
        return r;
    }

    void register_model(const lm::model_config& config) {
        if (clock) clock->advance(3.0);
        if (config.id == "broken") throw std::runtime_error("cannot load");
        models.push_back(config.id);
    }
};

static_assert(lm::llm_router<fake_router>);
static_assert(!lm::llm_router<int>);
static_assert(!lm::llm_router<std::string>);
static_assert(!lm::streaming_llm_router<fake_router>);
static_assert(!lm::async_llm_router<fake_router>);

}  // namespace

// --- the catalog -------------------------------------------------------------------

TEST_CASE("catalog: the twelve families, their names, labels and buckets", "[instrument]") {
    using namespace lm::catalog;
    static_assert(lm::llm_router_catalog::size == 12);
    static_assert(std::is_same_v<lm::catalog_registry, lm::registry<lm::prefix<"llm_router_">, http_requests_total,
                                                                    http_request_duration_seconds, model_inference_total,
                                                                    model_inference_duration_seconds, model_inference_tokens,
                                                                    active_connections, queue_depth, cache_hits_total,
                                                                    cache_misses_total, request_cost_cents,
                                                                    model_load_time_seconds, errors_total>>);
    static_assert(lm::catalog_registry::name_of<errors_total>() == "llm_router_errors_total");
    static_assert(model_inference_total::name == "model_inference_total");  // the prefix is the registry's

    lm::catalog_registry m;
    m.get<http_requests_total>().labels("GET", "/chat", "200", "t").inc();
    m.get<http_request_duration_seconds>().labels("GET", "/chat", "t").observe(0.2);
    m.get<model_inference_total>().labels("gpt-4", "balanced", "success", "t").inc();
    m.get<model_inference_duration_seconds>().labels("gpt-4", "balanced", "t").observe(1.0);
    m.get<model_inference_tokens>().labels("gpt-4", "balanced", "t").observe(10);
    m.get<active_connections>().labels("t").set(2);
    m.get<queue_depth>().labels("inference", "t").set(3);
    m.get<cache_hits_total>().labels("model", "t").inc();
    m.get<cache_misses_total>().labels("model", "t").inc();
    m.get<request_cost_cents>().labels("gpt-4", "t").observe(4.2);
    m.get<model_load_time_seconds>().labels("gpt-4", "api", "auto").observe(0.3);
    m.get<errors_total>().labels("TimeoutError", "gpt-4", "t").inc();
    const std::string text = lm::render(m);

    struct expected {
        std::string name, type, help, first_series;
        std::vector<std::string> buckets;
    };
    const std::vector<expected> table = {
        {"llm_router_http_requests_total", "counter", "Total number of HTTP requests",
         "llm_router_http_requests_total{method=\"GET\",route=\"/chat\",status_code=\"200\",tenant_id=\"t\"}", {}},
        {"llm_router_http_request_duration_seconds", "histogram", "Duration of HTTP requests in seconds",
         "llm_router_http_request_duration_seconds_count{method=\"GET\",route=\"/chat\",tenant_id=\"t\"}",
         {"0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1.0", "2.0", "5.0", "10.0"}},
        {"llm_router_model_inference_total", "counter", "Total number of model inferences",
         "llm_router_model_inference_total{model_id=\"gpt-4\",strategy=\"balanced\",status=\"success\",tenant_id=\"t\"}",
         {}},
        {"llm_router_model_inference_duration_seconds", "histogram", "Duration of model inference in seconds",
         "llm_router_model_inference_duration_seconds_count{model_id=\"gpt-4\",strategy=\"balanced\",tenant_id=\"t\"}",
         {"0.1", "0.5", "1.0", "2.0", "5.0", "10.0", "30.0", "60.0"}},
        {"llm_router_model_inference_tokens", "histogram", "Number of tokens generated per inference",
         "llm_router_model_inference_tokens_count{model_id=\"gpt-4\",strategy=\"balanced\",tenant_id=\"t\"}",
         {"1.0", "10.0", "50.0", "100.0", "200.0", "500.0", "1000.0", "2000.0"}},
        {"llm_router_active_connections", "gauge", "Number of active connections",
         "llm_router_active_connections{tenant_id=\"t\"}", {}},
        {"llm_router_queue_depth", "gauge", "Current queue depth",
         "llm_router_queue_depth{queue_type=\"inference\",tenant_id=\"t\"}", {}},
        {"llm_router_cache_hits_total", "counter", "Total number of cache hits",
         "llm_router_cache_hits_total{cache_type=\"model\",tenant_id=\"t\"}", {}},
        {"llm_router_cache_misses_total", "counter", "Total number of cache misses",
         "llm_router_cache_misses_total{cache_type=\"model\",tenant_id=\"t\"}", {}},
        {"llm_router_request_cost_cents", "histogram", "Cost of requests in cents",
         "llm_router_request_cost_cents_count{model_id=\"gpt-4\",tenant_id=\"t\"}",
         {"0.1", "0.5", "1.0", "2.0", "5.0", "10.0", "20.0", "50.0"}},
        {"llm_router_model_load_time_seconds", "histogram", "Time taken to load models",
         "llm_router_model_load_time_seconds_count{model_id=\"gpt-4\",format=\"api\",loader=\"auto\"}",
         {"0.1", "0.5", "1.0", "2.0", "5.0", "10.0", "30.0", "60.0", "120.0"}},
        {"llm_router_errors_total", "counter", "Total number of errors",
         "llm_router_errors_total{error_type=\"TimeoutError\",model_id=\"gpt-4\",tenant_id=\"t\"}", {}},
    };
    for (const expected& e : table) {
        INFO(e.name);
        CHECK(has_line_starting(text, "# TYPE " + e.name + " " + e.type + "\n"));
        CHECK(has_line_starting(text, "# HELP " + e.name + " " + e.help + "\n"));
        CHECK(sample(text, e.first_series).has_value());
        if (!e.buckets.empty()) {
            const std::string labels = e.first_series.substr(e.first_series.find('{') + 1,
                                                             e.first_series.size() - e.first_series.find('{') - 2);
            for (const std::string& le : e.buckets)
                CHECK(sample(text, e.name + "_bucket{" + labels + ",le=\"" + le + "\"}").has_value());
            CHECK(sample(text, e.name + "_bucket{" + labels + ",le=\"+Inf\"}").has_value());
        }
    }
    // status is a closed set: both values appear once one is used.
    CHECK(sample(text, "llm_router_model_inference_total{model_id=\"gpt-4\",strategy=\"balanced\",status=\"error\","
                       "tenant_id=\"t\"}") == 0);
    // A status outside the set does not get a series of its own.
    m.get<model_inference_total>().labels("gpt-4", "balanced", "weird", "t").inc();
    CHECK(m.get<model_inference_total>().dropped() == 1);
}

TEST_CASE("catalog: a registry with the twelve and extra families", "[instrument]") {
    using extra = lm::counter<"restarts_total", "Restarts">;
    lm::llm_router_registry<extra> m;
    static_assert(decltype(m)::family_count == 13);
    m.get<extra>().labels().inc();
    CHECK(sample(lm::render(m), "llm_router_restarts_total") == 1);
    static_assert(lm::registry_holds_v<decltype(m), lm::catalog::errors_total>);
    static_assert(!lm::registry_holds_v<decltype(m), lm::genai::client_token_usage>);
}

TEST_CASE("genai catalog: OpenTelemetry names, labels and advised buckets", "[instrument]") {
    using namespace lm::genai;
    static_assert(client_operation_duration::name == "gen_ai_client_operation_duration_seconds");
    static_assert(client_token_usage::name == "gen_ai_client_token_usage");
    static_assert(server_time_to_first_token::name == "gen_ai_server_time_to_first_token_seconds");
    static_assert(server_time_per_output_token::name == "gen_ai_server_time_per_output_token_seconds");
    static_assert(client_operation_duration::label_names::names ==
                  std::array<std::string_view, 4>{"gen_ai_operation_name", "gen_ai_provider_name",
                                                  "gen_ai_request_model", "error_type"});
    static_assert(client_token_usage::label_names::names ==
                  std::array<std::string_view, 4>{"gen_ai_operation_name", "gen_ai_provider_name",
                                                  "gen_ai_request_model", "gen_ai_token_type"});
    static_assert(client_operation_duration::bounds ==
                  std::array<double, 14>{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                                         40.96, 81.92});
    static_assert(client_token_usage::bounds ==
                  std::array<double, 14>{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
                                         16777216, 67108864});
    static_assert(server_time_to_first_token::bounds ==
                  std::array<double, 16>{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5,
                                         5.0, 7.5, 10.0});
    static_assert(server_time_per_output_token::bounds ==
                  std::array<double, 13>{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5});
    static_assert(lm::genai_registry::prefix().empty());
    for (std::string_view name : lm::genai_registry::names) CHECK(name.find(':') == std::string_view::npos);

    lm::genai_registry g;
    g.get<client_token_usage>().labels("chat", "openai", "gpt-4", "input").observe(5);
    const std::string om = lm::render(g, lm::format::openmetrics);
    CHECK(om.find("# UNIT gen_ai_client_operation_duration_seconds seconds") != std::string::npos);
    CHECK(sample(om, "gen_ai_client_token_usage_count{gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"openai\","
                     "gen_ai_request_model=\"gpt-4\",gen_ai_token_type=\"output\"}") == 0);
}

TEST_CASE("genai catalog: both generations of the conventions, named as Prometheus renders them", "[instrument]") {
    namespace next = lm::genai::latest;
    static_assert(lm::genai::client_operation_time_to_first_chunk::name ==
                  "gen_ai_client_operation_time_to_first_chunk_seconds");
    static_assert(lm::genai::client_operation_time_per_output_chunk::name ==
                  "gen_ai_client_operation_time_per_output_chunk_seconds");
    static_assert(lm::genai::server_request_duration::name == "gen_ai_server_request_duration_seconds");
    static_assert(next::client_inference_duration::name == "gen_ai_client_inference_duration_seconds");
    static_assert(next::client_inference_time_to_first_chunk::name ==
                  "gen_ai_client_inference_time_to_first_chunk_seconds");
    static_assert(next::client_inference_time_per_output_chunk::name ==
                  "gen_ai_client_inference_time_per_output_chunk_seconds");
    static_assert(next::client_inference_usage_input_tokens::name == "gen_ai_client_inference_usage_input_tokens_total");
    static_assert(next::client_inference_usage_output_tokens::type == lm::metric_type::counter);
    static_assert(next::client_inference_operation_output_tokens::name ==
                  "gen_ai_client_inference_operation_output_tokens");
    static_assert(next::client_inference_operation_input_tokens::bounds == lm::genai::client_token_usage::bounds);
    static_assert(next::client_inference_time_to_first_chunk::bounds == lm::genai::client_operation_duration::bounds);
    static_assert(next::client_inference_duration::label_names::names ==
                  lm::genai::client_operation_duration::label_names::names);

    // Which registry holds what: 1.41 is the default, the draft keeps the server metrics.
    static_assert(std::is_same_v<lm::genai_registry_for<lm::genai_semconv::v1_41>, lm::genai_registry>);
    using latest = lm::genai_registry_for<lm::genai_semconv::latest>;
    using both = lm::genai_registry_for<lm::genai_semconv::both>;
    static_assert(lm::registry_holds_v<latest, next::client_inference_duration>);
    static_assert(lm::registry_holds_v<latest, lm::genai::server_time_to_first_token>);
    static_assert(!lm::registry_holds_v<latest, lm::genai::client_operation_duration>);
    static_assert(!lm::registry_holds_v<latest, lm::genai::client_token_usage>);
    static_assert(!lm::registry_holds_v<lm::genai_registry, next::client_inference_duration>);
    static_assert(lm::registry_holds_v<both, lm::genai::client_operation_duration>);
    static_assert(lm::registry_holds_v<both, next::client_inference_usage_output_tokens>);
    static_assert(both::family_count == lm::genai_registry::family_count + next::client_families::size);
    for (std::string_view name : both::names) CHECK(name.find(':') == std::string_view::npos);

    latest l;
    l.get<next::client_inference_usage_input_tokens>().labels("chat", "openai", "gpt-4").inc(3);
    const std::string om = lm::render(l, lm::format::openmetrics);
    CHECK(om.find("# TYPE gen_ai_client_inference_usage_input_tokens counter") != std::string::npos);
    CHECK(sample(om, "gen_ai_client_inference_usage_input_tokens_total{gen_ai_operation_name=\"chat\","
                     "gen_ai_provider_name=\"openai\",gen_ai_request_model=\"gpt-4\"}") == 3);
    CHECK(om.find("# UNIT gen_ai_client_inference_time_to_first_chunk_seconds seconds") != std::string::npos);
}

TEST_CASE("genai catalog: the generation is chosen as OTEL_SEMCONV_STABILITY_OPT_IN says", "[instrument]") {
    using G = lm::genai_semconv;
    static_assert(lm::genai_semconv_from_opt_in("gen_ai_latest_experimental") == G::latest);
    CHECK(lm::genai_semconv_from_opt_in(static_cast<const char*>(nullptr)) == G::v1_41);
    CHECK(lm::genai_semconv_from_opt_in("") == G::v1_41);
    CHECK(lm::genai_semconv_from_opt_in("http,database") == G::v1_41);
    CHECK(lm::genai_semconv_from_opt_in("gen_ai_latest_experimentalX") == G::v1_41);
    CHECK(lm::genai_semconv_from_opt_in("GEN_AI_LATEST_EXPERIMENTAL") == G::v1_41);  // values are case-sensitive
    CHECK(lm::genai_semconv_from_opt_in("http, gen_ai_latest_experimental ,database") == G::latest);
    CHECK(lm::genai_semconv_from_opt_in("gen_ai_latest_experimental/dup") == G::both);
    CHECK(lm::genai_semconv_from_opt_in("gen_ai_latest_experimental,gen_ai_latest_experimental/dup") == G::both);
    CHECK(lm::genai_semconv_from_opt_in(",,") == G::v1_41);
}

// --- monitored_router: the tutorial's recording ---------------------------------

TEST_CASE("monitored_router: a successful call records what the tutorial records", "[instrument]") {
    fake_clock clock;
    fake_router engine{.clock = &clock};
    lm::catalog_registry metrics;
    lm::monitored_router router{engine, metrics};
    static_assert(std::is_same_v<decltype(router), lm::monitored_router<fake_router&, lm::catalog_registry>>);
    static_assert(lm::llm_router<decltype(router)>);  // a decorator is a router too
    router.set_time_source(lm::time_source::of(clock));

    router.initialize();
    CHECK(engine.initialized == 1);
    const lm::inference_result r = router.process("Hello", {.model = "gpt-4", .tenant_id = "tenant-a"});
    CHECK(r.text == "Hello");
    CHECK(engine.calls == 1);

    const std::string text = lm::render(metrics);
    const std::string mst = "model_id=\"gpt-4\",strategy=\"balanced\"";
    CHECK(sample(text, "llm_router_model_inference_total{" + mst + ",status=\"success\",tenant_id=\"tenant-a\"}") == 1);
    CHECK(sample(text, "llm_router_model_inference_total{" + mst + ",status=\"error\",tenant_id=\"tenant-a\"}") == 0);
    CHECK(sample(text, "llm_router_model_inference_duration_seconds_sum{" + mst + ",tenant_id=\"tenant-a\"}") ==
          Approx(1.5));
    CHECK(sample(text, "llm_router_model_inference_duration_seconds_bucket{" + mst +
                           ",tenant_id=\"tenant-a\",le=\"1.0\"}") == 0);
    CHECK(sample(text, "llm_router_model_inference_duration_seconds_bucket{" + mst +
                           ",tenant_id=\"tenant-a\",le=\"2.0\"}") == 1);
    CHECK(sample(text, "llm_router_model_inference_tokens_sum{" + mst + ",tenant_id=\"tenant-a\"}") == 120);
    CHECK(sample(text, "llm_router_request_cost_cents_sum{model_id=\"gpt-4\",tenant_id=\"tenant-a\"}") ==
          Approx(4.2));
    CHECK(text.find("llm_router_errors_total{") == std::string::npos);
}

TEST_CASE("monitored_router: defaults, absent tokens and absent cost", "[instrument]") {
    fake_router engine;
    engine.input_tokens.reset();
    engine.output_tokens.reset();
    engine.total_tokens.reset();
    engine.cost.reset();
    lm::catalog_registry metrics;
    lm::monitored_router router{engine, metrics};
    router.process("Hello");  // no options at all

    const std::string text = lm::render(metrics);
    const std::string labels = "model_id=\"default\",strategy=\"balanced\",tenant_id=\"unknown\"";
    CHECK(sample(text, "llm_router_model_inference_tokens_count{" + labels + "}") == 1);
    CHECK(sample(text, "llm_router_model_inference_tokens_sum{" + labels + "}") == 0);  // 0 when absent
    CHECK(text.find("llm_router_request_cost_cents_count{") == std::string::npos);     // no cost, no observation

    // Total falls back to input + output when only those are reported.
    engine.input_tokens = 7;
    engine.output_tokens = 8;
    router.process("Hello", {.model = "m2"});
    CHECK(sample(lm::render(metrics), "llm_router_model_inference_tokens_sum{model_id=\"m2\",strategy=\"balanced\","
                                      "tenant_id=\"unknown\"}") == 15);

    // Defaults can be changed.
    router.set_defaults({.model = "fallback", .strategy = "fast", .tenant_id = "anonymous"});
    router.process("Hello");
    CHECK(sample(lm::render(metrics), "llm_router_model_inference_total{model_id=\"fallback\",strategy=\"fast\","
                                      "status=\"success\",tenant_id=\"anonymous\"}") == 1);
}

TEST_CASE("monitored_router: a failing call records the error and rethrows the same exception", "[instrument]") {
    fake_clock clock;
    fake_router engine{.clock = &clock, .fail_with = 17};
    lm::catalog_registry metrics;
    lm::monitored_router router{engine, metrics};
    router.set_time_source(lm::time_source::of(clock));

    int seen_id = 0;
    try {
        router.process("Hello", {.model = "gpt-4", .tenant_id = "tenant-b", .strategy = "quality"});
        FAIL("process() did not throw");
    } catch (const acme::QuotaExceeded& e) {  // the very type, with its state
        seen_id = e.id;
    }
    CHECK(seen_id == 17);
    CHECK_THROWS_AS(router.process("Hello", {.model = "gpt-4", .tenant_id = "tenant-b", .strategy = "quality"}),
                    acme::QuotaExceeded);

    const std::string text = lm::render(metrics);
    CHECK(sample(text, "llm_router_errors_total{error_type=\"QuotaExceeded\",model_id=\"gpt-4\",tenant_id=\"tenant-b\"}") ==
          2);
    CHECK(sample(text, "llm_router_model_inference_total{model_id=\"gpt-4\",strategy=\"quality\",status=\"error\","
                       "tenant_id=\"tenant-b\"}") == 2);
    CHECK(sample(text, "llm_router_model_inference_total{model_id=\"gpt-4\",strategy=\"quality\",status=\"success\","
                       "tenant_id=\"tenant-b\"}") == 0);
    // Like the tutorial, a failure observes no duration, tokens or cost.
    CHECK(text.find("llm_router_model_inference_duration_seconds_count{") == std::string::npos);
    CHECK(text.find("llm_router_request_cost_cents_count{") == std::string::npos);
}

TEST_CASE("monitored_router: register_model records load time, and ModelLoadError on failure", "[instrument]") {
    fake_clock clock;
    fake_router engine{.clock = &clock};
    lm::catalog_registry metrics;
    lm::monitored_router router{engine, metrics};
    router.set_time_source(lm::time_source::of(clock));

    router.register_model({.id = "llama", .format = "gguf"});
    router.register_model({.id = "gpt-4", .format = "api", .loader = "openai"});
    CHECK_THROWS_AS(router.register_model({.id = "broken", .format = "onnx"}), std::runtime_error);
    CHECK(engine.models == std::vector<std::string>{"llama", "gpt-4"});

    const std::string text = lm::render(metrics);
    CHECK(sample(text, "llm_router_model_load_time_seconds_sum{model_id=\"llama\",format=\"gguf\",loader=\"auto\"}") ==
          Approx(3.0));
    CHECK(sample(text, "llm_router_model_load_time_seconds_count{model_id=\"gpt-4\",format=\"api\",loader=\"openai\"}") ==
          1);
    CHECK(sample(text, "llm_router_errors_total{error_type=\"ModelLoadError\",model_id=\"broken\",tenant_id=\"unknown\"}") ==
          1);
    CHECK(text.find("model_id=\"broken\",format") == std::string::npos);  // no load time for a failed load
}

TEST_CASE("monitored_router: holds a router by reference, value or pointer", "[instrument]") {
    lm::catalog_registry metrics;
    const auto count = [&](std::string_view model) {
        return sample(lm::render(metrics), "llm_router_model_inference_total{model_id=\"" + std::string(model) +
                                               "\",strategy=\"balanced\",status=\"success\",tenant_id=\"unknown\"}")
            .value_or(-1);
    };

    fake_router by_ref;
    lm::monitored_router r1{by_ref, metrics};
    r1.process("x", {.model = "ref"});
    CHECK(by_ref.calls == 1);

    lm::monitored_router r2{fake_router{}, metrics};
    static_assert(std::is_same_v<decltype(r2), lm::monitored_router<fake_router, lm::catalog_registry>>);
    r2.process("x", {.model = "value"});
    CHECK(r2.router().calls == 1);

    fake_router wrapped;
    lm::monitored_router r3{std::ref(wrapped), metrics};
    static_assert(std::is_same_v<decltype(r3)::router_type, fake_router>);
    r3.process("x", {.model = "refwrap"});
    CHECK(wrapped.calls == 1);

    lm::monitored_router r4{std::make_unique<fake_router>(), metrics};
    r4.process("x", {.model = "unique"});
    CHECK(r4.router().calls == 1);

    auto shared = std::make_shared<fake_router>();
    lm::monitored_router r5{shared, metrics};
    static_assert(std::is_same_v<decltype(r5), lm::monitored_router<std::shared_ptr<fake_router>, lm::catalog_registry>>);
    r5.process("x", {.model = "shared"});
    CHECK(shared->calls == 1);
    CHECK(shared.use_count() == 2);

    fake_router raw;
    lm::monitored_router r6{&raw, metrics};
    r6.process("x", {.model = "raw"});
    CHECK(raw.calls == 1);

    for (std::string_view m : {"ref", "value", "refwrap", "unique", "shared", "raw"}) CHECK(count(m) == 1);

    // A decorator moves with its caches intact.
    lm::monitored_router moved = std::move(r2);
    moved.process("x", {.model = "value"});
    CHECK(count("value") == 2);
}

TEST_CASE("monitored_router: families declared by hand under the tutorial's names", "[instrument]") {
    // Families spelled out by hand: full names in an unprefixed registry, no value_set on status.
    using http_requests_total = lm::counter<"llm_router_http_requests_total", "Total number of HTTP requests",
                                            lm::labels<"method", "route", "status_code", "tenant_id">>;
    using inference_seconds =
        lm::histogram<"llm_router_model_inference_duration_seconds", "Duration of model inference in seconds",
                      lm::labels<"model_id", "strategy", "tenant_id">, lm::buckets<0.1, 0.5, 1, 2, 5, 10, 30, 60>>;
    using inferences_total = lm::counter<"llm_router_model_inference_total", "Inferences",
                                         lm::labels<"model_id", "strategy", "status", "tenant_id">>;
    using unrelated_total = lm::counter<"errors_total", "Same name, other labels", lm::labels<"kind">>;
    static_assert(std::is_same_v<lm::registry_role_t<lm::registry<inferences_total>, lm::catalog::model_inference_total>,
                                 inferences_total>);
    static_assert(!lm::registry_has_role_v<lm::registry<unrelated_total>, lm::catalog::errors_total>);

    lm::registry<http_requests_total, inference_seconds, inferences_total, unrelated_total> metrics;
    fake_router my_router;
    lm::monitored_router router{my_router, metrics};
    auto result = router.process("Hello", {.model = "gpt-4", .tenant_id = "tenant-a"});
    CHECK(result.text == "Hello");
    my_router.fail_with = 1;
    CHECK_THROWS_AS(router.process("Hello", {.model = "gpt-4", .tenant_id = "tenant-a"}), acme::QuotaExceeded);
    lm::http_request_timer timer{metrics};
    timer.finish("GET", "/chat", 200, "tenant-a");

    const std::string text = lm::render(metrics);
    CHECK(sample(text, "llm_router_model_inference_duration_seconds_count{model_id=\"gpt-4\",strategy=\"balanced\","
                       "tenant_id=\"tenant-a\"}") == 1);
    CHECK(sample(text, "llm_router_model_inference_total{model_id=\"gpt-4\",strategy=\"balanced\",status=\"success\","
                       "tenant_id=\"tenant-a\"}") == 1);
    CHECK(sample(text, "llm_router_model_inference_total{model_id=\"gpt-4\",strategy=\"balanced\",status=\"error\","
                       "tenant_id=\"tenant-a\"}") == 1);
    CHECK(sample(text, "llm_router_http_requests_total{method=\"GET\",route=\"/chat\",status_code=\"200\","
                       "tenant_id=\"tenant-a\"}") == 1);
    CHECK(text.find("errors_total{kind") == std::string::npos);  // not taken for catalog::errors_total
}

// --- adapting a router that knows nothing of llmetrics ------------------------------

namespace legacy {
struct Params {
    std::string modelName;
    std::string customer;
};
struct Reply {
    std::string text;
    int prompt_len = 0;
    int completion_len = 0;
    double usd = 0;
};
struct ServiceUnavailable : std::exception {};
struct Engine {
    int generated = 0;
    Reply Generate(const std::string& prompt, const Params&) {
        if (prompt == "down") throw ServiceUnavailable{};
        ++generated;
        return {prompt, 11, 22, 0.5};
    }
    std::vector<std::string> loaded;
    void Load(const std::string& name) { loaded.push_back(name); }
};

// A second foreign result type, adapted by an ADL function instead of a trait.
struct Completion {
    unsigned n_in = 0, n_out = 0;
};
inline lm::usage llmetrics_usage(const Completion& c) {
    return {.input_tokens = c.n_in, .output_tokens = c.n_out};
}
struct CompletionRouter {
    Completion process(std::string_view, const lm::request_options&) { return {3, 4}; }
    void register_model(const lm::model_config&) {}
};
}  // namespace legacy

template <>
struct llmetrics::router_traits<legacy::Engine> : llmetrics::default_router_traits<legacy::Engine> {
    using options_type = legacy::Params;
    static legacy::Reply process(legacy::Engine& e, std::string_view prompt, const legacy::Params& p) {
        return e.Generate(std::string(prompt), p);
    }
    static void register_model(legacy::Engine& e, const llmetrics::model_config& c) { e.Load(c.id); }
    static std::string_view error_type() {  // the router's own error vocabulary
        try {
            throw;
        } catch (const legacy::ServiceUnavailable&) {
            return "unavailable";
        } catch (...) {
            return llmetrics::current_error_type_name();
        }
    }
};
template <>
struct llmetrics::options_traits<legacy::Params> {
    static llmetrics::request_labels read(const legacy::Params& p) noexcept {
        return {.model = p.modelName, .tenant_id = p.customer};
    }
};
template <>
struct llmetrics::result_traits<legacy::Reply> {
    static llmetrics::usage read(const legacy::Reply& r) noexcept {
        return {.input_tokens = r.prompt_len, .output_tokens = r.completion_len, .cost = r.usd};
    }
};

static_assert(lm::llm_router<legacy::Engine>);
static_assert(lm::llm_router<legacy::CompletionRouter>);

TEST_CASE("monitored_router: a foreign router adapted through the customization points", "[instrument]") {
    legacy::Engine engine;
    lm::catalog_registry metrics;
    lm::monitored_router router{engine, metrics};
    static_assert(std::is_same_v<decltype(router)::options_type, legacy::Params>);

    const legacy::Reply reply = router.process("Hello", legacy::Params{"claude", "acme"});
    CHECK(reply.text == "Hello");
    CHECK_THROWS_AS(router.process("down", legacy::Params{"claude", "acme"}), legacy::ServiceUnavailable);
    router.register_model({.id = "claude", .format = "api"});
    CHECK(engine.loaded == std::vector<std::string>{"claude"});

    const std::string text = lm::render(metrics);
    const std::string labels = "model_id=\"claude\",strategy=\"balanced\",tenant_id=\"acme\"";
    CHECK(sample(text, "llm_router_model_inference_tokens_sum{" + labels + "}") == 33);
    CHECK(sample(text, "llm_router_request_cost_cents_sum{model_id=\"claude\",tenant_id=\"acme\"}") == Approx(50));
    CHECK(sample(text, "llm_router_errors_total{error_type=\"unavailable\",model_id=\"claude\",tenant_id=\"acme\"}") ==
          1);

    legacy::CompletionRouter other;
    lm::monitored_router router2{other, metrics};
    router2.process("x", {.model = "adl"});
    CHECK(sample(lm::render(metrics), "llm_router_model_inference_tokens_sum{model_id=\"adl\",strategy=\"balanced\","
                                      "tenant_id=\"unknown\"}") == 7);
}

TEST_CASE("result and options readers: member names and optionals", "[instrument]") {
    struct openai_like {
        struct {
            int prompt_tokens = 5;
            int completion_tokens = 6;
            int total_tokens = 11;
        } usage;
    };
    const lm::usage u = lm::read_usage(openai_like{});
    CHECK(u.input_tokens == 5);
    CHECK(u.output_tokens == 6);
    CHECK(u.total_tokens == 11);
    CHECK(!u.cost);

    struct flat {
        std::optional<long> output_tokens;
        float cost = 0.25f;
    };
    const lm::usage f = lm::read_usage(flat{});
    CHECK(!f.output_tokens);
    CHECK(f.cost == 0.25);
    CHECK(!f.total());

    struct node_style {
        std::string modelId = "m";
        std::optional<std::string> tenantId = "t";
        const char* strategy = nullptr;
    };
    const node_style options;
    const lm::request_labels l = lm::read_request_labels(options);  // views into `options`
    CHECK(l.model == "m");
    CHECK(l.tenant_id == "t");
    CHECK(l.strategy.empty());
}

// --- streaming ---------------------------------------------------------------------------

namespace {
struct streaming_router : fake_router {
    int chunks = 5;
    // Calls on_chunk for each token; the final result carries the usage.
    template <class OnChunk>
    lm::inference_result process_stream(std::string_view prompt, const lm::request_options& options, OnChunk&& on_chunk) {
        clock->advance(0.2);  // time to the first token
        for (int i = 0; i < chunks; ++i) {
            if (i) clock->advance(0.05);
            on_chunk(std::string_view("tok"));
            if (fail_with && i == 2) throw acme::QuotaExceeded(fail_with);
        }
        lm::inference_result r;
        r.text = std::string(prompt);
        r.metrics.input_tokens = 9;
        (void)options;
        return r;
    }
};
static_assert(lm::streaming_llm_router<streaming_router>);
}  // namespace

TEST_CASE("monitored_router: streaming records time to first token and per output token", "[instrument]") {
    fake_clock clock;
    streaming_router engine;
    engine.clock = &clock;
    lm::llm_router_streaming_registry metrics;
    lm::genai_registry genai;
    lm::monitored_router router{engine, metrics, genai};
    router.set_time_source(lm::time_source::of(clock));

    std::vector<std::string> seen;
    const lm::inference_result r =
        router.process_stream("Hi", {.model = "gpt-4", .tenant_id = "t", .provider = "openai"},
                              [&](std::string_view token) { seen.emplace_back(token); });
    CHECK(r.text == "Hi");
    CHECK(seen.size() == 5);

    const std::string text = lm::render(metrics);
    const std::string labels = "model_id=\"gpt-4\",strategy=\"balanced\",tenant_id=\"t\"";
    CHECK(sample(text, "llm_router_time_to_first_token_seconds_sum{" + labels + "}") == Approx(0.2));
    CHECK(sample(text, "llm_router_time_per_output_token_seconds_sum{" + labels + "}") == Approx(0.05));
    CHECK(sample(text, "llm_router_model_inference_duration_seconds_sum{" + labels + "}") == Approx(0.4));
    CHECK(sample(text, "llm_router_tokens_total{model_id=\"gpt-4\",tenant_id=\"t\",token_type=\"input\"}") == 9);
    CHECK(sample(text, "llm_router_tokens_total{model_id=\"gpt-4\",tenant_id=\"t\",token_type=\"output\"}") == 5);
    CHECK(sample(text, "llm_router_model_inference_tokens_sum{" + labels + "}") == 14);

    const std::string g = lm::render(genai);
    const std::string gl = "gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"openai\",gen_ai_request_model=\"gpt-4\"";
    CHECK(sample(g, "gen_ai_server_time_to_first_token_seconds_sum{" + gl + "}") == Approx(0.2));
    CHECK(sample(g, "gen_ai_server_time_per_output_token_seconds_sum{" + gl + "}") == Approx(0.05));
    CHECK(sample(g, "gen_ai_client_operation_duration_seconds_sum{" + gl + ",error_type=\"\"}") == Approx(0.4));
    CHECK(sample(g, "gen_ai_client_token_usage_sum{" + gl + ",gen_ai_token_type=\"input\"}") == 9);
    CHECK(sample(g, "gen_ai_client_token_usage_sum{" + gl + ",gen_ai_token_type=\"output\"}") == 5);

    // A stream failing half-way is an error, rethrown unchanged; no TTFT is recorded for it.
    engine.fail_with = 3;
    CHECK_THROWS_AS(router.process_stream("Hi", {.model = "gpt-4", .tenant_id = "t", .provider = "openai"},
                                          [](std::string_view) {}),
                    acme::QuotaExceeded);
    const std::string after = lm::render(metrics);
    CHECK(sample(after, "llm_router_errors_total{error_type=\"QuotaExceeded\",model_id=\"gpt-4\",tenant_id=\"t\"}") == 1);
    CHECK(sample(after, "llm_router_time_to_first_token_seconds_count{" + labels + "}") == 1);
    CHECK(sample(lm::render(genai), "gen_ai_client_operation_duration_seconds_count{" + gl +
                                        ",error_type=\"QuotaExceeded\"}") == 1);
}

TEST_CASE("monitored_router: both GenAI generations, chunk by chunk", "[instrument]") {
    namespace next = lm::genai::latest;
    fake_clock clock;
    streaming_router engine;
    engine.clock = &clock;
    lm::genai_dup_registry genai;
    lm::monitored_router router{engine, genai};
    router.set_time_source(lm::time_source::of(clock));
    const lm::request_options options{.model = "gpt-4", .tenant_id = "t", .provider = "openai"};
    router.process_stream("Hi", options, [](std::string_view) {});  // 0.2 s, then 4 chunks 0.05 s apart
    router.process("Hi", options);                                   // not streamed: no chunk metrics
    engine.fail_with = 3;
    CHECK_THROWS(router.process_stream("Hi", options, [](std::string_view) {}));  // fails after 3 chunks

    const std::string g = lm::render(genai);
    const std::string gl = "gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"openai\",gen_ai_request_model=\"gpt-4\"";
    // Chunks are recorded as they arrive, the failed stream's too (its outcome is not known yet).
    for (const char* name : {"gen_ai_client_operation_time_to_first_chunk_seconds",
                             "gen_ai_client_inference_time_to_first_chunk_seconds"}) {
        CHECK(sample(g, std::string(name) + "_count{" + gl + "}") == 2);
        CHECK(sample(g, std::string(name) + "_sum{" + gl + "}") == Approx(0.4));
    }
    for (const char* name : {"gen_ai_client_operation_time_per_output_chunk_seconds",
                             "gen_ai_client_inference_time_per_output_chunk_seconds"}) {
        CHECK(sample(g, std::string(name) + "_count{" + gl + "}") == 4 + 2);
        CHECK(sample(g, std::string(name) + "_sum{" + gl + "}") == Approx(0.05 * 6));
        CHECK(sample(g, std::string(name) + "_bucket{" + gl + ",le=\"0.04\"}") == 0);
        CHECK(sample(g, std::string(name) + "_bucket{" + gl + ",le=\"0.08\"}") == 6);
    }
    // Durations: both generations count every call, the failure under its error type.
    for (const char* name : {"gen_ai_client_operation_duration_seconds", "gen_ai_client_inference_duration_seconds",
                             "gen_ai_server_request_duration_seconds"}) {
        CHECK(sample(g, std::string(name) + "_count{" + gl + ",error_type=\"\"}") == 2);
        CHECK(sample(g, std::string(name) + "_count{" + gl + ",error_type=\"QuotaExceeded\"}") == 1);
    }
    // Tokens: a histogram by type in 1.41, counters and per-operation histograms in the draft.
    CHECK(sample(g, "gen_ai_client_token_usage_sum{" + gl + ",gen_ai_token_type=\"input\"}") == 9 + 20);
    CHECK(sample(g, "gen_ai_client_inference_usage_input_tokens_total{" + gl + "}") == 9 + 20);
    CHECK(sample(g, "gen_ai_client_inference_usage_output_tokens_total{" + gl + "}") == 5 + 100);
    CHECK(sample(g, "gen_ai_client_inference_operation_output_tokens_count{" + gl + "}") == 2);
    CHECK(sample(g, "gen_ai_client_inference_operation_output_tokens_sum{" + gl + "}") == 5 + 100);
    (void)genai.get<next::client_inference_duration>();
}

TEST_CASE("monitored_router: the GenAI draft's token counters record the parts a result reports", "[instrument]") {
    fake_clock clock;
    fake_router engine{.clock = &clock};
    lm::genai_latest_registry genai;
    lm::monitored_router router{engine, genai};
    router.set_time_source(lm::time_source::of(clock));
    const lm::request_options options{.model = "m", .provider = "anthropic"};
    {
        auto call = router.start(options);
        call.succeed(lm::usage{.input_tokens = 10, .output_tokens = 5, .cached_input_tokens = 4,
                               .reasoning_output_tokens = 2, .cache_write_input_tokens = 3});
    }
    {
        auto call = router.start(options);
        call.succeed(lm::usage{.input_tokens = 7, .output_tokens = 1});  // no parts reported
    }
    struct anthropic_usage {  // Anthropic's field names
        std::uint64_t input_tokens = 1, output_tokens = 1, cache_read_input_tokens = 6, cache_creation_input_tokens = 8;
    };
    {
        auto call = router.start(options);
        call.succeed(anthropic_usage{});
    }
    const std::string g = lm::render(genai);
    const std::string gl = "{gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"anthropic\",gen_ai_request_model=\"m\"}";
    CHECK(sample(g, "gen_ai_client_inference_usage_input_tokens_total" + gl) == 18);
    CHECK(sample(g, "gen_ai_client_inference_usage_output_tokens_total" + gl) == 7);
    CHECK(sample(g, "gen_ai_client_inference_usage_cache_read_input_tokens_total" + gl) == 4 + 6);
    CHECK(sample(g, "gen_ai_client_inference_usage_cache_write_input_tokens_total" + gl) == 3 + 8);
    CHECK(sample(g, "gen_ai_client_inference_usage_reasoning_output_tokens_total" + gl) == 2);
    CHECK(sample(g, "gen_ai_client_inference_operation_input_tokens_count" + gl) == 3);

    // Nothing reported: no series, never a fake 0.
    lm::genai_latest_registry quiet;
    lm::monitored_router other{engine, quiet};
    {
        auto call = other.start(options);
        call.succeed(lm::usage{.input_tokens = 7});
    }
    const std::string q = lm::render(quiet);
    CHECK(sample(q, "gen_ai_client_inference_usage_input_tokens_total" + gl) == 7);
    CHECK(!sample(q, "gen_ai_client_inference_usage_output_tokens_total" + gl));
    CHECK(!sample(q, "gen_ai_client_inference_usage_reasoning_output_tokens_total" + gl));
}

namespace {
struct expiring_inference_total : lm::counter<
    "llm_router_model_inference_total", "Total number of model inferences",
    lm::labels<"model_id", "strategy", "status", "tenant_id">, lm::value_set<"status", "success", "error">,
    lm::series_ttl<60>> {};
struct expiring_errors_total : lm::counter<
    "llm_router_errors_total", "Total number of errors", lm::labels<"error_type", "model_id", "tenant_id">,
    lm::series_ttl<60>> {};
using expiring_registry = lm::registry<expiring_inference_total, expiring_errors_total>;
}  // namespace

TEST_CASE("monitored_router: families with series_ttl play the catalog's roles", "[instrument][ttl]") {
    static_assert(std::is_same_v<lm::registry_role_t<expiring_registry, lm::catalog::model_inference_total>,
                                 expiring_inference_total>);
    fake_clock clock;
    fake_router engine{.clock = &clock};
    lm::manual_clock wall;
    expiring_registry metrics;
    metrics.set_time_source(lm::time_source::of(wall));
    lm::monitored_router router{engine, metrics};
    router.set_time_source(lm::time_source::of(clock));

    const std::string ok_t1 = "llm_router_model_inference_total{model_id=\"m\",strategy=\"balanced\",status=\"success\","
                              "tenant_id=\"t1\"}";
    const std::string err_t2 = "llm_router_errors_total{error_type=\"QuotaExceeded\",model_id=\"m\",tenant_id=\"t2\"}";
    router.process("Hi", {.model = "m", .tenant_id = "t1"});  // cached row: the label cache holds the series
    engine.fail_with = 1;
    CHECK_THROWS(router.process("Hi", {.model = "m", .tenant_id = "t2"}));  // error_type is per call: not cached
    CHECK(sample(lm::render(metrics), ok_t1) == 1);
    CHECK(sample(lm::render(metrics), err_t2) == 1);

    // Nothing written for two minutes: both leave the exposition.
    wall.advance(std::chrono::seconds(120));
    CHECK(metrics.expire_series() >= 2);
    const std::string quiet = lm::render(metrics);
    CHECK(!sample(quiet, ok_t1));
    CHECK(!sample(quiet, err_t2));

    // Written again: both come back from zero (the held one's values were taken out when it expired).
    engine.fail_with = 0;
    router.process("Hi", {.model = "m", .tenant_id = "t1"});
    engine.fail_with = 1;
    CHECK_THROWS(router.process("Hi", {.model = "m", .tenant_id = "t2"}));
    const std::string back = lm::render(metrics);
    CHECK(sample(back, ok_t1) == 1);
    CHECK(sample(back, err_t2) == 1);
}

TEST_CASE("monitored_router: a registry without the chunk families records nothing per chunk", "[instrument]") {
    using recorder = lm::detail::call_recorder<lm::router_traits<streaming_router>, lm::genai_registry>;
    using tutorial = lm::detail::call_recorder<lm::router_traits<streaming_router>, lm::llm_router_streaming_registry>;
    static_assert(recorder::records_chunks);
    static_assert(!tutorial::records_chunks);
    static_assert(!lm::detail::router_roles::records_event<lm::detail::call_event::first_chunk, lm::genai_native_registry>);
}

namespace {
// Streams until the callback says the client is gone; throws client_disconnected
// when told to before the first chunk (the client left while it "thought").
struct cancellable_router : fake_router {
    bool gone_before_first = false;
    int produced = 0;
    template <class OnChunk>
    lm::inference_result process_stream(std::string_view, const lm::request_options&, OnChunk&& on_chunk) {
        clock->advance(0.2);
        if (gone_before_first) throw lm::client_disconnected();
        for (int i = 0; i < 10; ++i) {
            clock->advance(0.05);
            ++produced;
            if (!on_chunk(std::string_view("tok"))) break;  // stop the upstream work
        }
        return {};
    }
};
}  // namespace

TEST_CASE("monitored_router: clients that go away are counted by stage, not as errors", "[instrument]") {
    fake_clock clock;
    cancellable_router engine;
    engine.clock = &clock;
    lm::llm_router_registry<lm::catalog::streaming::time_to_first_token_seconds,
                            lm::catalog::streaming::client_cancellations_total,
                            lm::catalog::gateway::requests_in_flight>
        metrics;
    lm::monitored_router router{engine, metrics};
    router.set_time_source(lm::time_source::of(clock));
    const lm::request_options call{.model = "gpt-4", .tenant_id = "t"};

    int delivered = 0;
    router.process_stream("Hi", call, [&](std::string_view) { return ++delivered < 3; });  // the third push fails
    CHECK(engine.produced == 3);
    engine.gone_before_first = true;
    CHECK_THROWS_AS(router.process_stream("Hi", call, [](std::string_view) { return true; }), lm::client_disconnected);
    router.record_cancellation(call, lm::cancellation_stage::queued);

    const std::string text = lm::render(metrics);
    const auto stage = [&](std::string_view s) {
        return sample(text, "llm_router_client_cancellations_total{model_id=\"gpt-4\",tenant_id=\"t\",stage=\"" +
                                std::string(s) + "\"}");
    };
    CHECK(stage("mid_stream") == 1);
    CHECK(stage("before_first_token") == 1);
    CHECK(stage("queued") == 1);
    CHECK(text.find("llm_router_errors_total{") == std::string::npos);
    CHECK(text.find("llm_router_model_inference_total{") == std::string::npos);
    CHECK(text.find("llm_router_time_to_first_token_seconds_count{") == std::string::npos);
    // The two started calls ended: in flight is back to 0 (the queued one never counted).
    CHECK(sample(text, "llm_router_requests_in_flight{model_id=\"gpt-4\"}") == 0);
}

TEST_CASE("monitored_router: native twins of the catalog histograms are recorded in their roles", "[instrument][native]") {
    fake_clock clock;
    streaming_router engine;
    engine.clock = &clock;
    lm::llm_router_native_registry metrics;
    lm::genai_native_registry genai;
    static_assert(std::is_same_v<lm::registry_role_t<lm::llm_router_native_registry,
                                                     lm::catalog::model_inference_duration_seconds>,
                                 lm::catalog::native::model_inference_duration_seconds>);
    lm::monitored_router router{engine, metrics, genai};
    router.set_time_source(lm::time_source::of(clock));
    for (int i = 0; i < 3; ++i)
        router.process_stream("Hi", {.model = "gpt-4", .tenant_id = "t", .provider = "openai"}, [](std::string_view) {});

    // Text shows a native-only family as +Inf bucket, _sum and _count.
    const std::string text = lm::render(metrics);
    const std::string labels = "model_id=\"gpt-4\",strategy=\"balanced\",tenant_id=\"t\"";
    CHECK(sample(text, "llm_router_model_inference_duration_seconds_count{" + labels + "}") == 3);
    CHECK(sample(text, "llm_router_model_inference_duration_seconds_sum{" + labels + "}") == Approx(1.2));
    CHECK(sample(text, "llm_router_model_inference_duration_seconds_bucket{" + labels + ",le=\"+Inf\"}") == 3);
    CHECK(!sample(text, "llm_router_model_inference_duration_seconds_bucket{" + labels + ",le=\"0.5\"}"));
    CHECK(sample(text, "llm_router_time_to_first_token_seconds_sum{" + labels + "}") == Approx(0.6));
    CHECK(sample(text, "llm_router_time_per_output_token_seconds_count{" + labels + "}") == 3);

    // The native buckets themselves: 0.4 s lies in schema 3's bucket (2^(-11/8), 2^(-10/8)].
    const auto& series = metrics.get<lm::catalog::native::model_inference_duration_seconds>().labels("gpt-4", "balanced", "t");
    std::uint64_t in_bucket = 0;
    struct reader {
        std::uint64_t* out;
        void begin_family(const lm::family_header&) {}
        void counter(lm::labels_view, lm::counter_value, double, const lm::exemplar_view*) {}
        void gauge(lm::labels_view, double) {}
        void histogram(lm::labels_view, std::span<const double>, std::span<const std::uint64_t>, double, double,
                       std::span<const lm::exemplar_view>) {}
        void native_histogram(lm::labels_view, const lm::native_histogram_view& h, std::span<const double>,
                              std::span<const std::uint64_t> classic, double, std::span<const lm::exemplar_view>) {
            CHECK(classic.empty());
            CHECK(h.schema == 3);
            REQUIRE(h.positive_spans.size() == 1);
            CHECK(h.positive_spans[0].offset == -10);
            REQUIRE(h.positive_counts.size() == 1);
            *out = h.positive_counts[0];
        }
        void end_family() {}
        void finish() {}
    } r{&in_bucket};
    metrics.get<lm::catalog::native::model_inference_duration_seconds>().visit(r, "x");
    CHECK(in_bucket == 3);
    (void)series;

    const std::string g = lm::render(genai);
    const std::string gl = "gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"openai\",gen_ai_request_model=\"gpt-4\"";
    CHECK(sample(g, "gen_ai_client_operation_duration_seconds_count{" + gl + ",error_type=\"\"}") == 3);
    CHECK(sample(g, "gen_ai_server_time_to_first_token_seconds_sum{" + gl + "}") == Approx(0.6));
}

TEST_CASE("monitored_router: a manual scope, and one abandoned", "[instrument]") {
    fake_clock clock;
    fake_router engine;
    lm::llm_router_streaming_registry metrics;
    lm::monitored_router router{engine, metrics};
    router.set_time_source(lm::time_source::of(clock));

    {
        auto call = router.start({.model = "m", .tenant_id = "t"});
        clock.advance(0.5);
        call.token();
        clock.advance(0.3);
        call.token(3);  // a chunk of three tokens
        CHECK(call.tokens() == 4);
        call.succeed(lm::usage{.input_tokens = 2, .output_tokens = 4, .cost = 0.01});
        CHECK(call.done());
        call.fail("ignored");  // a finished scope records nothing more
    }
    {
        auto call = router.start({.model = "m", .tenant_id = "t"});
        clock.advance(2.0);
    }  // never finished: an error "Abandoned"

    const std::string text = lm::render(metrics);
    const std::string labels = "model_id=\"m\",strategy=\"balanced\",tenant_id=\"t\"";
    CHECK(sample(text, "llm_router_time_to_first_token_seconds_sum{" + labels + "}") == Approx(0.5));
    CHECK(sample(text, "llm_router_time_per_output_token_seconds_sum{" + labels + "}") == Approx(0.1));
    CHECK(sample(text, "llm_router_request_cost_cents_sum{model_id=\"m\",tenant_id=\"t\"}") == Approx(1.0));
    CHECK(sample(text, "llm_router_model_inference_total{model_id=\"m\",strategy=\"balanced\",status=\"success\","
                       "tenant_id=\"t\"}") == 1);
    CHECK(sample(text, "llm_router_errors_total{error_type=\"Abandoned\",model_id=\"m\",tenant_id=\"t\"}") == 1);
    CHECK(text.find("error_type=\"ignored\"") == std::string::npos);
}

// --- asynchronous ------------------------------------------------------------------------

namespace {
struct async_router : fake_router {
    std::promise<lm::inference_result> pending;
    std::future<lm::inference_result> process_async(std::string_view, const lm::request_options&) {
        pending = {};
        return pending.get_future();
    }
};
static_assert(lm::async_llm_router<async_router>);
}  // namespace

TEST_CASE("monitored_router: process_async over a std::future", "[instrument]") {
    fake_clock clock;
    async_router engine;
    lm::catalog_registry metrics;
    lm::monitored_router router{engine, metrics};
    router.set_time_source(lm::time_source::of(clock));
    const std::string labels = "model_id=\"m\",strategy=\"balanced\",tenant_id=\"t\"";

    {
        auto f = router.process_async("Hi", {.model = "m", .tenant_id = "t"});
        CHECK(f.valid());
        CHECK(f.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
        clock.advance(2.5);
        lm::inference_result r;
        r.text = "done";
        r.metrics.total_tokens = 64;
        engine.pending.set_value(r);
        CHECK(f.wait_for(std::chrono::seconds(1)) == std::future_status::ready);  // the call ends here
        clock.advance(10.0);                                                        // read late
        CHECK(f.get().text == "done");
    }
    std::string text = lm::render(metrics);
    CHECK(sample(text, "llm_router_model_inference_duration_seconds_sum{" + labels + "}") == Approx(2.5));
    CHECK(sample(text, "llm_router_model_inference_tokens_sum{" + labels + "}") == 64);

    {
        auto f = router.process_async("Hi", {.model = "m", .tenant_id = "t"});
        engine.pending.set_exception(std::make_exception_ptr(acme::QuotaExceeded(5)));
        CHECK_THROWS_AS(f.get(), acme::QuotaExceeded);
    }
    {
        // A callable returning a future, resolved before the wrapper is dropped unread.
        std::promise<int> p;
        auto f = router.track_async(lm::request_options{.model = "m", .tenant_id = "t"}, [&] { return p.get_future(); });
        p.set_value(1);
    }
    text = lm::render(metrics);
    CHECK(sample(text, "llm_router_errors_total{error_type=\"QuotaExceeded\",model_id=\"m\",tenant_id=\"t\"}") == 1);
    CHECK(sample(text, "llm_router_model_inference_total{model_id=\"m\",strategy=\"balanced\",status=\"success\","
                       "tenant_id=\"t\"}") == 2);
    CHECK(sample(text, "llm_router_model_inference_total{model_id=\"m\",strategy=\"balanced\",status=\"error\","
                       "tenant_id=\"t\"}") == 1);

    // A real thread on the other side.
    auto f = router.track_async(lm::request_options{.model = "threaded"}, [] {
        return std::async(std::launch::async, [] {
            lm::inference_result r;
            r.metrics.total_tokens = 3;
            return r;
        });
    });
    CHECK(f.get().metrics.total_tokens == 3u);
    CHECK(sample(lm::render(metrics), "llm_router_model_inference_tokens_sum{model_id=\"threaded\",strategy=\"balanced\","
                                      "tenant_id=\"unknown\"}") == 3);
}

namespace {
// A minimal awaitable completed by hand, and a coroutine type to drive it.
struct manual_event {
    std::coroutine_handle<> waiter;
    std::optional<lm::inference_result> value;
    bool failed = false;

    struct awaitable {
        manual_event* ev;
        bool await_ready() const noexcept { return ev->value.has_value(); }
        void await_suspend(std::coroutine_handle<> h) noexcept { ev->waiter = h; }
        lm::inference_result await_resume() {
            if (ev->failed) throw acme::QuotaExceeded(9);
            return *ev->value;
        }
    };
    void complete(lm::inference_result r) {
        value = std::move(r);
        std::exchange(waiter, {}).resume();
    }
    void fail() {
        failed = true;
        value.emplace();
        std::exchange(waiter, {}).resume();
    }
};

struct detached {
    struct promise_type {
        detached get_return_object() noexcept { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept {}
    };
};

struct awaiting_router : fake_router {
    manual_event* event = nullptr;
    manual_event::awaitable process_async(std::string_view, const lm::request_options&) { return {event}; }
};

template <class Router>
detached consume(Router& router, std::string& out, std::string& error) {
    try {
        const lm::inference_result r = co_await router.process_async("Hi", {.model = "co", .tenant_id = "t"});
        out = r.text;
    } catch (const acme::QuotaExceeded& e) {
        error = "quota " + std::to_string(e.id);
    }
}
}  // namespace

TEST_CASE("monitored_router: process_async over an awaitable", "[instrument]") {
    fake_clock clock;
    manual_event event;
    awaiting_router engine;
    engine.event = &event;
    lm::catalog_registry metrics;
    lm::monitored_router router{engine, metrics};
    router.set_time_source(lm::time_source::of(clock));

    std::string out, error;
    consume(router, out, error);  // suspends at co_await
    CHECK(out.empty());
    clock.advance(0.75);
    lm::inference_result r;
    r.text = "awaited";
    r.metrics.total_tokens = 12;
    event.complete(r);
    CHECK(out == "awaited");

    manual_event event2;
    engine.event = &event2;
    consume(router, out, error);
    event2.fail();
    CHECK(error == "quota 9");

    const std::string text = lm::render(metrics);
    const std::string labels = "model_id=\"co\",strategy=\"balanced\",tenant_id=\"t\"";
    CHECK(sample(text, "llm_router_model_inference_duration_seconds_sum{" + labels + "}") == Approx(0.75));
    CHECK(sample(text, "llm_router_model_inference_tokens_sum{" + labels + "}") == 12);
    CHECK(sample(text, "llm_router_errors_total{error_type=\"QuotaExceeded\",model_id=\"co\",tenant_id=\"t\"}") == 1);
}

// --- hot path cache --------------------------------------------------------------------------

TEST_CASE("monitored_router: the handle cache is exact under many label sets and threads", "[instrument]") {
    fake_router engine;
    engine.cost.reset();
    lm::catalog_registry metrics;
    lm::monitored_router router{engine, metrics};

    // More combinations than the per-thread cache and than the shared cache holds.
    constexpr int models = 1100;
    for (int round = 0; round < 2; ++round)
        for (int i = 0; i < models; ++i) router.process("x", {.model = "m" + std::to_string(i), .tenant_id = "t"});
    const std::string text = lm::render(metrics);
    for (int i : {0, 7, 1023, 1024, 1099})
        CHECK(sample(text, "llm_router_model_inference_total{model_id=\"m" + std::to_string(i) +
                               "\",strategy=\"balanced\",status=\"success\",tenant_id=\"t\"}") == 2);

    // Two threads, two tenants each, interleaved.
    lm::catalog_registry shared_metrics;
    struct counting_router {
        std::atomic<int> calls{0};
        lm::inference_result process(std::string_view, const lm::request_options&) {
            calls.fetch_add(1, std::memory_order_relaxed);
            lm::inference_result r;
            r.metrics.total_tokens = 1;
            return r;
        }
        void register_model(const lm::model_config&) {}
    } counting;
    lm::monitored_router concurrent{counting, shared_metrics};
    constexpr int per_thread = 20000;
    auto work = [&](std::string_view tenant) {
        for (int i = 0; i < per_thread; ++i)
            concurrent.process("x", {.model = i % 2 ? "a" : "b", .tenant_id = tenant});
    };
    std::thread t1(work, "t1"), t2(work, "t2");
    t1.join();
    t2.join();
    const std::string ctext = lm::render(shared_metrics);
    for (std::string_view tenant : {"t1", "t2"})
        for (std::string_view model : {"a", "b"})
            CHECK(sample(ctext, "llm_router_model_inference_total{model_id=\"" + std::string(model) +
                                    "\",strategy=\"balanced\",status=\"success\",tenant_id=\"" + std::string(tenant) +
                                    "\"}") == per_thread / 2);
}

TEST_CASE("monitored_router: clear_cache after a family reset revives the series", "[instrument]") {
    fake_router engine;
    lm::catalog_registry metrics;
    lm::monitored_router router{engine, metrics};
    router.process("x", {.model = "m"});
    metrics.get<lm::catalog::model_inference_total>().reset();
    router.clear_cache();
    router.process("x", {.model = "m"});
    CHECK(sample(lm::render(metrics), "llm_router_model_inference_total{model_id=\"m\",strategy=\"balanced\","
                                      "status=\"success\",tenant_id=\"unknown\"}") == 1);
}

// --- guards, HTTP timer, helpers ------------------------------------------------------------

TEST_CASE("guards: active connections and queue depth cannot leak on exceptions", "[instrument]") {
    lm::catalog_registry metrics;
    auto& connections = metrics.get<lm::catalog::active_connections>().labels("t");
    auto& queue = metrics.get<lm::catalog::queue_depth>().labels("inference", "t");

    const auto handle = [&](bool fail) {
        lm::connection_guard connection{metrics, "t"};
        lm::queue_guard queued{metrics, "inference", "t"};
        CHECK(connections.value() == 1);
        CHECK(queue.value() == 1);
        queued.release();
        CHECK(queue.value() == 0);
        if (fail) throw std::runtime_error("boom");
    };
    handle(false);
    CHECK_THROWS(handle(true));
    CHECK(connections.value() == 0);
    CHECK(queue.value() == 0);

    {
        lm::connection_guard a{metrics, "t"};
        lm::connection_guard b = std::move(a);  // the count moves, it is not doubled
        CHECK(!a.active());
        CHECK(b.active());
        CHECK(connections.value() == 1);
        std::vector<lm::connection_guard> held;
        held.push_back(std::move(b));
        held.emplace_back(metrics, "t");
        CHECK(connections.value() == 2);
    }
    CHECK(connections.value() == 0);

    lm::connection_guard anonymous{metrics, ""};
    CHECK(metrics.get<lm::catalog::active_connections>().labels("unknown").value() == 1);
    {
        lm::gauge_guard weighted{queue, 2.5};
        CHECK(queue.value() == 2.5);
    }
    CHECK(queue.value() == 0);
}

TEST_CASE("http_request_timer: records both HTTP families once", "[instrument]") {
    fake_clock clock;
    lm::catalog_registry metrics;
    lm::http_request_timer timer{metrics, lm::time_source::of(clock)};
    clock.advance(0.03);
    CHECK(timer.elapsed_seconds() == Approx(0.03));
    CHECK(timer.finish("GET", "/api/models", 200, "tenant-a"));
    CHECK(!timer.finish("GET", "/api/models", 500, "tenant-a"));  // once
    CHECK(timer.finished());

    lm::http_request_timer other{metrics, lm::time_source::of(clock)};
    clock.advance(2.0);
    other.finish("POST", "/api/inference", "503");  // no tenant: "unknown"

    const std::string text = lm::render(metrics);
    CHECK(sample(text, "llm_router_http_requests_total{method=\"GET\",route=\"/api/models\",status_code=\"200\","
                       "tenant_id=\"tenant-a\"}") == 1);
    CHECK(text.find("status_code=\"500\"") == std::string::npos);
    CHECK(sample(text, "llm_router_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/models\","
                       "tenant_id=\"tenant-a\",le=\"0.05\"}") == 1);
    CHECK(sample(text, "llm_router_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/models\","
                       "tenant_id=\"tenant-a\",le=\"0.01\"}") == 0);
    CHECK(sample(text, "llm_router_http_requests_total{method=\"POST\",route=\"/api/inference\",status_code=\"503\","
                       "tenant_id=\"unknown\"}") == 1);
    CHECK(sample(text, "llm_router_http_request_duration_seconds_sum{method=\"POST\",route=\"/api/inference\","
                       "tenant_id=\"unknown\"}") == Approx(2.0));

    // The steady clock by default.
    lm::http_request_timer real{metrics};
    CHECK(real.elapsed_seconds() >= 0.0);
    CHECK(real.elapsed_seconds() < 60.0);
}

TEST_CASE("exemplars: monitored_router and http_request_timer attach the current trace id", "[instrument]") {
    fake_clock clock;
    fake_router engine{.clock = &clock};
    lm::catalog_registry metrics;
    lm::monitored_router router{engine, metrics};
    router.set_time_source(lm::time_source::of(clock));

    // No current trace: nothing to attach.
    router.process("untraced", {.model = "gpt-4", .tenant_id = "tenant-a"});
    lm::http_request_timer{metrics, lm::time_source::of(clock)}.finish("GET", "/health", 200);
    CHECK(lm::render(metrics, lm::format::openmetrics).find(" # {") == std::string::npos);

    const auto incoming = lm::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    REQUIRE(incoming);
    {
        lm::scoped_trace_context scope(incoming->child());
        router.process("traced", {.model = "gpt-4", .tenant_id = "tenant-a"});
        lm::http_request_timer timer{metrics, lm::time_source::of(clock)};
        clock.advance(0.03);
        timer.finish("POST", "/v1/chat/completions", 200, "tenant-a");
    }
    const lm::trace_context failing = lm::generate_trace_context();
    engine.fail_with = 3;
    {
        lm::scoped_trace_context scope(failing);
        CHECK_THROWS_AS(router.process("traced", {.model = "gpt-4", .tenant_id = "tenant-a"}), acme::QuotaExceeded);
    }

    const std::string om = lm::render(metrics, lm::format::openmetrics);
    const std::string traced = " # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"} ";
    const std::string mst = "{model_id=\"gpt-4\",strategy=\"balanced\"";
    // Counters: the exemplar of the last traced increment (value 1).
    CHECK_THAT(line_starting(om, "llm_router_model_inference_total" + mst + ",status=\"success\",tenant_id=\"tenant-a\"} 2"),
               Catch::Contains(traced + "1"));
    CHECK_THAT(line_starting(om, "llm_router_http_requests_total{method=\"POST\",route=\"/v1/chat/completions\","
                                 "status_code=\"200\",tenant_id=\"tenant-a\"} 1"),
               Catch::Contains(traced + "1"));
    // Histograms: on the bucket the traced observation fell in, with its value.
    CHECK_THAT(line_starting(om, "llm_router_model_inference_duration_seconds_bucket" + mst +
                                     ",tenant_id=\"tenant-a\",le=\"2.0\"} 2"),
               Catch::Contains(traced + "1.5 "));
    CHECK(line_starting(om, "llm_router_model_inference_duration_seconds_bucket" + mst + ",tenant_id=\"tenant-a\",le=\"5.0\"}")
              .find(" # {") == std::string::npos);
    CHECK_THAT(line_starting(om, "llm_router_model_inference_tokens_bucket" + mst + ",tenant_id=\"tenant-a\",le=\"200.0\"}"),
               Catch::Contains(traced + "120"));
    CHECK_THAT(line_starting(om, "llm_router_http_request_duration_seconds_bucket{method=\"POST\","
                                 "route=\"/v1/chat/completions\",tenant_id=\"tenant-a\",le=\"0.05\"}"),
               Catch::Contains(traced + "0.03"));
    // The failing call carries its own trace.
    const std::string failed = " # {trace_id=\"" + failing.trace_id_hex() + "\"} 1";
    CHECK_THAT(line_starting(om, "llm_router_errors_total{error_type=\"QuotaExceeded\",model_id=\"gpt-4\",tenant_id=\"tenant-a\"}"),
               Catch::Contains(failed));
    CHECK_THAT(line_starting(om, "llm_router_model_inference_total" + mst + ",status=\"error\",tenant_id=\"tenant-a\"}"),
               Catch::Contains(failed));
    // Prometheus text carries no exemplars.
    CHECK(lm::render(metrics).find("trace_id") == std::string::npos);
}

TEST_CASE("recorders: the tutorial's helpers", "[instrument]") {
    lm::catalog_registry metrics;
    lm::record_cache_operation(metrics, "model", true, "t");
    lm::record_cache_operation(metrics, "model", false, "t");
    lm::record_cache_operation(metrics, "model", false);
    lm::update_active_connections(metrics, 4, "t");
    lm::update_queue_depth(metrics, "inference", 7, "t");
    lm::record_error(metrics, "TimeoutError", "gpt-4", "t");
    lm::record_error(metrics, "ValidationError");
    lm::record_model_inference(metrics, "gpt-4", "balanced", std::chrono::milliseconds(1500), 42, 0.05, "t");
    lm::record_model_inference(metrics, "gpt-4", "balanced", 0.0, 0, std::nullopt, "t", false);
    lm::record_model_load(metrics, "llama", "gguf", "", 12.0);

    const std::string text = lm::render(metrics);
    CHECK(sample(text, "llm_router_cache_hits_total{cache_type=\"model\",tenant_id=\"t\"}") == 1);
    CHECK(sample(text, "llm_router_cache_misses_total{cache_type=\"model\",tenant_id=\"t\"}") == 1);
    CHECK(sample(text, "llm_router_cache_misses_total{cache_type=\"model\",tenant_id=\"unknown\"}") == 1);
    CHECK(sample(text, "llm_router_active_connections{tenant_id=\"t\"}") == 4);
    CHECK(sample(text, "llm_router_queue_depth{queue_type=\"inference\",tenant_id=\"t\"}") == 7);
    CHECK(sample(text, "llm_router_errors_total{error_type=\"TimeoutError\",model_id=\"gpt-4\",tenant_id=\"t\"}") == 1);
    CHECK(sample(text, "llm_router_errors_total{error_type=\"ValidationError\",model_id=\"unknown\","
                       "tenant_id=\"unknown\"}") == 1);
    CHECK(sample(text, "llm_router_model_inference_total{model_id=\"gpt-4\",strategy=\"balanced\",status=\"success\","
                       "tenant_id=\"t\"}") == 1);
    CHECK(sample(text, "llm_router_model_inference_total{model_id=\"gpt-4\",strategy=\"balanced\",status=\"error\","
                       "tenant_id=\"t\"}") == 1);
    CHECK(sample(text, "llm_router_model_inference_duration_seconds_sum{model_id=\"gpt-4\",strategy=\"balanced\","
                       "tenant_id=\"t\"}") == Approx(1.5));
    CHECK(sample(text, "llm_router_request_cost_cents_sum{model_id=\"gpt-4\",tenant_id=\"t\"}") == Approx(5.0));
    CHECK(sample(text, "llm_router_model_load_time_seconds_sum{model_id=\"llama\",format=\"gguf\",loader=\"auto\"}") ==
          12);
}

TEST_CASE("error_type_name: short demangled exception type names", "[instrument]") {
    CHECK(lm::error_type_name(typeid(std::runtime_error)) == "runtime_error");
    CHECK(lm::error_type_name(typeid(acme::QuotaExceeded)) == "QuotaExceeded");
    CHECK(lm::error_type_name(typeid(acme::detail::Wrapped<std::runtime_error>)) == "Wrapped<std::runtime_error>");
    CHECK(lm::error_type_name(typeid(int)) == "int");
    CHECK(lm::detail::unqualified_type_name("(anonymous namespace)::Local") == "Local");
    CHECK(lm::detail::unqualified_type_name("a::b<c::d, e::f>::g") == "g");
    try {
        throw acme::QuotaExceeded(1);
    } catch (...) {
        CHECK(lm::current_error_type_name() == "QuotaExceeded");
    }
    CHECK(lm::current_error_type_name() == "Unknown");
}

// --- the request log's queue (instrument/detail/mpmc_queue.hpp) -----------------

TEST_CASE("mpmc_queue: capacity rounds up, a full queue refuses and keeps the item", "[instrument][mpmc_queue]") {
    lm::detail::mpmc_queue<std::string> q(3);
    REQUIRE(q.capacity() == 4);
    for (int i = 0; i < 4; ++i) {
        std::string s = "line " + std::to_string(i);
        REQUIRE(q.try_push(s));
    }
    std::string extra = "dropped";
    CHECK_FALSE(q.try_push(extra));
    CHECK(extra == "dropped");  // untouched: the caller can count the drop and reuse it
    std::string out;
    REQUIRE(q.try_pop(out));
    CHECK(out == "line 0");
    CHECK(q.try_push(extra));  // a freed cell takes the next item
}

TEST_CASE("mpmc_queue: first in, first out, across rounds of the ring", "[instrument][mpmc_queue]") {
    lm::detail::mpmc_queue<int> q(4);
    int next_in = 0, next_out = 0;
    for (int round = 0; round < 10; ++round) {
        for (int i = 0; i < 3; ++i) {
            int v = next_in++;
            REQUIRE(q.try_push(v));
        }
        int v = -1;
        while (q.try_pop(v)) CHECK(v == next_out++);
    }
    CHECK(next_out == 30);
    int v = -1;
    CHECK_FALSE(q.try_pop(v));  // empty
}

TEST_CASE("mpmc_queue: concurrent producers and consumers lose and duplicate nothing", "[instrument][mpmc_queue]") {
    constexpr int producers = 4, consumers = 2, per_producer = 20000;
    lm::detail::mpmc_queue<std::uint64_t> q(256);
    std::atomic<int> producing{producers};
    std::vector<std::vector<std::uint64_t>> seen(consumers);
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p)
        threads.emplace_back([&, p] {
            for (int i = 0; i < per_producer; ++i) {
                std::uint64_t v = (std::uint64_t(p) << 32) | std::uint64_t(i);
                while (!q.try_push(v)) std::this_thread::yield();  // full: wait for a consumer
            }
            producing.fetch_sub(1);
        });
    for (int c = 0; c < consumers; ++c)
        threads.emplace_back([&, c] {
            std::uint64_t v = 0;
            for (;;) {
                const bool finished = producing.load() == 0;  // read first: then an empty queue stays empty
                if (q.try_pop(v)) seen[c].push_back(v);
                else if (finished) break;
                else std::this_thread::yield();
            }
        });
    for (auto& t : threads) t.join();

    std::vector<int> count(std::size_t(producers) * per_producer, 0);
    int out_of_order = 0;
    for (const auto& list : seen) {
        std::vector<int> last(producers, -1);  // each consumer sees a producer's items in order
        for (std::uint64_t item : list) {
            const int p = int(item >> 32), i = int(item & 0xffffffffu);
            out_of_order += i <= last[std::size_t(p)];
            last[std::size_t(p)] = i;
            ++count[std::size_t(p) * per_producer + std::size_t(i)];
        }
    }
    int lost = 0, duplicated = 0;
    for (int n : count) {
        lost += n == 0;
        duplicated += n > 1;
    }
    CHECK(lost == 0);
    CHECK(duplicated == 0);
    CHECK(out_of_order == 0);
}

// --- monitored_router's role table (instrument/detail/router_roles.hpp) ------------

TEST_CASE("role table: cached rows, facts read, families as structs", "[instrument][roles]") {
    namespace d = lm::detail;
    using roles = d::router_roles;
    // Catalog families are structs deriving from their descriptors: registries,
    // storage and the role lookup take them like the descriptors themselves.
    static_assert(std::is_base_of_v<lm::counter<"errors_total", "Total number of errors",
                                                lm::labels<"error_type", "model_id", "tenant_id">>,
                                    lm::catalog::errors_total>);
    static_assert(lm::registry_has_role_v<lm::catalog_registry, lm::catalog::errors_total>);
    static_assert(roles::records_anything<lm::catalog_registry>);
    static_assert(roles::records_anything<lm::genai_registry>);
    static_assert(!roles::records_anything<lm::registry<lm::counter<"restarts_total", "Restarts">>>);
    // Provider and operation label only the GenAI families.
    static_assert(!roles::reads<lm::catalog_registry>(&d::call_facts::provider));
    static_assert(roles::reads<lm::genai_registry>(&d::call_facts::provider));
    static_assert(roles::reads<lm::genai_registry>(&d::call_facts::operation));
    // A row keeps its handle in the label cache only when every label is a fact of the label set.
    using ok_row = d::role_row<lm::catalog::model_inference_total, d::call_event::success, d::count_one,
                               d::from<"model_id", &d::call_facts::model>,
                               d::from<"strategy", &d::call_facts::strategy>, d::fixed<"status", "success">, d::from<"tenant_id", &d::call_facts::tenant_id>>;
    using error_row = d::role_row<lm::catalog::errors_total, d::call_event::failure, d::count_one,
                                  d::from<"error_type", &d::call_facts::error_type>,
                                  d::from<"model_id", &d::call_facts::model>,
                                  d::from<"tenant_id", &d::call_facts::tenant_id>>;
    static_assert(ok_row::cached);
    static_assert(!error_row::cached);
    static_assert(std::is_same_v<ok_row::handle<lm::genai_registry>, d::no_series>);  // not held: nothing stored

    // Recording one row through the table's vocabulary.
    lm::catalog_registry metrics;
    ok_row::handle<lm::catalog_registry> handle;
    d::call_facts facts;
    facts.model = "gpt-4";
    facts.strategy = "fast";
    facts.tenant_id = "t";
    ok_row::record(metrics, handle, facts, nullptr);
    ok_row::record(metrics, handle, facts, nullptr);
    d::no_series none;
    facts.error_type = "TimeoutError";
    error_row::record(metrics, none, facts, nullptr);
    const std::string text = lm::render(metrics, lm::format::prometheus);
    CHECK(sample(text, R"(llm_router_model_inference_total{model_id="gpt-4",strategy="fast",status="success",)"
                       R"(tenant_id="t"})") == 2);
    CHECK(sample(text, R"(llm_router_errors_total{error_type="TimeoutError",model_id="gpt-4",tenant_id="t"})") == 1);
}

// The gateway families (instrument/gateway_catalog.hpp): what monitored_router
// records from a call's routing report, usage and timing, and what it leaves
// out when nothing is reported; tenant_budgets and model_queue_guard.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <llmetrics/instrument/gateway_catalog.hpp>
#include <llmetrics/instrument/guards.hpp>
#include <llmetrics/instrument/monitored_router.hpp>
#include <llmetrics/instrument/routing_report.hpp>
#include <llmetrics/instrument/tenant_budgets.hpp>
#include <llmetrics/llmetrics.hpp>

#include "text_sample.hpp"

namespace lm = llmetrics;
namespace gw = lm::catalog::gateway;

namespace {

bool has_series_of(const std::string& text, std::string_view name) {
    return text.find("\n" + std::string(name) + "{") != std::string::npos;
}

// A router that answers with whatever it was told to report.
struct gateway_router {
    lm::routing_report report{};     // copied into each result
    bool fill_options = false;       // write the report into options.routing instead
    bool fail = false;               // throw after reporting
    std::optional<std::uint64_t> cached{}, reasoning{};
    std::optional<std::uint64_t> input = 30, output = 70;
    std::optional<double> cost{};  // dollars
    lm::llm_router_gateway_registry* watch = nullptr;  // reads requests_in_flight during the call
    double in_flight_seen = -1;

    lm::inference_result process(std::string_view, const lm::request_options& options) {
        if (watch) in_flight_seen = watch->get<gw::requests_in_flight>().labels(options.model).value();
        if (fill_options && options.routing) *options.routing = report;
        if (fail) throw std::runtime_error("all upstreams failed");
        lm::inference_result r;
        r.metrics.input_tokens = input;
        r.metrics.output_tokens = output;
        r.metrics.cached_input_tokens = cached;
        r.metrics.reasoning_output_tokens = reasoning;
        r.metrics.cost = cost;
        if (!fill_options) r.routing = report;
        return r;
    }
    void register_model(const lm::model_config&) {}
};

const std::string p = "llm_router_";

lm::routing_report two_failures_then_fallback() {
    namespace ar = lm::attempt_result;
    lm::routing_report r;
    r.attempts = {{"gpt-4", "azure-east", ar::rate_limited},
                  {"gpt-4", "azure-west", ar::timeout},
                  {"gpt-3.5-turbo", "openai", ar::success}};
    return r;
}

}  // namespace

TEST_CASE("gateway catalog: names under the prefix, bounded labels, tokens_total plays the streaming role",
          "[gateway]") {
    using R = lm::llm_router_gateway_registry;
    CHECK(R::name_of<gw::upstream_attempts_total>() == "llm_router_upstream_attempts_total");
    CHECK(R::name_of<gw::tenant_budget_remaining_cents>() == "llm_router_tenant_budget_remaining_cents");
    CHECK(R::name_of<gw::router_overhead_seconds>() == "llm_router_router_overhead_seconds");
    // The gateway tokens_total stands in for the streaming one (monitored_router's
    // input and output rows record into it) and the reverse.
    static_assert(std::is_same_v<lm::registry_role_t<R, lm::catalog::streaming::tokens_total>, gw::tokens_total>);
    static_assert(std::is_same_v<lm::registry_role_t<lm::llm_router_streaming_registry, gw::tokens_total>,
                                 lm::catalog::streaming::tokens_total>);
    // A value outside a closed set goes to the overflow series, not a new one.
    R metrics;
    metrics.get<gw::upstream_attempts_total>().labels("m", "u", "exploded").inc();
    CHECK(metrics.get<gw::upstream_attempts_total>().dropped() == 1);
}

TEST_CASE("gateway: attempts, retries, fallbacks and retries exhausted from a result's report", "[gateway]") {
    gateway_router engine{.report = two_failures_then_fallback()};
    lm::llm_router_gateway_registry metrics;
    lm::monitored_router router{engine, metrics};
    router.process("Hello", {.model = "gpt-4", .tenant_id = "tenant-a"});

    const std::string text = lm::render(metrics);
    const std::string a = p + "upstream_attempts_total";
    CHECK(sample(text, a + "{model_id=\"gpt-4\",upstream=\"azure-east\",result=\"rate_limited\"}") == 1);
    CHECK(sample(text, a + "{model_id=\"gpt-4\",upstream=\"azure-west\",result=\"timeout\"}") == 1);
    CHECK(sample(text, a + "{model_id=\"gpt-3.5-turbo\",upstream=\"openai\",result=\"success\"}") == 1);
    // The second attempt repeats gpt-4 after a rate limit; the third moves to
    // gpt-3.5-turbo after a timeout: attempts = 1 call + 1 retry + 1 fallback.
    CHECK(sample(text, p + "retries_total{model_id=\"gpt-4\",reason=\"rate_limited\"}") == 1);
    CHECK(sample(text, p + "fallbacks_total{from_model=\"gpt-4\",to_model=\"gpt-3.5-turbo\",reason=\"timeout\"}") == 1);
    CHECK(sample(text, p + "retries_exhausted_total{model_id=\"gpt-4\"}") == 1);
    CHECK(!sample(text, p + "retries_exhausted_total{model_id=\"gpt-3.5-turbo\"}"));
    CHECK(!sample(text, p + "retries_total{model_id=\"gpt-3.5-turbo\",reason=\"timeout\"}"));

    // An attempt without a model is one at the call's model.
    engine.report.attempts = {{"", "azure-east", lm::attempt_result::success}};
    router.process("Hello", {.model = "gpt-4", .tenant_id = "tenant-a"});
    CHECK(sample(lm::render(metrics), a + "{model_id=\"gpt-4\",upstream=\"azure-east\",result=\"success\"}") == 1);
}

TEST_CASE("gateway: a failed call's attempts come from the options' report", "[gateway]") {
    namespace ar = lm::attempt_result;
    gateway_router engine{.fill_options = true, .fail = true};
    engine.report.attempts = {{"gpt-4", "azure-east", ar::server_error}, {"gpt-4", "azure-west", ar::server_error}};
    lm::llm_router_gateway_registry metrics;
    lm::monitored_router router{engine, metrics};
    lm::routing_report report;
    CHECK_THROWS_AS(router.process("Hello", {.model = "gpt-4", .routing = &report}), std::runtime_error);

    const std::string text = lm::render(metrics);
    const std::string west = "upstream_attempts_total{model_id=\"gpt-4\",upstream=\"azure-west\"";
    CHECK(sample(text, p + west + ",result=\"server_error\"}") == 1);
    CHECK(sample(text, p + "retries_total{model_id=\"gpt-4\",reason=\"server_error\"}") == 1);
    CHECK(sample(text, p + "retries_exhausted_total{model_id=\"gpt-4\"}") == 1);
    CHECK(!has_series_of(text, p + "fallbacks_total"));
    // A failed call still ends: nothing stays in flight.
    CHECK(sample(text, p + "requests_in_flight{model_id=\"gpt-4\"}") == 0);
}

TEST_CASE("gateway: upstream health as one 0/1 series per state, rate limits when reported", "[gateway]") {
    gateway_router engine;
    engine.report.upstreams = {{.model = "gpt-4", .upstream = "azure-east", .state = lm::upstream_state::degraded,
                                .remaining_requests = 12, .remaining_tokens = 3400},
                               {.model = "gpt-4", .upstream = "azure-west", .state = lm::upstream_state::cooling_down}};
    lm::llm_router_gateway_registry metrics;
    lm::monitored_router router{engine, metrics};
    router.process("Hello", {.model = "gpt-4"});

    std::string text = lm::render(metrics);
    const std::string h = p + "upstream_health{model_id=\"gpt-4\",upstream=";
    CHECK(sample(text, h + "\"azure-east\",state=\"up\"}") == 0);
    CHECK(sample(text, h + "\"azure-east\",state=\"degraded\"}") == 1);
    CHECK(sample(text, h + "\"azure-east\",state=\"cooling_down\"}") == 0);
    CHECK(sample(text, h + "\"azure-west\",state=\"cooling_down\"}") == 1);
    CHECK(sample(text, p + "upstream_remaining_requests{model_id=\"gpt-4\",upstream=\"azure-east\"}") == 12);
    CHECK(sample(text, p + "upstream_remaining_tokens{model_id=\"gpt-4\",upstream=\"azure-east\"}") == 3400);
    // azure-west reported no rate limits: no series, not a 0.
    CHECK(!sample(text, p + "upstream_remaining_requests{model_id=\"gpt-4\",upstream=\"azure-west\"}"));

    // A later report moves the state: the old one drops to 0.
    engine.report.upstreams = {{.model = "gpt-4", .upstream = "azure-west", .state = lm::upstream_state::up}};
    router.process("Hello", {.model = "gpt-4"});
    text = lm::render(metrics);
    CHECK(sample(text, h + "\"azure-west\",state=\"up\"}") == 1);
    CHECK(sample(text, h + "\"azure-west\",state=\"cooling_down\"}") == 0);
}

TEST_CASE("gateway: tokens by type, request and response sizes, router overhead", "[gateway]") {
    gateway_router engine{.cached = 20, .reasoning = 50};
    engine.report.overhead_seconds = 0.003;
    lm::llm_router_gateway_registry metrics;
    lm::monitored_router router{engine, metrics};
    router.process("Hello", {.model = "gpt-4", .tenant_id = "tenant-a"});

    std::string text = lm::render(metrics);
    const std::string t = p + "tokens_total{model_id=\"gpt-4\",tenant_id=\"tenant-a\",token_type=";
    CHECK(sample(text, t + "\"input\"}") == 30);
    CHECK(sample(text, t + "\"output\"}") == 70);
    CHECK(sample(text, t + "\"cached_input\"}") == 20);
    CHECK(sample(text, t + "\"reasoning_output\"}") == 50);
    CHECK(sample(text, p + "request_tokens_sum{model_id=\"gpt-4\"}") == 30);
    CHECK(sample(text, p + "request_tokens_bucket{model_id=\"gpt-4\",le=\"64.0\"}") == 1);
    CHECK(sample(text, p + "request_tokens_bucket{model_id=\"gpt-4\",le=\"16.0\"}") == 0);
    CHECK(sample(text, p + "response_tokens_sum{model_id=\"gpt-4\"}") == 70);
    CHECK(sample(text, p + "router_overhead_seconds_sum{model_id=\"gpt-4\"}") == Approx(0.003));
    CHECK(sample(text, p + "router_overhead_seconds_bucket{model_id=\"gpt-4\",le=\"0.005\"}") == 1);

    // Absent means not recorded: no cached or reasoning tokens, no sizes, no overhead.
    gateway_router quiet{.input = std::nullopt, .output = std::nullopt};
    lm::llm_router_gateway_registry other;
    lm::monitored_router plain{quiet, other};
    plain.process("Hello", {.model = "gpt-4", .tenant_id = "tenant-a"});
    text = lm::render(other);
    CHECK(!has_series_of(text, p + "tokens_total"));
    CHECK(!has_series_of(text, p + "request_tokens_count"));
    CHECK(!has_series_of(text, p + "response_tokens_count"));
    CHECK(!has_series_of(text, p + "router_overhead_seconds_count"));
    CHECK(!has_series_of(text, p + "upstream_attempts_total"));
    CHECK(!has_series_of(text, p + "upstream_health"));
    CHECK(sample(text, p + "model_inference_total{model_id=\"gpt-4\",strategy=\"balanced\",status=\"success\","
                           "tenant_id=\"tenant-a\"}") == 1);
}

TEST_CASE("gateway: the streaming tokens_total records input and output only", "[gateway]") {
    gateway_router engine{.cached = 20, .reasoning = 50};
    lm::llm_router_streaming_registry metrics;  // tokens_total closes token_type to input, output
    lm::monitored_router router{engine, metrics};
    router.process("Hello", {.model = "gpt-4", .tenant_id = "tenant-a"});
    const std::string text = lm::render(metrics);
    CHECK(sample(text, p + "tokens_total{model_id=\"gpt-4\",tenant_id=\"tenant-a\",token_type=\"input\"}") == 30);
    CHECK(text.find("cached_input") == std::string::npos);
    CHECK(metrics.get<lm::catalog::streaming::tokens_total>().dropped() == 0);
}

TEST_CASE("gateway: requests in flight per model during a call, scopes included", "[gateway]") {
    lm::llm_router_gateway_registry metrics;
    gateway_router engine{.watch = &metrics};
    lm::monitored_router router{engine, metrics};
    router.process("Hello", {.model = "gpt-4"});
    CHECK(engine.in_flight_seen == 1);
    auto& in_flight = metrics.get<gw::requests_in_flight>().labels("gpt-4");
    CHECK(in_flight.value() == 0);
    {
        auto a = router.start(lm::request_options{.model = "gpt-4"});
        auto b = router.start(lm::request_options{.model = "gpt-4"});
        CHECK(in_flight.value() == 2);
        lm::inference_result r;
        r.routing.attempts = {{"gpt-4", "azure-east", lm::attempt_result::success}};
        a.succeed(r);
        CHECK(in_flight.value() == 1);
    }  // b abandoned: a failure, and out of flight
    CHECK(in_flight.value() == 0);
    CHECK(sample(lm::render(metrics),
                 p + "upstream_attempts_total{model_id=\"gpt-4\",upstream=\"azure-east\",result=\"success\"}") == 1);
}

// A streaming router that reports its attempts through the options, then
// succeeds or fails.
struct streaming_gateway_router {
    bool fail = false;
    lm::inference_result process(std::string_view, const lm::request_options&) { return {}; }
    template <class OnChunk>
    lm::inference_result process_stream(std::string_view, const lm::request_options& o, OnChunk&& on_chunk) {
        if (o.routing)
            o.routing->attempts = {{"", "east", lm::attempt_result::timeout},
                                   {"", "west", lm::attempt_result::success}};
        if (fail) throw std::runtime_error("stream broke");
        on_chunk(std::string("a"));
        on_chunk(std::string("b"));
        return {};
    }
    void register_model(const lm::model_config&) {}
};

TEST_CASE("gateway: process_stream reads the options' report on success and failure", "[gateway]") {
    streaming_gateway_router engine;
    lm::llm_router_gateway_registry metrics;
    lm::monitored_router router{engine, metrics};
    lm::routing_report report;
    router.process_stream("Hello", lm::request_options{.model = "m", .routing = &report}, [](const std::string&) {});
    engine.fail = true;
    CHECK_THROWS(router.process_stream("Hello", lm::request_options{.model = "m", .routing = &report},
                                       [](const std::string&) {}));
    const std::string text = lm::render(metrics);
    CHECK(sample(text, p + "upstream_attempts_total{model_id=\"m\",upstream=\"east\",result=\"timeout\"}") == 2);
    CHECK(sample(text, p + "upstream_attempts_total{model_id=\"m\",upstream=\"west\",result=\"success\"}") == 2);
    CHECK(sample(text, p + "retries_total{model_id=\"m\",reason=\"timeout\"}") == 2);
    CHECK(!sample(text, p + "retries_exhausted_total{model_id=\"m\"}"));
    CHECK(sample(text, p + "requests_in_flight{model_id=\"m\"}") == 0);
}

TEST_CASE("gateway: a registry of gateway families alone is enough for monitored_router", "[gateway]") {
    gateway_router engine{.report = two_failures_then_fallback()};
    lm::registry<gw::upstream_attempts_total, gw::fallbacks_total> metrics;  // no tutorial families
    lm::monitored_router router{engine, metrics};
    router.process("Hello", {.model = "gpt-4"});
    const std::string text = lm::render(metrics);
    CHECK(sample(text, "fallbacks_total{from_model=\"gpt-4\",to_model=\"gpt-3.5-turbo\",reason=\"timeout\"}") == 1);
    CHECK(sample(text, "upstream_attempts_total{model_id=\"gpt-4\",upstream=\"azure-east\",result=\"rate_limited\"}") ==
          1);
}

TEST_CASE("routing readers: members, pointers, ADL and traits", "[gateway]") {
    lm::routing_report report;
    report.overhead_seconds = 0.5;
    struct with_pointer {
        lm::routing_report* routing;
    };
    struct with_nothing {
        int routing = 3;  // not a report: ignored
    };
    CHECK(lm::read_routing(with_pointer{&report}).overhead_seconds == 0.5);
    CHECK(lm::read_routing(with_pointer{nullptr}).empty());
    CHECK(lm::read_routing(with_nothing{}).empty());
    CHECK(lm::read_routing(lm::request_options{}).empty());
    lm::inference_result r;
    CHECK(lm::read_routing(r).empty());
    r.routing.attempts.push_back({"m", "u", lm::attempt_result::success});
    CHECK(lm::read_routing(r).attempts.size() == 1);
}

TEST_CASE("tenant_budgets: one spend moves spend and budget together; no budget, no budget series", "[gateway]") {
    lm::llm_router_gateway_registry metrics;
    lm::tenant_budgets budgets{metrics};
    budgets.set_budget("tenant-a", 1000);
    budgets.spend("tenant-a", 250);
    budgets.spend("tenant-a", 800);  // overspent: remaining goes below 0
    budgets.spend("tenant-b", 40);   // no budget
    budgets.spend("tenant-b", -5);   // ignored
    std::string text = lm::render(metrics);
    CHECK(sample(text, p + "tenant_spend_cents_total{tenant_id=\"tenant-a\"}") == 1050);
    CHECK(sample(text, p + "tenant_budget_remaining_cents{tenant_id=\"tenant-a\"}") == -50);
    CHECK(sample(text, p + "tenant_spend_cents_total{tenant_id=\"tenant-b\"}") == 40);
    CHECK(!sample(text, p + "tenant_budget_remaining_cents{tenant_id=\"tenant-b\"}"));
    CHECK(budgets.has_budget("tenant-a"));
    CHECK(!budgets.has_budget("tenant-b"));

    budgets.set_budget("tenant-a", 500);  // a new period
    budgets.spend("tenant-a", 100);
    text = lm::render(metrics);
    CHECK(sample(text, p + "tenant_budget_remaining_cents{tenant_id=\"tenant-a\"}") == 400);
    CHECK(sample(text, p + "tenant_spend_cents_total{tenant_id=\"tenant-a\"}") == 1150);

    budgets.remove_budget("tenant-a");
    budgets.spend("tenant-a", 10);
    text = lm::render(metrics);
    CHECK(!sample(text, p + "tenant_budget_remaining_cents{tenant_id=\"tenant-a\"}"));
    CHECK(sample(text, p + "tenant_spend_cents_total{tenant_id=\"tenant-a\"}") == 1160);
}

TEST_CASE("monitored_router: a call's cost is its tenant's spend, charged to an attached budget", "[gateway]") {
    lm::llm_router_gateway_registry metrics;
    gateway_router engine;
    engine.cost = 0.25;  // 25 cents
    lm::monitored_router router{engine, metrics};
    lm::tenant_budgets budgets{metrics};
    budgets.set_budget("tenant-a", 1000);
    const auto spend = [&](const std::string& text, std::string_view tenant) {
        return sample(text, p + "tenant_spend_cents_total{tenant_id=\"" + std::string(tenant) + "\"}");
    };
    const auto remaining = [&](const std::string& text, std::string_view tenant) {
        return sample(text, p + "tenant_budget_remaining_cents{tenant_id=\"" + std::string(tenant) + "\"}");
    };

    SECTION("attached: spend and budget move by the same cents; no budget, spend only") {
        router.attach(budgets);
        router.process("a", {.model = "gpt-4", .tenant_id = "tenant-a"});
        router.process("a", {.model = "gpt-4", .tenant_id = "tenant-a"});
        router.process("b", {.model = "gpt-4", .tenant_id = "tenant-b"});
        {
            auto call = router.start(lm::request_options{.model = "gpt-4", .tenant_id = "tenant-a"});
            call.succeed(engine.process("c", {}));  // the manual path records the same
        }
        engine.fail = true;
        CHECK_THROWS(router.process("d", {.model = "gpt-4", .tenant_id = "tenant-a"}));  // no result, no cost
        const std::string text = lm::render(metrics);
        CHECK(spend(text, "tenant-a") == Approx(75));
        CHECK(remaining(text, "tenant-a") == Approx(1000 - 75));
        CHECK(spend(text, "tenant-b") == Approx(25));
        CHECK(!remaining(text, "tenant-b"));  // only tenants given a budget have the gauge
        // The spend is the cost request_cost_cents records, call for call.
        CHECK(sample(text, p + "request_cost_cents_sum{model_id=\"gpt-4\",tenant_id=\"tenant-a\"}") == Approx(75));
        budgets.spend("tenant-a", 5);  // by hand, for a cost outside the router: both move
        const std::string after = lm::render(metrics);
        CHECK(spend(after, "tenant-a") == Approx(80));
        CHECK(remaining(after, "tenant-a") == Approx(920));
    }
    SECTION("not attached: spend is recorded, the budget is left alone") {
        router.process("a", {.model = "gpt-4", .tenant_id = "tenant-a"});
        const std::string text = lm::render(metrics);
        CHECK(spend(text, "tenant-a") == Approx(25));
        CHECK(remaining(text, "tenant-a") == 1000);
    }
    SECTION("no cost reported: no spend series, the budget untouched") {
        router.attach(budgets);
        engine.cost.reset();
        router.process("a", {.model = "gpt-4", .tenant_id = "tenant-a"});
        router.process("b", {.model = "gpt-4", .tenant_id = "tenant-b"});
        const std::string text = lm::render(metrics);
        CHECK(!has_series_of(text, p + "tenant_spend_cents_total"));
        CHECK(remaining(text, "tenant-a") == 1000);
    }
    // A registry without the budget family keeps no budget hook (nothing to attach).
    using plain = lm::detail::call_recorder<lm::router_traits<gateway_router>, lm::catalog_registry>;
    STATIC_REQUIRE(!plain::records_budget);
    STATIC_REQUIRE(std::is_empty_v<decltype(plain::budgets)>);
}

TEST_CASE("model_queue_guard: requests queued per model, released once", "[gateway]") {
    lm::llm_router_gateway_registry metrics;
    auto& queued = metrics.get<gw::requests_queued>().labels("gpt-4");
    {
        lm::model_queue_guard a{metrics, "gpt-4"};
        lm::model_queue_guard b{metrics, "gpt-4"};
        CHECK(queued.value() == 2);
        a.release();
        a.release();
        CHECK(queued.value() == 1);
    }
    CHECK(queued.value() == 0);
}

// The decorator's own cost: monitored_router::process() against calling the
// bare router directly, with every tutorial metric recorded (inference count,
// duration, tokens, cost). Run on a quiet machine, e.g.
//
//     build/gcc/bin/bench_instrument --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// and subtract the medians: BM_monitored_* - BM_bare_router.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include <llmetrics/exposition/render.hpp>
#include <llmetrics/instrument/catalog.hpp>
#include <llmetrics/instrument/gateway_catalog.hpp>
#include <llmetrics/instrument/genai_catalog.hpp>
#include <llmetrics/core/tsc_clock.hpp>
#include <llmetrics/instrument/monitored_router.hpp>

namespace lm = llmetrics;

namespace {

struct result {
    std::uint64_t value;
    struct {
        std::optional<std::uint64_t> input_tokens;
        std::optional<std::uint64_t> output_tokens;
        std::optional<std::uint64_t> total_tokens;
        std::optional<double> cost;
    } metrics;
};

// A router that does almost nothing, behind a call the optimiser cannot remove,
// so the difference between the two loops is the decorator.
struct trivial_router {
    [[gnu::noinline]] result process(std::string_view prompt, const lm::request_options& options) {
        static thread_local std::uint64_t n = 0;  // per thread: the router itself shares nothing
        benchmark::DoNotOptimize(prompt.data());
        benchmark::DoNotOptimize(options.model.data());
        ++n;
        result r{n, {}};
        r.metrics.input_tokens = 12;
        r.metrics.output_tokens = 30 + (n & 7);
        r.metrics.total_tokens = 42 + (n & 7);
        r.metrics.cost = 0.0021;
        return r;
    }
    void register_model(const lm::model_config&) {}
};

// The loop every BM_monitored_* benchmark times.
template <class Monitored>
void process_loop(benchmark::State& state, Monitored& monitored, const lm::request_options& options) {
    for (auto _ : state) {
        auto r = monitored.process("Hello", options);
        benchmark::DoNotOptimize(r);
    }
}

void BM_bare_router(benchmark::State& state) {
    trivial_router router;
    const lm::request_options options{.model = "gpt-4", .tenant_id = "tenant-a"};
    for (auto _ : state) {
        auto r = router.process("Hello", options);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_bare_router);

// What instrumenting by hand costs: the same four tutorial metrics through
// handles resolved once, timed with two steady_clock reads. The decorator's
// own share is BM_monitored_tutorial_steady_clock minus this.
void BM_hand_instrumented(benchmark::State& state) {
    trivial_router router;
    lm::catalog_registry metrics;
    auto& ok = metrics.get<lm::catalog::model_inference_total>().labels("gpt-4", "balanced", "success", "tenant-a");
    auto& duration = metrics.get<lm::catalog::model_inference_duration_seconds>().labels("gpt-4", "balanced", "tenant-a");
    auto& tokens = metrics.get<lm::catalog::model_inference_tokens>().labels("gpt-4", "balanced", "tenant-a");
    auto& cost = metrics.get<lm::catalog::request_cost_cents>().labels("gpt-4", "tenant-a");
    const lm::request_options options{.model = "gpt-4", .tenant_id = "tenant-a"};
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        auto r = router.process("Hello", options);
        duration.observe(std::chrono::steady_clock::now() - start);
        ok.inc();
        tokens.observe(static_cast<double>(*r.metrics.total_tokens));
        cost.observe(*r.metrics.cost * 100.0);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_hand_instrumented);

void BM_monitored_tutorial(benchmark::State& state) {
    trivial_router router;
    lm::catalog_registry metrics;
    lm::monitored_router monitored{router, metrics};
    const lm::request_options options{.model = "gpt-4", .tenant_id = "tenant-a"};
    process_loop(state, monitored, options);
}
BENCHMARK(BM_monitored_tutorial);

// The same timed with steady_clock instead of the default (the TSC where it is
// safe, core/tsc_clock.hpp): the difference is what the TSC saves per call.
void BM_monitored_tutorial_steady_clock(benchmark::State& state) {
    trivial_router router;
    lm::catalog_registry metrics;
    lm::monitored_router monitored{router, metrics};
    monitored.set_time_source({});
    const lm::request_options options{.model = "gpt-4", .tenant_id = "tenant-a"};
    process_loop(state, monitored, options);
}
BENCHMARK(BM_monitored_tutorial_steady_clock);

// The same with a clock that costs nothing: the decorator's cost apart from
// its two clock reads (which dominate on virtual machines).
void BM_monitored_tutorial_free_clock(benchmark::State& state) {
    trivial_router router;
    lm::catalog_registry metrics;
    lm::monitored_router monitored{router, metrics};
    monitored.set_time_source(lm::time_source([](const void*) noexcept -> std::int64_t { return 0; }, nullptr));
    const lm::request_options options{.model = "gpt-4", .tenant_id = "tenant-a"};
    process_loop(state, monitored, options);
}
BENCHMARK(BM_monitored_tutorial_free_clock);

void BM_steady_clock_now(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(std::chrono::steady_clock::now());
}
BENCHMARK(BM_steady_clock_now);

// One reading of the default duration source (the counter `tsc` says whether it is the TSC).
void BM_default_duration_source_now(benchmark::State& state) {
    const lm::time_source source = lm::default_duration_source();
    for (auto _ : state) benchmark::DoNotOptimize(source.now_ns());
    state.counters["tsc"] = source.reads_tsc() ? 1 : 0;
}
BENCHMARK(BM_default_duration_source_now);

// Four label combinations in turn (the demo's tenants x models).
void BM_monitored_tutorial_rotating(benchmark::State& state) {
    trivial_router router;
    lm::catalog_registry metrics;
    lm::monitored_router monitored{router, metrics};
    const lm::request_options options[4] = {{.model = "gpt-4", .tenant_id = "tenant-a"},
                                            {.model = "gpt-3.5-turbo", .tenant_id = "tenant-b"},
                                            {.model = "gpt-3.5-turbo", .tenant_id = "tenant-a"},
                                            {.model = "gpt-4", .tenant_id = "tenant-b"}};
    std::size_t i = 0;
    for (auto _ : state) {
        auto r = monitored.process("Hello", options[i++ & 3]);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_monitored_tutorial_rotating);

void BM_monitored_tutorial_and_genai(benchmark::State& state) {
    trivial_router router;
    lm::llm_router_streaming_registry metrics;
    lm::genai_registry genai;
    lm::monitored_router monitored{router, metrics, genai};
    const lm::request_options options{.model = "gpt-4", .tenant_id = "tenant-a", .provider = "openai"};
    process_loop(state, monitored, options);
}
BENCHMARK(BM_monitored_tutorial_and_genai);

// The gateway registry (the twelve, TTFT/TPOT and the gateway families) with a
// router that reports no routing: the extra cost is the in-flight gauge (two
// atomic adds) and the token rows; the routing is looked at and skipped.
void BM_monitored_gateway_nothing_reported(benchmark::State& state) {
    trivial_router router;
    lm::llm_router_gateway_registry metrics;
    lm::monitored_router monitored{router, metrics};
    const lm::request_options options{.model = "gpt-4", .tenant_id = "tenant-a"};
    process_loop(state, monitored, options);
}
BENCHMARK(BM_monitored_gateway_nothing_reported);

// The same with a report of a retry (two attempts), two upstream states and the
// router's overhead, carried by the options: each attempt and state is a series
// lookup by label values.
void BM_monitored_gateway_report(benchmark::State& state) {
    trivial_router router;
    lm::llm_router_gateway_registry metrics;
    lm::monitored_router monitored{router, metrics};
    lm::routing_report report;
    report.attempts = {{"gpt-4", "gpt-4-1", lm::attempt_result::rate_limited},
                       {"gpt-4", "gpt-4-2", lm::attempt_result::success}};
    report.upstreams = {{"gpt-4", "gpt-4-1", lm::upstream_state::degraded, 10, 1000},
                        {"gpt-4", "gpt-4-2", lm::upstream_state::up, 11, 1100}};
    report.overhead_seconds = 0.0004;
    const lm::request_options options{.model = "gpt-4", .tenant_id = "tenant-a", .routing = &report};
    process_loop(state, monitored, options);
}
BENCHMARK(BM_monitored_gateway_report);

// Two threads on the same label set (each writes its own stripe).
void BM_monitored_tutorial_threads(benchmark::State& state) {
    static trivial_router router;
    static lm::catalog_registry metrics;
    static lm::monitored_router monitored{router, metrics};
    const lm::request_options options{.model = "gpt-4", .tenant_id = "tenant-a"};
    process_loop(state, monitored, options);
}
BENCHMARK(BM_monitored_tutorial_threads)->Threads(2);

}  // namespace

BENCHMARK_MAIN();

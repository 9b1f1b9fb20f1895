// The decorator's own cost: monitored_router::process() against calling the
// bare router directly, with every tutorial metric recorded (inference count,
// duration, tokens, cost). Run on a quiet machine, e.g.
//
//     build/gcc/bin/bench_instrument --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// and subtract the medians: BM_monitored_* - BM_bare_router.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include <llmetrics/exposition/render.hpp>
#include <llmetrics/instrument/catalog.hpp>
#include <llmetrics/instrument/genai_catalog.hpp>
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

void BM_bare_router(benchmark::State& state) {
    trivial_router router;
    const lm::request_options options{.model = "gpt-4", .tenant_id = "tenant-a"};
    for (auto _ : state) {
        auto r = router.process("Hello", options);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_bare_router);

void BM_monitored_tutorial(benchmark::State& state) {
    trivial_router router;
    lm::catalog_registry metrics;
    lm::monitored_router monitored{router, metrics};
    const lm::request_options options{.model = "gpt-4", .tenant_id = "tenant-a"};
    for (auto _ : state) {
        auto r = monitored.process("Hello", options);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_monitored_tutorial);

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
    for (auto _ : state) {
        auto r = monitored.process("Hello", options);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_monitored_tutorial_and_genai);

// Two threads on the same label set (each writes its own stripe).
void BM_monitored_tutorial_threads(benchmark::State& state) {
    static trivial_router router;
    static lm::catalog_registry metrics;
    static lm::monitored_router monitored{router, metrics};
    const lm::request_options options{.model = "gpt-4", .tenant_id = "tenant-a"};
    for (auto _ : state) {
        auto r = monitored.process("Hello", options);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_monitored_tutorial_threads)->Threads(2);

}  // namespace

BENCHMARK_MAIN();

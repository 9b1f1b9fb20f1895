#pragma once
// The registries the render and push benchmarks share (bench_core, bench_remote_write):
// families, how they are filled, and the loop that renders one source whole.

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <string>

#include <llmetrics/llmetrics.hpp>
#include <llmetrics/exposition/render.hpp>

namespace bench {

namespace lm = llmetrics;

using requests_total = lm::counter<"http_requests_total", "Total number of HTTP requests",
                                   lm::labels<"method", "route", "status_code", "tenant_id">, lm::max_series<20000>>;
using duration_seconds =
    lm::histogram<"http_request_duration_seconds", "Duration of HTTP requests in seconds",
                  lm::labels<"method", "route", "tenant_id">, lm::buckets<0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10>>;
using metrics = lm::registry<lm::prefix<"llm_router_">, requests_total, duration_seconds>;

using ttft_seconds = lm::native_histogram<"ttft_seconds", "Time to first token", lm::labels<"model_id", "tenant_id">,
                                          lm::max_series<2000>>;
using native_metrics = lm::registry<lm::prefix<"llm_router_">, ttft_seconds>;

// 10,000 counter series and 1,000 histogram series (10 buckets each): 23,000
// float samples (1,000 x (11 buckets + _sum + _count) + 10,000), and the
// registry's own 5 (rejected values, dropped series, collector errors).
inline constexpr int render_counters = 10000;
inline constexpr int render_histograms = 1000;
inline constexpr int render_buckets = 10;
inline constexpr std::uint64_t render_samples = render_counters + render_histograms * (render_buckets + 3);

inline void fill_render_registry(metrics& m) {
    for (int i = 0; i < render_counters; ++i)
        m.get<requests_total>().labels("GET", "/route/" + std::to_string(i % 100), "200",
                                       "tenant-" + std::to_string(i / 100)).inc(i);
    for (int i = 0; i < render_histograms; ++i)
        m.get<duration_seconds>().labels("POST", "/route/" + std::to_string(i % 10),
                                         "tenant-" + std::to_string(i / 10)).observe(i * 0.01);
}

// The 10k + 1k registry, filled once per process.
inline metrics& render_registry() {
    static metrics m;
    static const bool filled = (fill_render_registry(m), true);
    (void)filled;
    return m;
}

// 1,000 native histogram series, each with one observation in each of 160
// consecutive buckets (schema 3).
inline native_metrics& native_render_registry() {
    static native_metrics m;
    static const bool filled = [] {
        for (int i = 0; i < 1000; ++i) {
            auto& h = m.get<ttft_seconds>().labels("model-" + std::to_string(i % 10), "tenant-" + std::to_string(i / 10));
            for (int b = 0; b < 160; ++b) h.observe(std::exp2((b + 0.5) / 8 - 10));
        }
        return true;
    }();
    (void)filled;
    return m;
}

// Renders `source` whole in the format given as the benchmark's argument; the
// body's size becomes the `bytes` counter.
template <class Source>
void render_loop(benchmark::State& state, const Source& source) {
    const auto f = static_cast<lm::format>(state.range(0));
    std::string body;
    for (auto _ : state) {
        body.clear();
        lm::render_to(body, source, f);
        benchmark::DoNotOptimize(body.data());
    }
    state.counters["bytes"] = static_cast<double>(body.size());
}

}  // namespace bench

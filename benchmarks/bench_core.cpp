// Hot-path and scrape costs of the core, each beside a relaxed fetch_add
// baseline measured in the same run (targets are ratios to it; see README).
//
//   build/gcc/bin/bench_core --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <malloc.h>

#include <llmetrics/llmetrics.hpp>
#include <llmetrics/exposition/render.hpp>

#include "render_fixtures.hpp"

namespace lm = llmetrics;

// Heap in use, from glibc's allocator (includes its per-chunk overhead).
static std::size_t heap_in_use() { return mallinfo2().uordblks; }

namespace {

using bench::duration_seconds;
using bench::metrics;
using bench::requests_total;
// The same counter with series that expire (series_ttl<S>): the hot path must cost the same.
using requests_ttl_total =
    lm::counter<"http_requests_ttl_total", "Total number of HTTP requests, series expiring",
                lm::labels<"method", "route", "status_code", "tenant_id">, lm::max_series<20000>, lm::series_ttl<300>>;
using ttl_metrics = lm::registry<lm::prefix<"llm_router_">, requests_ttl_total>;

metrics& shared_metrics() {
    static metrics m;
    return m;
}
ttl_metrics& shared_ttl_metrics() {
    static ttl_metrics m;
    return m;
}

std::atomic<std::uint64_t> g_baseline{0};

void BM_fetch_add_baseline(benchmark::State& state) {
    for (auto _ : state) g_baseline.fetch_add(1, std::memory_order_relaxed);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_fetch_add_baseline)->Threads(1)->Threads(2)->UseRealTime();

// Control for every 2-thread figure: each thread adds to its own cache line, so
// the aggregate at 2 threads is what the machine gives two independent threads.
struct alignas(64) own_line {
    std::atomic<std::uint64_t> n{0};
};
own_line g_own_lines[2];

void BM_fetch_add_own_line(benchmark::State& state) {
    auto& n = g_own_lines[state.thread_index() % 2].n;
    for (auto _ : state) n.fetch_add(1, std::memory_order_relaxed);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_fetch_add_own_line)->Threads(1)->Threads(2)->UseRealTime();

void BM_counter_inc(benchmark::State& state) {
    auto& c = shared_metrics().get<requests_total>().labels("GET", "/chat", "200", "tenant-a");
    for (auto _ : state) c.inc();
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_counter_inc)->Threads(1)->Threads(2)->UseRealTime();

void BM_counter_inc_ttl(benchmark::State& state) {
    const auto c = shared_ttl_metrics().get<requests_ttl_total>().labels("GET", "/chat", "200", "tenant-a");
    for (auto _ : state) c.inc();
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_counter_inc_ttl)->Threads(1)->Threads(2)->UseRealTime();

void BM_histogram_observe(benchmark::State& state) {
    auto& h = shared_metrics().get<duration_seconds>().labels("GET", "/chat", "tenant-a");
    double v = 0.0;
    for (auto _ : state) {
        h.observe(v);
        v = v < 12.0 ? v + 0.37 : 0.0;  // walk across the buckets
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_histogram_observe)->Threads(1)->Threads(2)->UseRealTime();

// Control for the 2-thread figures: each thread observes its own series, so
// nothing at all is shared. The scaling this reaches is what the machine
// allows; one shared series should come close to it.
void BM_histogram_observe_own_series(benchmark::State& state) {
    const std::string tenant = "tenant-" + std::to_string(state.thread_index());
    auto& h = shared_metrics().get<duration_seconds>().labels("GET", "/chat", tenant);
    double v = 0.0;
    for (auto _ : state) {
        h.observe(v);
        v = v < 12.0 ? v + 0.37 : 0.0;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_histogram_observe_own_series)->Threads(1)->Threads(2)->UseRealTime();

void BM_labels_lookup_inc(benchmark::State& state) {
    auto& fam = shared_metrics().get<requests_total>();
    fam.labels("GET", "/chat", "200", "tenant-a").inc();
    for (auto _ : state) fam.labels("GET", "/chat", "200", "tenant-a").inc();
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_labels_lookup_inc);

// The lookup of an expiring family also holds the series for the statement (a CAS
// on the node, and a decrement when the temporary handle goes).
void BM_labels_lookup_inc_ttl(benchmark::State& state) {
    auto& fam = shared_ttl_metrics().get<requests_ttl_total>();
    fam.labels("GET", "/chat", "200", "tenant-a").inc();
    for (auto _ : state) fam.labels("GET", "/chat", "200", "tenant-a").inc();
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_labels_lookup_inc_ttl);

// One sweep of 10,000 expiring counter series (what a scrape adds before rendering them).
void BM_expire_sweep_10000(benchmark::State& state) {
    lm::registry<requests_ttl_total> m;
    auto& fam = m.get<requests_ttl_total>();
    for (int i = 0; i < 10000; ++i) fam.labels("GET", "/chat", "200", "tenant-" + std::to_string(i)).inc();
    for (auto _ : state) benchmark::DoNotOptimize(m.expire_series());
    state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_expire_sweep_10000)->Unit(benchmark::kMicrosecond);

// 10,000 counter series and 1,000 histogram series, rendered whole.
void BM_render(benchmark::State& state) { bench::render_loop(state, bench::render_registry()); }
BENCHMARK(BM_render)
    ->Arg(static_cast<int>(lm::format::prometheus))
    ->Arg(static_cast<int>(lm::format::openmetrics))
    ->Arg(static_cast<int>(lm::format::json))
    ->Arg(static_cast<int>(lm::format::protobuf))
    ->Unit(benchmark::kMillisecond);

// 1,000 native histogram series with 160 buckets each (schema 3, three spans),
// from a collector snapshot until native families are in storage.
void BM_render_native(benchmark::State& state) {
    static const lm::snapshot_source source = [] {
        lm::family_snapshot family{"llm_router_ttft_seconds", "Time to first token", "seconds",
                                   lm::metric_type::histogram, {}};
        for (int i = 0; i < 1000; ++i) {
            lm::native_histogram_value n;
            n.zero_threshold = 0x1p-128;
            n.positive_spans = {{-80, 60}, {3, 50}, {7, 50}};
            for (std::uint64_t b = 0; b < 160; ++b) n.positive_counts.push_back(1 + (b * 7 + static_cast<std::uint64_t>(i)) % 500);
            for (const std::uint64_t c : n.positive_counts) n.count += c;
            n.sum = 1234.5 + i;
            family.series.push_back({{{"model_id", "model-" + std::to_string(i % 10)},
                                      {"tenant_id", "tenant-" + std::to_string(i / 10)}},
                                     n, 1.7e9});
        }
        return lm::snapshot_source{{family}};
    }();
    bench::render_loop(state, source);
}
BENCHMARK(BM_render_native)
    ->Arg(static_cast<int>(lm::format::protobuf))
    ->Arg(static_cast<int>(lm::format::json))
    ->Unit(benchmark::kMillisecond);

// The same from storage: a native_histogram family, 1,000 series, each with one
// observation in each of 160 consecutive buckets (schema 3).
void BM_render_native_family(benchmark::State& state) { bench::render_loop(state, bench::native_render_registry()); }
BENCHMARK(BM_render_native_family)
    ->Arg(static_cast<int>(lm::format::protobuf))
    ->Unit(benchmark::kMillisecond);

// Heap bytes per series: heap in use around the creation of 10,000 series.
template <class Family, class Make>
double bytes_per_series(Make make) {
    const std::size_t before = heap_in_use();
    auto* m = new metrics;
    for (int i = 0; i < 10000; ++i) make(m->get<Family>(), i);
    const std::size_t after = heap_in_use();
    delete m;
    return static_cast<double>(after - before) / 10000.0;
}

void BM_memory_per_counter_series(benchmark::State& state) {
    double bytes = 0;
    for (auto _ : state)
        bytes = bytes_per_series<requests_total>([](auto& fam, int i) {
            fam.labels("GET", "/chat", "200", "tenant-" + std::to_string(i)).inc();
        });
    state.counters["bytes_per_series"] = bytes;
}
BENCHMARK(BM_memory_per_counter_series)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_memory_per_histogram_series(benchmark::State& state) {
    double bytes = 0;
    for (auto _ : state)
        bytes = bytes_per_series<duration_seconds>([](auto& fam, int i) {
            fam.labels("GET", "/chat", "tenant-" + std::to_string(i)).observe(0.2);
        });
    state.counters["bytes_per_series"] = bytes;
}
BENCHMARK(BM_memory_per_histogram_series)->Iterations(1)->Unit(benchmark::kMillisecond);

// --- native histograms (issue 11): the same hot path and memory, schema 3 --------------
using native_seconds = lm::native_histogram<"native_request_duration_seconds", "Duration of requests in seconds",
                                            lm::labels<"tenant_id">, lm::max_series<20000>>;
using native_metrics = lm::registry<native_seconds>;

native_metrics& shared_native() {
    static native_metrics m;
    return m;
}

// Walks 1 ms ... 12 s as the classic benchmark does: ~110 distinct native buckets.
void BM_native_observe(benchmark::State& state) {
    auto& h = shared_native().get<native_seconds>().labels("tenant-a");
    double v = 0.001;
    for (auto _ : state) {
        h.observe(v);
        v = v < 12.0 ? v * 1.09 : 0.001;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_native_observe)->Threads(1)->Threads(2)->UseRealTime();

// The same with owners pinning by a locked instruction, as where membarrier is
// missing (storage/detail/asymmetric_fence.hpp): the cost of the fallback.
native_metrics& pinned_native() {
    static native_metrics* m = [] {
        lm::detail::asymmetric_fence_override.store(0);
        auto* made = new native_metrics;
        made->get<native_seconds>().labels("tenant-a");  // the cell takes its mode here
        lm::detail::asymmetric_fence_override.store(-1);
        return made;
    }();
    return *m;
}
void BM_native_observe_pinned(benchmark::State& state) {
    auto& h = pinned_native().get<native_seconds>().labels("tenant-a");
    double v = 0.001;
    for (auto _ : state) {
        h.observe(v);
        v = v < 12.0 ? v * 1.09 : 0.001;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_native_observe_pinned)->Threads(1)->Threads(2)->UseRealTime();

void BM_native_observe_own_series(benchmark::State& state) {
    auto& h = shared_native().get<native_seconds>().labels("tenant-" + std::to_string(state.thread_index()));
    double v = 0.001;
    for (auto _ : state) {
        h.observe(v);
        v = v < 12.0 ? v * 1.09 : 0.001;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_native_observe_own_series)->Threads(1)->Threads(2)->UseRealTime();

// Heap bytes per native series with 160 buckets used (indices 0 ... 159 at schema
// 3: the default limit exactly), written by one thread, so one stripe's block.
void BM_memory_per_native_series_160_buckets(benchmark::State& state) {
    double bytes = 0;
    for (auto _ : state) {
        const std::size_t before = heap_in_use();
        auto* m = new native_metrics;
        for (int i = 0; i < 2000; ++i) {
            auto& s = m->get<native_seconds>().labels("tenant-" + std::to_string(i));
            for (int k = 0; k < 160; ++k) s.observe(std::exp2(k / 8.0));
        }
        const std::size_t after = heap_in_use();
        delete m;
        bytes = static_cast<double>(after - before) / 2000.0;
    }
    state.counters["bytes_per_series"] = bytes;
}
BENCHMARK(BM_memory_per_native_series_160_buckets)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

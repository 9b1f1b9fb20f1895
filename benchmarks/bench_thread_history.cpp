// Two threads on one series after k short-lived threads wrote and exited: the
// reproduction of the stripe lottery (round-robin hand-out made the two live
// threads share a stripe for some k). Each iteration, the benchmark's thread and
// one partner thread each write one batch to the same series; items/s over both
// threads, divided by BM_*_one_thread's, is the scaling. The stripes each
// thread wrote are reported as counters, so a slow run says why.
//
//   build/gcc/bin/bench_thread_history --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include <llmetrics/llmetrics.hpp>

namespace lm = llmetrics;

namespace {

struct hits_total : lm::counter<"hits_total", "Hits"> {};
struct sizes : lm::histogram<"sizes", "Sizes", lm::labels<>,
                             lm::buckets<0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10>> {};
using metrics = lm::registry<hits_total, sizes>;

metrics& shared_metrics() {
    static metrics m;
    return m;
}

constexpr int batch = 1 << 16;

struct counter_writer {
    static auto& series() { return shared_metrics().get<hits_total>().labels(); }
    static void write_batch() {
        auto& c = series();
        for (int i = 0; i < batch; ++i) c.inc();
    }
};

struct histogram_writer {
    static auto& series() { return shared_metrics().get<sizes>().labels(); }
    static void write_batch() {
        auto& h = series();
        double v = 0.0;
        for (int i = 0; i < batch; ++i) {
            h.observe(v);
            v = v < 12.0 ? v + 0.37 : 0.0;  // walk across the buckets
        }
    }
};

template <class Writer>
void BM_one_thread(benchmark::State& state) {
    for (auto _ : state) Writer::write_batch();
    state.SetItemsProcessed(state.iterations() * batch);
    state.counters["stripe"] = static_cast<double>(lm::detail::this_thread_stripe());
}

template <class Writer>
void BM_two_threads_after_history(benchmark::State& state) {
    Writer::write_batch();  // this thread writes first, as a long-lived thread would
    for (auto k = state.range(0); k > 0; --k) std::thread([] { Writer::write_batch(); }).join();

    std::atomic<std::uint64_t> started{0}, finished{0};
    std::atomic<bool> stop{false};
    std::size_t partner_stripe = 0;
    std::thread partner([&] {
        partner_stripe = lm::detail::this_thread_stripe();
        for (std::uint64_t seen = 0;;) {
            std::uint64_t now;
            while ((now = started.load(std::memory_order_acquire)) == seen)
                if (stop.load(std::memory_order_relaxed)) return;
            seen = now;
            Writer::write_batch();
            finished.store(seen, std::memory_order_release);
        }
    });
    std::uint64_t round = 0;
    for (auto _ : state) {
        started.store(++round, std::memory_order_release);
        Writer::write_batch();
        while (finished.load(std::memory_order_acquire) != round) {
        }
    }
    stop = true;
    partner.join();
    state.SetItemsProcessed(state.iterations() * 2 * batch);
    state.counters["stripe_this"] = static_cast<double>(lm::detail::this_thread_stripe());
    state.counters["stripe_partner"] = static_cast<double>(partner_stripe);
}

BENCHMARK_TEMPLATE(BM_one_thread, counter_writer)->UseRealTime();
BENCHMARK_TEMPLATE(BM_two_threads_after_history, counter_writer)->DenseRange(0, 7)->UseRealTime();
BENCHMARK_TEMPLATE(BM_one_thread, histogram_writer)->UseRealTime();
BENCHMARK_TEMPLATE(BM_two_threads_after_history, histogram_writer)->DenseRange(0, 7)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

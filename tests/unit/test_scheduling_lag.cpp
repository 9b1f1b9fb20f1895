#include <llmetrics/collectors/scheduling_lag_collector.hpp>
#include <llmetrics/core/detail/timer_thread.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace lm = llmetrics;
using namespace std::chrono_literals;

namespace {

// Waits (up to 5 s) until the collector has taken at least n samples.
bool wait_for_samples(const lm::scheduling_lag_collector& c, std::uint64_t n) {
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (c.total_samples() < n) {
        if (std::chrono::steady_clock::now() > until)
            return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

}  // namespace

TEST_CASE("scheduling lag collector exports its gauges after sampling", "[scheduling_lag]") {
    lm::scheduling_lag_collector c({.prefix = "llm_router_", .period = 2ms, .window = 16});
    REQUIRE(wait_for_samples(c, 20));  // more than the window: the ring has wrapped

    std::vector<lm::family_snapshot> out;
    c.collect(out);
    const char* const names[] = {"scheduling_lag_seconds",      "scheduling_lag_min_seconds",
                                 "scheduling_lag_max_seconds",  "scheduling_lag_mean_seconds",
                                 "scheduling_lag_stddev_seconds", "scheduling_lag_p50_seconds",
                                 "scheduling_lag_p90_seconds",  "scheduling_lag_p99_seconds"};
    REQUIRE(out.size() == std::size(names));
    for (std::size_t i = 0; i < out.size(); ++i) {
        CHECK(out[i].name == std::string("llm_router_") + names[i]);
        CHECK(out[i].type == lm::metric_type::gauge);
        CHECK_FALSE(out[i].help.empty());
        REQUIRE(out[i].series.size() == 1);
        CHECK(out[i].series[0].labels.empty());
        CHECK(std::get<double>(out[i].series[0].value) >= 0.0);
    }

    const auto s = c.stats();
    REQUIRE(s);
    CHECK(s->samples == 16);
    CHECK(s->min <= s->p50);
    CHECK(s->p50 <= s->p90);
    CHECK(s->p90 <= s->p99);
    CHECK(s->p99 <= s->max);
    CHECK(s->mean >= s->min);
    CHECK(s->mean <= s->max);
    CHECK(s->stddev >= 0.0);
    CHECK(s->last >= 0.0);
    // A lag is measured against a 2 ms period; even a loaded CI machine
    // schedules a sleeping thread within a few seconds.
    CHECK(s->max < 5.0);
}

TEST_CASE("scheduling lag collector exports nothing before the first sample", "[scheduling_lag]") {
    lm::scheduling_lag_collector c({.period = 1h});
    std::vector<lm::family_snapshot> out;
    c.collect(out);
    CHECK(out.empty());
    CHECK_FALSE(c.stats());
    CHECK(c.total_samples() == 0);
}

TEST_CASE("scheduling lag collector stops promptly", "[scheduling_lag]") {
    using clock = std::chrono::steady_clock;
    SECTION("destructor wakes a thread sleeping for an hour") {
        auto c = std::make_unique<lm::scheduling_lag_collector>(lm::scheduling_lag_options{.period = 1h});
        std::this_thread::sleep_for(10ms);  // let the thread reach its wait
        const auto start = clock::now();
        c.reset();
        CHECK(clock::now() - start < 1s);
    }
    SECTION("stop() is idempotent and keeps what was measured") {
        lm::scheduling_lag_collector c({.period = 1ms});
        REQUIRE(wait_for_samples(c, 3));
        const auto start = clock::now();
        c.stop();
        CHECK(clock::now() - start < 1s);
        const auto taken = c.total_samples();
        c.stop();
        std::this_thread::sleep_for(20ms);
        CHECK(c.total_samples() == taken);
        std::vector<lm::family_snapshot> out;
        c.collect(out);
        CHECK(out.size() == 8);
    }
}

TEST_CASE("scheduling lag options are sanitised", "[scheduling_lag]") {
    lm::scheduling_lag_collector c({.period = 0ms, .window = 0});
    CHECK(c.options().period == 100ms);
    CHECK(c.options().window == 1);
    lm::scheduling_lag_collector named("svc_");
    CHECK(named.options().prefix == "svc_");
    CHECK(named.options().period == 100ms);
}

TEST_CASE("the lag timer thread: start hook first, then wake-ups with their lag", "[scheduling_lag]") {
    for (const auto schedule : {lm::detail::timer_schedule::fixed_rate, lm::detail::timer_schedule::after_wakeup}) {
        std::mutex m;
        std::vector<std::int64_t> events;  // -1: the start hook; otherwise a lag in ns
        std::atomic<int> wakeups{0};
        lm::detail::timer_thread timer;
        CHECK_FALSE(timer.running());
        timer.start(
            2ms, schedule,
            [&](std::chrono::nanoseconds lag) {
                std::lock_guard lock(m);
                events.push_back(lag.count());
                ++wakeups;
            },
            [&] {
                std::lock_guard lock(m);
                events.push_back(-1);
            });
        CHECK(timer.running());
        const auto until = std::chrono::steady_clock::now() + 5s;
        while (wakeups < 5 && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(1ms);
        timer.stop();
        CHECK_FALSE(timer.running());
        std::lock_guard lock(m);
        REQUIRE(events.size() >= 6);
        CHECK(events[0] == -1);
        for (std::size_t i = 1; i < events.size(); ++i)
            CHECK(events[i] >= 0);
    }

    // A long period: stop() wakes the thread at once.
    lm::detail::timer_thread slow;
    slow.start(1h, lm::detail::timer_schedule::fixed_rate, [](std::chrono::nanoseconds) {});
    const auto t = std::chrono::steady_clock::now();
    slow.stop();
    CHECK(std::chrono::steady_clock::now() - t < 1s);
}

// core/tsc_clock.hpp: the TSC time source measures what steady_clock measures,
// or is steady_clock itself where the TSC is not safe.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <thread>

#include <llmetrics/core/tsc_clock.hpp>
#include <llmetrics/instrument.hpp>

namespace lm = llmetrics;

namespace {

std::int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Both clocks read at (nearly) one instant: a steady_clock reading bracketed by
// two TSC readings less than 2 us apart (retried when the thread was preempted).
struct paired_reading {
    std::int64_t tsc_ns;
    std::int64_t steady;
};

paired_reading read_both(const lm::time_source& tsc) {
    for (;;) {
        const std::int64_t a = tsc.now_ns();
        const std::int64_t s = steady_ns();
        const std::int64_t b = tsc.now_ns();
        if (b - a < 2'000) return {a + (b - a) / 2, s};
    }
}

struct quiet_router {
    lm::inference_result process(std::string_view, const lm::request_options&) { return {}; }
    void register_model(const lm::model_config&) {}
};

}  // namespace

TEST_CASE("tsc: durations agree with steady_clock within 1% from 1 ms to 1 s", "[tsc]") {
    const lm::tsc_calibration& tsc = lm::tsc_calibration::get();
    INFO(tsc.reason());
    const std::string_view reason = tsc.reason();
    if (!tsc.usable()) {
        // Not safe here: the default is steady_clock, and the reason says why.
        CHECK(tsc.source().is_steady_clock());
        CHECK(lm::default_duration_source().is_steady_clock());
        CHECK(reason.starts_with("steady_clock: "));
        return;
    }
    CHECK(reason.starts_with("tsc: "));
    CHECK(tsc.ticks_per_ns() > 0.05);
    CHECK(tsc.ticks_per_ns() < 20.0);
    const lm::time_source source = tsc.source();
    REQUIRE(source.reads_tsc());
    CHECK(lm::default_duration_source().reads_tsc());
    for (const int ms : {1, 10, 100, 1000}) {
        const paired_reading start = read_both(source);
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        const paired_reading end = read_both(source);
        const double by_tsc = static_cast<double>(end.tsc_ns - start.tsc_ns);
        const double by_steady = static_cast<double>(end.steady - start.steady);
        INFO(ms << " ms: tsc " << by_tsc << " ns, steady_clock " << by_steady << " ns");
        CHECK(std::abs(by_tsc - by_steady) <= 0.01 * by_steady);
    }
}

TEST_CASE("tsc: the TSC source tells wall time by system_clock, and durations never go negative", "[tsc]") {
    const lm::time_source source = lm::tsc_calibration::get().source();
    const auto wall = source.wall_now();
    CHECK(std::chrono::abs(wall - std::chrono::system_clock::now()) < std::chrono::seconds(1));

    struct backwards_clock {
        std::chrono::nanoseconds t{std::chrono::seconds(10)};
        std::chrono::nanoseconds now() const { return t; }
    } clock;
    const lm::time_source fake = lm::time_source::of(clock);
    const std::int64_t start = fake.now_ns();
    clock.t -= std::chrono::milliseconds(5);  // as a reading on a CPU a little behind would
    CHECK(fake.seconds_since(start) == 0.0);
    clock.t += std::chrono::milliseconds(10);
    CHECK(fake.seconds_since(start) == Approx(0.005));
}

TEST_CASE("tsc: monitored_router starts with the default duration source", "[tsc]") {
    lm::catalog_registry metrics;
    quiet_router inner;
    lm::monitored_router router(inner, metrics);
    CHECK(router.clock().reads_tsc() == lm::tsc_calibration::get().usable());
    router.set_time_source({});
    CHECK(router.clock().is_steady_clock());
}

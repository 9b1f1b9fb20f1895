#include <llmetrics/analytics.hpp>
#include <llmetrics/analytics/detail/bounded_history.hpp>
#include <llmetrics/analytics/detail/compute_trend.hpp>
#include <llmetrics/analytics/detail/error_flag.hpp>
#include <llmetrics/core/detail/rfc3339.hpp>
#include <llmetrics/core/detail/sample_stats.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace lm = llmetrics;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// 2024-03-05T06:07:08.009Z
const lm::wall_time t0 = lm::wall_time{std::chrono::milliseconds{1709618828009}};

lm::analytics_options manual_options(const lm::manual_clock& clock) {
    lm::analytics_options o;
    o.clock = lm::time_source::of(clock);
    o.start_sampler = false;
    return o;
}

const lm::family_snapshot* find_family(const std::vector<lm::family_snapshot>& fs, const std::string& name) {
    for (const auto& f : fs)
        if (f.name == name) return &f;
    return nullptr;
}

using label_list = std::vector<std::pair<std::string, std::string>>;

const lm::series_snapshot* find_series(const lm::family_snapshot& f, const label_list& labels) {
    for (const auto& s : f.series)
        if (s.labels == labels) return &s;
    return nullptr;
}

double gauge_of(const std::vector<lm::family_snapshot>& fs, const std::string& name, const label_list& labels = {}) {
    const auto* f = find_family(fs, name);
    REQUIRE(f != nullptr);
    CHECK(f->type == lm::metric_type::gauge);
    const auto* s = find_series(*f, labels);
    REQUIRE(s != nullptr);
    return std::get<double>(s->value);
}

std::uint64_t counter_of(const std::vector<lm::family_snapshot>& fs, const std::string& name,
                         const label_list& labels = {}) {
    const auto* f = find_family(fs, name);
    REQUIRE(f != nullptr);
    CHECK(f->type == lm::metric_type::counter);
    const auto* s = find_series(*f, labels);
    REQUIRE(s != nullptr);
    const auto& c = std::get<lm::counter_value>(s->value);
    CHECK(c.fractional == 0.0);
    return c.integral;
}

}  // namespace

// --- building blocks -----------------------------------------------------------

TEST_CASE("one time_source: manual_clock drives durations and instants alike", "[analytics]") {
    lm::manual_clock clock{t0};
    const lm::time_source time = lm::time_source::of(clock);
    CHECK_FALSE(time.is_steady_clock());
    CHECK(time.wall_now() == t0);
    const std::int64_t start = time.now_ns();
    clock.advance(1500ms);
    CHECK(time.now_ns() - start == 1'500'000'000);
    CHECK(time.seconds_since(start) == 1.5);
    CHECK(time.wall_now() == t0 + 1500ms);
    clock.set(lm::wall_time{});
    CHECK(time.wall_now() == lm::wall_time{});

    // The default: steady durations, system-clock instants.
    const lm::time_source real;
    CHECK(real.is_steady_clock());
    const auto before = std::chrono::system_clock::now();
    const lm::wall_time now = real.wall_now();
    CHECK(now >= before);
    CHECK(now <= std::chrono::system_clock::now());

    // The analytics collector stamps what it records with the wall reading.
    lm::manual_clock wall{t0};
    lm::analytics_options o;
    o.clock = lm::time_source::of(wall);
    o.start_sampler = false;
    lm::analytics_collector c{o};
    CHECK(c.now() == t0);
    wall.advance(2s);
    c.record_business_event("api_call", 1);
    const auto events = c.business().events("api_call");
    REQUIRE(events.size() == 1);
    CHECK(events[0].timestamp == t0 + 2s);
}

TEST_CASE("bounded_history keeps the latest 500 once past 1000", "[analytics]") {
    lm::detail::bounded_history<int> h;
    for (int i = 1; i <= 1000; ++i) h.push_back(i);
    CHECK(h.size() == 1000);
    CHECK(h.dropped() == 0);
    h.push_back(1001);
    REQUIRE(h.size() == 500);
    CHECK(h[0] == 502);
    CHECK(h.back() == 1001);
    CHECK(h.dropped() == 501);
    for (int i = 1002; i <= 1501; ++i) h.push_back(i);
    CHECK(h.size() == 1000);
    h.push_back(1502);
    CHECK(h.size() == 500);
    CHECK(h[0] == 1003);
    CHECK(h.tail_start(10) == 490);
    CHECK(h.tail_start(600) == 0);

    lm::detail::bounded_history<int> small{{3, 2}};
    for (int i = 1; i <= 4; ++i) small.push_back(i);
    CHECK(std::vector<int>(small.begin(), small.end()) == std::vector<int>{3, 4});

    CHECK_THROWS_AS((lm::detail::bounded_history<int>{{10, 11}}), std::invalid_argument);
    CHECK_THROWS_AS((lm::detail::bounded_history<int>{{10, 0}}), std::invalid_argument);
}

TEST_CASE("trend compares the halves with a +-10% threshold", "[analytics]") {
    using lm::trend;
    const auto t = [](std::vector<double> v) { return lm::detail::compute_trend(v); };
    CHECK(t({}) == trend::stable);
    CHECK(t({5}) == trend::stable);
    CHECK(t({100, 100, 120, 120}) == trend::increasing);  // +20%
    CHECK(t({100, 100, 80, 80}) == trend::decreasing);    // -20%
    CHECK(t({100, 105}) == trend::stable);                // +5%
    CHECK(t({100, 110}) == trend::stable);                // exactly +10% is not "more than"
    CHECK(t({100, 90}) == trend::stable);                 // exactly -10%
    CHECK(t({100, 110.5}) == trend::increasing);
    CHECK(t({100, 89.5}) == trend::decreasing);
    // Odd count: the first half has floor(n/2) samples: [100] vs [100, 130] (avg 115, +15%).
    CHECK(t({100, 100, 130}) == trend::increasing);
    // ... and [100] vs [130, 70] (avg 100) is stable.
    CHECK(t({100, 130, 70}) == trend::stable);
    // Zero first half: the sign of the second half decides.
    CHECK(t({0, 0, 5, 5}) == trend::increasing);
    CHECK(t({0, 0, -1, -1}) == trend::decreasing);
    CHECK(t({0, 0, 0, 0}) == trend::stable);
    CHECK(t({-1, 1, 3}) == trend::increasing);  // [-1] vs [1, 3] avg 2: +300%
    CHECK(t({1, -1, 0}) == trend::decreasing);  // [1] vs [-1, 0] avg -0.5: -150%
    // Negative averages keep their direction: -10 -> -5 is an increase (the tutorial's
    // division by a negative average would call it decreasing).
    CHECK(t({-10, -10, -5, -5}) == trend::increasing);
    CHECK(t({-10, -10, -20, -20}) == trend::decreasing);
    // Non-finite samples are skipped.
    CHECK(t({NAN, 100, INFINITY, 150}) == trend::increasing);
    CHECK(t({NAN, 100}) == trend::stable);
    CHECK(lm::to_string(trend::increasing) == "increasing");
    CHECK(lm::to_string(trend::decreasing) == "decreasing");
    CHECK(lm::to_string(trend::stable) == "stable");
    // A custom threshold.
    CHECK(lm::detail::compute_trend(std::vector<double>{100, 105}, 0.04) == trend::increasing);
}

TEST_CASE("health score thresholds", "[analytics]") {
    const auto h = [](std::optional<double> mem, std::optional<double> lag) {
        return lm::system_health_score(mem, lag);
    };
    CHECK(h(std::nullopt, std::nullopt) == 100);
    CHECK(h(0.5, 10) == 100);
    CHECK(h(0.7, 50) == 100);       // thresholds are "above"
    CHECK(h(0.7001, 50) == 85);
    CHECK(h(0.9, 50) == 85);
    CHECK(h(0.9001, 50) == 70);
    CHECK(h(1.5, std::nullopt) == 70);
    CHECK(h(0.1, 50.01) == 90);
    CHECK(h(0.1, 100) == 90);
    CHECK(h(0.1, 100.01) == 80);
    CHECK(h(0.95, 150) == 50);
    CHECK(h(0.8, 75) == 75);
    CHECK(h(std::nullopt, 1000) == 80);
}

TEST_CASE("health score from the latest memory and lag samples", "[analytics]") {
    namespace f = lm::system_field;
    lm::system_metric_store s;
    CHECK(lm::system_health_score(s) == 100);
    // memory use = rss / memoryLimit = 950 / 1000 = 0.95 -> -30; the heap fields play no part.
    s.record(lm::system_metric::memory_usage,
             {{"rss", 950}, {"heapUsed", 1}, {"heapTotal", 100}, {"memoryLimit", 1000}}, t0, f::rss);
    CHECK(lm::system_health_score(s) == 70);
    s.record(lm::system_metric::scheduling_lag, {{"lag", 60}}, t0, f::lag);
    CHECK(lm::system_health_score(s) == 60);
    // Only the latest sample counts.
    s.record(lm::system_metric::memory_usage, {{"rss", 750}, {"memoryLimit", 1000}}, t0 + 1s, f::rss);
    s.record(lm::system_metric::scheduling_lag, {{"lag", 101}}, t0 + 1s, f::lag);
    CHECK(lm::system_health_score(s) == 65);
    // A sample without a limit (or with a zero one) costs nothing.
    s.record(lm::system_metric::memory_usage, {{"rss", 750}}, t0 + 2s, f::rss);
    CHECK(lm::system_health_score(s) == 80);
    s.record(lm::system_metric::memory_usage, {{"rss", 750}, {"memoryLimit", 0}}, t0 + 3s, f::rss);
    CHECK(lm::system_health_score(s) == 80);
}

// --- satisfaction -----------------------------------------------------------------

TEST_CASE("satisfaction formula", "[analytics]") {
    using v = std::vector<double>;
    const auto score = [](double avg, v recent, std::size_t errors) {
        return lm::satisfaction_score(avg, recent, errors);
    };
    CHECK(lm::detail::population_variance(v{}) == 0);
    CHECK(lm::detail::population_variance(v{2, 4, 4, 4, 5, 5, 7, 9}) == 4);
    CHECK(score(1000, v{1000}, 0) == 85);                 // 50 + 20 (fast) + 15 (consistent)
    CHECK(score(1999, v{1000, 3000}, 0) == 70);           // fast, variance 1e6
    CHECK(score(2000, v{2000}, 0) == 65);                 // not < 2000
    CHECK(score(5000, v{1000, 9000}, 0) == 50);           // neither fast nor slow
    CHECK(score(10000, v{10000}, 0) == 65);               // not > 10000
    CHECK(score(10001, v{10001}, 0) == 45);               // slow: 50 - 20 + 15
    CHECK(score(12000, v{11000, 13000}, 0) == 30);
    // Variance of {1000, 1060}: mean 1030, (30^2 + 30^2)/2 = 900 < 1000 -> +15.
    CHECK(score(5000, v{1000, 1060}, 0) == 65);
    // {1000, 1064}: 32^2 = 1024 -> no bonus.
    CHECK(score(5000, v{1000, 1064}, 0) == 50);
    CHECK(score(1000, v{1000}, 3) == 55);                 // -10 per error
    CHECK(score(1000, v{1000}, 8) == 5);
    CHECK(score(1000, v{1000}, 9) == 0);                  // 85 - 90 clamped to 0
    CHECK(score(12000, v{1000, 30000}, 10) == 0);         // 30 - 100 clamped
}

TEST_CASE("the error flag is the truthiness of metadata.error", "[analytics]") {
    CHECK(lm::detail::is_error_flag(json{{"error", true}}));
    CHECK(lm::detail::is_error_flag(json{{"error", 1}}));
    CHECK(lm::detail::is_error_flag(json{{"error", -2.5}}));
    CHECK(lm::detail::is_error_flag(json{{"error", "timeout"}}));
    CHECK(lm::detail::is_error_flag(json{{"error", json::object()}}));
    CHECK(lm::detail::is_error_flag(json{{"error", json::array()}}));
    CHECK_FALSE(lm::detail::is_error_flag(json{{"error", false}}));
    CHECK_FALSE(lm::detail::is_error_flag(json{{"error", 0}}));
    CHECK_FALSE(lm::detail::is_error_flag(json{{"error", 0.0}}));
    CHECK_FALSE(lm::detail::is_error_flag(json{{"error", ""}}));
    CHECK_FALSE(lm::detail::is_error_flag(json{{"error", nullptr}}));
    CHECK_FALSE(lm::detail::is_error_flag(json{{"model", "gpt-4"}}));
    CHECK_FALSE(lm::detail::is_error_flag(json::object()));
    CHECK_FALSE(lm::detail::is_error_flag(json{}));
    CHECK_FALSE(lm::detail::is_error_flag(json::array({"error"})));
}

TEST_CASE("satisfaction counts errors among the last 10 interactions only", "[analytics]") {
    lm::user_tracker users;
    const json err = {{"error", true}}, ok = json::object();
    // Interactions 1-2 are errors, 3-12 are not; all take 1000 ms (fast, variance 0: 85 - 10/error).
    CHECK(users.record("u", "chat", 1000, err, t0) == 75);
    CHECK(users.record("u", "chat", 1000, err, t0) == 65);
    for (int i = 3; i <= 10; ++i) CHECK(users.record("u", "chat", 1000, ok, t0) == 65);
    CHECK(users.record("u", "chat", 1000, ok, t0) == 75);  // #11: window 2..11, one error
    CHECK(users.record("u", "chat", 1000, ok, t0) == 85);  // #12: window 3..12, none
    const auto stats = users.find("u");
    REQUIRE(stats);
    CHECK(stats->interactions == 12);
    CHECK(stats->total_duration_ms == 12000);
    CHECK(stats->last_satisfaction == 85);
    // Average of the last 10 scores: 65 x 8 (#3..#10), 75, 85.
    CHECK(stats->recent_satisfaction == Approx((65.0 * 8 + 75 + 85) / 10));
}

TEST_CASE("satisfaction: average over all interactions, variance over the last 10", "[analytics]") {
    lm::user_tracker users;
    const json ok = json::object();
    // #1: 30000 ms: avg 30000 (slow, -20), variance 0 (+15): 45.
    CHECK(users.record("u", "chat", 30000, ok, t0) == 45);
    // #2: avg 15500 (-20), variance of {30000, 1000} large: 30.
    CHECK(users.record("u", "chat", 1000, ok, t0) == 30);
    // #3: avg 32000/3 = 10666.7 (-20): 30.
    CHECK(users.record("u", "chat", 1000, ok, t0) == 30);
    // #4..#10: avg 8250 .. 3900 (no adjustment), the 30000 still in the window: 50.
    for (int i = 4; i <= 10; ++i) CHECK(users.record("u", "chat", 1000, ok, t0) == 50);
    // #11: the 30000 leaves the last 10 (variance 0, +15); avg 40000/11 = 3636: 65.
    CHECK(users.record("u", "chat", 1000, ok, t0) == 65);
    // ... until #30: avg 59000/30 = 1966.7 < 2000 (+20): 85. #29: 58000/29 = 2000, not below.
    for (int i = 12; i <= 29; ++i) CHECK(users.record("u", "chat", 1000, ok, t0) == 65);
    CHECK(users.record("u", "chat", 1000, ok, t0) == 85);

    // A single outlier in the window removes the consistency bonus.
    lm::user_tracker other;
    for (int i = 0; i < 10; ++i) other.record("v", "chat", 1000, ok, t0);
    CHECK(other.record("v", "chat", 5000, ok, t0) == 70);  // avg 15000/11 < 2000, variance > 1000
    for (int i = 0; i < 9; ++i) CHECK(other.record("v", "chat", 1000, ok, t0) == 70);
    CHECK(other.record("v", "chat", 1000, ok, t0) == 85);  // the 5000 left the window
}

TEST_CASE("user history is bounded but counts are not", "[analytics]") {
    lm::user_tracker users{{10, 5}, 10};
    for (int i = 0; i < 11; ++i) users.record("u", "chat", 100, json::object(), t0);
    CHECK(users.interactions("u").size() == 5);
    CHECK(users.find("u")->interactions == 11);
    CHECK(users.total_interactions() == 11);
    // Satisfaction still looks at the last 10 it can see (5 after trimming): 85.
    CHECK(users.record("u", "chat", 100, json::object(), t0) == 85);
}

// --- models -------------------------------------------------------------------------

TEST_CASE("model rolling averages over the last 100 requests", "[analytics]") {
    lm::model_tracker models;
    for (int i = 1; i <= 150; ++i)
        models.record("m", {static_cast<double>(i), i % 2 ? 80.0 : 100.0, i % 4 == 0}, t0);
    const auto s = models.find("m");
    REQUIRE(s);
    CHECK(s->total_requests == 150);
    CHECK(s->window == 100);
    CHECK(s->avg_latency_ms == 100.5);  // mean of 51..150
    CHECK(s->avg_accuracy == 90);       // 50 odd (80) and 50 even (100)
    CHECK(s->error_rate == 0.25);       // 52, 56, ..., 148: 25 of 100

    lm::model_tracker few;
    few.record("m", {1000, 90, false}, t0);
    few.record("m", {2000, 80, true}, t0);
    const auto f = few.find("m");
    CHECK(f->window == 2);
    CHECK(f->avg_latency_ms == 1500);
    CHECK(f->avg_accuracy == 85);
    CHECK(f->error_rate == 0.5);
    CHECK_FALSE(few.find("other"));
    // NaN counts as 0, as `x || 0` does in the tutorial.
    few.record("n", {NAN, NAN, false}, t0);
    CHECK(few.find("n")->avg_latency_ms == 0);
    CHECK_THROWS_AS((lm::model_tracker{{1000, 50}, 10, 100}), std::invalid_argument);
}

TEST_CASE("least recently seen users and models are evicted and counted", "[analytics]") {
    lm::manual_clock clock{t0};
    auto o = manual_options(clock);
    o.max_users = 2;
    o.max_models = 2;
    lm::analytics_collector c{o};

    c.record_user_interaction("a", "chat", 1000);
    c.record_user_interaction("b", "chat", 1000);
    c.record_user_interaction("a", "chat", 1000);  // a seen after b
    c.record_user_interaction("c", "chat", 1000);  // evicts b
    CHECK(c.users().size() == 2);
    CHECK(c.users().evicted() == 1);
    CHECK(c.users().find("a"));
    CHECK_FALSE(c.users().find("b"));
    CHECK(c.users().find("c"));
    c.record_user_interaction("b", "chat", 1000);  // back as new: evicts a
    CHECK_FALSE(c.users().find("a"));
    CHECK(c.users().find("b")->interactions == 1);
    CHECK(c.users().evicted() == 2);
    CHECK(c.users().total_interactions() == 5);

    c.record_model_performance("m1", {1000, 90, false});
    c.record_model_performance("m2", {1000, 90, false});
    c.record_model_performance("m1", {1000, 90, false});
    c.record_model_performance("m3", {1000, 90, false});  // evicts m2
    CHECK(c.models().size() == 2);
    CHECK(c.models().evicted() == 1);
    CHECK_FALSE(c.models().find("m2"));
    CHECK(c.models().find("m1")->total_requests == 2);

    std::vector<lm::family_snapshot> fs;
    c.collect(fs);
    CHECK(counter_of(fs, "llmetrics_analytics_evicted_total", {{"kind", "user"}}) == 2);
    CHECK(counter_of(fs, "llmetrics_analytics_evicted_total", {{"kind", "model"}}) == 1);
    CHECK(gauge_of(fs, "llmetrics_analytics_users_tracked") == 2);
    CHECK(counter_of(fs, "llmetrics_analytics_user_interactions_total") == 5);
    const auto* latency = find_family(fs, "llmetrics_analytics_model_latency_seconds");
    REQUIRE(latency);
    CHECK(latency->series.size() == 2);  // evicted models are no longer exported

    const json r = c.generate_report();
    CHECK(r["summary"]["totalUsers"] == 2);
    CHECK(r["summary"]["totalModels"] == 2);
    CHECK(r["users"]["activeUsers"] == 2);
    CHECK(r["users"]["totalInteractions"] == 2);  // c's and b's; a's and the old b's are gone
    CHECK(r["models"].size() == 2);
}

// --- business events ------------------------------------------------------------------

TEST_CASE("business events: bounded per type, report over the window", "[analytics]") {
    lm::manual_clock clock{t0};
    lm::analytics_collector c{manual_options(clock)};
    for (int i = 0; i < 1001; ++i) c.record_business_event("api_call", 1, {{"endpoint", "/chat"}});
    CHECK(c.business().events("api_call").size() == 500);
    CHECK(c.business().events("api_call").front().metadata["endpoint"] == "/chat");
    json r = c.generate_report();
    CHECK(r["business"]["api_call"]["count"] == 500);  // what is retained
    CHECK(r["business"]["api_call"]["totalValue"] == 500.0);
    CHECK(r["business"]["api_call"]["avgValue"] == 1.0);

    std::vector<lm::family_snapshot> fs;
    c.collect(fs);
    CHECK(counter_of(fs, "llmetrics_analytics_business_events_total", {{"type", "api_call"}}) == 1001);
    CHECK(gauge_of(fs, "llmetrics_analytics_business_event_value", {{"type", "api_call"}}) == 1001);

    // Values: 2.5, 7.5 now; 100 eleven minutes ago is outside a 10-minute window.
    c.record_business_event("revenue", 100, {{"plan", "premium"}});
    clock.advance(11min);
    c.record_business_event("revenue", 2.5);
    c.record_business_event("revenue", 7.5);
    c.record_business_event("refund", -4);
    r = c.generate_report(10min);
    CHECK(r["business"]["revenue"] == json{{"count", 2}, {"totalValue", 10.0}, {"avgValue", 5.0}});
    CHECK(r["business"]["refund"] == json{{"count", 1}, {"totalValue", -4.0}, {"avgValue", -4.0}});
    // A type with nothing in the window is still listed, with zeros.
    CHECK(r["business"]["api_call"] == json{{"count", 0}, {"totalValue", 0.0}, {"avgValue", 0.0}});
    r = c.generate_report(1h);
    CHECK(r["business"]["revenue"]["count"] == 3);
    CHECK(r["business"]["revenue"]["totalValue"] == 110.0);
}

TEST_CASE("event types are bounded: new types overflow into __overflow__", "[analytics]") {
    lm::manual_clock clock{t0};
    auto o = manual_options(clock);
    o.max_event_types = 2;
    lm::analytics_collector c{o};
    c.record_business_event("a", 1);
    c.record_business_event("b", 2);
    c.record_business_event("c", 3);
    c.record_business_event("d", 4);
    c.record_business_event("a", 5);
    CHECK(c.business().type_count() == 3);
    CHECK(c.business().overflowed() == 2);
    const json r = c.generate_report();
    CHECK(r["business"].size() == 3);
    CHECK(r["business"]["a"]["count"] == 2);
    CHECK(r["business"]["__overflow__"] == json{{"count", 2}, {"totalValue", 7.0}, {"avgValue", 3.5}});
    CHECK_FALSE(r["business"].contains("c"));

    std::vector<lm::family_snapshot> fs;
    c.collect(fs);
    CHECK(counter_of(fs, "llmetrics_analytics_overflow_total", {{"kind", "event_type"}}) == 2);
    CHECK(counter_of(fs, "llmetrics_analytics_business_events_total", {{"type", "__overflow__"}}) == 2);
    CHECK(find_family(fs, "llmetrics_analytics_business_events_total")->series.size() == 3);
}

TEST_CASE("keys that are not valid UTF-8 are repaired once, when recorded", "[analytics]") {
    lm::manual_clock clock{t0};
    lm::analytics_collector c{manual_options(clock)};
    c.record_business_event("bad\xff", 1);
    c.record_model_performance("m\xc3", {1, 1, false});
    c.record_system_metric("s\xfe", {{"f\x80", 1}});
    const json r = c.generate_report();
    CHECK(r["business"].contains("bad\xEF\xBF\xBD"));
    CHECK(r["models"].contains("m\xEF\xBF\xBD"));
    CHECK(r["system"].contains("s\xEF\xBF\xBD"));
    CHECK_NOTHROW(r.dump());
}

// --- users report ------------------------------------------------------------------------

TEST_CASE("user summary over a window with a manual clock", "[analytics]") {
    lm::manual_clock clock{t0};
    lm::analytics_collector c{manual_options(clock)};
    const json err = {{"error", true}};
    // t0: u1 1000 ms -> 85.
    CHECK(c.record_user_interaction("u1", "chat", 1000) == 85);
    clock.advance(15min);
    // t0+15m: u1 1000 ms with an error -> 75; u2 3000 ms -> 50 + 15 = 65.
    CHECK(c.record_user_interaction("u1", "chat", 1000, err) == 75);
    CHECK(c.record_user_interaction("u2", "chat", 3000) == 65);
    clock.advance(1min);
    // u2 3000 ms again -> 65; u2 3040: avg 3013 (0), variance of {3000,3000,3040} = 355.6 (+15) -> 65.
    CHECK(c.record_user_interaction("u2", "chat", 3000) == 65);
    CHECK(c.record_user_interaction("u2", "chat", 3040) == 65);

    json r = c.generate_report(10min);
    CHECK(r["users"]["activeUsers"] == 2);
    CHECK(r["users"]["totalInteractions"] == 4);
    CHECK(r["users"]["avgInteractionsPerUser"] == 2.0);
    CHECK(r["users"]["avgSatisfactionScore"] == Approx((75 + 65) / 2.0));  // u1: 75; u2: 65
    // summary.avgUserSatisfaction is over each user's last 10, window or not: u1 (85+75)/2, u2 65.
    CHECK(r["summary"]["avgUserSatisfaction"] == Approx((80 + 65) / 2.0));
    CHECK(r["summary"]["totalUsers"] == 2);

    r = c.generate_report(1h);
    CHECK(r["users"]["totalInteractions"] == 5);
    CHECK(r["users"]["avgInteractionsPerUser"] == 2.5);
    CHECK(r["users"]["avgSatisfactionScore"] == Approx((80 + 65) / 2.0));

    // The start of the window is included, one millisecond earlier is not:
    // u1's first interaction is exactly 16 minutes old.
    CHECK(c.generate_report(16min)["users"]["totalInteractions"] == 5);
    CHECK(c.generate_report(16min - 1ms)["users"]["totalInteractions"] == 4);

    clock.advance(2h);
    r = c.generate_report();
    CHECK(r["users"] == json{{"activeUsers", 0}, {"totalInteractions", 0}, {"avgInteractionsPerUser", 0.0},
                             {"avgSatisfactionScore", 0.0}});
    CHECK(r["summary"]["totalUsers"] == 2);

    const auto u1 = c.users().find("u1");
    CHECK(u1->session_start == t0);
    CHECK(u1->last_seen == t0 + 15min);
    CHECK(u1->total_duration_ms == 2000);
}

// --- models report ---------------------------------------------------------------------------

TEST_CASE("model summary over a window", "[analytics]") {
    lm::manual_clock clock{t0};
    lm::analytics_collector c{manual_options(clock)};
    c.record_model_performance("gpt-4", {5000, 50, true});
    c.record_model_performance("old", {1, 1, false});
    clock.advance(30min);
    c.record_model_performance("gpt-4", {1000, 90, false});
    c.record_model_performance("gpt-4", {2000, 80, true});
    c.record_model_performance("claude-3", {1500, 95, false});
    json r = c.generate_report(10min);
    CHECK(r["models"].size() == 2);  // "old" has no request in the window
    CHECK(r["models"]["gpt-4"] ==
          json{{"requests", 2}, {"avgLatency", 1500.0}, {"avgAccuracy", 85.0}, {"errorRate", 0.5}});
    CHECK(r["models"]["claude-3"] ==
          json{{"requests", 1}, {"avgLatency", 1500.0}, {"avgAccuracy", 95.0}, {"errorRate", 0.0}});
    CHECK(r["summary"]["totalModels"] == 3);
    r = c.generate_report(1h);
    CHECK(r["models"]["gpt-4"]["requests"] == 3);
    CHECK(r["models"]["gpt-4"]["errorRate"] == Approx(2.0 / 3));
    CHECK(r["models"]["gpt-4"]["avgLatency"] == Approx(8000.0 / 3));
}

// --- system metrics ---------------------------------------------------------------------------

TEST_CASE("system trend is computed on the named field", "[analytics]") {
    lm::manual_clock clock{t0};
    lm::analytics_collector c{manual_options(clock)};
    // heapTotal comes first and falls; rss (the named trend field) rises by 50%.
    const double rss[] = {100, 100, 150, 150};
    const double heap[] = {1000, 1000, 500, 500};
    for (int i = 0; i < 4; ++i) {
        c.record_system_metric("memory_usage", {{"heapTotal", heap[i]}, {"rss", rss[i]}}, "rss");
        clock.advance(30s);
    }
    c.record_system_metric("queue", {{"depth", 5}, {"value", 0}});
    clock.advance(30s);
    c.record_system_metric("queue", {{"depth", 1}, {"value", 3}});  // default trend field: "value"
    c.record_system_metric("temperature", {{"celsius", 50}}, "celsius");
    c.record_system_metric("temperature", {{"celsius", 50}}, "celsius");

    json r = c.generate_report(1h);
    const json& m = r["system"]["memory_usage"];
    CHECK(m["count"] == 4);
    CHECK(m["trend"] == "increasing");
    CHECK(m["latest"] == json{{"heapTotal", 500.0}, {"rss", 150.0}, {"timestamp", 1709618828009 + 90000}});
    CHECK(r["system"]["queue"]["trend"] == "increasing");  // 0 -> 3: zero first half, positive second
    CHECK(r["system"]["queue"]["count"] == 2);
    CHECK(r["system"]["temperature"]["trend"] == "stable");

    // Only samples in the window count, for the count, the latest and the trend.
    r = c.generate_report(75s);  // from t0+75s: the last memory sample (t0+90s) only
    CHECK(r["system"]["memory_usage"]["count"] == 1);
    CHECK(r["system"]["memory_usage"]["trend"] == "stable");
    clock.advance(2h);
    CHECK(c.generate_report()["system"].empty());
}

TEST_CASE("system metric names and fields are bounded", "[analytics]") {
    lm::manual_clock clock{t0};
    auto o = manual_options(clock);
    o.max_system_metrics = 1;
    o.max_system_fields = 2;
    lm::analytics_collector c{o};
    c.record_system_metric("a", {{"x", 1}, {"y", 2}, {"z", 3}});
    c.record_system_metric("b", {{"x", 1}});
    CHECK(c.system().overflowed() == 1);
    CHECK(c.system().dropped_fields() == 1);
    CHECK(c.system().latest("a")->fields.size() == 2);
    const json r = c.generate_report();
    CHECK(r["system"].contains("__overflow__"));
    CHECK_FALSE(r["system"].contains("b"));
    std::vector<lm::family_snapshot> fs;
    c.collect(fs);
    CHECK(counter_of(fs, "llmetrics_analytics_overflow_total", {{"kind", "system_metric"}}) == 1);
    CHECK(counter_of(fs, "llmetrics_analytics_overflow_total", {{"kind", "system_field"}}) == 1);
    CHECK(gauge_of(fs, "llmetrics_analytics_system_sample", {{"metric", "a"}, {"field", "y"}}) == 2);
}

// --- report shape -------------------------------------------------------------------------------

TEST_CASE("report keys and times", "[analytics]") {
    CHECK(lm::detail::to_rfc3339_ms(t0) == "2024-03-05T06:07:08.009Z");
    CHECK(lm::detail::to_rfc3339_ms(lm::wall_time{}) == "1970-01-01T00:00:00.000Z");
    CHECK(lm::detail::to_rfc3339_ms(lm::wall_time{} - 1ms) == "1969-12-31T23:59:59.999Z");
    CHECK(lm::detail::to_rfc3339_ms(lm::wall_time{} + 999us) == "1970-01-01T00:00:00.000Z");

    lm::manual_clock clock{t0};
    lm::analytics_collector c{manual_options(clock)};
    const json r = c.generate_report();
    std::vector<std::string> keys;
    for (const auto& [k, v] : r.items()) keys.push_back(k);
    std::sort(keys.begin(), keys.end());
    CHECK(keys == std::vector<std::string>{"business", "generatedAt", "models", "summary", "system", "timeRange",
                                           "users"});
    CHECK(r["generatedAt"] == "2024-03-05T06:07:08.009Z");
    CHECK(r["timeRange"] == json{{"start", "2024-03-05T05:07:08.009Z"},
                                 {"end", "2024-03-05T06:07:08.009Z"},
                                 {"durationMs", 3600000}});
    CHECK(r["summary"] ==
          json{{"totalUsers", 0}, {"totalModels", 0}, {"avgUserSatisfaction", 0.0}, {"systemHealth", 100}});
    CHECK(r["business"] == json::object());
    CHECK(r["models"] == json::object());
    CHECK(r["system"] == json::object());
    CHECK(c.generate_report(10min)["timeRange"]["durationMs"] == 600000);
}

// --- Prometheus side -------------------------------------------------------------------------------

TEST_CASE("exported families", "[analytics]") {
    lm::manual_clock clock{t0};
    auto o = manual_options(clock);
    lm::analytics_collector c{o};

    std::vector<lm::family_snapshot> empty;
    c.collect(empty);
    const std::vector<std::string> names = {
        "llmetrics_analytics_business_events_total", "llmetrics_analytics_business_event_value",
        "llmetrics_analytics_user_interactions_total", "llmetrics_analytics_users_tracked",
        "llmetrics_analytics_user_satisfaction", "llmetrics_analytics_model_requests_total",
        "llmetrics_analytics_model_latency_seconds", "llmetrics_analytics_model_accuracy",
        "llmetrics_analytics_model_error_ratio", "llmetrics_analytics_system_sample",
        "llmetrics_analytics_system_health", "llmetrics_analytics_evicted_total",
        "llmetrics_analytics_overflow_total"};
    std::vector<std::string> got;
    for (const auto& f : empty) {
        got.push_back(f.name);
        CHECK_FALSE(f.help.empty());
        if (f.type == lm::metric_type::counter) CHECK(f.name.ends_with("_total"));
    }
    CHECK(got == names);
    CHECK(find_family(empty, "llmetrics_analytics_user_satisfaction")->series.empty());  // no users yet
    CHECK(gauge_of(empty, "llmetrics_analytics_system_health") == 100);
    CHECK(find_family(empty, "llmetrics_analytics_model_latency_seconds")->unit == "seconds");

    c.record_business_event("revenue", 2.5);
    c.record_business_event("revenue", 4);
    c.record_business_event("api_call", 1);
    c.record_user_interaction("u1", "chat", 1000);                         // 85
    c.record_user_interaction("u2", "chat", 20000, {{"error", true}});     // 50 - 20 + 15 - 10 = 35
    c.record_model_performance("gpt-4", {1000, 90, false});
    c.record_model_performance("gpt-4", {3000, 70, true});
    c.record_system_metric("memory_usage", {{"rss", 800}, {"memoryLimit", 1000}}, "rss");  // 0.8: -15
    c.record_system_metric("scheduling_lag", {{"lag", 120}}, "lag");                       // -20

    std::vector<lm::family_snapshot> fs;
    c.collect(fs);
    CHECK(counter_of(fs, "llmetrics_analytics_business_events_total", {{"type", "revenue"}}) == 2);
    CHECK(counter_of(fs, "llmetrics_analytics_business_events_total", {{"type", "api_call"}}) == 1);
    CHECK(gauge_of(fs, "llmetrics_analytics_business_event_value", {{"type", "revenue"}}) == 6.5);
    CHECK(gauge_of(fs, "llmetrics_analytics_business_event_value", {{"type", "api_call"}}) == 1);
    CHECK(counter_of(fs, "llmetrics_analytics_user_interactions_total") == 2);
    CHECK(gauge_of(fs, "llmetrics_analytics_users_tracked") == 2);
    CHECK(gauge_of(fs, "llmetrics_analytics_user_satisfaction") == 60);  // (85 + 35) / 2
    CHECK(counter_of(fs, "llmetrics_analytics_model_requests_total", {{"model", "gpt-4"}}) == 2);
    CHECK(gauge_of(fs, "llmetrics_analytics_model_latency_seconds", {{"model", "gpt-4"}}) == 2.0);
    CHECK(gauge_of(fs, "llmetrics_analytics_model_accuracy", {{"model", "gpt-4"}}) == 80);
    CHECK(gauge_of(fs, "llmetrics_analytics_model_error_ratio", {{"model", "gpt-4"}}) == 0.5);
    CHECK(gauge_of(fs, "llmetrics_analytics_system_sample", {{"metric", "memory_usage"}, {"field", "rss"}}) == 800);
    CHECK(gauge_of(fs, "llmetrics_analytics_system_sample", {{"metric", "scheduling_lag"}, {"field", "lag"}}) ==
          120);
    CHECK(gauge_of(fs, "llmetrics_analytics_system_health") == 65);
    CHECK(c.system_health() == 65);
    CHECK(counter_of(fs, "llmetrics_analytics_evicted_total", {{"kind", "user"}}) == 0);
    CHECK(counter_of(fs, "llmetrics_analytics_overflow_total", {{"kind", "event_type"}}) == 0);
    // Series come in a stable (sorted) order and carry no user label anywhere.
    const auto* events = find_family(fs, "llmetrics_analytics_business_events_total");
    CHECK(events->series[0].labels == label_list{{"type", "api_call"}});
    for (const auto& f : fs)
        for (const auto& s : f.series)
            for (const auto& [name, value] : s.labels) CHECK(name != "user");

    // Another prefix, for two collectors in one registry.
    auto o2 = manual_options(clock);
    o2.metric_prefix = "app_";
    lm::analytics_collector c2{o2};
    std::vector<lm::family_snapshot> fs2;
    c2.collect(fs2);
    CHECK(fs2.front().name == "app_business_events_total");
    o2.metric_prefix = "9bad";
    CHECK_THROWS_AS(lm::analytics_collector{o2}, std::invalid_argument);
    o2.metric_prefix = "bad-prefix";
    CHECK_THROWS_AS(lm::analytics_collector{o2}, std::invalid_argument);
}

TEST_CASE("registered on a registry like any collector", "[analytics]") {
    lm::manual_clock clock{t0};
    auto c = std::make_shared<lm::analytics_collector>(manual_options(clock));
    c->record_business_event("api_call", 1);
    c->record_business_event("api_call", 1);
    c->record_model_performance("gpt-4", {1500, 90, false});
    lm::registry<> registry;
    registry.add_collector(c);
    const std::string text = lm::render(registry, lm::format::prometheus);
    CHECK_THAT(text, Catch::Contains("# TYPE llmetrics_analytics_business_events_total counter\n"
                                     "llmetrics_analytics_business_events_total{type=\"api_call\"} 2\n"));
    CHECK_THAT(text, Catch::Contains("llmetrics_analytics_model_latency_seconds{model=\"gpt-4\"} 1.5\n"));
    CHECK_THAT(text, Catch::Contains("llmetrics_analytics_system_health 100\n"));
    CHECK_THAT(text, Catch::Contains("llmetrics_collector_errors_total 0\n"));
    const std::string om = lm::render(registry, lm::format::openmetrics);
    CHECK_THAT(om, Catch::Contains("# UNIT llmetrics_analytics_model_latency_seconds seconds\n"));
}

// --- the sampler ---------------------------------------------------------------------------------------

TEST_CASE("sample_now records memory, cpu and uptime", "[analytics]") {
    namespace f = lm::system_field;
    lm::manual_clock clock{t0};
    lm::analytics_collector c{manual_options(clock)};
    CHECK_FALSE(c.sampler().running());
    clock.advance(5s);
    c.sampler().sample_now();

    const auto mem = c.system().latest(lm::system_metric::memory_usage);
    REQUIRE(mem);
    CHECK(mem->timestamp == t0 + 5s);
    REQUIRE(mem->field(f::rss));
    CHECK(*mem->field(f::rss) > 0);
    REQUIRE(mem->field(f::memory_limit));
    CHECK(*mem->field(f::memory_limit) >= *mem->field(f::rss));
    // The heap fields are there when glibc's malloc serves the process (not under TSan).
    if (mem->field(f::heap_used)) {
        CHECK(*mem->field(f::heap_used) > 0);
        CHECK(*mem->field(f::heap_total) >= *mem->field(f::heap_used));
    }
    const auto cpu = c.system().latest(lm::system_metric::cpu_usage);
    REQUIRE(cpu);
    CHECK(*cpu->field(f::user) >= 0);
    CHECK(*cpu->field(f::system) >= 0);
    const auto up = c.system().latest(lm::system_metric::uptime);
    REQUIRE(up);
    CHECK(*up->field(f::uptime) == 5000);  // on the analytics clock
    REQUIRE(up->field(f::process_uptime));
    CHECK(*up->field(f::process_uptime) >= 0);
    CHECK_FALSE(c.system().latest(lm::system_metric::scheduling_lag));  // only the timer measures lag

    clock.advance(1s);
    c.sampler().sample_now();
    const json r = c.generate_report(1min);
    CHECK(r["system"]["uptime"]["count"] == 2);
    CHECK(r["system"]["uptime"]["trend"] == "increasing");  // 5000 -> 6000: +20%
    CHECK(r["system"]["uptime"]["latest"]["uptime"] == 6000.0);
    CHECK(r["system"]["cpu_usage"]["latest"].contains("percent"));
    // Memory use of this test process is far below the limit.
    CHECK(r["summary"]["systemHealth"] == 100);
}

TEST_CASE("the periodic sampler measures scheduling lag and stops promptly", "[analytics]") {
    lm::analytics_options o;
    o.sampler_period = 10ms;
    auto c = std::make_unique<lm::analytics_collector>(o);
    CHECK(c->sampler().running());
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (c->sampler().ticks() < 3 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(2ms);
    REQUIRE(c->sampler().ticks() >= 3);
    const auto lag = c->system().latest(lm::system_metric::scheduling_lag);
    REQUIRE(lag);
    CHECK(*lag->field(lm::system_field::lag) >= 0);
    const json r = c->generate_report(1min);
    CHECK(r["system"]["scheduling_lag"]["count"].get<int>() >= 3);
    CHECK(r["system"].contains("memory_usage"));
    const auto start = std::chrono::steady_clock::now();
    c.reset();
    CHECK(std::chrono::steady_clock::now() - start < 1s);

    // A long period: destruction does not wait for it.
    o.sampler_period = 1h;
    auto slow = std::make_unique<lm::analytics_collector>(o);
    std::this_thread::sleep_for(20ms);
    const auto t = std::chrono::steady_clock::now();
    slow.reset();
    CHECK(std::chrono::steady_clock::now() - t < 1s);

    lm::system_metric_store store;
    lm::system_sampler s{store, lm::time_source{}, 1h, false};
    CHECK_FALSE(s.running());
    s.start();
    CHECK(s.running());
    s.stop();
    CHECK_FALSE(s.running());
    CHECK_THROWS_AS((lm::system_sampler{store, lm::time_source{}, 0ms, false}), std::invalid_argument);
}

// --- concurrency ----------------------------------------------------------------------------------------

TEST_CASE("recording from many threads while reports and scrapes run", "[analytics]") {
    lm::analytics_options o;
    o.start_sampler = false;
    o.user_history = {100000, 50000};  // no trimming, so the interaction count only grows
    lm::analytics_collector c{o};
    constexpr int threads = 4, per_thread = 3000;
    std::atomic<bool> done{false};
    std::atomic<int> reports{0};
    std::atomic<int> inconsistencies{0};

    std::thread reader{[&] {
        std::uint64_t last_interactions = 0;
        while (!done.load()) {
            const json r = c.generate_report();
            for (const auto& [type, b] : r["business"].items())
                if (b["totalValue"].get<double>() != static_cast<double>(b["count"].get<std::uint64_t>()))
                    ++inconsistencies;
            for (const auto& [id, m] : r["models"].items())
                if (m["avgLatency"] != m["avgAccuracy"] || m["errorRate"].get<double>() != 0) ++inconsistencies;
            const auto interactions = r["users"]["totalInteractions"].get<std::uint64_t>();
            if (interactions < last_interactions) ++inconsistencies;
            last_interactions = interactions;
            if (r["users"]["activeUsers"].get<int>() > 0 && r["users"]["avgSatisfactionScore"] != 85.0)
                ++inconsistencies;
            std::vector<lm::family_snapshot> fs;
            c.collect(fs);
            const auto* count = find_family(fs, "llmetrics_analytics_business_events_total");
            const auto* value = find_family(fs, "llmetrics_analytics_business_event_value");
            if (count->series.size() != value->series.size()) ++inconsistencies;
            ++reports;
            std::this_thread::yield();
        }
    }};

    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t)
        writers.emplace_back([&, t] {
            const std::string user = "user" + std::to_string(t);
            for (int i = 0; i < per_thread; ++i) {
                c.record_business_event(i % 2 ? "api_call" : "revenue", 1);
                c.record_user_interaction(user, "chat", 1000);  // always 85
                c.record_user_interaction("shared", "chat", 1000);
                const double x = 1000 + (i % 7);
                c.record_model_performance(i % 3 ? "gpt-4" : "claude-3", {x, x, false});
                if (i % 500 == 0) c.sampler().sample_now();
            }
        });
    for (auto& w : writers) w.join();
    done = true;
    reader.join();

    CHECK(inconsistencies == 0);
    CHECK(reports > 0);
    std::vector<lm::family_snapshot> fs;
    c.collect(fs);
    CHECK(counter_of(fs, "llmetrics_analytics_business_events_total", {{"type", "api_call"}}) +
              counter_of(fs, "llmetrics_analytics_business_events_total", {{"type", "revenue"}}) ==
          threads * per_thread);
    CHECK(counter_of(fs, "llmetrics_analytics_user_interactions_total") == 2 * threads * per_thread);
    CHECK(c.users().find("shared")->interactions == threads * per_thread);
    CHECK(counter_of(fs, "llmetrics_analytics_model_requests_total", {{"model", "gpt-4"}}) +
              counter_of(fs, "llmetrics_analytics_model_requests_total", {{"model", "claude-3"}}) ==
          threads * per_thread);
    const json r = c.generate_report();
    CHECK(r["summary"]["totalUsers"] == threads + 1);
    CHECK(r["summary"]["avgUserSatisfaction"] == 85.0);
}

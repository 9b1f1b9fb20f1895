// series_ttl<S>: series not written for S seconds leave the exposition and give
// their storage to new label sets; held handles keep theirs; memory stays bounded.
// Time is a manual_clock handed to the registry, so the tests run in simulated time.
#include <catch2/catch.hpp>

#include "under_sanitizer.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <llmetrics/llmetrics.hpp>

namespace lm = llmetrics;
using namespace std::chrono_literals;

namespace {

struct tenant_requests_total : lm::counter<"tenant_requests_total", "Requests per tenant", lm::labels<"tenant">, lm::series_ttl<60>> {};
struct tenant_budget : lm::gauge<"tenant_budget", "Budget left per tenant", lm::labels<"tenant">, lm::series_ttl<60>> {};
struct tenant_latency_seconds : lm::histogram<"tenant_latency_seconds", "Latency per tenant", lm::labels<"tenant", "kind">, lm::buckets<0.1, 1>,
                  lm::value_set<"kind", "chat", "embed">, lm::series_ttl<60>> {};
struct tenant_tokens : lm::native_histogram<"tenant_tokens", "Tokens per request", lm::labels<"tenant">,
                                           lm::series_ttl<60>> {};
struct small_requests_total : lm::counter<"small_requests_total", "Requests, at most 2000 tenants",
                                         lm::labels<"tenant">, lm::max_series<2000>, lm::series_ttl<60>> {};
struct kept_requests_total : lm::counter<"kept_requests_total", "Requests, kept forever", lm::labels<"tenant">> {};

using ttl_registry = lm::registry<tenant_requests_total, tenant_budget, tenant_latency_seconds, tenant_tokens,
                                  small_requests_total, kept_requests_total>;

// Every sample of a scrape: "family{v1,v2}" -> counter total, gauge value or histogram count.
struct capture {
    std::map<std::string, double> samples;
    std::string family;
    std::string key(lm::labels_view l) const {
        std::string k = family + "{";
        for (std::size_t i = 0; i < l.names.size(); ++i) k += (i ? "," : "") + std::string(l.values[i]);
        return k + "}";
    }
    void begin_family(const lm::family_header& h) { family = std::string(h.name); }
    void counter(lm::labels_view l, lm::counter_value c, double, const lm::exemplar_view*) {
        samples[key(l)] = static_cast<double>(c.integral) + c.fractional;
    }
    void gauge(lm::labels_view l, double v) { samples[key(l)] = v; }
    void histogram(lm::labels_view l, std::span<const double>, std::span<const std::uint64_t> counts, double, double,
                   std::span<const lm::exemplar_view>) {
        std::uint64_t n = 0;
        for (auto c : counts) n += c;
        samples[key(l)] = static_cast<double>(n);
    }
    void native_histogram(lm::labels_view l, const lm::native_histogram_view& v, std::span<const double>,
                          std::span<const std::uint64_t>, double, std::span<const lm::exemplar_view>) {
        samples[key(l)] = static_cast<double>(v.count);
    }
    void end_family() {}
    void finish() {}
    bool has(const std::string& k) const { return samples.count(k) != 0; }
    double at(const std::string& k) const { return samples.count(k) ? samples.at(k) : -1.0; }
    std::size_t count_of(const std::string& family_name) const {
        std::size_t n = 0;
        for (const auto& [k, v] : samples) n += k.rfind(family_name + "{", 0) == 0;
        return n;
    }
};

template <class R>
capture scrape(const R& r) {
    capture c;
    r.visit(c);
    return c;
}

std::string tenant(int i) { return "tenant-" + std::to_string(i); }

}  // namespace

TEST_CASE("series_ttl: labels() returns a held_series; families without it keep references", "[ttl]") {
    using ttl_family = lm::family<tenant_requests_total>;
    using plain_family = lm::family<kept_requests_total>;
    STATIC_REQUIRE(ttl_family::expiring);
    STATIC_REQUIRE_FALSE(plain_family::expiring);
    STATIC_REQUIRE(std::is_same_v<decltype(std::declval<ttl_family&>().labels("a")),
                                  lm::held_series<ttl_family::series_type>>);
    STATIC_REQUIRE(std::is_same_v<decltype(std::declval<plain_family&>().labels("a")), plain_family::series_type&>);
    STATIC_REQUIRE(tenant_requests_total::series_ttl_seconds == 60);
    STATIC_REQUIRE(kept_requests_total::series_ttl_seconds == 0);
}

TEST_CASE("series_ttl: a flood of 50,000 tenants keeps the live ones only, in bounded memory", "[ttl]") {
    lm::manual_clock clock;
    ttl_registry r;
    r.set_time_source(lm::time_source::of(clock));
    auto& fam = r.get<tenant_requests_total>();

    // Every 10 s: 1,000 new tenants written once, 20 steady tenants written each time, one scrape.
    constexpr int periods = 50, per_period = 1000, steady = 20;
    constexpr std::size_t live_bound = steady + per_period * (60 / 10 + 1);
    std::size_t bytes_after_warmup = 0;
    for (int p = 0; p < periods; ++p) {
        clock.advance(10s);
        for (int i = 0; i < per_period; ++i) fam.labels(tenant(1000 + p * per_period + i)).inc();
        for (int s = 0; s < steady; ++s) fam.labels(tenant(s)).inc();
        const capture c = scrape(r);

        // No steady tenant is ever missing, and none restarted.
        for (int s = 0; s < steady; ++s) REQUIRE(c.at("tenant_requests_total{" + tenant(s) + "}") == p + 1);
        // This period's tenants are all there; those last written over 60 s ago are gone.
        REQUIRE(c.has("tenant_requests_total{" + tenant(1000 + p * per_period) + "}"));
        if (p >= 7) REQUIRE_FALSE(c.has("tenant_requests_total{" + tenant(1000 + (p - 7) * per_period) + "}"));
        REQUIRE(c.count_of("tenant_requests_total") <= live_bound);
        REQUIRE(fam.size() <= live_bound);
        if (p == 10) bytes_after_warmup = fam.memory_bytes();
        if (p > 10) REQUIRE(fam.memory_bytes() == bytes_after_warmup);  // slots are reused, nothing grows
    }
    CHECK(fam.dropped() == 0);  // nobody was sent to the overflow series
    CHECK(fam.expired() >= periods * per_period - live_bound);
    CHECK(fam.expired() <= periods * per_period);
    // Far below 50,000 series' worth: the bound is the live set.
    CHECK(bytes_after_warmup < 3 * 1024 * 1024);

    const capture c = scrape(r);
    CHECK(c.at("llmetrics_series_expired_total{tenant_requests_total}") == static_cast<double>(fam.expired()));
    CHECK_FALSE(c.has("llmetrics_series_expired_total{kept_requests_total}"));  // no TTL: no row
}

TEST_CASE("series_ttl: a family that is never scraped does not grow; a full one sweeps first", "[ttl]") {
    lm::manual_clock clock;
    ttl_registry r;
    r.set_time_source(lm::time_source::of(clock));
    auto& fam = r.get<small_requests_total>();
    // 12,000 tenants, 150 new ones every 10 s. Inserts sweep every quarter TTL, so
    // a tenant goes within 60 + 15 s (+ one period) of its last write: at most
    // 150 * 9 live at a time, under the bound of 2,000.
    std::size_t bytes_after_warmup = 0;
    for (int p = 0; p < 80; ++p) {
        clock.advance(10s);
        for (int i = 0; i < 150; ++i) fam.labels(tenant(100 + p * 150 + i)).inc();
        for (int s = 0; s < 5; ++s) fam.labels(tenant(s)).inc();
        REQUIRE(fam.size() <= 2000);
        if (p == 20) bytes_after_warmup = fam.memory_bytes();
        if (p > 20) REQUIRE(fam.memory_bytes() == bytes_after_warmup);
    }
    CHECK(fam.dropped() == 0);
    const capture c = scrape(r);
    for (int s = 0; s < 5; ++s) CHECK(c.at("small_requests_total{" + tenant(s) + "}") == 80);
    CHECK(c.count_of("small_requests_total") <= 2000);
}

TEST_CASE("series_ttl: written series stay, unwritten ones go after the TTL, and come back from zero", "[ttl]") {
    lm::manual_clock clock;
    ttl_registry r;
    r.set_time_source(lm::time_source::of(clock));
    auto& counters = r.get<tenant_requests_total>();
    auto& gauges = r.get<tenant_budget>();
    auto& classic = r.get<tenant_latency_seconds>();
    auto& native = r.get<tenant_tokens>();

    counters.labels("busy").inc();
    counters.labels("idle").inc(3);
    gauges.labels("busy").set(10);
    gauges.labels("idle").set(7);
    classic.labels("busy", "chat").observe(0.5);
    classic.labels("idle", "embed").observe(2);
    native.labels("busy").observe(12);
    native.labels("idle").observe(40);

    for (int step = 0; step < 7; ++step) {  // 70 s: "busy" written every 10 s, "idle" never
        clock.advance(10s);
        counters.labels("busy").inc();
        gauges.labels("busy").set(10 - step - 1);  // a gauge counts as written when its value changes
        classic.labels("busy", "chat").observe(0.5);
        native.labels("busy").observe(12);
        r.expire_series();
    }
    capture c = scrape(r);
    CHECK(c.at("tenant_requests_total{busy}") == 8);
    CHECK(c.at("tenant_budget{busy}") == 3);
    CHECK(c.at("tenant_latency_seconds{busy,chat}") == 8);
    CHECK(c.at("tenant_tokens{busy}") == 8);
    CHECK_FALSE(c.has("tenant_requests_total{idle}"));
    CHECK_FALSE(c.has("tenant_budget{idle}"));
    CHECK_FALSE(c.has("tenant_latency_seconds{idle,embed}"));
    CHECK_FALSE(c.has("tenant_latency_seconds{idle,chat}"));
    CHECK_FALSE(c.has("tenant_tokens{idle}"));
    CHECK(counters.expired() == 1);
    CHECK(gauges.expired() == 1);
    CHECK(classic.expired() == 1);
    CHECK(native.expired() == 1);

    // Nobody held "idle": asked for again, it starts from zero.
    counters.labels("idle").inc();
    gauges.labels("idle").inc();
    classic.labels("idle", "embed").observe(0.05);
    native.labels("idle").observe(1);
    c = scrape(r);
    CHECK(c.at("tenant_requests_total{idle}") == 1);
    CHECK(c.at("tenant_budget{idle}") == 1);
    CHECK(c.at("tenant_latency_seconds{idle,embed}") == 1);
    CHECK(c.at("tenant_tokens{idle}") == 1);
}

TEST_CASE("series_ttl: the scrape that first leaves a series out counts it in llmetrics_series_expired_total",
          "[ttl]") {
    lm::manual_clock clock;
    ttl_registry r;
    r.set_time_source(lm::time_source::of(clock));
    r.get<tenant_budget>().labels("idle").set(7);
    CHECK(scrape(r).at("tenant_budget{idle}") == 7);
    clock.advance(61s);  // no sweep in between: the scrape's own sweep hides it
    const capture first = scrape(r);
    CHECK_FALSE(first.has("tenant_budget{idle}"));
    CHECK(first.at("llmetrics_series_expired_total{tenant_budget}") == 1);
    const capture second = scrape(r);
    CHECK(second.samples == first.samples);  // a scrape changes nothing the next one sees
}

TEST_CASE("series_ttl: a gauge set to the value it has expires; a value outside a set goes to overflow", "[ttl]") {
    lm::manual_clock clock;
    ttl_registry r;
    r.set_time_source(lm::time_source::of(clock));
    auto& gauges = r.get<tenant_budget>();
    const auto g = gauges.labels("flat");
    g.set(5);
    r.expire_series();
    for (int i = 0; i < 6; ++i) {
        clock.advance(10s);
        g.set(5);  // changes nothing: not seen as a write (documented in series_map.hpp)
        r.expire_series();
    }
    CHECK_FALSE(scrape(r).has("tenant_budget{flat}"));
    CHECK(g.value() == 0);  // hiding emptied it
    g.set(6);  // a write brings it back
    CHECK(scrape(r).at("tenant_budget{flat}") == 6);

    auto& classic = r.get<tenant_latency_seconds>();
    classic.labels("t", "nonsense").observe(0.5);
    CHECK(classic.dropped() == 1);
    const capture c = scrape(r);
    CHECK(c.at("tenant_latency_seconds{__overflow__,__overflow__}") == 1);
    clock.advance(61s);
    r.expire_series();
    CHECK(scrape(r).has("tenant_latency_seconds{__overflow__,__overflow__}"));  // the overflow series never expires
}

TEST_CASE("series_ttl: a series goes TTL after the first sweep that saw its last write", "[ttl]") {
    lm::manual_clock clock;
    ttl_registry r;
    r.set_time_source(lm::time_source::of(clock));
    auto& fam = r.get<tenant_requests_total>();
    fam.labels("a").inc();
    clock.advance(30s);
    CHECK(r.expire_series() == 0);  // sees the write: 60 s from now
    clock.advance(59s);
    CHECK(r.expire_series() == 0);
    CHECK(scrape(r).has("tenant_requests_total{a}"));
    clock.advance(1s);
    CHECK(r.expire_series() == 1);
    CHECK_FALSE(scrape(r).has("tenant_requests_total{a}"));
    CHECK(r.expire_series() == 0);  // counted once
}

TEST_CASE("series_ttl: a kept handle stays valid, keeps its storage and brings its series back", "[ttl]") {
    lm::manual_clock clock;
    ttl_registry r;
    r.set_time_source(lm::time_source::of(clock));
    auto& fam = r.get<tenant_requests_total>();
    auto kept = fam.labels("kept");
    kept.inc(5);
    r.expire_series();
    clock.advance(61s);
    CHECK(r.expire_series() == 1);
    capture c = scrape(r);
    CHECK_FALSE(c.has("tenant_requests_total{kept}"));
    CHECK(fam.size() == 1);  // hidden, but its slot stays its own while the handle lives

    // A flood of other tenants comes and goes; none takes the kept series' storage.
    for (int p = 0; p < 5; ++p) {
        for (int i = 0; i < 500; ++i) fam.labels(tenant(p * 500 + i)).inc(100);
        r.expire_series();
        clock.advance(61s);
        r.expire_series();
    }
    CHECK(kept.value().integral == 0);  // hiding took its values out
    kept.inc(6);
    c = scrape(r);
    // Back, from zero (test_series_ttl_revive.cpp has the details).
    CHECK(c.at("tenant_requests_total{kept}") == 6);
    CHECK(c.count_of("tenant_requests_total") == 1);

    // Copies hold too; when the last one goes, the next expiry retires the slot and
    // the label set starts from zero.
    {
        auto copy = kept;
        auto moved = std::move(kept);
        clock.advance(61s);
        r.expire_series();
        CHECK(fam.size() == 1);
        moved.inc();
        CHECK(copy.value().integral == 1);  // hidden again, so from zero
    }
    r.expire_series();
    clock.advance(61s);
    r.expire_series();
    CHECK(fam.size() == 0);
    CHECK(fam.labels("kept").value().integral == 0);
}

TEST_CASE("series_ttl: remove() and reset() hide series and free the slots nobody holds", "[ttl]") {
    lm::manual_clock clock;
    ttl_registry r;
    r.set_time_source(lm::time_source::of(clock));
    auto& fam = r.get<tenant_requests_total>();
    fam.labels("a").inc(2);
    auto b = fam.labels("b");
    b.inc(3);
    CHECK(fam.remove("a"));
    CHECK_FALSE(fam.remove("a"));
    CHECK(fam.size() == 1);  // "a" retired at once; "b" is live
    CHECK(fam.labels("a").value().integral == 0);
    fam.reset();
    capture c = scrape(r);
    CHECK(c.count_of("tenant_requests_total") == 0);
    b.inc();  // a held series comes back, from zero, with its next write
    c = scrape(r);
    CHECK(c.at("tenant_requests_total{b}") == 1);
    CHECK_FALSE(c.has("tenant_requests_total{a}"));
}

TEST_CASE("series_ttl: writers racing expiry and reuse lose nothing and never write elsewhere", "[ttl][concurrency]") {
    lm::manual_clock clock;
    ttl_registry r;
    r.set_time_source(lm::time_source::of(clock));
    auto& fam = r.get<tenant_requests_total>();
    auto& gauges = r.get<tenant_budget>();
    const int rounds = under_sanitizer() ? 10000 : 30000;
    constexpr int writers = 2, tenants_per_writer = 8;

    std::atomic<bool> done{false};
    std::atomic<int> sweeps{0};
    std::atomic<bool> ok{true};  // Catch2 assertions are not thread-safe
    std::vector<std::uint64_t> kept_totals(writers, 0), kept_values(writers, 0);
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
        threads.emplace_back([&, w] {
            auto kept = fam.labels("kept-" + std::to_string(w));
            std::uint64_t n = 0;
            for (int i = 0; i < rounds || sweeps.load() < 20; ++i) {  // at least 20 sweeps race the writes
                kept.inc();
                ++n;
                // Temporaries: each tenant's count can only ever be what this writer wrote to it.
                fam.labels("w" + std::to_string(w) + "-" + std::to_string(i % tenants_per_writer)).inc();
                gauges.labels("g" + std::to_string(w)).set(i);
                // Tenants written once: they expire and their slots go to others meanwhile.
                if (i % 16 == 0) fam.labels("w" + std::to_string(w) + "-once-" + std::to_string(i)).inc();
            }
            kept_totals[w] = n;
            kept_values[w] = kept.value().integral;  // still held: the sweeper keeps running
        });
    }
    std::thread sweeper([&] {
        while (!done.load()) {
            clock.advance(30s);
            r.expire_series();
            const capture c = scrape(r);
            // A tenant written once shows at most 1: no write went to a reused slot.
            for (const auto& [k, v] : c.samples)
                if (k.find("-once-") != std::string::npos && v > 1) ok = false;
            sweeps.fetch_add(1);
        }
    });
    for (auto& t : threads) t.join();
    done = true;
    sweeper.join();
    CHECK(ok.load());
    // Held handles are never reused: every increment through them is there or was
    // taken out by a hide (test_series_ttl_revive.cpp counts that exactly).
    for (int w = 0; w < writers; ++w) {
        CHECK(kept_values[w] <= kept_totals[w]);
        CHECK(kept_values[w] + fam.taken_out_by_expiry() >= kept_totals[w]);
    }
    CHECK(fam.expired() > 0);
}

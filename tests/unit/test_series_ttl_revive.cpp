// series_ttl<S>: a handle kept across an expiry brings its series back from zero,
// with a new created time, and nothing written through it is lost or counted
// twice, even when the writes race the sweeps that hide the series.
#include <catch2/catch.hpp>

#include "under_sanitizer.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>

#include <llmetrics/llmetrics.hpp>

namespace lm = llmetrics;
using namespace std::chrono_literals;

namespace {

struct revive_requests_total : lm::counter<"revive_requests_total", "Requests per tenant", lm::labels<"tenant">, lm::series_ttl<60>> {};
struct revive_budget : lm::gauge<"revive_budget", "Budget per tenant", lm::labels<"tenant">, lm::series_ttl<60>> {};
struct revive_latency_seconds : lm::histogram<"revive_latency_seconds", "Latency per tenant", lm::labels<"tenant">,
                                             lm::buckets<0.1, 1>, lm::series_ttl<60>> {};
struct revive_tokens : lm::native_histogram<"revive_tokens", "Tokens per request", lm::labels<"tenant">, lm::series_ttl<60>> {};
struct revive_both_seconds : lm::histogram<"revive_both_seconds", "Classic and native", lm::labels<"tenant">,
                                          lm::buckets<0.1, 1>, lm::native_schema<2>, lm::series_ttl<60>> {};

using revive_registry =
    lm::registry<revive_requests_total, revive_budget, revive_latency_seconds, revive_tokens, revive_both_seconds>;

// One sample per series: its value (counter total, gauge, histogram count), sum,
// created time, and whether its classic buckets add up to its count.
struct sample {
    double value = 0, sum = 0, created = 0;
    bool buckets_match = true;
};
struct capture {
    std::map<std::string, sample> samples;
    std::string family;
    std::string key(lm::labels_view l) const {
        return family + "{" + (l.values.empty() ? std::string() : std::string(l.values[0])) + "}";
    }
    void begin_family(const lm::family_header& h) { family = std::string(h.name); }
    void counter(lm::labels_view l, lm::counter_value c, double created, const lm::exemplar_view*) {
        samples[key(l)] = {static_cast<double>(c.integral) + c.fractional, 0, created, true};
    }
    void gauge(lm::labels_view l, double v) { samples[key(l)] = {v, 0, 0, true}; }
    void histogram(lm::labels_view l, std::span<const double>, std::span<const std::uint64_t> counts, double sum,
                   double created, std::span<const lm::exemplar_view>) {
        std::uint64_t n = 0;
        for (auto c : counts) n += c;
        samples[key(l)] = {static_cast<double>(n), sum, created, true};
    }
    void native_histogram(lm::labels_view l, const lm::native_histogram_view& v, std::span<const double>,
                          std::span<const std::uint64_t> classic, double created, std::span<const lm::exemplar_view>) {
        std::uint64_t buckets = v.zero_count;
        for (auto c : v.positive_counts) buckets += c;
        for (auto c : v.negative_counts) buckets += c;
        bool match = buckets == v.count;
        if (!classic.empty()) {
            std::uint64_t n = 0;
            for (auto c : classic) n += c;
            match = match && n == v.count;
        }
        samples[key(l)] = {static_cast<double>(v.count), v.sum, created, match};
    }
    void end_family() {}
    void finish() {}
    bool has(const std::string& k) const { return samples.count(k) != 0; }
    sample at(const std::string& k) const { return samples.count(k) ? samples.at(k) : sample{-1, -1, -1, false}; }
};

template <class R>
capture scrape(const R& r) {
    capture c;
    r.visit(c);
    return c;
}

// Writes, lets the series expire while the handle is kept, and checks it is gone.
template <class R, class H>
void expire(R& r, lm::manual_clock& clock, const H&, const std::string& key) {
    r.expire_series();
    clock.advance(61s);
    r.expire_series();
    CHECK_FALSE(scrape(r).has(key));
}

}  // namespace

TEST_CASE("series_ttl: a kept handle written after expiry shows only the new writes", "[ttl]") {
    lm::manual_clock clock;
    revive_registry r;
    r.set_time_source(lm::time_source::of(clock));

    SECTION("counter: whole and fractional increments, a new created time") {
        auto& fam = r.get<revive_requests_total>();
        auto kept = fam.labels("kept");
        kept.inc(5);
        kept.inc(0.25);
        const double created_before = scrape(r).at("revive_requests_total{kept}").created;
        std::this_thread::sleep_for(20ms);  // created times are wall-clock seconds
        expire(r, clock, kept, "revive_requests_total{kept}");
        CHECK(kept.value().integral == 0);
        CHECK(kept.value().fractional == 0.0);
        CHECK(fam.taken_out_by_expiry() == 5);
        kept.inc(2);
        kept.inc(0.5);
        const sample s = scrape(r).at("revive_requests_total{kept}");
        CHECK(s.value == 2.5);
        CHECK(s.created > created_before);  // Prometheus sees a reset, not a continued count
        CHECK(fam.size() == 1);
    }
    SECTION("gauge: set overwrites, inc starts from 0") {
        auto& fam = r.get<revive_budget>();
        auto set_kept = fam.labels("set");
        auto inc_kept = fam.labels("inc");
        set_kept.set(40);
        inc_kept.set(40);
        expire(r, clock, set_kept, "revive_budget{set}");
        CHECK_FALSE(scrape(r).has("revive_budget{inc}"));
        set_kept.set(7);
        inc_kept.inc(3);
        const capture c = scrape(r);
        CHECK(c.at("revive_budget{set}").value == 7);
        CHECK(c.at("revive_budget{inc}").value == 3);
    }
    SECTION("classic histogram: buckets, count and sum restart together") {
        auto& fam = r.get<revive_latency_seconds>();
        auto kept = fam.labels("kept");
        for (int i = 0; i < 10; ++i) kept.observe(0.5);
        const double created_before = scrape(r).at("revive_latency_seconds{kept}").created;
        std::this_thread::sleep_for(20ms);
        expire(r, clock, kept, "revive_latency_seconds{kept}");
        CHECK(kept.value().count() == 0);
        CHECK(fam.taken_out_by_expiry() == 10);
        kept.observe(0.05);
        kept.observe(2.0);
        const auto v = kept.value();
        CHECK(v.counts[0] == 1);
        CHECK(v.counts[1] == 0);
        CHECK(v.counts[2] == 1);
        const sample s = scrape(r).at("revive_latency_seconds{kept}");
        CHECK(s.value == 2);
        CHECK(s.sum == Approx(2.05));
        CHECK(s.created > created_before);
    }
    SECTION("native histograms, alone and with a classic part, keep their layout and restart") {
        auto& native = r.get<revive_tokens>();
        auto& both = r.get<revive_both_seconds>();
        auto n = native.labels("kept");
        auto b = both.labels("kept");
        for (int i = 1; i <= 50; ++i) {
            n.observe(i * 100.0);
            n.observe(-i * 1.0);  // a negative ring too
            b.observe(i * 0.05);
        }
        const capture before = scrape(r);
        CHECK(before.at("revive_tokens{kept}").value == 100);
        std::this_thread::sleep_for(20ms);
        expire(r, clock, n, "revive_tokens{kept}");
        CHECK_FALSE(scrape(r).has("revive_both_seconds{kept}"));
        CHECK(native.taken_out_by_expiry() == 100);
        CHECK(both.taken_out_by_expiry() == 50);
        n.observe(300.0);
        b.observe(0.05);
        b.observe(5.0);
        const capture after = scrape(r);
        const sample sn = after.at("revive_tokens{kept}"), sb = after.at("revive_both_seconds{kept}");
        CHECK(sn.value == 1);
        CHECK(sn.sum == 300.0);
        CHECK(sn.buckets_match);
        CHECK(sn.created > before.at("revive_tokens{kept}").created);
        CHECK(sb.value == 2);
        CHECK(sb.sum == Approx(5.05));
        CHECK(sb.buckets_match);
        CHECK(sb.created > before.at("revive_both_seconds{kept}").created);
    }
    SECTION("remove() empties a kept series too; its next write starts from zero") {
        auto& fam = r.get<revive_requests_total>();
        auto kept = fam.labels("kept");
        kept.inc(4);
        CHECK(fam.remove("kept"));
        CHECK_FALSE(scrape(r).has("revive_requests_total{kept}"));
        kept.inc();
        CHECK(scrape(r).at("revive_requests_total{kept}").value == 1);
    }
}

// The writer pauses now and then, so sweeps (61 s apart on the family's clock)
// hide its series while it holds them, and its next writes race the hide.
TEST_CASE("series_ttl: writes racing the hides of a kept series are never lost or counted twice",
          "[ttl][concurrency]") {
    lm::manual_clock clock;
    revive_registry r;
    r.set_time_source(lm::time_source::of(clock));
    auto& counters = r.get<revive_requests_total>();
    auto& histograms = r.get<revive_latency_seconds>();
    auto& natives = r.get<revive_both_seconds>();
    const std::uint64_t min_hides = under_sanitizer() ? 20 : 100;
    const int min_writes = under_sanitizer() ? 20000 : 200000;

    std::atomic<bool> done{false};
    std::atomic<bool> consistent{true};  // Catch2 assertions are not thread-safe
    std::uint64_t written = 0;
    // Held until the end: a series nobody holds is retired (zeroed, uncounted).
    auto c = counters.labels("kept");
    auto h = histograms.labels("kept");
    auto n = natives.labels("kept");
    std::thread writer([&] {
        const auto enough = [&] {
            return counters.expired() >= min_hides && histograms.expired() >= min_hides &&
                   natives.expired() >= min_hides;
        };
        for (int i = 0; i < min_writes || !enough(); ++i) {
            c.inc();
            h.observe(0.5);
            n.observe(0.5 + (i % 7));
            ++written;
            if (i % 256 == 0) std::this_thread::sleep_for(200us);
        }
    });
    std::thread sweeper([&] {
        while (!done.load()) {
            clock.advance(61s);
            const capture s = scrape(r);  // every scrape sweeps first
            for (const auto& [k, v] : s.samples)
                if (!v.buckets_match) consistent = false;
        }
    });
    writer.join();
    done = true;
    sweeper.join();

    r.expire_series();  // shows what the last writes left in a hidden series
    const capture last = scrape(r);
    const auto shown = [&](const std::string& k) { return last.has(k) ? last.at(k).value : 0.0; };
    CHECK(counters.expired() >= min_hides);
    CHECK(static_cast<double>(counters.taken_out_by_expiry()) + shown("revive_requests_total{kept}") ==
          static_cast<double>(written));
    CHECK(static_cast<double>(histograms.taken_out_by_expiry()) + shown("revive_latency_seconds{kept}") ==
          static_cast<double>(written));
    CHECK(static_cast<double>(natives.taken_out_by_expiry()) + shown("revive_both_seconds{kept}") ==
          static_cast<double>(written));
    CHECK(consistent.load());
}

// Writers and scrapers at once: no lost increments, no torn or inconsistent
// histogram, counters never going backwards between scrapes, series created
// concurrently from many threads. Also run under ThreadSanitizer in CI.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <llmetrics/llmetrics.hpp>

namespace lm = llmetrics;

namespace {

using hits_total = lm::counter<"hits_total", "Hits", lm::labels<"worker">>;
using shared_total = lm::counter<"shared_total", "One series, all threads">;
using sizes = lm::histogram<"sizes", "Sizes", lm::labels<>, lm::buckets<1, 10, 100>>;
using level = lm::gauge<"level", "Level">;
using metrics = lm::registry<hits_total, shared_total, sizes, level>;

struct reading {
    std::uint64_t shared = 0;
    std::vector<std::uint64_t> cumulative;
    std::uint64_t count = 0;
    bool ok = true;
};

struct checker {
    reading r;
    std::string family;
    void begin_family(const lm::family_header& h) { family = std::string(h.name); }
    void counter(lm::labels_view, lm::counter_value c, double, const lm::exemplar_view*) {
        if (family == "shared_total") r.shared = c.integral;
    }
    void gauge(lm::labels_view, double) {}
    void histogram(lm::labels_view, std::span<const double>, std::span<const std::uint64_t> counts, double, double,
                   std::span<const lm::exemplar_view>) {
        if (family != "sizes") return;
        std::uint64_t running = 0;
        r.cumulative.clear();
        for (auto c : counts) r.cumulative.push_back(running += c);
        r.count = running;
    }
    void native_histogram(lm::labels_view, const lm::native_histogram_view&, std::span<const double>,
                          std::span<const std::uint64_t>, double, std::span<const lm::exemplar_view>) {}
    void end_family() {}
    void finish() {}
};

}  // namespace

TEST_CASE("concurrent writers lose nothing and scrapes stay consistent", "[concurrency]") {
    metrics m;
    constexpr int threads = 4;
    constexpr int per_thread = 20000;
    std::atomic<bool> done{false};
    std::atomic<int> scrapes{0};
    std::atomic<bool> consistent{true};  // Catch2 assertions are not thread-safe

    std::thread scraper([&] {
        reading previous;
        do {
            checker c;
            m.visit(c);
            // Buckets cumulative and non-decreasing, count == +Inf bucket by construction,
            // and nothing goes backwards between scrapes.
            for (std::size_t i = 1; i < c.r.cumulative.size(); ++i)
                if (c.r.cumulative[i] < c.r.cumulative[i - 1]) c.r.ok = false;
            if (!c.r.cumulative.empty() && c.r.cumulative.back() != c.r.count) c.r.ok = false;
            if (c.r.shared < previous.shared || c.r.count < previous.count) c.r.ok = false;
            for (std::size_t i = 0; i < previous.cumulative.size() && i < c.r.cumulative.size(); ++i)
                if (c.r.cumulative[i] < previous.cumulative[i]) c.r.ok = false;
            if (!c.r.ok) consistent = false;
            previous = c.r;
            ++scrapes;
        } while (!done.load());
    });

    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t) {
        writers.emplace_back([&, t] {
            auto& shared = m.get<shared_total>().labels();
            auto& h = m.get<sizes>().labels();
            for (int i = 0; i < per_thread; ++i) {
                shared.inc();
                h.observe(i % 200);
                m.get<hits_total>().labels(std::string("w") + std::to_string((t * 7 + i) % 50)).inc();
                m.get<level>().labels().add(1);
            }
        });
    }
    for (auto& w : writers) w.join();
    done = true;
    scraper.join();
    CHECK(consistent.load());
    CHECK(scrapes.load() > 0);

    CHECK(m.get<shared_total>().labels().value().integral == std::uint64_t{threads} * per_thread);
    CHECK(m.get<sizes>().labels().value().count() == std::uint64_t{threads} * per_thread);
    CHECK(m.get<level>().labels().value() == double(threads * per_thread));
    std::uint64_t hits = 0;
    for (int w = 0; w < 50; ++w) hits += m.get<hits_total>().labels(std::string("w") + std::to_string(w)).value().integral;
    CHECK(hits == std::uint64_t{threads} * per_thread);
    CHECK(m.get<hits_total>().size() == 50);

    // Histogram sum is exact: every value observed is an integer.
    double expected_sum = 0;
    for (int i = 0; i < per_thread; ++i) expected_sum += i % 200;
    CHECK(m.get<sizes>().labels().value().sum == expected_sum * threads);
}

TEST_CASE("many threads creating the same and different series agree on handles", "[concurrency]") {
    metrics m;
    constexpr int threads = 4;
    std::vector<std::vector<const void*>> seen(threads);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            for (int i = 0; i < 2000; ++i) {
                auto& s = m.get<hits_total>().labels(std::string("series-") + std::to_string(i));
                s.inc();
                seen[t].push_back(&s);
            }
        });
    }
    for (auto& w : workers) w.join();
    for (int t = 1; t < threads; ++t) CHECK(seen[t] == seen[0]);
    CHECK(m.get<hits_total>().size() == 2000);
    for (int i = 0; i < 2000; i += 97)
        CHECK(m.get<hits_total>().labels(std::string("series-") + std::to_string(i)).value().integral == threads);
}

TEST_CASE("remove and reset while writers run never crash or corrupt", "[concurrency]") {
    metrics m;
    std::atomic<bool> done{false};
    std::thread remover([&] {
        while (!done.load()) {
            m.get<hits_total>().remove("victim");
            m.get<sizes>().reset();
        }
    });
    for (int i = 0; i < 20000; ++i) {
        m.get<hits_total>().labels("victim").inc();
        m.get<sizes>().labels().observe(5);
    }
    done = true;
    remover.join();
    const auto h = m.get<sizes>().labels().value();
    CHECK(h.count() <= 20000);
    CHECK(m.get<hits_total>().size() == 1);
}

namespace {
struct exemplar_reader {
    std::size_t seen = 0;
    bool ok = true;
    void begin_family(const lm::family_header&) {}
    void counter(lm::labels_view, lm::counter_value, double, const lm::exemplar_view* e) {
        if (e) check(*e);
    }
    void gauge(lm::labels_view, double) {}
    void histogram(lm::labels_view, std::span<const double>, std::span<const std::uint64_t>, double, double,
                   std::span<const lm::exemplar_view> ex) {
        for (const auto& e : ex)
            if (e.present()) check(e);
    }
    void native_histogram(lm::labels_view, const lm::native_histogram_view&, std::span<const double>,
                          std::span<const std::uint64_t>, double, std::span<const lm::exemplar_view> ex) {
        for (const auto& e : ex)
            if (e.present()) check(e);
    }
    void check(const lm::exemplar_view& e) {
        ++seen;
        // Writers always store trace_id=<t> with value <t>: a torn read would break it.
        if (e.names.size() != 1 || e.names[0] != "trace_id" || e.values[0] != std::to_string(int(e.value)))
            ok = false;
    }
    void end_family() {}
    void finish() {}
};
}  // namespace

TEST_CASE("exemplars written by many threads are never read torn", "[concurrency][exemplar]") {
    metrics m;
    std::atomic<bool> done{false};
    std::atomic<bool> ok{true};
    std::atomic<std::size_t> seen{0};
    std::thread scraper([&] {
        // One more visit after `done`: the writers may all finish while the first
        // visit runs, and it may have started before any write.
        bool last = false;
        do {
            last = done.load();
            exemplar_reader r;
            m.visit(r);
            if (!r.ok) ok = false;
            seen += r.seen;
        } while (!last);
    });
    std::vector<std::thread> writers;
    for (int t = 0; t < 3; ++t) {
        writers.emplace_back([&, t] {
            auto& c = m.get<shared_total>().labels();
            auto& h = m.get<sizes>().labels();
            for (int i = 0; i < 5000; ++i) {
                const int v = (t * 5000 + i) % 150;
                const std::string id = std::to_string(v);
                c.inc(v, lm::exemplar{{{"trace_id", id}}});
                h.observe(v, lm::exemplar{{{"trace_id", id}}});
            }
        });
    }
    for (auto& w : writers) w.join();
    done = true;
    scraper.join();
    CHECK(ok.load());
    CHECK(seen.load() > 0);
}

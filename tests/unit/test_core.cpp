// Families, storage and registry: values are exact, misuse at run time is
// contained, and exposition order is stable.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <llmetrics/llmetrics.hpp>
#include <llmetrics/exposition/render.hpp>

namespace lm = llmetrics;

namespace {

// Records what an encoder is given, keyed "family{v1,v2}".
struct capture {
    struct sample {
        lm::counter_value counter{};
        double gauge = 0;
        std::vector<std::uint64_t> counts;
        double sum = 0;
        double created = 0;
        lm::native_histogram_value native{};  // what native_histogram() was given
    };
    std::vector<std::string> families;
    std::vector<std::string> order;  // series keys in exposition order
    std::map<std::string, sample> samples;
    std::string current;

    std::string key(const lm::labels_view& l) const {
        std::string k = current + "{";
        for (std::size_t i = 0; i < l.values.size(); ++i) {
            if (i) k += ",";
            k += std::string(l.names[i]) + "=" + std::string(l.values[i]);
        }
        return k + "}";
    }
    void begin_family(const lm::family_header& h) {
        current = std::string(h.name);
        families.push_back(current);
    }
    void counter(lm::labels_view l, lm::counter_value c, double created, const lm::exemplar_view*) {
        order.push_back(key(l));
        samples[key(l)].counter = c;
        samples[key(l)].created = created;
    }
    void gauge(lm::labels_view l, double v) {
        order.push_back(key(l));
        samples[key(l)].gauge = v;
    }
    void histogram(lm::labels_view l, std::span<const double>, std::span<const std::uint64_t> counts, double sum,
                   double, std::span<const lm::exemplar_view>) {
        order.push_back(key(l));
        samples[key(l)].counts.assign(counts.begin(), counts.end());
        samples[key(l)].sum = sum;
    }
    void native_histogram(lm::labels_view l, const lm::native_histogram_view& h, std::span<const double> bounds,
                          std::span<const std::uint64_t> counts, double created, std::span<const lm::exemplar_view>) {
        order.push_back(key(l));
        sample& s = samples[key(l)];
        s.counts.assign(counts.begin(), counts.end());
        s.sum = h.sum;
        s.created = created;
        s.native = {h.schema, h.zero_threshold, h.zero_count, h.count, h.sum,
                    {h.positive_spans.begin(), h.positive_spans.end()},
                    {h.positive_counts.begin(), h.positive_counts.end()},
                    {h.negative_spans.begin(), h.negative_spans.end()},
                    {h.negative_counts.begin(), h.negative_counts.end()},
                    {{bounds.begin(), bounds.end()}, {counts.begin(), counts.end()}, h.sum}};
    }
    void end_family() {}
    void finish() {}
};

template <class Source>
capture scrape(const Source& s) {
    capture c;
    s.visit(c);
    return c;
}

using requests_total = lm::counter<"requests_total", "Requests", lm::labels<"method", "route", "status_code", "tenant_id">>;
using latency_seconds = lm::histogram<"latency_seconds", "Latency", lm::labels<"model">, lm::buckets<0.1, 0.5, 1, 2>>;
using depth = lm::gauge<"queue_depth", "Depth", lm::labels<"queue_type">>;
using plain_total = lm::counter<"plain_total", "No labels">;
using inference_total = lm::counter<"inference_total", "By status", lm::labels<"model", "status", "tenant">,
                                    lm::value_set<"status", "success", "error">>;
using small_total = lm::counter<"small_total", "Bounded", lm::labels<"tenant">, lm::max_series<3>>;

using test_registry = lm::registry<requests_total, latency_seconds, depth, plain_total, inference_total, small_total>;

}  // namespace

TEST_CASE("bucket bounds convert exactly from integers, doubles and decimal strings", "[core]") {
    STATIC_REQUIRE(lm::bound(0.1).value() == 0.1);
    STATIC_REQUIRE(lm::bound("0.1").value() == 0.1);
    STATIC_REQUIRE(lm::bound(1e-05).mantissa == 1);
    STATIC_REQUIRE(lm::bound(1e-05).exponent == -5);
    STATIC_REQUIRE(lm::bound("1e-5").value() == 1e-05);
    STATIC_REQUIRE(lm::bound(100000).value() == 100000.0);
    STATIC_REQUIRE(lm::bound(0.30000000000000004).value() == 0.30000000000000004);
    STATIC_REQUIRE(lm::bound(-2.5).value() == -2.5);
    STATIC_REQUIRE(lm::bound(123.456).value() == 123.456);
    STATIC_REQUIRE(lm::bound(1e22).value() == 1e22);
    STATIC_REQUIRE(lm::bound(2.5e-22).value() == 2.5e-22);
    STATIC_REQUIRE(lm::bound(86400).value() == 86400.0);

    using lin = lm::linear_buckets<1, 2, 4>;
    STATIC_REQUIRE(lin::bounds == std::array<double, 4>{1, 3, 5, 7});
    using expo = lm::exponential_buckets<"0.001", 10, 4>;
    CHECK(expo::bounds[0] == 0.001);
    CHECK(expo::bounds[3] == Approx(1.0));
    using mixed = lm::buckets<"0.005", 0.01, 1, "2.5">;
    STATIC_REQUIRE(mixed::bounds == std::array<double, 4>{0.005, 0.01, 1.0, 2.5});
}

TEST_CASE("family descriptors expose their declaration", "[core]") {
    STATIC_REQUIRE(requests_total::name == "requests_total");
    STATIC_REQUIRE(requests_total::type == lm::metric_type::counter);
    STATIC_REQUIRE(requests_total::label_names::names[2] == "status_code");
    STATIC_REQUIRE(requests_total::max_series == lm::default_max_series);
    STATIC_REQUIRE(small_total::max_series == 3);
    STATIC_REQUIRE(inference_total::layout::combinations == 2);
    STATIC_REQUIRE(inference_total::layout::dynamic_count == 2);
    STATIC_REQUIRE(test_registry::names[0] == "requests_total");
    STATIC_REQUIRE(lm::registry<lm::prefix<"llm_router_">, plain_total>::name_of<plain_total>() ==
                   "llm_router_plain_total");
}

TEST_CASE("counters are exact: integers stay integers past 2^53", "[core]") {
    test_registry r;
    auto& c = r.get<plain_total>().labels();
    c.inc(std::uint64_t{1} << 53);
    c.inc();
    CHECK(c.value().integral == (std::uint64_t{1} << 53) + 1);
    CHECK(c.value().fractional == 0.0);
    CHECK(lm::render(r).find("plain_total 9007199254740993\n") != std::string::npos);

    auto& d = r.get<requests_total>().labels("GET", "/chat", "200", "a");
    d.inc(123456789);
    CHECK(lm::render(r).find("tenant_id=\"a\"} 123456789\n") != std::string::npos);
    d.inc(2.0);  // a whole double goes to the integer slot
    CHECK(d.value().integral == 123456791);
    d.inc(0.5);
    CHECK(d.value().fractional == 0.5);
}

TEST_CASE("counters ignore negative and NaN increments and count them", "[core]") {
    test_registry r;
    auto& fam = r.get<plain_total>();
    auto& c = fam.labels();
    c.inc(5);
    c.inc(-1);
    c.inc(-0.5);
    c.inc(std::numeric_limits<double>::quiet_NaN());
    CHECK(c.value().integral == 5);
    CHECK(c.value().fractional == 0.0);
    CHECK(fam.rejected() == 3);
    CHECK(lm::render(r).find("llmetrics_rejected_values_total{family=\"plain_total\"} 3") != std::string::npos);
}

TEST_CASE("gauges set, add and render shortest round-trip values", "[core]") {
    test_registry r;
    auto& g = r.get<depth>().labels("inference");
    g.set(0.1 + 0.2);
    CHECK(lm::render(r).find("queue_depth{queue_type=\"inference\"} 0.30000000000000004\n") != std::string::npos);
    g.set(-1.25e-3);
    g.inc();
    g.dec(2);
    CHECK(g.value() == Approx(-1.00125));
    g.set(std::numeric_limits<double>::infinity());
    CHECK(lm::render(r).find("queue_depth{queue_type=\"inference\"} +Inf\n") != std::string::npos);
}

TEST_CASE("histograms bucket by le, keep count equal to +Inf, and ignore NaN", "[core]") {
    test_registry r;
    auto& fam = r.get<latency_seconds>();
    auto& h = fam.labels("gpt-4");
    for (double v : {0.05, 0.1, 0.3, 1.0, 1.5, 100.0}) h.observe(v);
    h.observe(std::numeric_limits<double>::quiet_NaN());
    h.observe(std::chrono::milliseconds(250));
    const auto reading = h.value();
    CHECK(reading.counts == std::array<std::uint64_t, 5>{2, 2, 1, 1, 1});  // le is inclusive
    CHECK(reading.count() == 7);
    CHECK(reading.sum == Approx(103.2));
    CHECK(fam.rejected() == 1);

    const std::string text = lm::render(r);
    CHECK(text.find("latency_seconds_bucket{model=\"gpt-4\",le=\"0.5\"} 4\n") != std::string::npos);
    CHECK(text.find("latency_seconds_bucket{model=\"gpt-4\",le=\"+Inf\"} 7\n") != std::string::npos);
    CHECK(text.find("latency_seconds_count{model=\"gpt-4\"} 7\n") != std::string::npos);

    h.observe(std::numeric_limits<double>::infinity());
    CHECK(h.value().counts[4] == 2);
}

TEST_CASE("labels(...) returns the same handle for the same label set, positional or named", "[core]") {
    test_registry r;
    auto& fam = r.get<requests_total>();
    auto& a = fam.labels("GET", "/chat", "200", "tenant-a");
    auto& b = fam.labels(std::string("GET"), std::string_view("/chat"), "200", std::string("tenant-a"));
    auto& c = fam.labels(lm::label<"tenant_id">{"tenant-a"}, lm::label<"route">{"/chat"},
                         lm::label<"status_code">{"200"}, lm::label<"method">{"GET"});
    CHECK(&a == &b);
    CHECK(&a == &c);
    CHECK(&a != &fam.labels("GET", "/chat", "500", "tenant-a"));
    CHECK(fam.size() == 2);
}

TEST_CASE("label sets that collide when naively joined stay distinct", "[core]") {
    lm::registry<lm::counter<"pair_total", "x", lm::labels<"a", "b">>> r;
    using pair_total = lm::counter<"pair_total", "x", lm::labels<"a", "b">>;
    auto& fam = r.get<pair_total>();
    fam.labels("x,b:y", "").inc();
    fam.labels("x", "y").inc(2);
    fam.labels("x\",b=\"y", "").inc(3);
    fam.labels("xy", "").inc(4);
    fam.labels("x", "y").inc(2);
    CHECK(fam.size() == 4);
    const capture c = scrape(r);
    CHECK(c.samples.at("pair_total{a=x,b:y,b=}").counter.integral == 1);
    CHECK(c.samples.at("pair_total{a=x,b=y}").counter.integral == 4);
    CHECK(c.samples.at("pair_total{a=x\",b=\"y,b=}").counter.integral == 3);
    CHECK(c.samples.at("pair_total{a=xy,b=}").counter.integral == 4);
}

TEST_CASE("invalid UTF-8 in label values is replaced, long values are bounded", "[core]") {
    test_registry r;
    auto& fam = r.get<depth>();
    fam.labels("bad\xff\xfe" "end").set(1);
    fam.labels(std::string(1024, 'k')).set(2);
    fam.labels(std::string(5000, 'z')).set(3);
    const capture c = scrape(r);
    CHECK(c.samples.count("queue_depth{queue_type=bad\xEF\xBF\xBD\xEF\xBF\xBD" "end}") == 1);
    CHECK(c.samples.at("queue_depth{queue_type=" + std::string(1024, 'k') + "}").gauge == 2);
    CHECK(c.samples.at("queue_depth{queue_type=" + std::string(lm::max_label_value_bytes, 'z') + "}").gauge == 3);
    // The same raw bytes find the same series again.
    CHECK(&fam.labels("bad\xff\xfe" "end") == &fam.labels("bad\xff\xfe" "end"));
}

TEST_CASE("value sets: a fixed table of combinations, checked values", "[core]") {
    test_registry r;
    auto& fam = r.get<inference_total>();
    auto& ok = fam.labels("gpt-4", lm::value<"success">, "tenant-a");
    auto& err = fam.labels("gpt-4", "error", "tenant-a");
    CHECK(&ok != &err);
    CHECK(&ok == &fam.labels("gpt-4", "success", "tenant-a"));
    ok.inc(3);
    err.inc();
    capture c = scrape(r);
    CHECK(c.samples.at("inference_total{model=gpt-4,status=success,tenant=tenant-a}").counter.integral == 3);
    CHECK(c.samples.at("inference_total{model=gpt-4,status=error,tenant=tenant-a}").counter.integral == 1);

    // A value outside the set goes to the overflow series and is counted.
    fam.labels("gpt-4", "timeout", "tenant-a").inc();
    c = scrape(r);
    CHECK(c.samples.at("inference_total{model=__overflow__,status=__overflow__,tenant=__overflow__}").counter.integral ==
          1);
    CHECK(fam.dropped() == 1);
    CHECK(fam.size() == 1);
}

TEST_CASE("the cardinality bound sends new label sets to one overflow series", "[core]") {
    test_registry r;
    auto& fam = r.get<small_total>();
    for (int i = 0; i < 10; ++i) fam.labels(std::string("tenant-") + std::to_string(i)).inc();
    CHECK(fam.size() == 3);
    CHECK(fam.dropped() == 7);
    const capture c = scrape(r);
    CHECK(c.samples.at("small_total{tenant=tenant-0}").counter.integral == 1);
    CHECK(c.samples.at("small_total{tenant=tenant-2}").counter.integral == 1);
    CHECK(c.samples.count("small_total{tenant=tenant-3}") == 0);
    CHECK(c.samples.at("small_total{tenant=__overflow__}").counter.integral == 7);
    CHECK(c.samples.at("llmetrics_series_dropped_total{family=small_total}").counter.integral == 7);
    // Existing label sets keep working past the bound.
    fam.labels("tenant-1").inc();
    CHECK(fam.labels("tenant-1").value().integral == 2);

    // Memory stays bounded however many distinct values arrive.
    const std::size_t before = fam.memory_bytes();
    for (int i = 0; i < 20000; ++i) fam.labels(std::string("attacker-") + std::to_string(i)).inc();
    CHECK(fam.memory_bytes() == before);
}

TEST_CASE("remove() and reset() take series out of exposition; handles stay usable", "[core]") {
    test_registry r;
    auto& fam = r.get<requests_total>();
    auto& a = fam.labels("GET", "/a", "200", "t");
    auto& b = fam.labels("GET", "/b", "200", "t");
    a.inc(5);
    b.inc(7);
    CHECK(fam.remove("GET", "/a", "200", "t"));
    CHECK_FALSE(fam.remove("GET", "/a", "200", "t"));
    CHECK_FALSE(fam.remove("GET", "/zzz", "200", "t"));
    capture c = scrape(r);
    CHECK(c.samples.count("requests_total{method=GET,route=/a,status_code=200,tenant_id=t}") == 0);
    CHECK(c.samples.at("requests_total{method=GET,route=/b,status_code=200,tenant_id=t}").counter.integral == 7);

    // Using the label set again revives it from zero, at the same address.
    auto& again = fam.labels("GET", "/a", "200", "t");
    CHECK(&again == &a);
    CHECK(again.value().integral == 0);
    again.inc();
    c = scrape(r);
    CHECK(c.samples.at("requests_total{method=GET,route=/a,status_code=200,tenant_id=t}").counter.integral == 1);

    fam.reset();
    c = scrape(r);
    CHECK(c.order.empty() == false);  // other families still there
    for (const auto& key : c.order) CHECK(key.rfind("requests_total{", 0) != 0);

    // A handle kept from before brings its series back on the next write.
    b.inc();
    c = scrape(r);
    CHECK(c.samples.at("requests_total{method=GET,route=/b,status_code=200,tenant_id=t}").counter.integral == 1);
    CHECK(c.samples.count("requests_total{method=GET,route=/a,status_code=200,tenant_id=t}") == 0);
    CHECK(&fam.labels("GET", "/b", "200", "t") == &b);
    CHECK(b.value().integral == 1);
}

TEST_CASE("unlabelled families exist from the start; exposition order is stable", "[core]") {
    test_registry r;
    capture c = scrape(r);
    CHECK(c.samples.at("plain_total{}").counter.integral == 0);
    CHECK(c.samples.at("plain_total{}").created > 1.6e9);

    auto& fam = r.get<depth>();
    for (const char* q : {"zeta", "alpha", "mid"}) fam.labels(q).set(1);
    c = scrape(r);
    std::vector<std::string> depth_order;
    for (const auto& k : c.order)
        if (k.rfind("queue_depth{", 0) == 0) depth_order.push_back(k);
    CHECK(depth_order == std::vector<std::string>{"queue_depth{queue_type=zeta}", "queue_depth{queue_type=alpha}",
                                                  "queue_depth{queue_type=mid}"});
    CHECK(std::is_sorted(c.families.begin(), c.families.end()));
    CHECK(scrape(r).order == c.order);
}

namespace {
struct fixed_collector : lm::collector {
    std::string name;
    bool fail = false;
    void collect(std::vector<lm::family_snapshot>& out) override {
        out.push_back({name, "from a collector", "", lm::metric_type::gauge, {{{{"k", "v"}}, 42.0}}});
        if (fail) throw std::runtime_error("collector broke");
    }
};
}  // namespace

TEST_CASE("runtime collectors join the exposition; clashes and throws are contained", "[core]") {
    lm::registry<lm::prefix<"svc_">, plain_total> r;
    auto good = std::make_shared<fixed_collector>();
    good->name = "aaa_external";
    auto clash = std::make_shared<fixed_collector>();
    clash->name = "svc_plain_total";
    auto broken = std::make_shared<fixed_collector>();
    broken->name = "zzz_broken";
    broken->fail = true;
    r.add_collector(good);
    r.add_collector(clash);
    r.add_collector(broken);

    capture c = scrape(r);
    CHECK(c.samples.at("aaa_external{k=v}").gauge == 42.0);
    CHECK(c.samples.count("zzz_broken{k=v}") == 0);
    CHECK(c.samples.count("svc_plain_total{}") == 1);
    CHECK(c.samples.count("svc_plain_total{k=v}") == 0);
    CHECK(c.samples.at("llmetrics_collector_errors_total{}").counter.integral == 2);

    r.remove_collector(good.get());
    c = scrape(r);
    CHECK(c.samples.count("aaa_external{k=v}") == 0);
}

TEST_CASE("the registry renders every format through the same families", "[core]") {
    lm::registry<lm::prefix<"llm_router_">, requests_total, latency_seconds> r;
    r.get<requests_total>().labels("GET", "/chat", "200", "tenant-a").inc();
    r.get<latency_seconds>().labels("gpt-4").observe(1.7);

    const auto json = nlohmann::json::parse(lm::render(r, lm::format::json));
    bool saw_requests = false;
    for (const auto& f : json["families"]) {
        if (f["name"] == "llm_router_requests_total") {
            saw_requests = true;
            CHECK(f["type"] == "counter");
            CHECK(f["series"][0]["value"] == 1);
            CHECK(f["series"][0]["labels"]["tenant_id"] == "tenant-a");
        }
    }
    CHECK(saw_requests);

    const std::string om = lm::render(r, lm::format::openmetrics);
    CHECK(om.find("# TYPE llm_router_requests counter\n") != std::string::npos);
    CHECK(om.find("llm_router_latency_seconds_bucket{model=\"gpt-4\",le=\"2.0\"} 1\n") != std::string::npos);
    CHECK(om.size() >= 6);
    CHECK(om.substr(om.size() - 6) == "# EOF\n");

    std::string streamed;
    lm::render_to(streamed, r, lm::format::prometheus);
    CHECK(streamed == lm::render(r, lm::format::prometheus));
}

namespace {
// An encoder that keeps the exemplars it is given.
struct exemplar_capture : capture {
    std::map<std::string, std::vector<std::string>> exemplars;  // series key -> "labels value" per cell

    static std::string text(const lm::exemplar_view& e) {
        std::string t;
        for (std::size_t i = 0; i < e.names.size(); ++i)
            t += std::string(e.names[i]) + "=" + std::string(e.values[i]) + ";";
        return t + " " + std::to_string(e.value);
    }
    void counter(lm::labels_view l, lm::counter_value c, double created, const lm::exemplar_view* e) {
        capture::counter(l, c, created, nullptr);
        exemplars[key(l)] = {e ? text(*e) : ""};
    }
    void histogram(lm::labels_view l, std::span<const double> b, std::span<const std::uint64_t> counts, double sum,
                   double created, std::span<const lm::exemplar_view> ex) {
        capture::histogram(l, b, counts, sum, created, {});
        auto& out = exemplars[key(l)];
        for (const auto& e : ex) out.push_back(e.present() ? text(e) : "");
    }
};
}  // namespace

TEST_CASE("exemplars: kept per counter and per histogram bucket, limits enforced", "[core][exemplar]") {
    test_registry r;
    auto& c = r.get<plain_total>().labels();
    auto& h = r.get<latency_seconds>().labels("gpt-4");
    c.inc();
    h.observe(0.3);
    exemplar_capture none;
    r.visit(none);
    CHECK(none.exemplars.at("plain_total{}") == std::vector<std::string>{""});
    CHECK(none.exemplars.at("latency_seconds{model=gpt-4}").empty());  // never had one: an empty span

    c.inc(lm::exemplar{{{"trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"}}});
    c.inc(2, lm::exemplar{{{"trace_id", "abc"}, {"span_id", "00f067aa0ba902b7"}}});
    h.observe(0.3, lm::exemplar{{{"trace_id", "t1"}}});
    h.observe(1.5, lm::exemplar{{{"trace_id", "t2"}}, 1700000000.5});
    h.observe(0.35, lm::exemplar{{{"trace_id", "t3"}}});  // replaces t1 in the same bucket
    CHECK(c.value().integral == 4);
    CHECK(h.value().count() == 4);

    exemplar_capture got;
    r.visit(got);
    CHECK(got.exemplars.at("plain_total{}") ==
          std::vector<std::string>{"trace_id=abc;span_id=00f067aa0ba902b7; 2.000000"});
    const auto& buckets = got.exemplars.at("latency_seconds{model=gpt-4}");
    REQUIRE(buckets.size() == 5);
    CHECK(buckets[0] == "");
    CHECK(buckets[1] == "trace_id=t3; 0.350000");
    CHECK(buckets[3] == "trace_id=t2; 1.500000");

    // Over 128 code points, a bad label name, or invalid UTF-8: dropped, counted, value kept.
    auto& fam = r.get<plain_total>();
    const std::uint64_t rejected = fam.rejected();
    const std::string long_value(125, 'x');
    c.inc(lm::exemplar{{{"trace_id", long_value}}});
    c.inc(lm::exemplar{{{"trace-id", "x"}}});
    c.inc(lm::exemplar{{{"trace_id", "\xff"}}});
    CHECK(fam.rejected() == rejected + 3);
    CHECK(c.value().integral == 7);
    const std::string fits(120, 'y');  // 8 + 120 = 128 code points: allowed
    c.inc(lm::exemplar{{{"trace_id", fits}}});
    CHECK(fam.rejected() == rejected + 3);

    // remove() forgets exemplars with the values.
    r.get<latency_seconds>().remove("gpt-4");
    r.get<latency_seconds>().labels("gpt-4").observe(0.01);
    exemplar_capture after;
    r.visit(after);
    for (const auto& e : after.exemplars.at("latency_seconds{model=gpt-4}")) CHECK(e.empty());
}

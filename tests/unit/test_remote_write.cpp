// Remote write's pure parts: the WriteRequest encoder's counts and labels, its
// cache between pushes, the bounded queue, Retry-After and the client's
// Authorization header.
// (tests/integration/test_remote_write.py decodes real requests and sends them to Prometheus.)
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <llmetrics/exposition/render.hpp>
#include <llmetrics/llmetrics.hpp>
#include <llmetrics/serve/auth.hpp>
#include <llmetrics/serve/detail/push_retry.hpp>
#include <llmetrics/serve/detail/remote_write_queue.hpp>
#include <llmetrics/serve/remote_write_cache.hpp>
#include <llmetrics/serve/remote_write_encoder.hpp>

namespace lm = llmetrics;

namespace {
lm::snapshot_source sample_source() {
    lm::snapshot_source src;
    src.add({"jobs_total", "Jobs", "", lm::metric_type::counter,
             {{{{"tenant", "a"}, {"empty", ""}}, lm::counter_value{3, 0.0}}}});
    src.add({"latency_seconds", "Latency", "", lm::metric_type::histogram,
             {{{}, lm::histogram_value{{0.1, 1}, {1, 2, 3}, 4.5}}}});
    lm::native_histogram_value nh;
    nh.count = 6;
    nh.zero_count = 1;
    nh.sum = 9;
    nh.positive_spans = {{0, 2}, {1, 1}};
    nh.positive_counts = {2, 1, 2};
    src.add({"native_seconds", "Native", "", lm::metric_type::histogram, {{{}, nh}}});
    return src;
}
// The labels of each TimeSeries of a WriteRequest, read back with a minimal
// protobuf reader (field 1 of WriteRequest, field 1 of TimeSeries, Label 1 and 2).
using label_list = std::vector<std::pair<std::string, std::string>>;

std::uint64_t read_varint(std::string_view& in) {
    std::uint64_t v = 0;
    for (int shift = 0; !in.empty(); shift += 7) {
        const auto b = static_cast<unsigned char>(in.front());
        in.remove_prefix(1);
        v |= std::uint64_t{b & 0x7Fu} << shift;
        if (b < 0x80) break;
    }
    return v;
}

// Calls f(field, bytes) for each length-delimited field of `msg`; skips the others.
template <class F>
void each_field(std::string_view msg, F f) {
    while (!msg.empty()) {
        const std::uint64_t key = read_varint(msg);
        const auto field = static_cast<std::uint32_t>(key >> 3);
        switch (key & 7) {
            case 0: read_varint(msg); break;
            case 1: msg.remove_prefix(8); break;
            case 2: {
                const auto n = static_cast<std::size_t>(read_varint(msg));
                f(field, msg.substr(0, n));
                msg.remove_prefix(n);
                break;
            }
            default: FAIL("unexpected wire type"); return;
        }
    }
}

std::vector<label_list> series_labels(std::string_view request) {
    std::vector<label_list> out;
    each_field(request, [&](std::uint32_t field, std::string_view ts) {
        if (field != 1) return;
        label_list labels;
        each_field(ts, [&](std::uint32_t f, std::string_view label) {
            if (f != 1) return;
            std::pair<std::string, std::string> l;
            each_field(label, [&](std::uint32_t g, std::string_view v) { (g == 1 ? l.first : l.second) = v; });
            labels.push_back(l);
        });
        out.push_back(labels);
    });
    return out;
}
}  // namespace

TEST_CASE("remote_write_encoder: label order, ties and the le and __name__ slots", "[remote_write]") {
    // Label names sorting before __name__ (uppercase), an empty own value whose
    // name an external label has, an external `le` (on _sum and _count only:
    // a bucket's own le wins), a long value (multi-byte lengths).
    lm::snapshot_source src;
    src.add({"jobs_total", "Jobs", "", lm::metric_type::counter,
             {{{{"zone", "z"}, {"A", "upper"}, {"job", ""}}, lm::counter_value{1, 0.0}},
              {{{"zone", "y"}, {"A", "again"}, {"job", "own"}}, lm::counter_value{2, 0.0}}}});
    const std::string long_value(300, 'v');
    src.add({"latency_seconds", "Latency", "", lm::metric_type::histogram,
             {{{{"m", long_value}}, lm::histogram_value{{0.5}, {1, 2}, 4.5}}}});
    const lm::remote_write_label external[] = {{"job", "ext"}, {"le", "ext-le"}, {"B", "b"}, {"q", ""}};
    std::string out;
    lm::remote_write_encoder e(out, 1700000000123, external);
    src.visit(e);
    e.finish();
    const std::vector<label_list> got = series_labels(out);
    const std::vector<label_list> want = {
        {{"A", "upper"}, {"B", "b"}, {"__name__", "jobs_total"}, {"job", "ext"}, {"le", "ext-le"}, {"zone", "z"}},
        {{"A", "again"}, {"B", "b"}, {"__name__", "jobs_total"}, {"job", "own"}, {"le", "ext-le"}, {"zone", "y"}},
        {{"B", "b"}, {"__name__", "latency_seconds_bucket"}, {"job", "ext"}, {"le", "0.5"}, {"m", long_value}},
        {{"B", "b"}, {"__name__", "latency_seconds_bucket"}, {"job", "ext"}, {"le", "+Inf"}, {"m", long_value}},
        {{"B", "b"}, {"__name__", "latency_seconds_sum"}, {"job", "ext"}, {"le", "ext-le"}, {"m", long_value}},
        {{"B", "b"}, {"__name__", "latency_seconds_count"}, {"job", "ext"}, {"le", "ext-le"}, {"m", long_value}},
    };
    CHECK(got == want);
    CHECK(e.counts().samples == 6);
}

TEST_CASE("remote_write_encoder: one sample per series, native histograms in their own field", "[remote_write]") {
    std::string out;
    const lm::remote_write_label external[] = {{"job", "j"}, {"tenant", "ignored: the series has one"}};
    lm::remote_write_encoder e(out, 1700000000123, external);
    sample_source().visit(e);
    e.finish();
    // counter 1 + histogram (3 buckets + _sum + _count) = 6 float samples; 1 native histogram.
    CHECK(e.counts().samples == 6);
    CHECK(e.counts().histograms == 1);
    CHECK(e.counts().exemplars == 0);
    CHECK(out.find("jobs_total") != std::string::npos);
    CHECK(out.find("latency_seconds_bucket") != std::string::npos);
    CHECK(out.find("+Inf") != std::string::npos);
    // The external tenant label goes to every series but jobs_total, whose own label wins.
    std::size_t external_tenants = 0;
    for (std::size_t at = out.find("ignored"); at != std::string::npos; at = out.find("ignored", at + 1))
        ++external_tenants;
    CHECK(external_tenants == e.counts().samples + e.counts().histograms - 1);
    CHECK(out.find("empty") == std::string::npos);    // empty values are left out
}

TEST_CASE("remote_write_queue: the oldest requests go when a bound is passed", "[remote_write]") {
    lm::detail::remote_write_queue q(10, 1000);
    const auto batch = [](std::uint64_t samples) {
        lm::detail::remote_write_batch b;
        b.counts.samples = samples;
        b.body = std::string(10, 'x');
        return b;
    };
    CHECK(q.push(batch(4)).samples == 0);
    CHECK(q.push(batch(4)).samples == 0);
    CHECK(q.push(batch(4)).samples == 4);  // 12 > 10: the first goes
    CHECK(q.size() == 2);
    CHECK(q.samples() == 8);
    CHECK(q.push(batch(50)).samples == 8);  // alone over the bound: kept, the rest dropped
    CHECK(q.size() == 1);
    CHECK(q.bytes() == 10);
}

TEST_CASE("remote write: Retry-After seconds and the client's Authorization header", "[remote_write]") {
    using namespace std::chrono_literals;
    CHECK(lm::detail::parse_retry_after(" 3 ") == 3000ms);
    CHECK(lm::detail::parse_retry_after("") == -1ms);
    CHECK(lm::detail::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == -1ms);
    CHECK(lm::http_auth::bearer("t0k").header_value() == "Bearer t0k");
    CHECK(lm::http_auth::basic("u", "p").header_value() == "Basic dTpw");
    CHECK(lm::http_auth::none().header_value().empty());
}

namespace {
using jobs_total = lm::counter<"jobs_total", "Jobs", lm::labels<"tenant", "kind">>;
using wait_seconds = lm::histogram<"wait_seconds", "Wait", lm::labels<"tenant">, lm::buckets<0.1, 1, 10>>;
using budget = lm::gauge<"budget", "Budget left", lm::labels<"tenant">, lm::series_ttl<60>>;
using tokens = lm::native_histogram<"tokens", "Tokens", lm::labels<"tenant">>;
using cache_registry = lm::registry<jobs_total, wait_seconds, budget, tokens>;

// Series an encoder is given (a native histogram is not kept, so not counted).
struct series_count {
    std::size_t n = 0;
    void begin_family(const lm::family_header&) {}
    void counter(lm::labels_view, lm::counter_value, double, const lm::exemplar_view* x) { n += x == nullptr; }
    void gauge(lm::labels_view, double) { ++n; }
    void histogram(lm::labels_view, std::span<const double>, std::span<const std::uint64_t>, double, double,
                   std::span<const lm::exemplar_view> xs) {
        n += std::none_of(xs.begin(), xs.end(), [](const lm::exemplar_view& x) { return x.present(); });
    }
    void native_histogram(lm::labels_view, const lm::native_histogram_view&, std::span<const double>,
                          std::span<const std::uint64_t>, double, std::span<const lm::exemplar_view>) {}
    void end_family() {}
    void finish() {}
};

// One push encoded twice, afresh and through `cache`: the same bytes and counts,
// and the cache holds the push's series.
template <class Visit>
void same_as_fresh(lm::remote_write_cache& cache, std::int64_t ts, Visit visit,
                   std::span<const lm::remote_write_label> external = {}) {
    static int push = 0;
    INFO("push " << ++push);
    series_count n;
    visit(n);
    lm::detail::byte_buffer fresh;
    lm::remote_write_encoder f(fresh, ts, external);
    visit(f);
    f.finish();
    lm::remote_write_encoder c(cache, ts, external);
    visit(c);
    c.finish();
    CHECK(c.counts().samples == f.counts().samples);
    CHECK(c.counts().histograms == f.counts().histograms);
    CHECK(c.counts().exemplars == f.counts().exemplars);
    const std::string_view got = cache.message(), want = fresh.view();
    INFO("first difference at byte " << std::mismatch(got.begin(), got.end(), want.begin(), want.end()).first - got.begin()
                                     << " of " << want.size());
    REQUIRE(got == want);
    CHECK(cache.series() == n.n);
}

bool holds_double(std::string_view message, double v) {
    char bytes[8];
    std::memcpy(bytes, &v, 8);
    return message.find(std::string_view(bytes, 8)) != std::string_view::npos;
}
}  // namespace

TEST_CASE("remote_write_cache: a cached push is the fresh encoding as series come, change, go and expire",
          "[remote_write][remote_write_cache]") {
    lm::manual_clock clock;
    cache_registry r;
    r.set_time_source(lm::time_source::of(clock));
    for (int t = 0; t < 20; ++t) {
        r.get<jobs_total>().labels("tenant-" + std::to_string(t), t % 2 ? "chat" : "embed").inc(t);
        r.get<wait_seconds>().labels("tenant-" + std::to_string(t)).observe(0.05 * t);
    }
    r.get<budget>().labels("steady").set(1);
    r.get<budget>().labels("idle").set(2);
    r.get<tokens>().labels("tenant-0").observe(12);
    const auto push = [&r](auto& e) { r.visit(e); };
    lm::remote_write_cache cache;
    std::int64_t ts = 1'700'000'000'000;

    same_as_fresh(cache, ts, push);  // first push: everything encoded
    const std::string first(cache.message());

    // Values only: the same series in the same order, new values and timestamp.
    r.get<jobs_total>().labels("tenant-3", "chat").inc(0.5);
    r.get<wait_seconds>().labels("tenant-7").observe(7);
    r.get<tokens>().labels("tenant-0").observe(3);
    same_as_fresh(cache, ts += 1000, push);
    CHECK(cache.message() != first);
    CHECK(holds_double(cache.message(), 3.5));       // tenant-3's counter
    CHECK_FALSE(holds_double(first, 3.5));
    const std::size_t kept = cache.series();

    // New series (among and after the old ones), a removed one, a label set back again.
    r.get<jobs_total>().labels("tenant-new", "chat").inc();
    r.get<wait_seconds>().labels("tenant-new").observe(2);
    REQUIRE(r.get<jobs_total>().remove("tenant-4", "embed"));
    same_as_fresh(cache, ts += 1000, push);
    CHECK(cache.series() == kept + 1);
    r.get<jobs_total>().labels("tenant-4", "embed").inc(9);
    same_as_fresh(cache, ts += 1000, push);
    CHECK(cache.series() == kept + 2);

    // series_ttl: "idle" expires, "steady" stays.
    for (int i = 0; i < 4; ++i) {
        clock.advance(std::chrono::seconds(30));
        r.get<budget>().labels("steady").set(10 + i);
        same_as_fresh(cache, ts += 30000, push);
    }
    CHECK(cache.series() == kept + 1);

    // Families that come and go around the registry's (collectors do), one with
    // series of different names and bounds, one with exemplars (never kept).
    lm::snapshot_source extra;
    extra.add({"aaa_first", "Comes first", "", lm::metric_type::gauge, {{{{"x", "1"}}, 1.0}, {{{"y", "1"}}, 2.0}}});
    extra.add({"zzz_last", "Comes last", "", lm::metric_type::histogram,
               {{{{"m", "a"}}, lm::histogram_value{{0.5}, {1, 2}, 4.5}},
                {{{"m", "a"}}, lm::histogram_value{{0.5, 2}, {1, 2, 0}, 4.5}}}});
    extra.add({"zzz_x_total", "With exemplars", "", lm::metric_type::counter,
               {{{{"m", "b"}}, lm::counter_value{2, 0.0}, 0.0, {{{{"trace_id", "abc"}}, 1.0, 1.5}}}}});
    const auto with_extra = [&](auto& e) {
        lm::snapshot_source firsts, lasts;
        firsts.add(extra.families()[0]);
        for (std::size_t i = 1; i < extra.families().size(); ++i) lasts.add(extra.families()[i]);
        firsts.visit(e);
        r.visit(e);
        lasts.visit(e);
    };
    same_as_fresh(cache, ts += 1000, with_extra);
    same_as_fresh(cache, ts += 1000, with_extra);
    std::get<double>(extra.families()[0].series[1].value) = 7.0;
    extra.families()[0].series[0].labels[0].second = "2";  // a label value changes
    extra.families()[1].series[1].value = lm::histogram_value{{0.5, 3}, {1, 2, 0}, 4.5};  // and the bounds
    same_as_fresh(cache, ts += 1000, with_extra);
    same_as_fresh(cache, ts += 1000, push);  // they are gone again

    // A timestamp of another varint length and other external labels: all encoded again.
    same_as_fresh(cache, 1000, push);
    const lm::remote_write_label external[] = {{"job", "j"}, {"tenant", "ext"}};
    same_as_fresh(cache, ts, push, external);
    same_as_fresh(cache, ts + 1, push, external);

    // A push that throws half-way leaves nothing half patched behind.
    {
        lm::remote_write_encoder e(cache, ts + 2, external);
        lm::family_header h{"jobs_total", "Jobs", "", lm::metric_type::counter};
        CHECK_THROWS_AS(([&] {
                            e.begin_family(h);
                            throw std::runtime_error("collector failed");
                        }()),
                        std::runtime_error);
    }
    CHECK(cache.message().empty());
    same_as_fresh(cache, ts + 3, push, external);
    CHECK(cache.memory_bytes() < 64 * 1024);
}

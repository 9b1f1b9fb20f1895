// Remote write's pure parts: the WriteRequest encoder's counts and labels, the
// bounded queue, Retry-After and the client's Authorization header.
// (tests/integration/test_remote_write.py decodes real requests and sends them to Prometheus.)
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include <llmetrics/exposition/render.hpp>
#include <llmetrics/serve/auth.hpp>
#include <llmetrics/serve/detail/push_retry.hpp>
#include <llmetrics/serve/detail/remote_write_queue.hpp>
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
}  // namespace

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

// The HTTP exposer, readiness checks, auth, gzip and the Pushgateway client's
// encoding and error paths (the real Pushgateway is in tests/integration).

#include <llmetrics/llmetrics.hpp>
#include <llmetrics/exposition/render.hpp>
#include <llmetrics/serve.hpp>
#include <llmetrics/serve/detail/base64.hpp>
#include <llmetrics/serve/detail/constant_time_equal.hpp>
#include <llmetrics/serve/detail/gzip.hpp>

#include "text_sample.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>

#include "raw_http_client.hpp"
#include <nlohmann/json.hpp>

namespace lm = llmetrics;
using namespace std::chrono_literals;

namespace {

using requests_total = lm::counter<"serve_test_requests_total", "Requests", lm::labels<"method", "code">>;
using latency_seconds =
    lm::histogram<"serve_test_latency_seconds", "Latency", lm::labels<"route">, lm::buckets<0.1, 1, 10>>;
using test_registry = lm::registry<requests_total, latency_seconds>;

constexpr const char* prometheus_accept =  // what Prometheus 2.x sends
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

using raw_client = raw_http::client;

struct response {
    unsigned status = 0;
    std::string head;
    std::string body;

    std::string header(std::string_view name) const {
        const std::size_t v = raw_client::find_header(head, name);
        if (v == std::string::npos) return {};
        return head.substr(v, head.find("\r\n", v) - v);
    }
};

response parse_response(const std::string& raw) {
    response r;
    const std::size_t end = raw.find("\r\n\r\n");
    if (raw.size() < 12 || end == std::string::npos) return r;
    r.status = static_cast<unsigned>(std::stoul(raw.substr(9, 3)));
    r.head = raw.substr(0, end);
    r.body = raw.substr(end + 4);
    return r;
}

response request(std::uint16_t port, std::string method, std::string target,
                 std::vector<std::pair<std::string, std::string>> headers = {}, std::string body = {}) {
    raw_client c(port);
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (const auto& [n, v] : headers) req += n + ": " + v + "\r\n";
    if (!body.empty() || method == "POST" || method == "PUT") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n" + body;
    // Not required to succeed: a server that refuses a large body (413) may close
    // while it is still being sent. The answer read after it is what callers check.
    (void)c.send(req);
    return parse_response(c.read_response());
}

std::string gunzip(const std::string& in) {
    z_stream zs{};
    REQUIRE(inflateInit2(&zs, 15 + 16) == Z_OK);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    std::string out;
    char buf[16384];
    int rc = Z_OK;
    while (rc == Z_OK) {
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof buf;
        rc = inflate(&zs, Z_NO_FLUSH);
        out.append(buf, sizeof buf - zs.avail_out);
    }
    inflateEnd(&zs);
    REQUIRE(rc == Z_STREAM_END);
    return out;
}

}  // namespace

TEST_CASE("exposer serves /metrics in the negotiated format", "[serve]") {
    test_registry metrics;
    metrics.get<requests_total>().labels("GET", "200").inc(7);
    metrics.get<latency_seconds>().labels("/chat").observe(0.5);
    lm::exposer exp{metrics};
    REQUIRE(exp.port() != 0);
    REQUIRE(exp.endpoint().address().to_string() == "127.0.0.1");

    SECTION("Prometheus' Accept header gets OpenMetrics") {
        const response r = request(exp.port(), "GET", "/metrics", {{"Accept", prometheus_accept}});
        CHECK(r.status == 200);
        CHECK(r.header("content-type") == "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores");
        CHECK(r.body == lm::render(metrics, lm::format::openmetrics));
        CHECK(r.body.ends_with("# EOF\n"));
        CHECK(r.header("vary") == "Accept, Accept-Encoding");
    }
    SECTION("curl's */* gets Prometheus text") {
        const response r = request(exp.port(), "GET", "/metrics", {{"Accept", "*/*"}});
        CHECK(r.status == 200);
        CHECK(r.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
        CHECK(r.body == lm::render(metrics, lm::format::prometheus));
        CHECK(sample(r.body, "serve_test_requests_total{method=\"GET\",code=\"200\"}") == 7.0);
    }
    SECTION("no Accept header gets Prometheus text, JSON when asked") {
        CHECK(request(exp.port(), "GET", "/metrics").header("content-type").starts_with("text/plain; version=0.0.4"));
        const response j = request(exp.port(), "GET", "/metrics", {{"Accept", "application/json"}});
        CHECK(j.header("content-type") == "application/json");
        CHECK_NOTHROW(nlohmann::json::parse(j.body));
    }
    SECTION("a query string is ignored; HEAD has the length and no body") {
        CHECK(request(exp.port(), "GET", "/metrics?x=1").status == 200);
        raw_client c(exp.port());
        c.send("HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        const std::string raw = c.read_all();
        const response r = parse_response(raw);
        CHECK(r.status == 200);
        CHECK(std::stoul(r.header("content-length")) == lm::render(metrics).size());
        CHECK(r.body.empty());
    }
    SECTION("keep-alive: several requests on one connection") {
        raw_client c(exp.port());
        for (int i = 0; i < 3; ++i) {
            REQUIRE(c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
            const response r = parse_response(c.read_response());
            CHECK(r.status == 200);
            CHECK(r.body == lm::render(metrics));
        }
        // Pipelined: two requests in one write, two answers in order.
        REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        const std::string both = c.read_all();
        CHECK(both.starts_with("HTTP/1.1 200"));
        CHECK(both.find("HTTP/1.1 404") != std::string::npos);
    }
}

TEST_CASE("exposer compresses with gzip when the client accepts it", "[serve]") {
    test_registry metrics;
    for (int i = 0; i < 50; ++i) metrics.get<requests_total>().labels("GET", std::to_string(200 + i)).inc(i);
    lm::exposer exp{metrics};
    const std::string plain = lm::render(metrics);
    REQUIRE(plain.size() > 1024);

    const response gz = request(exp.port(), "GET", "/metrics", {{"Accept-Encoding", "gzip, deflate"}});
    CHECK(gz.status == 200);
    CHECK(gz.header("content-encoding") == "gzip");
    CHECK(gz.header("vary") == "Accept, Accept-Encoding");
    CHECK(gz.body.size() < plain.size() / 2);
    CHECK(gunzip(gz.body) == plain);

    const response om = request(exp.port(), "GET", "/metrics",
                                {{"Accept-Encoding", "gzip"}, {"Accept", prometheus_accept}});
    CHECK(gunzip(om.body) == lm::render(metrics, lm::format::openmetrics));

    const response refused = request(exp.port(), "GET", "/metrics", {{"Accept-Encoding", "gzip;q=0, *"}});
    CHECK(refused.header("content-encoding").empty());
    CHECK(refused.body == plain);
    CHECK(request(exp.port(), "GET", "/metrics").header("content-encoding").empty());

    CHECK(lm::detail::accepts_gzip("gzip"));
    CHECK(lm::detail::accepts_gzip("deflate, GZIP;q=0.5"));
    CHECK(lm::detail::accepts_gzip("*"));
    CHECK(lm::detail::accepts_gzip("x-gzip"));
    CHECK_FALSE(lm::detail::accepts_gzip(""));
    CHECK_FALSE(lm::detail::accepts_gzip("identity"));
    CHECK_FALSE(lm::detail::accepts_gzip("gzip;q=0"));
    CHECK_FALSE(lm::detail::accepts_gzip("*;q=0.5, gzip;q=0"));
    CHECK_FALSE(lm::detail::accepts_gzip("gzip;q=2"));  // malformed: ignored
    CHECK(lm::detail::accepts_gzip("gzip;q=bad, *"));
}

TEST_CASE("exposer answers 404 and 405 with Allow", "[serve]") {
    test_registry metrics;
    lm::exposer exp{metrics};
    exp.add_route("POST", "/v1/chat", [](const lm::http_request&) { return lm::http_response::json(200, "{}"); });

    CHECK(request(exp.port(), "GET", "/").status == 404);
    CHECK(request(exp.port(), "GET", "/metricsx").status == 404);
    const response post = request(exp.port(), "POST", "/metrics");
    CHECK(post.status == 405);
    CHECK(post.header("allow") == "GET, HEAD");
    CHECK(request(exp.port(), "DELETE", "/healthz").status == 405);
    const response get_chat = request(exp.port(), "GET", "/v1/chat");
    CHECK(get_chat.status == 405);
    CHECK(get_chat.header("allow") == "POST");
    CHECK(request(exp.port(), "POST", "/v1/chat").status == 200);
    CHECK(request(exp.port(), "GET", "/healthz").body == "ok\n");
}

TEST_CASE("exposer routes: handlers see the request; throwing handlers give 500", "[serve]") {
    test_registry metrics;
    lm::exposer exp{metrics};
    exp.add_route("POST", "/echo", [](const lm::http_request& req) {
        lm::http_response r = lm::http_response::json(201, std::string(req.body()));
        r.headers.emplace_back("X-Tenant-Seen", std::string(req.header("x-tenant-id")));
        r.headers.emplace_back("X-Query", std::string(req.query()));
        return r;
    });
    exp.add_route("GET", "/boom", [](const lm::http_request&) -> lm::http_response { throw std::runtime_error("x"); });
    exp.add_route(
        "GET", "/slow",
        [](const lm::http_request&) {
            std::this_thread::sleep_for(50ms);
            return lm::http_response::text(200, "slow");
        },
        lm::route_execution::worker);

    const response echo = request(exp.port(), "POST", "/echo?a=b", {{"X-Tenant-ID", "tenant-a"}}, R"({"k":1})");
    CHECK(echo.status == 201);
    CHECK(echo.body == R"({"k":1})");
    CHECK(echo.header("content-type") == "application/json");
    CHECK(echo.header("x-tenant-seen") == "tenant-a");
    CHECK(echo.header("x-query") == "a=b");
    CHECK(request(exp.port(), "GET", "/boom").status == 500);
    CHECK(request(exp.port(), "GET", "/slow").body == "slow");

    // curl sends Expect: 100-continue for larger bodies and waits for the 100.
    raw_client c(exp.port());
    const std::string body(5000, 'x');
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
    char buf[64] = {};
    const ssize_t n = ::recv(c.fd(), buf, sizeof buf - 1, 0);
    REQUIRE(n > 0);
    CHECK(std::string(buf, static_cast<std::size_t>(n)).starts_with("HTTP/1.1 100 Continue"));
    c.send(body);
    CHECK(parse_response(c.read_response()).body == body);

    const response too_big = request(exp.port(), "POST", "/echo", {}, std::string(2 * 1024 * 1024, 'y'));
    CHECK((too_big.status == 413 || too_big.status == 0));  // 0: reset while still sending
}

TEST_CASE("exposer auth: bearer token and basic credentials protect /metrics", "[serve]") {
    test_registry metrics;
    SECTION("bearer") {
        lm::exposer exp{metrics, {.metrics_auth = lm::http_auth::bearer("s3cret-token")}};
        const response none = request(exp.port(), "GET", "/metrics");
        CHECK(none.status == 401);
        CHECK(none.header("www-authenticate") == R"(Bearer realm="metrics")");
        CHECK(request(exp.port(), "GET", "/metrics", {{"Authorization", "Bearer wrong-token!"}}).status == 401);
        CHECK(request(exp.port(), "GET", "/metrics", {{"Authorization", "Bearer s3cret-token-longer"}}).status == 401);
        CHECK(request(exp.port(), "GET", "/metrics", {{"Authorization", "Bearer s3cret"}}).status == 401);
        CHECK(request(exp.port(), "GET", "/metrics", {{"Authorization", "Basic s3cret-token"}}).status == 401);
        CHECK(request(exp.port(), "GET", "/metrics", {{"Authorization", "Bearer s3cret-token"}}).status == 200);
        CHECK(request(exp.port(), "GET", "/metrics", {{"Authorization", "bearer   s3cret-token"}}).status == 200);
        CHECK(request(exp.port(), "GET", "/healthz").status == 200);  // probes stay open
    }
    SECTION("basic") {
        lm::exposer exp{metrics, {.metrics_auth = lm::http_auth::basic("prom", "pa:ss")}};
        const response none = request(exp.port(), "GET", "/metrics");
        CHECK(none.status == 401);
        CHECK(none.header("www-authenticate").starts_with("Basic realm="));
        const std::string good = "Basic " + lm::detail::base64_encode("prom:pa:ss");
        CHECK(request(exp.port(), "GET", "/metrics", {{"Authorization", good}}).status == 200);
        CHECK(request(exp.port(), "GET", "/metrics", {{"Authorization", "Basic " + lm::detail::base64_encode("prom:pass")}})
                  .status == 401);
    }
    SECTION("the comparison has no early exit and handles lengths") {
        CHECK(lm::detail::constant_time_equal("abc", "abc"));
        CHECK_FALSE(lm::detail::constant_time_equal("abd", "abc"));
        CHECK_FALSE(lm::detail::constant_time_equal("ab", "abc"));
        CHECK_FALSE(lm::detail::constant_time_equal("abcabc", "abc"));  // cyclic read of the secret is not a match
        CHECK_FALSE(lm::detail::constant_time_equal("", "abc"));
        CHECK(lm::detail::constant_time_equal("", ""));
        CHECK_FALSE(lm::http_auth::bearer("t").check(""));
        CHECK(lm::http_auth::none().check(""));
    }
}

TEST_CASE("exposer /readyz runs checks with timeouts and exports the results", "[serve]") {
    test_registry metrics;
    lm::exposer exp{metrics};
    metrics.add_collector(exp.make_collector());

    CHECK(request(exp.port(), "GET", "/readyz").status == 200);  // no checks: ready

    std::atomic<bool> db_ok{true};
    exp.add_readiness_check("db", [&] { return db_ok.load(); }, 500ms);
    exp.add_readiness_check("cache", [] { return true; });
    auto r = request(exp.port(), "GET", "/readyz");
    CHECK(r.status == 200);
    auto j = nlohmann::json::parse(r.body);
    CHECK(j["status"] == "ok");
    REQUIRE(j["checks"].size() == 2);
    CHECK(j["checks"][0]["name"] == "db");
    CHECK(j["checks"][0]["status"] == "ok");
    CHECK(j["checks"][0]["duration_seconds"].get<double>() >= 0.0);

    db_ok = false;
    r = request(exp.port(), "GET", "/readyz");
    CHECK(r.status == 503);
    j = nlohmann::json::parse(r.body);
    CHECK(j["status"] == "fail");
    CHECK(j["checks"][0]["status"] == "fail");
    CHECK(j["checks"][1]["status"] == "ok");

    db_ok = true;
    exp.add_readiness_check("hung", [] { std::this_thread::sleep_for(1500ms); return true; }, 100ms);
    exp.add_readiness_check("throws", []() -> bool { throw std::runtime_error("disk \"full\""); });
    const auto t0 = std::chrono::steady_clock::now();
    r = request(exp.port(), "GET", "/readyz");
    const auto took = std::chrono::steady_clock::now() - t0;
    CHECK(took < 1000ms);  // the hung check does not hold the probe
    CHECK(r.status == 503);
    j = nlohmann::json::parse(r.body);
    REQUIRE(j["checks"].size() == 4);
    CHECK(j["checks"][0]["status"] == "ok");
    CHECK(j["checks"][2]["name"] == "hung");
    CHECK(j["checks"][2]["status"] == "fail");
    CHECK(j["checks"][2]["error"].get<std::string>().find("timed out") != std::string::npos);
    CHECK(j["checks"][3]["error"] == "disk \"full\"");
    // While the hung check still runs, a second probe waits for it rather than piling up threads.
    CHECK(request(exp.port(), "GET", "/readyz").status == 503);
    CHECK(request(exp.port(), "GET", "/healthz").status == 200);  // liveness is independent

    const std::string text = lm::render(metrics);
    CHECK(sample(text, R"(llmetrics_health_check_up{check="db"})") == 1.0);
    CHECK(sample(text, R"(llmetrics_health_check_up{check="hung"})") == 0.0);
    CHECK(sample(text, R"(llmetrics_health_check_duration_seconds{check="hung"})") == Approx(0.1));
    CHECK(sample(text, R"(llmetrics_health_check_failures_total{check="db"})") == 1.0);
    CHECK(sample(text, R"(llmetrics_health_check_runs_total{check="db"})") == 4.0);
    CHECK(sample(text, R"(llmetrics_health_check_failures_total{check="throws"})") == 2.0);
}

TEST_CASE("exposer answers 500 when rendering throws, then serves the next scrape", "[serve]") {
    std::atomic<int> calls{0};
    lm::exposer exp{[&](lm::format, std::string& out) {
        if (calls.fetch_add(1) == 0) {
            out += "partial garbage";
            throw std::runtime_error("collector broke");
        }
        out += "ok_metric 1\n";
    }};
    const response bad = request(exp.port(), "GET", "/metrics", {{"Accept-Encoding", "gzip"}});
    CHECK(bad.status == 500);
    CHECK(bad.body.find("partial") == std::string::npos);
    CHECK(bad.header("content-encoding").empty());
    const response good = request(exp.port(), "GET", "/metrics");
    CHECK(good.status == 200);
    CHECK(good.body == "ok_metric 1\n");
}

TEST_CASE("exposer rejects malformed and oversized requests and keeps serving", "[serve]") {
    test_registry metrics;
    lm::exposer exp{metrics, {.max_header_bytes = 4096}};
    const auto serves = [&] { return request(exp.port(), "GET", "/metrics").status == 200; };

    SECTION("oversized header") {
        raw_client c(exp.port());
        c.send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n");
        const response r = parse_response(c.read_all());
        CHECK((r.status == 431 || r.status == 400));
        CHECK(serves());
    }
    SECTION("oversized request line") {
        raw_client c(exp.port());
        c.send("GET /" + std::string(10000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
        const response r = parse_response(c.read_all());
        CHECK(r.status == 414);
        CHECK(serves());
    }
    SECTION("garbage bytes") {
        const std::vector<std::string> garbage = {
            std::string("\x00\x01\x02\xff\xfe garbage\r\n\r\n", 18),
            "GET /metrics HTTP/9.9\r\n\r\n",
            "GET /metrics HTTP/1.1\r\nBad Header\r\n\r\n",
            "GET /metrics HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
            "GET /metrics HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",

            "\r\n\r\n\r\n\r\n",
            "GET\r\n\r\n",
        };
        for (const std::string& g : garbage) {
            raw_client c(exp.port());
            c.send(g);
            const response r = parse_response(c.read_all());
            INFO(g);
            CHECK(r.status == 400);
        }
        CHECK(serves());
    }
    SECTION("chunked request bodies get 411") {
        raw_client c(exp.port());
        c.send("POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nh");
        const response r = parse_response(c.read_all());
        CHECK(r.status == 411);
        CHECK(serves());
    }
    SECTION("a client that connects and closes, or sends half a request and closes") {
        { raw_client c(exp.port()); }
        {
            raw_client c(exp.port());
            c.send("GET /metr");
        }
        CHECK(serves());
    }
}

TEST_CASE("exposer disconnects a slow-header client while serving others", "[serve]") {
    test_registry metrics;
    lm::exposer exp{metrics, {.header_timeout = 400ms}};
    raw_client slow(exp.port());
    REQUIRE(slow.send("GET /metrics HTTP/1.1\r\n"));
    std::atomic<bool> done{false};
    std::thread trickle([&] {  // one header byte every 50 ms: never completes in time
        for (int i = 0; i < 60 && !done; ++i) {
            if (!slow.send("X")) break;
            std::this_thread::sleep_for(50ms);
        }
    });
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 5; ++i) {
        const auto s = std::chrono::steady_clock::now();
        CHECK(request(exp.port(), "GET", "/metrics").status == 200);
        CHECK(std::chrono::steady_clock::now() - s < 300ms);
    }
    bool closed = false;
    const std::string got = slow.read_all(&closed);  // returns when the server hangs up
    const auto held = std::chrono::steady_clock::now() - t0;
    done = true;
    trickle.join();
    CHECK(closed);
    CHECK(got.empty());
    CHECK(held < 2500ms);
    CHECK(held >= 300ms);
}

TEST_CASE("exposer bounds its connections; idle ones make room for new clients", "[serve]") {
    test_registry metrics;
    lm::exposer exp{metrics, {.max_connections = 8}};
    metrics.add_collector(exp.make_collector());
    std::vector<std::unique_ptr<raw_client>> idle;
    for (int i = 0; i < 30; ++i) idle.push_back(std::make_unique<raw_client>(exp.port(), 500ms));
    std::this_thread::sleep_for(100ms);
    CHECK(exp.open_connections() <= 8);
    for (int i = 0; i < 3; ++i) {
        const response r = request(exp.port(), "GET", "/metrics");
        CHECK(r.status == 200);
        CHECK(sample(r.body, "llmetrics_http_open_connections") <= 8.0);
    }
    CHECK(exp.open_connections() <= 8);
    const std::string text = lm::render(metrics);
    CHECK(sample(text, R"(llmetrics_http_connections_closed_total{reason="evicted_idle"})") >= 22.0);

    // With every slot partway through a request, a newcomer evicts the oldest
    // (when all are mid-response it is refused: test_serve_flood.cpp).
    lm::exposer small{metrics, {.max_connections = 2, .header_timeout = 2000ms}};
    raw_client a(small.port()), b(small.port());
    a.send("GET /metrics HTTP/1.1\r\n");
    b.send("GET /metrics HTTP/1.1\r\n");
    std::this_thread::sleep_for(100ms);
    raw_client c(small.port(), 1000ms);
    c.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(parse_response(c.read_response()).status == 200);
    bool closed = false;
    a.read_all(&closed);
    CHECK(closed);
    CHECK(small.open_connections() <= 2);
}

TEST_CASE("concurrent scrapes during write load lose no increments", "[serve]") {
    test_registry metrics;
    lm::exposer exp{metrics, {.threads = 2}};
    constexpr int writers = 3, per_writer = 100000;
    std::atomic<bool> writing{true};
    std::atomic<int> scrapes{0}, non_monotonic{0}, failures{0};
    std::atomic<std::uint64_t> written{0};
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w)
        threads.emplace_back([&] {
            auto& c = metrics.get<requests_total>().labels("POST", "200");
            auto& h = metrics.get<latency_seconds>().labels("/chat");
            std::uint64_t n = 0;
            // At least per_writer increments, and keep writing until the scrapers have
            // seen the counter move a few times (bounded in time).
            while (n < per_writer || (scrapes < 30 && std::chrono::steady_clock::now() < deadline)) {
                c.inc();
                h.observe(0.05);
                ++n;
            }
            written += n;
        });
    std::vector<std::thread> scrapers;
    for (int s = 0; s < 2; ++s)
        scrapers.emplace_back([&] {
            double last = 0;
            raw_client c(exp.port());
            while (writing) {
                if (!c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")) break;
                const response r = parse_response(c.read_response());
                if (r.status != 200) {
                    ++failures;
                    break;
                }
                const double v =
                    sample(r.body, R"(serve_test_requests_total{method="POST",code="200"})").value_or(0);
                if (v < last) ++non_monotonic;
                last = v;
                ++scrapes;
            }
        });
    for (auto& t : threads) t.join();
    writing = false;
    for (auto& t : scrapers) t.join();
    CHECK(failures == 0);
    CHECK(non_monotonic == 0);
    CHECK(scrapes >= 30);
    const response final_scrape = request(exp.port(), "GET", "/metrics", {{"Accept", prometheus_accept}});
    const double total = static_cast<double>(written.load());
    CHECK(total >= double(writers) * per_writer);
    CHECK(sample(final_scrape.body, R"(serve_test_requests_total{method="POST",code="200"})") == total);
    CHECK(sample(final_scrape.body, R"(serve_test_latency_seconds_count{route="/chat"})") == total);
    CHECK(sample(final_scrape.body, R"(serve_test_latency_seconds_bucket{route="/chat",le="0.1"})") == total);
}

TEST_CASE("exposer on the user's io_context, and stop() is clean and idempotent", "[serve]") {
    test_registry metrics;
    metrics.get<requests_total>().labels("GET", "200").inc();
    boost::asio::io_context ioc;
    auto work = boost::asio::make_work_guard(ioc);
    std::thread runner([&] { ioc.run(); });
    {
        lm::exposer exp{ioc, metrics};
        CHECK(request(exp.port(), "GET", "/metrics").body == lm::render(metrics));
        raw_client idle(exp.port());
        exp.stop();
        exp.stop();
        bool closed = false;
        idle.read_all(&closed);
        CHECK(closed);
    }
    work.reset();
    runner.join();  // nothing of the exposer is left on the io_context
}

TEST_CASE("exposer stops on SIGTERM when asked to handle signals", "[serve]") {
    test_registry metrics;
    lm::exposer exp{metrics, {.handle_signals = true}};
    const std::uint16_t port = exp.port();
    CHECK(request(port, "GET", "/healthz").status == 200);
    std::thread killer([] {
        std::this_thread::sleep_for(50ms);
        std::raise(SIGTERM);
    });
    const auto t0 = std::chrono::steady_clock::now();
    exp.wait();
    killer.join();
    CHECK(std::chrono::steady_clock::now() - t0 < 2000ms);
    CHECK(exp.stopping());
}

TEST_CASE("exposer binds where told and reports bind failures", "[serve]") {
    test_registry metrics;
    lm::exposer a{metrics};
    CHECK_THROWS_AS((lm::exposer{metrics, {.port = a.port()}}), boost::system::system_error);
    CHECK_THROWS((lm::exposer{metrics, {.address = "not-an-address"}}));
    lm::exposer any{metrics, {.address = "0.0.0.0"}};
    CHECK(request(any.port(), "GET", "/healthz").status == 200);
}

TEST_CASE("base64 round-trips in both alphabets", "[serve]") {
    CHECK(lm::detail::base64_encode("") == "");
    CHECK(lm::detail::base64_encode("f") == "Zg==");
    CHECK(lm::detail::base64_encode("fo") == "Zm8=");
    CHECK(lm::detail::base64_encode("foo") == "Zm9v");
    CHECK(lm::detail::base64_encode("\xfb\xff", lm::detail::base64_alphabet::standard) == "+/8=");
    CHECK(lm::detail::base64_encode("\xfb\xff", lm::detail::base64_alphabet::url_safe) == "-_8=");
    CHECK(lm::detail::base64_decode("Zm8") == "fo");
    CHECK(lm::detail::base64_decode("Zm8=") == "fo");
    CHECK(lm::detail::base64_decode("-_8", lm::detail::base64_alphabet::url_safe) == "\xfb\xff");
    CHECK_FALSE(lm::detail::base64_decode("-_8=", lm::detail::base64_alphabet::standard));
    CHECK_FALSE(lm::detail::base64_decode("Z"));
    CHECK_FALSE(lm::detail::base64_decode("Zm9=")); // non-zero unused bits
    std::string all;
    for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
    for (std::size_t n = 0; n < all.size(); n += 7)
        CHECK(lm::detail::base64_decode(lm::detail::base64_encode(all.substr(0, n), lm::detail::base64_alphabet::url_safe),
                                lm::detail::base64_alphabet::url_safe) == all.substr(0, n));
}

TEST_CASE("Pushgateway grouping keys use @base64 where needed", "[serve]") {
    using lm::detail::grouping_path;
    CHECK(grouping_path("batch", {}) == "/metrics/job/batch");
    CHECK(grouping_path("batch", {{"instance", "db-7"}, {"zone", "eu_1.a~"}}) ==
          "/metrics/job/batch/instance/db-7/zone/eu_1.a~");
    CHECK(grouping_path("batch", {{"path", "/var/tmp"}}) == "/metrics/job/batch/path@base64/L3Zhci90bXA=");
    CHECK(grouping_path("batch", {{"empty", ""}}) == "/metrics/job/batch/empty@base64/=");
    CHECK(grouping_path("a/b", {}) == "/metrics/job@base64/YS9i");
    CHECK(grouping_path("batch", {{"dots", ".."}}) == "/metrics/job/batch/dots@base64/Li4=");
    CHECK(grouping_path("batch", {{"s", "with space"}}) == "/metrics/job/batch/s@base64/d2l0aCBzcGFjZQ==");
    CHECK_THROWS_AS(grouping_path("", {}), std::invalid_argument);
    CHECK_THROWS_AS(grouping_path("j", {{"job", "x"}}), std::invalid_argument);
    CHECK_THROWS_AS(grouping_path("j", {{"bad-name", "x"}}), std::invalid_argument);
    CHECK_THROWS_AS(grouping_path("j", {{"__x", "x"}}), std::invalid_argument);
    CHECK_THROWS_AS(grouping_path("j", {{"a", "x"}, {"a", "y"}}), std::invalid_argument);

    const auto u = lm::detail::parse_http_url("http://127.0.0.1:9091/prefix/");
    CHECK(u.host == "127.0.0.1");
    CHECK(u.port == "9091");
    CHECK(u.base_path == "/prefix");
    CHECK(lm::detail::parse_http_url("[::1]:1234").host == "::1");
    CHECK(lm::detail::parse_http_url("gw").port == "80");
    CHECK(lm::detail::parse_http_url("https://gw/api/v1/write").tls);
    CHECK(lm::detail::parse_http_url("https://gw/api/v1/write").port == "443");
    CHECK(!lm::detail::parse_http_url("http://gw:9091").tls);
    CHECK_THROWS_AS(lm::pushgateway("https://gw:9091", "job"), std::invalid_argument);
    lm::pushgateway gw{"http://gw:9091/base", "job", {{"path", "/x"}}};
    CHECK(gw.path() == "/base/metrics/job/job/path@base64/L3g=");
}

TEST_CASE("Pushgateway client reports failures with the HTTP status", "[serve]") {
    test_registry metrics;
    metrics.get<requests_total>().labels("GET", "200").inc(3);
    lm::exposer fake{metrics};  // stands in for a gateway
    std::string received;
    std::mutex m;
    fake.add_route("PUT", "/metrics/job/ok", [&](const lm::http_request& req) {
        std::lock_guard lock(m);
        received = std::string(req.header("content-type")) + "\n" + req.body();
        return lm::http_response::text(200, "");
    });
    fake.add_route("DELETE", "/metrics/job/ok", [](const lm::http_request&) { return lm::http_response::text(202, ""); });
    fake.add_route("POST", "/metrics/job/bad", [](const lm::http_request&) {
        return lm::http_response::text(400, "pushed metrics are invalid or inconsistent\n");
    });
    fake.add_route(
        "PUT", "/metrics/job/slow",
        [](const lm::http_request&) {
            std::this_thread::sleep_for(600ms);
            return lm::http_response::text(200, "");
        },
        lm::route_execution::worker);
    const std::string url = "http://127.0.0.1:" + std::to_string(fake.port());

    lm::pushgateway ok{url, "ok"};
    ok.push(metrics);
    {
        std::lock_guard lock(m);
        CHECK(received == "text/plain; version=0.0.4; charset=utf-8\n" + lm::render(metrics));
    }
    ok.remove();

    try {
        lm::pushgateway{url, "bad"}.push_add(metrics);
        FAIL("no exception");
    } catch (const lm::pushgateway_error& e) {
        CHECK(e.status() == 400);
        CHECK(e.body() == "pushed metrics are invalid or inconsistent\n");
        CHECK(std::string(e.what()).find("HTTP 400") != std::string::npos);
        CHECK(std::string(e.what()).find("POST") != std::string::npos);
    }
    try {
        lm::pushgateway{url, "missing"}.push(metrics);
        FAIL("no exception");
    } catch (const lm::pushgateway_error& e) {
        CHECK(e.status() == 404);
    }
    try {
        lm::pushgateway{url, "slow", {}, {.timeout = 150ms}}.push(metrics);
        FAIL("no exception");
    } catch (const lm::pushgateway_error& e) {
        INFO(e.what());
        CHECK(e.status() == 0);
        CHECK(std::string(e.what()).find("no answer within 150 ms") != std::string::npos);
    }
    // Nothing listens on a port we just released.
    std::uint16_t dead_port = 0;
    { lm::exposer tmp{metrics}; dead_port = tmp.port(); }
    try {
        lm::pushgateway{"http://127.0.0.1:" + std::to_string(dead_port), "x"}.push(metrics);
        FAIL("no exception");
    } catch (const lm::pushgateway_error& e) {
        CHECK(e.status() == 0);
        CHECK(std::string(e.what()).find("refused") != std::string::npos);
    }
}

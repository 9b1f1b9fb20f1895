// The exposer under a connection flood: which connection is evicted at the bound,
// when one is refused, and the deadlines, each counted by reason in
// llmetrics_http_connections_closed_total (tests/integration/test_exposer_flood.py
// floods a real server).

#include <llmetrics/llmetrics.hpp>
#include <llmetrics/exposition/render.hpp>
#include <llmetrics/serve.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include <catch2/catch.hpp>

#include "raw_http_client.hpp"
#include "text_sample.hpp"

namespace lm = llmetrics;
using namespace std::chrono_literals;

namespace {

using flood_counter = lm::counter<"flood_test_total", "A family to serve">;
using flood_registry = lm::registry<flood_counter>;
using clock_type = std::chrono::steady_clock;

using client = raw_http::client;

unsigned get(std::uint16_t port, std::string_view path) {
    client c(port);
    c.send("GET " + std::string(path) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    return c.read_status();
}

double closed_total(const flood_registry& metrics, std::string_view reason) {
    const std::string text = lm::render(metrics);
    const std::string series = "llmetrics_http_connections_closed_total{reason=\"" + std::string(reason) + "\"}";
    return sample(text, series).value_or(-1);
}

// The counter once it reaches `want` (within a second) or as it is then: the
// client may see a timed-out connection close before the server counts it.
double closed_total_reaching(const flood_registry& metrics, std::string_view reason, double want) {
    double now = closed_total(metrics, reason);
    for (int i = 0; i < 100 && now < want; ++i) {
        std::this_thread::sleep_for(10ms);
        now = closed_total(metrics, reason);
    }
    return now;
}

// Waits (a little) until the server has seen what the clients sent.
void settle() { std::this_thread::sleep_for(150ms); }

// A worker route that blocks until released: its connections stay busy.
struct blocker {
    std::atomic<bool> released{false};
    lm::route_handler handler() {
        return [this](const lm::http_request&) {
            for (int i = 0; i < 500 && !released; ++i) std::this_thread::sleep_for(10ms);
            return lm::http_response::text(200, "released");
        };
    }
};

}  // namespace

TEST_CASE("exposer at its bound evicts the request that has waited longest, never one mid-response", "[serve][flood]") {
    flood_registry metrics;
    blocker block;
    lm::exposer exp{metrics, {.max_connections = 3}};
    metrics.add_collector(exp.make_collector());
    exp.add_route("GET", "/block", block.handler(), lm::route_execution::worker);

    client busy(exp.port());  // the oldest, but mid-response
    busy.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n");
    settle();
    client partial(exp.port());  // partway through its request line and headers
    partial.send("GET /metrics HTTP/1.1\r\nHost: x\r\n");
    settle();
    client silent(exp.port());  // nothing sent yet
    settle();
    REQUIRE(exp.open_connections() == 3);

    CHECK(get(exp.port(), "/metrics") == 200);  // evicts `partial`, the oldest that is not busy
    CHECK(partial.wait_closed(2000ms));
    CHECK_FALSE(silent.wait_closed(100ms));
    CHECK(closed_total(metrics, "evicted_reading") == 1);
    settle();  // the scrape's connection is gone

    client later(exp.port());  // back at the bound, `silent` now the oldest that is not busy
    later.send("GET /metrics HTTP/1.1\r\n");
    settle();
    CHECK(get(exp.port(), "/healthz") == 200);
    CHECK(silent.wait_closed(2000ms));
    CHECK_FALSE(later.wait_closed(100ms));
    CHECK(closed_total(metrics, "evicted_idle") == 1);
    settle();

    // A keep-alive connection that has just been answered waits for its next
    // request from then on: it goes behind those that were waiting already.
    client keep(exp.port());  // at the bound again: busy, later, keep
    settle();
    later.send("Host: x\r\n\r\n");  // completes its request: later now waits after keep
    CHECK(later.read_status() == 200);
    settle();
    client fresh(exp.port());  // evicts keep, though later connected first
    CHECK(keep.wait_closed(2000ms));
    CHECK_FALSE(later.wait_closed(100ms));
    fresh.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(fresh.read_status() == 200);
    CHECK(closed_total(metrics, "evicted_idle") == 2);
    CHECK(closed_total(metrics, "evicted_reading") == 1);

    block.released = true;
    CHECK(busy.read_status() == 200);  // never evicted
    CHECK(closed_total(metrics, "refused") == 0);
}

TEST_CASE("exposer refuses a new connection only when every connection is mid-response", "[serve][flood]") {
    flood_registry metrics;
    blocker block;
    lm::exposer exp{metrics, {.max_connections = 2}};
    metrics.add_collector(exp.make_collector());
    exp.add_route("GET", "/block", block.handler(), lm::route_execution::worker);
    client a(exp.port()), b(exp.port());
    a.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n");
    b.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n");
    settle();
    client refused(exp.port());
    std::string got;
    CHECK(refused.wait_closed(2000ms, &got));
    CHECK(got.empty());
    CHECK(closed_total(metrics, "refused") == 1);
    block.released = true;
    CHECK(a.read_status() == 200);
    CHECK(b.read_status() == 200);
    CHECK(get(exp.port(), "/metrics") == 200);
}

TEST_CASE("exposer deadlines: header from the accept, not reset by trickled bytes; body; idle; write", "[serve][flood]") {
    flood_registry metrics;
    lm::exposer exp{metrics, {.header_timeout = 300ms, .body_timeout = 300ms, .idle_timeout = 300ms,
                              .write_timeout = 300ms}};
    metrics.add_collector(exp.make_collector());
    exp.add_route("POST", "/echo", [](const lm::http_request& req) { return lm::http_response::text(200, req.body()); });
    const std::string big(32 * 1024 * 1024, 'x');  // more than the socket buffers hold
    exp.add_route("GET", "/big", [&](const lm::http_request&) { return lm::http_response::text(200, big); });
    const auto closes_within = [](client& c, std::chrono::milliseconds low, std::chrono::milliseconds high) {
        const auto start = clock_type::now();
        const bool closed = c.wait_closed(high + 2000ms);
        const auto took = clock_type::now() - start;
        CHECK(closed);
        CHECK(took >= low);
        CHECK(took < high);
    };

    SECTION("a client that connects and sends nothing") {
        client silent(exp.port());
        closes_within(silent, 200ms, 2000ms);
        CHECK(closed_total_reaching(metrics, "header_timeout", 1) == 1);
    }
    SECTION("a request line trickled one byte every 50 ms") {
        client slow(exp.port());
        std::atomic<bool> done{false};
        std::thread trickle([&] {
            slow.send("GET /metrics HTTP/1.1\r\n");
            for (int i = 0; i < 60 && !done && slow.send("X"); ++i) std::this_thread::sleep_for(50ms);
        });
        closes_within(slow, 200ms, 2000ms);
        done = true;
        trickle.join();
        CHECK(closed_total_reaching(metrics, "header_timeout", 1) == 1);
    }
    SECTION("a keep-alive connection after its response") {
        client keep(exp.port());
        keep.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        REQUIRE(keep.read_status() == 200);
        closes_within(keep, 200ms, 2000ms);
        CHECK(closed_total_reaching(metrics, "idle_timeout", 1) == 1);
        CHECK(closed_total(metrics, "header_timeout") == 0);
    }
    SECTION("a body that stops halfway") {
        client body(exp.port());
        body.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");
        closes_within(body, 200ms, 2000ms);
        CHECK(closed_total_reaching(metrics, "body_timeout", 1) == 1);
    }
    SECTION("a client that never reads its response") {
        client deaf(exp.port(), 3000ms, 4096);
        deaf.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
        std::this_thread::sleep_for(300ms);
        CHECK(closed_total_reaching(metrics, "write_timeout", 1) == 1);
    }
    CHECK(get(exp.port(), "/metrics") == 200);
}

// The Pushgateway client against a fake gateway that misbehaves on purpose:
// down, slow, 5xx then 200, 400, a reset in the middle of the request body or
// of the answer. Retries, their count, the time a call takes and the error it
// reports are checked (serve/pushgateway.hpp).

#include <catch2/catch.hpp>

#include "under_sanitizer.hpp"

#include <llmetrics/registry/registry.hpp>
#include <llmetrics/serve/pushgateway.hpp>
#include <llmetrics/serve/detail/push_retry.hpp>

#include <boost/beast/http/verb.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace lm = llmetrics;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

struct pushed_total : lm::counter<"pushed_total", "Things pushed", lm::labels<"kind">> {};

// Sanitizer runtimes slow sockets and threads down: upper time bounds stretch there.
double slack() { return under_sanitizer() ? 3.0 : 1.0; }

milliseconds since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t0);
}

// A gateway on 127.0.0.1 that plays one step per connection (the last step
// repeats), each connection on its own thread.
class fake_gateway {
public:
    enum class act {
        answer,            // read the request, answer `status`
        silent,            // read the request, answer nothing until stopped
        reset_mid_body,    // read the headers and a little of the body, then RST
        reset_mid_answer,  // read the request, send half an answer, then RST
    };
    struct step {
        act what = act::answer;
        unsigned status = 200;
    };

    explicit fake_gateway(std::vector<step> script) : script_(std::move(script)) {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
            ::listen(listener_, 64) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            throw std::runtime_error("fake_gateway: cannot listen");
        port_ = ntohs(addr.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    fake_gateway(const fake_gateway&) = delete;
    fake_gateway& operator=(const fake_gateway&) = delete;
    ~fake_gateway() {
        stop_ = true;
        acceptor_.join();
        for (std::thread& t : workers_) t.join();
        ::close(listener_);
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    int connections() const { return connections_.load(); }
    std::vector<std::string> bodies() const {
        std::lock_guard lock(m_);
        return bodies_;
    }

private:
    void accept_loop() {
        while (!stop_) {
            pollfd p{listener_, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            const int fd = ::accept(listener_, nullptr, nullptr);
            if (fd < 0) continue;
            const int n = connections_.fetch_add(1);
            const step s = script_[std::min<std::size_t>(static_cast<std::size_t>(n), script_.size() - 1)];
            workers_.emplace_back([this, fd, s] { serve(fd, s); });
        }
    }

    // Reads until the headers are complete and then `want_body` body bytes (all
    // of it when negative); false if the peer went away first.
    bool read_request(int fd, long want_body, std::string& body) {
        std::string data;
        char buf[65536];
        std::size_t head_end = std::string::npos;
        long length = 0;
        while (!stop_) {
            if (head_end == std::string::npos) {
                head_end = data.find("\r\n\r\n");
                if (head_end != std::string::npos) {
                    const std::size_t cl = data.find("Content-Length: ");
                    if (cl != std::string::npos && cl < head_end) length = std::atol(data.c_str() + cl + 16);
                    if (want_body < 0 || want_body > length) want_body = length;
                }
            }
            if (head_end != std::string::npos && data.size() >= head_end + 4 + static_cast<std::size_t>(want_body)) {
                body = data.substr(head_end + 4, static_cast<std::size_t>(want_body));
                return true;
            }
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            const ssize_t got = ::recv(fd, buf, sizeof buf, 0);
            if (got <= 0) return false;
            data.append(buf, static_cast<std::size_t>(got));
        }
        return false;
    }

    static void reset(int fd) {
        const linger l{1, 0};  // close with RST instead of FIN
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(fd);
    }

    static void send_all(int fd, const std::string& s) {
        for (std::size_t off = 0; off < s.size();) {
            const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n <= 0) return;
            off += static_cast<std::size_t>(n);
        }
    }

    void serve(int fd, step s) {
        std::string body;
        if (s.what == act::reset_mid_body) {
            if (read_request(fd, 1024, body)) reset(fd);
            else ::close(fd);
            return;
        }
        if (!read_request(fd, -1, body)) {
            ::close(fd);
            return;
        }
        {
            std::lock_guard lock(m_);
            bodies_.push_back(body);
        }
        if (s.what == act::silent) {
            while (!stop_) std::this_thread::sleep_for(10ms);
            ::close(fd);
        } else if (s.what == act::reset_mid_answer) {
            send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf an ans");
            std::this_thread::sleep_for(20ms);
            reset(fd);
        } else {
            const std::string text = s.status == 400 ? "pushed metrics are invalid or inconsistent\n" : "";
            send_all(fd, "HTTP/1.1 " + std::to_string(s.status) + " Whatever\r\nContent-Length: " +
                             std::to_string(text.size()) + "\r\nConnection: close\r\n\r\n" + text);
            ::close(fd);
        }
    }

    std::vector<step> script_;
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::thread acceptor_;
    std::vector<std::thread> workers_;  // touched by the acceptor thread only until it is joined
    mutable std::mutex m_;
    std::vector<std::string> bodies_;
};

using act = fake_gateway::act;

lm::pushgateway_options quick(unsigned attempts = 3) {
    lm::pushgateway_options o;
    o.timeout = 1000ms;
    o.attempts = attempts;
    o.backoff = 40ms;
    o.max_backoff = 400ms;
    return o;
}

std::uint16_t closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);  // nothing listens there now
    return ntohs(addr.sin_port);
}

}  // namespace

TEST_CASE("Pushgateway backoff doubles, is capped, and jitters in its upper half", "[pushgateway]") {
    lm::pushgateway_options o;
    o.backoff = 100ms;
    o.max_backoff = 1000ms;
    std::minstd_rand rng(7);
    for (int i = 0; i < 200; ++i) {
        const auto w1 = lm::detail::push_backoff(o, 1, rng), w2 = lm::detail::push_backoff(o, 2, rng);
        const auto w4 = lm::detail::push_backoff(o, 4, rng), w9 = lm::detail::push_backoff(o, 9, rng);
        CHECK((w1 >= 50ms && w1 <= 100ms));
        CHECK((w2 >= 100ms && w2 <= 200ms));
        CHECK((w4 >= 400ms && w4 <= 800ms));
        CHECK((w9 >= 500ms && w9 <= 1000ms));
    }
    std::vector<long> seen;
    for (int i = 0; i < 50; ++i) seen.push_back(static_cast<long>(lm::detail::push_backoff(o, 3, rng).count()));
    CHECK(std::count(seen.begin(), seen.end(), seen.front()) < 50);  // jittered, not one value
    // Without an explicit deadline a call is bounded by its attempts and waits.
    o.timeout = 2000ms;
    o.attempts = 3;
    CHECK(lm::detail::push_deadline(o) == 2000ms * 3 + 1000ms * 2);
    o.deadline = 1500ms;
    CHECK(lm::detail::push_deadline(o) == 1500ms);
    CHECK(lm::detail::push_retriable(0));
    CHECK(lm::detail::push_retriable(503));
    CHECK(lm::detail::push_retriable(429));
    CHECK(!lm::detail::push_retriable(400));
    CHECK(!lm::detail::push_retriable(404));
}

TEST_CASE("Pushgateway down: bounded retries, then status 0 and the cause", "[pushgateway]") {
    lm::registry<pushed_total> metrics;
    metrics.get<pushed_total>().labels("a").inc();
    const lm::pushgateway gw{"http://127.0.0.1:" + std::to_string(closed_port()), "down", {}, quick(3)};
    const auto t0 = std::chrono::steady_clock::now();
    try {
        gw.push(metrics);
        FAIL("no exception");
    } catch (const lm::pushgateway_error& e) {
        INFO(e.what());
        CHECK(e.status() == 0);
        CHECK(e.attempts() == 3);
        CHECK(std::string(e.what()).find("refused") != std::string::npos);
        CHECK(std::string(e.what()).find("gave up after 3 attempts") != std::string::npos);
    }
    const milliseconds took = since(t0);
    CHECK(took >= 20ms + 40ms);  // the two waits, each at least half its backoff
    CHECK(took.count() < 1000 * slack());
    const lm::pushgateway_stats s = gw.stats();
    CHECK(s.calls == 1);
    CHECK(s.failed == 1);
    CHECK(s.retries == 2);
    CHECK(s.no_answer == 3);
    CHECK(s.server_errors == 0);
}

TEST_CASE("Pushgateway slow: each attempt and the whole call stay within their bounds", "[pushgateway]") {
    lm::registry<pushed_total> metrics;
    fake_gateway slow{{{act::silent}}};
    SECTION("attempts x timeout") {
        lm::pushgateway_options o = quick(3);
        o.timeout = 200ms;
        const lm::pushgateway gw{slow.url(), "slow", {}, o};
        const auto t0 = std::chrono::steady_clock::now();
        try {
            gw.push(metrics);
            FAIL("no exception");
        } catch (const lm::pushgateway_error& e) {
            INFO(e.what());
            CHECK(e.status() == 0);
            CHECK(e.attempts() == 3);
            CHECK(std::string(e.what()).find("no answer within 200 ms") != std::string::npos);
        }
        const milliseconds took = since(t0);
        CHECK(took >= 600ms);
        CHECK(took.count() < (600 + 120 + 400) * slack());  // 3 timeouts, 2 waits, some slack
        CHECK(slow.connections() == 3);
        CHECK(gw.stats().no_answer == 3);
    }
    SECTION("the deadline cuts attempts short") {
        lm::pushgateway_options o = quick(10);
        o.timeout = 300ms;
        o.deadline = 700ms;
        const lm::pushgateway gw{slow.url(), "slow", {}, o};
        const auto t0 = std::chrono::steady_clock::now();
        unsigned attempts = 0;
        try {
            gw.push(metrics);
            FAIL("no exception");
        } catch (const lm::pushgateway_error& e) {
            INFO(e.what());
            attempts = e.attempts();
            CHECK(e.status() == 0);
            CHECK(std::string(e.what()).find("at the deadline") != std::string::npos);
        }
        const milliseconds took = since(t0);
        CHECK(took >= 600ms);
        CHECK(took.count() < (700 + 300) * slack());
        CHECK(attempts >= 2);
        CHECK(attempts <= 3);
        CHECK(slow.connections() == static_cast<int>(attempts));
    }
}

TEST_CASE("Pushgateway 500 and 503 are retried until 200", "[pushgateway]") {
    lm::registry<pushed_total> metrics;
    metrics.get<pushed_total>().labels("x").inc(4);
    fake_gateway gw5{{{act::answer, 500}, {act::answer, 503}, {act::answer, 200}}};
    const lm::pushgateway gw{gw5.url(), "flaky", {}, quick(3)};
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_NOTHROW(gw.push(metrics));
    CHECK(since(t0) >= 60ms);
    CHECK(gw5.connections() == 3);
    const std::vector<std::string> bodies = gw5.bodies();
    REQUIRE(bodies.size() == 3);
    CHECK(bodies[0] == lm::render(metrics));  // the same body every time
    CHECK(bodies[2] == bodies[0]);
    const lm::pushgateway_stats s = gw.stats();
    CHECK(s.calls == 1);
    CHECK(s.failed == 0);
    CHECK(s.retries == 2);
    CHECK(s.server_errors == 2);

    // Retries run out: the last status is reported.
    fake_gateway always{{{act::answer, 503}}};
    const lm::pushgateway gw2{always.url(), "down", {}, quick(2)};
    try {
        gw2.push_add(metrics);
        FAIL("no exception");
    } catch (const lm::pushgateway_error& e) {
        CHECK(e.status() == 503);
        CHECK(e.attempts() == 2);
        CHECK(std::string(e.what()).find("HTTP 503") != std::string::npos);
    }
    CHECK(always.connections() == 2);
    CHECK(gw2.stats().failed == 1);

    fake_gateway busy{{{act::answer, 429}, {act::answer, 202}}};
    const lm::pushgateway gw3{busy.url(), "busy", {}, quick(3)};
    CHECK_NOTHROW(gw3.remove());
    CHECK(busy.connections() == 2);
}

TEST_CASE("Pushgateway 400 is not retried", "[pushgateway]") {
    lm::registry<pushed_total> metrics;
    fake_gateway bad{{{act::answer, 400}, {act::answer, 200}}};
    const lm::pushgateway gw{bad.url(), "bad", {}, quick(5)};
    const auto t0 = std::chrono::steady_clock::now();
    try {
        gw.push(metrics);
        FAIL("no exception");
    } catch (const lm::pushgateway_error& e) {
        CHECK(e.status() == 400);
        CHECK(e.attempts() == 1);
        CHECK(e.body() == "pushed metrics are invalid or inconsistent\n");
        CHECK(std::string(e.what()).find("HTTP 400") != std::string::npos);
        CHECK(std::string(e.what()).find("gave up") == std::string::npos);
    }
    CHECK(since(t0).count() < 500 * slack());
    CHECK(bad.connections() == 1);
    const lm::pushgateway_stats s = gw.stats();
    CHECK(s.rejected == 1);
    CHECK(s.retries == 0);
    CHECK(s.failed == 1);
}

TEST_CASE("Pushgateway resets mid-body and mid-answer are retried", "[pushgateway]") {
    namespace http = boost::beast::http;
    // 4 MB: the client is still writing when the gateway resets the connection.
    const std::string big(4 << 20, 'x');
    SECTION("reset while the request body is sent, then 200") {
        fake_gateway gw_reset{{{act::reset_mid_body}, {act::reset_mid_body}, {act::answer, 200}}};
        const lm::pushgateway gw{gw_reset.url(), "reset", {}, quick(3)};
        CHECK_NOTHROW(gw.send(http::verb::put, big));
        CHECK(gw_reset.connections() == 3);
        REQUIRE(gw_reset.bodies().size() == 1);
        CHECK(gw_reset.bodies()[0].size() == big.size());
        CHECK(gw.stats().no_answer == 2);
    }
    SECTION("every attempt reset") {
        fake_gateway gw_reset{{{act::reset_mid_body}}};
        const lm::pushgateway gw{gw_reset.url(), "reset", {}, quick(3)};
        const auto t0 = std::chrono::steady_clock::now();
        try {
            gw.send(http::verb::put, big);
            FAIL("no exception");
        } catch (const lm::pushgateway_error& e) {
            INFO(e.what());
            CHECK(e.status() == 0);
            CHECK(e.attempts() == 3);
            const std::string what = e.what();
            CHECK((what.find("reset") != std::string::npos || what.find("Broken pipe") != std::string::npos));
        }
        CHECK(since(t0).count() < 3000 * slack());
        CHECK(gw_reset.connections() == 3);
    }
    SECTION("half an answer, then 200") {
        fake_gateway gw_half{{{act::reset_mid_answer}, {act::answer, 200}}};
        const lm::pushgateway gw{gw_half.url(), "half", {}, quick(3)};
        CHECK_NOTHROW(gw.send(http::verb::post, "x 1\n"));
        CHECK(gw_half.connections() == 2);
        CHECK(gw.stats().retries == 1);
    }
}

TEST_CASE("recording goes on while a push waits on a slow gateway", "[pushgateway]") {
    lm::registry<pushed_total> metrics;
    auto& handle = metrics.get<pushed_total>().labels("before");
    fake_gateway slow{{{act::silent}}};
    lm::pushgateway_options o = quick(1);
    o.timeout = 1000ms;
    const lm::pushgateway gw{slow.url(), "slow", {}, o};
    std::atomic<bool> push_done{false};
    std::thread pusher([&] {
        try {
            gw.push(metrics);
        } catch (const lm::pushgateway_error&) {
        }
        push_done = true;
    });
    while (slow.connections() == 0 && !push_done) std::this_thread::sleep_for(1ms);
    // The push is on the wire; recording, new series and a render do not wait for it.
    for (int i = 0; i < 10000; ++i) handle.inc();
    for (int i = 0; i < 50; ++i) metrics.get<pushed_total>().labels("new-" + std::to_string(i)).inc();
    const std::string body = lm::render(metrics);
    const bool still_pushing = !push_done;
    pusher.join();
    CHECK(still_pushing);
    CHECK(body.find("pushed_total{kind=\"before\"} 10000\n") != std::string::npos);
    CHECK(body.find("pushed_total{kind=\"new-49\"} 1\n") != std::string::npos);
}

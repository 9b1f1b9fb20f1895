// The exposer's streaming routes (serve/http_stream.hpp): chunks reach the
// client as they are pushed, framed exactly; a slow reader holds the handler
// back with bounded memory; a client that leaves, before the first chunk or in
// the middle, is reported to the handler; the write timeout cuts a stalled
// client; scrapes keep being served meanwhile.

#include <llmetrics/llmetrics.hpp>
#include <llmetrics/serve.hpp>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "raw_http_client.hpp"
#include "text_sample.hpp"

namespace lm = llmetrics;
using namespace std::chrono_literals;

namespace {

using ticks_total = lm::counter<"stream_test_ticks_total", "Ticks">;
using stream_registry = lm::registry<ticks_total>;

// Something one thread waits for and another signals.
class latch {
public:
    void open() {
        {
            std::lock_guard lock(m_);
            open_ = true;
        }
        cv_.notify_all();
    }
    bool wait(std::chrono::milliseconds timeout = 5000ms) {
        std::unique_lock lock(m_);
        return cv_.wait_for(lock, timeout, [&] { return open_; });
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool open_ = false;
};

std::string stream_request(std::string_view target, std::string_view version = "HTTP/1.1") {
    return "GET " + std::string(target) + " " + std::string(version) + "\r\nHost: 127.0.0.1\r\n\r\n";
}

// Reads from `c` until `buffer` holds `needle`; false on timeout or close.
bool read_until(raw_http::client& c, std::string& buffer, std::string_view needle) {
    while (buffer.find(needle) == std::string::npos) {
        const std::string more = c.read_some(65536);
        if (more.empty()) return false;
        buffer += more;
    }
    return true;
}

// Decodes a chunked body exactly (sizes in hex, CRLF after each chunk, a last
// chunk of size 0 with no trailers); nothing when the framing is wrong.
std::optional<std::vector<std::string>> decode_chunked(std::string_view body) {
    std::vector<std::string> chunks;
    for (;;) {
        const std::size_t eol = body.find("\r\n");
        if (eol == std::string_view::npos || eol == 0) return std::nullopt;
        std::size_t size = 0;
        for (char c : body.substr(0, eol)) {
            const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (digit < 0) return std::nullopt;
            size = size * 16 + static_cast<std::size_t>(digit);
        }
        body.remove_prefix(eol + 2);
        if (size == 0) return body == "\r\n" ? std::optional(chunks) : std::nullopt;
        if (body.size() < size + 2 || body.substr(size, 2) != "\r\n") return std::nullopt;
        chunks.emplace_back(body.substr(0, size));
        body.remove_prefix(size + 2);
    }
}

double closed_count(const stream_registry& metrics, std::string_view reason) {
    const std::string text = lm::render(metrics);
    const std::string series = "llmetrics_http_connections_closed_total{reason=\"" + std::string(reason) + "\"}";
    return sample(text, series).value_or(0.0);
}

}  // namespace

TEST_CASE("streaming route: chunks arrive as they are pushed, with exact chunked framing", "[serve][stream]") {
    stream_registry metrics;
    latch first_read;  // before the exposer: its workers are joined first
    std::atomic<int> accepted{0};  // Catch asserts on the test's thread only
    lm::exposer exp{metrics};
    exp.add_streaming_route("GET", "/events", [&](const lm::http_request& req, lm::http_stream& out) {
        accepted += out.begin(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
        accepted += out.push("data: " + std::string(req.query()) + "\n\n");
        first_read.wait();  // the second chunk exists only once the client has read the first
        accepted += out.push(std::string(300, 'x'));
        accepted += out.push("");  // sends nothing
        accepted += out.push("data: [DONE]\n\n");
    });

    raw_http::client c(exp.port());
    REQUIRE(c.send(stream_request("/events?n=1")));
    std::string got;
    REQUIRE(read_until(c, got, "data: n=1\n\n\r\n"));
    CHECK(got.find("[DONE]") == std::string::npos);
    first_read.open();
    REQUIRE(read_until(c, got, "0\r\n\r\n"));

    const std::size_t head_end = got.find("\r\n\r\n");
    const std::string head = got.substr(0, head_end);
    CHECK(head.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(raw_http::client::find_header(head, "transfer-encoding") != std::string::npos);
    CHECK(head.substr(raw_http::client::find_header(head, "transfer-encoding"), 7) == "chunked");
    CHECK(head.substr(raw_http::client::find_header(head, "content-type"), 17) == "text/event-stream");
    CHECK(head.substr(raw_http::client::find_header(head, "cache-control"), 8) == "no-cache");
    CHECK(raw_http::client::find_header(head, "content-length") == std::string::npos);
    const auto chunks = decode_chunked(std::string_view(got).substr(head_end + 4));
    REQUIRE(chunks);
    CHECK(*chunks == std::vector<std::string>{"data: n=1\n\n", std::string(300, 'x'), "data: [DONE]\n\n"});
    CHECK(accepted == 5);
    CHECK(got.substr(head_end + 4, 5) == "b\r\nda");  // 11 bytes: the size in lower-case hex
    CHECK(got.find("12c\r\n") != std::string::npos);  // 300

    // Keep-alive: the same connection serves the next request.
    REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    const auto after = raw_http::parse_responses(c.read_response());
    REQUIRE(after.size() == 1);
    CHECK(after[0].body == "ok\n");
}

TEST_CASE("streaming route: plain answers, 500 for failures, HTTP/1.0 without chunks", "[serve][stream]") {
    stream_registry metrics;
    std::atomic<int> plain_calls{-1};
    lm::exposer exp{metrics};
    exp.add_streaming_route("GET", "/plain", [&](const lm::http_request&, lm::http_stream& out) {
        // Catch asserts on the test's thread only: 1 means each call did what it should.
        plain_calls = out.respond(lm::http_response::json(400, R"({"error":"bad"})")) && !out.begin(200, "text/plain") &&
                      !out.push("late");
    });
    exp.add_streaming_route("GET", "/throw", [](const lm::http_request&, lm::http_stream&) {
        throw std::runtime_error("boom");
    });
    exp.add_streaming_route("GET", "/silent", [](const lm::http_request&, lm::http_stream&) {});
    exp.add_streaming_route("GET", "/cut", [](const lm::http_request&, lm::http_stream& out) {
        out.begin(200, "text/plain");
        out.push("partial");
        throw std::runtime_error("mid-stream");
    });
    exp.add_streaming_route("GET", "/old", [](const lm::http_request&, lm::http_stream& out) {
        out.begin(200, "text/plain");
        out.push("one ");
        out.push("two");
    });

    const auto status_of = [&](std::string_view target) {
        raw_http::client c(exp.port());
        c.send(stream_request(target));
        return raw_http::parse_responses(c.read_response());
    };
    const auto plain = status_of("/plain");
    REQUIRE(plain.size() == 1);
    CHECK(plain[0].status == 400);
    CHECK(plain[0].body == R"({"error":"bad"})");
    CHECK(plain_calls == 1);
    CHECK(status_of("/throw").at(0).status == 500);
    CHECK(status_of("/silent").at(0).status == 500);

    {  // after the head, a failure cuts the body: no last chunk, the connection closes
        raw_http::client c(exp.port());
        c.send(stream_request("/cut"));
        bool closed = false;
        const std::string got = c.read_all(&closed);
        CHECK(closed);
        CHECK(got.find("HTTP/1.1 200") == 0);
        CHECK(got.find("0\r\n\r\n") == std::string::npos);
    }
    {  // HTTP/1.0 has no chunked encoding: raw bytes, then the connection closes
        raw_http::client c(exp.port());
        c.send(stream_request("/old", "HTTP/1.0"));
        bool closed = false;
        const std::string got = c.read_all(&closed);
        CHECK(closed);
        CHECK(got.find("transfer-encoding") == std::string::npos);
        CHECK(got.find("Transfer-Encoding") == std::string::npos);
        CHECK(got.substr(got.find("\r\n\r\n") + 4) == "one two");
    }
}

TEST_CASE("streaming route: a slow reader applies backpressure with bounded memory", "[serve][stream]") {
    stream_registry metrics;
    constexpr std::size_t queue_bound = 16 * 1024;
    // 16 MiB in all: more than loopback's socket buffers take (they grow to a few MiB).
    constexpr std::size_t chunk = 1024, total_chunks = 16384;
    std::atomic<std::size_t> max_queued{0}, accepted_before_read{0}, fulls{0};
    std::atomic<bool> reading{false};
    lm::exposer exp{metrics, {.write_timeout = 20000ms, .stream_queue_bytes = queue_bound}};
    exp.add_streaming_route("GET", "/bulk", [&](const lm::http_request&, lm::http_stream& out) {
        out.begin(200, "application/octet-stream");
        const std::string block(chunk, 'z');
        for (std::size_t i = 0; i < total_chunks;) {
            const auto r = out.push_for(block, 20ms);
            if (r == lm::http_stream::push_result::ended) return;
            max_queued = std::max(max_queued.load(), out.queued_bytes());
            if (r == lm::http_stream::push_result::full) {
                ++fulls;
                continue;
            }
            ++i;
            if (!reading) ++accepted_before_read;
        }
    });

    raw_http::client c(exp.port(), 5000ms, 16 * 1024);
    REQUIRE(c.send(stream_request("/bulk")));
    std::this_thread::sleep_for(500ms);  // not reading: the socket buffers and the queue fill, then pushes wait
    const std::size_t stalled_at = accepted_before_read;
    // Everything accepted so far sits in the queue or the kernel's socket
    // buffers, far from the 16 MiB the handler wants to send; and it stays there.
    CHECK(stalled_at < total_chunks / 2);
    CHECK(fulls > 0);
    std::this_thread::sleep_for(300ms);
    CHECK(accepted_before_read == stalled_at);
    // Scrapes are served while the stream waits on its reader.
    {
        raw_http::client scrape(exp.port());
        scrape.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        CHECK(scrape.read_status() == 200);
    }
    reading = true;
    std::string got;
    REQUIRE(read_until(c, got, "\r\n0\r\n\r\n"));
    const auto chunks = decode_chunked(std::string_view(got).substr(got.find("\r\n\r\n") + 4));
    REQUIRE(chunks);
    std::size_t bytes = 0;
    for (const std::string& s : *chunks) bytes += s.size();
    CHECK(bytes == chunk * total_chunks);
    CHECK(max_queued <= queue_bound);
}

TEST_CASE("streaming route: the handler learns that the client left, before or during the stream",
          "[serve][stream]") {
    stream_registry metrics;
    struct seen {
        latch done;
        std::atomic<lm::stream_end> state{lm::stream_end::open};
        std::atomic<bool> push_after{true};
    } before, during;  // before the exposer: its workers are joined first
    lm::exposer exp{metrics};
    exp.add_streaming_route("GET", "/before", [&](const lm::http_request&, lm::http_stream& out) {
        // Nothing sent yet ("thinking" before the first token): the pending read notices.
        const bool ended = out.wait_cancelled_for(5s);
        before.state = out.state();
        before.push_after = ended && out.begin(200, "text/plain");
        before.done.open();
    });
    exp.add_streaming_route("GET", "/during", [&](const lm::http_request&, lm::http_stream& out) {
        out.begin(200, "text/event-stream");
        out.push("data: 1\n\n");
        out.wait_cancelled_for(5s);
        during.state = out.state();
        during.push_after = out.push("data: 2\n\n");
        during.done.open();
    });

    {
        raw_http::client c(exp.port());
        c.send(stream_request("/before"));
        std::this_thread::sleep_for(50ms);
    }  // closed
    REQUIRE(before.done.wait());
    CHECK(before.state == lm::stream_end::client_gone);
    CHECK_FALSE(before.push_after);

    {
        raw_http::client c(exp.port());
        c.send(stream_request("/during"));
        std::string got;
        REQUIRE(read_until(c, got, "data: 1\n\n"));
    }
    REQUIRE(during.done.wait());
    CHECK(during.state == lm::stream_end::client_gone);
    CHECK_FALSE(during.push_after);
}

TEST_CASE("streaming route: the write timeout cuts a client that stops reading; scrapes go on", "[serve][stream]") {
    stream_registry metrics;
    latch done;  // before the exposer: its workers are joined first
    std::atomic<lm::stream_end> state{lm::stream_end::open};
    std::atomic<std::size_t> pushed{0};
    lm::exposer exp{metrics, {.write_timeout = 300ms, .stream_queue_bytes = 8 * 1024}};
    metrics.add_collector(exp.make_collector());
    exp.add_streaming_route("GET", "/firehose", [&](const lm::http_request&, lm::http_stream& out) {
        out.begin(200, "application/octet-stream");
        const std::string block(4096, 'f');
        while (out.push(block)) ++pushed;  // blocks once the client stops reading, until the cut
        state = out.state();
        done.open();
    });

    raw_http::client stalled(exp.port(), 3000ms, 4096);
    REQUIRE(stalled.send(stream_request("/firehose")));
    const auto t0 = std::chrono::steady_clock::now();
    int scrapes = 0;
    while (!done.wait(50ms) && std::chrono::steady_clock::now() - t0 < 10s) {
        raw_http::client scrape(exp.port());
        scrape.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        if (scrape.read_status() == 200) ++scrapes;
    }
    REQUIRE(done.wait(0ms));
    CHECK(state == lm::stream_end::write_timeout);
    CHECK(scrapes >= 1);
    CHECK(pushed < 4096);  // bounded: the socket buffers and the queue, not 16 MiB
    CHECK(closed_count(metrics, "write_timeout") >= 1.0);
    bool closed = false;
    stalled.read_all(&closed);
    CHECK(closed);
}

TEST_CASE("streaming route: a client that left while its request waited for a worker is seen at the start",
          "[serve][stream]") {
    stream_registry metrics;
    latch release;
    std::atomic<int> handled{0}, gone_at_start{0};
    lm::exposer exp{metrics, {.worker_threads = 1}};  // one worker: the second request queues
    exp.add_streaming_route("GET", "/hold", [&](const lm::http_request&, lm::http_stream& out) {
        if (out.cancelled()) {
            ++gone_at_start;
        } else {
            out.begin(200, "text/plain");
            release.wait();
            out.push("done");
        }
        ++handled;
    });
    raw_http::client holder(exp.port());
    REQUIRE(holder.send(stream_request("/hold")));
    std::string got;
    REQUIRE(read_until(holder, got, "\r\n\r\n"));  // the worker is busy with it now
    {
        raw_http::client queued(exp.port());
        REQUIRE(queued.send(stream_request("/hold")));
        std::this_thread::sleep_for(100ms);
    }  // closed while waiting
    std::this_thread::sleep_for(100ms);
    release.open();
    REQUIRE(read_until(holder, got, "0\r\n\r\n"));
    for (int i = 0; i < 100 && handled < 2; ++i) std::this_thread::sleep_for(20ms);
    CHECK(handled == 2);
    CHECK(gone_at_start == 1);
}

TEST_CASE("streaming route: a screen answers on the I/O thread, else the stream runs", "[serve][stream]") {
    stream_registry metrics;
    std::atomic<int> streamed{0};
    lm::exposer exp{metrics};
    exp.add_streaming_route(
        "GET", "/maybe",
        [&](const lm::http_request&, lm::http_stream& out) {
            ++streamed;
            out.begin(200, "text/plain");
            out.push("streamed");
        },
        [](const lm::http_request& req) -> std::optional<lm::http_response> {
            if (req.query() == "stream") return std::nullopt;
            if (req.query() == "throw") throw std::runtime_error("screen");
            return lm::http_response::text(200, "plain");
        });
    const auto get = [&](std::string_view target) {
        raw_http::client c(exp.port());
        c.send("GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        bool closed = false;
        return c.read_all(&closed);
    };
    const std::string plain = get("/maybe");
    CHECK(plain.find("Content-Length: 5") != std::string::npos);
    CHECK(plain.ends_with("\r\n\r\nplain"));
    CHECK(get("/maybe?throw").starts_with("HTTP/1.1 500"));
    CHECK(streamed == 0);
    const std::string stream = get("/maybe?stream");
    CHECK(stream.find("Transfer-Encoding: chunked") != std::string::npos);
    CHECK(stream.ends_with("8\r\nstreamed\r\n0\r\n\r\n"));
    CHECK(streamed == 1);
}

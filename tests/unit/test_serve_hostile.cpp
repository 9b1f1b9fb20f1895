// Hostile HTTP against the exposer (issue 12, point 2): request smuggling shapes,
// long targets, many headers, control bytes, pipelining that outruns the reader,
// a client that never reads, and Expect. Each gets the answer RFC 9110/9112 give
// it (request_screen.hpp says which) and the exposer keeps serving. The load-shaped
// cases (a connection storm, many non-reading clients) are in
// tests/integration/test_hostile_http.py.

#include <llmetrics/serve.hpp>
#include <llmetrics/serve/detail/head_buffer.hpp>
#include <llmetrics/serve/detail/request_screen.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <catch2/catch.hpp>

#include "raw_http_client.hpp"

namespace lm = llmetrics;
namespace http = boost::beast::http;
using namespace std::chrono_literals;

namespace {

// What a Connection: close request gets, as the status codes of the responses
// that came back (so a smuggled second request shows as a second status).
std::vector<unsigned> statuses_of(std::uint16_t port, const std::string& raw) {
    raw_http::client c(port);
    c.send(raw);
    std::vector<unsigned> out;
    for (const raw_http::response& r : raw_http::parse_responses(c.read_all())) out.push_back(r.status);
    return out;
}

bool serves(const lm::exposer& exp) {
    return statuses_of(exp.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") ==
           std::vector<unsigned>{200};
}

std::string body_of(std::size_t bytes) {  // a valid exposition of about `bytes` bytes
    std::string out;
    for (std::size_t i = 0; out.size() < bytes; ++i) out += "hostile_filler{i=\"" + std::to_string(i) + "\"} 1\n";
    return out;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds within) {
    const auto end = std::chrono::steady_clock::now() + within;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

http::request_header<> head_of(std::vector<std::pair<http::field, std::string>> fields, unsigned version = 11) {
    http::request_header<> h;
    h.method(http::verb::post);
    h.target("/");
    h.version(version);
    for (auto& [f, v] : fields) h.insert(f, v);  // insert, not set: repeated lines stay repeated
    return h;
}

}  // namespace

TEST_CASE("request screen: framing, Host, folding and Expect by RFC 9110/9112", "[serve][hostile]") {
    using F = http::field;
    const auto status = [](const http::request_header<>& h, bool folded = false) {
        const auto r = lm::detail::screen_request_head(h, folded);
        return r ? static_cast<unsigned>(r->status) : 0u;
    };
    CHECK(status(head_of({{F::host, "x"}, {F::content_length, "3"}})) == 0);
    CHECK(status(head_of({{F::host, "x"}, {F::content_length, "3"}, {F::content_length, "3"}})) == 0);
    // Transfer-Encoding: with Content-Length, in HTTP/1.0, or not ending in chunked: 400.
    CHECK(status(head_of({{F::host, "x"}, {F::transfer_encoding, "gzip"}, {F::content_length, "3"}})) == 400);
    CHECK(status(head_of({{F::host, "x"}, {F::transfer_encoding, "chunked"}}, 10)) == 400);
    CHECK(status(head_of({{F::host, "x"}, {F::transfer_encoding, "gzip"}})) == 400);
    CHECK(status(head_of({{F::host, "x"}, {F::transfer_encoding, "chunked, gzip"}})) == 400);
    CHECK(status(head_of({{F::host, "x"}, {F::transfer_encoding, "chunked, chunked"}})) == 400);
    CHECK(status(head_of({{F::host, "x"}, {F::transfer_encoding, "chunked"}, {F::transfer_encoding, "chunked"}})) ==
          400);
    CHECK(status(head_of({{F::host, "x"}, {F::transfer_encoding, ""}})) == 400);
    // ... and ending in chunked: 411, since the exposer takes only Content-Length bodies.
    CHECK(status(head_of({{F::host, "x"}, {F::transfer_encoding, "chunked"}})) == 411);
    CHECK(status(head_of({{F::host, "x"}, {F::transfer_encoding, "gzip"}, {F::transfer_encoding, "Chunked"}})) == 411);
    // Host: exactly one in HTTP/1.1, at most one in HTTP/1.0.
    CHECK(status(head_of({})) == 400);
    CHECK(status(head_of({}, 10)) == 0);
    CHECK(status(head_of({{F::host, "a"}, {F::host, "b"}})) == 400);
    CHECK(status(head_of({{F::host, "a"}, {F::host, "a"}}, 10)) == 400);
    // obs-fold anywhere in the head: 400.
    CHECK(status(head_of({{F::host, "x"}}), true) == 400);
    // Expect: 100-continue is met; anything else is 417.
    CHECK(status(head_of({{F::host, "x"}, {F::expect, "100-Continue"}})) == 0);
    CHECK(status(head_of({{F::host, "x"}, {F::expect, "bogus"}})) == 417);
    CHECK(status(head_of({{F::host, "x"}, {F::expect, "100-continue, bogus"}})) == 417);
    CHECK(lm::detail::expects_continue(head_of({{F::host, "x"}, {F::expect, "100-continue"}})));
    CHECK_FALSE(lm::detail::expects_continue(head_of({{F::host, "x"}, {F::expect, "100-continue"}}, 10)));
    CHECK_FALSE(lm::detail::expects_continue(head_of({{F::host, "x"}})));
}

TEST_CASE("head buffer: obs-fold seen in what Beast's parser consumes; the whole head bounded", "[serve][hostile]") {
    // Drives Beast's parser the way its read loop does: ask read_size() how much
    // to read (0: buffer_overflow), put() what is buffered, consume() what it used.
    enum outcome { parsed, refused, overflow };
    const auto parse = [](std::string_view raw, std::size_t piece, bool& folded, std::size_t head_limit = 8192) {
        lm::detail::head_buffer buffer(head_limit, head_limit + 64 * 1024);
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(head_limit));
        buffer.watch_head();
        boost::beast::error_code ec;
        outcome result = refused;
        for (std::size_t at = 0; at < raw.size();) {
            if (!parser.is_header_done() && boost::beast::read_size(buffer, 65536) == 0) {
                result = overflow;
                break;
            }
            const std::string_view next = raw.substr(at, piece);
            at += next.size();
            boost::asio::buffer_copy(buffer.prepare(next.size()), boost::asio::buffer(next.data(), next.size()));
            buffer.commit(next.size());
            do {
                buffer.consume(parser.put(buffer.data(), ec));
            } while (!ec && !parser.is_done() && buffer.size() > 0);
            if (ec == http::error::need_more) ec = {};
            if (ec || parser.is_done()) {
                result = parser.is_done() && !ec ? parsed : refused;
                break;
            }
        }
        folded = buffer.folded();
        return result;
    };
    for (const std::size_t piece : {1, 7, 4096}) {
        INFO("bytes per read: " << piece);
        bool folded = true;
        CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n", piece, folded) == parsed);
        CHECK(folded);  // Beast accepted it, joined: the buffer noticed
        CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n\ttwo\r\n\r\n", piece, folded) == parsed);
        CHECK(folded);
        CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\nX-A: one two\r\n\r\n", piece, folded) == parsed);
        CHECK_FALSE(folded);
        // A body with line breaks followed by spaces is not a head.
        CHECK(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\na\r\n b\r\n\tc", piece, folded) ==
              parsed);
        CHECK_FALSE(folded);
        // Many small fields: Beast's own header_limit only sees one read's worth
        // when they come in small pieces; the buffer bounds their sum.
        std::string many = "GET / HTTP/1.1\r\nHost: x\r\n";
        for (int i = 0; i < 1000; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";  // ~11 KB
        CHECK(parse(many + "\r\n", piece, folded, 4096) != parsed);
        CHECK(parse(many + "\r\n", piece, folded, 16384) == parsed);
    }
}

TEST_CASE("exposer answers request smuggling shapes with 400 and closes", "[serve][hostile]") {
    lm::exposer exp{[](lm::format, std::string& out) { out += "up 1\n"; }, {}};
    exp.add_route("POST", "/echo", [](const lm::http_request& req) { return lm::http_response::text(200, req.body()); });
    // Each would smuggle the GET that follows its body if framing were guessed:
    // exactly one response (the refusal) may come back.
    const std::string smuggled = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    const std::vector<std::pair<std::string, unsigned>> cases = {
        // RFC 9112 §6.1, §6.3: Content-Length and Transfer-Encoding together.
        {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello", 400},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n", 400},
        {"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411},
        // RFC 9110 §8.6: two Content-Length values that differ.
        {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nhello", 400},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 5\r\n\r\nhello", 400},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", 400},
        // RFC 9112 §5.2: obs-fold (a line starting with SP or HTAB), also of Content-Length.
        {"POST /echo HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\nContent-Length: 0\r\n\r\n", 400},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nX-A: one\r\n\ttwo\r\nContent-Length: 0\r\n\r\n", 400},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400},
        {"POST /echo HTTP/1.1\r\n Host: x\r\nContent-Length: 0\r\n\r\n", 400},
        // RFC 9112 §2.2: a bare CR, in a field or ending the request line; a bare LF.
        {"POST /echo HTTP/1.1\r\nHost: x\rContent-Length: 0\r\n\r\n", 400},
        {"POST /echo HTTP/1.1\rHost: x\r\nContent-Length: 0\r\n\r\n", 400},
        {"POST /echo HTTP/1.1\nHost: x\nContent-Length: 0\n\n", 400},
        // RFC 9112 §3.2: no Host in HTTP/1.1, or two.
        {"POST /echo HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 400},
        {"POST /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 0\r\n\r\n", 400},
        // RFC 9112 §5.1: whitespace between a field name and the colon.
        {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello", 400},
    };
    for (const auto& [raw, expected] : cases) {
        INFO(raw);
        CHECK(statuses_of(exp.port(), raw + smuggled) == std::vector<unsigned>{expected});
    }
    // Equal Content-Length values are one length (RFC 9110 §8.6): the body is read
    // with it, and the next pipelined request starts right after.
    CHECK(statuses_of(exp.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc" +
                                      std::string("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) ==
          std::vector<unsigned>{200, 200});
    CHECK(serves(exp));
}

TEST_CASE("exposer refuses control bytes in fields and the target, and keeps UTF-8 values", "[serve][hostile]") {
    lm::exposer exp{[](lm::format, std::string& out) { out += "up 1\n"; }, {}};
    // RFC 9110 §5.5: NUL, CR, LF must not be in a field value; other controls
    // (but HTAB) are refused too. obs-text (UTF-8 bytes) is allowed.
    for (const char c : {'\x00', '\x01', '\x08', '\x0b', '\x1b', '\x1f', '\x7f'}) {
        std::string raw = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Tenant-ID: a";
        raw += c;
        raw += "b\r\nConnection: close\r\n\r\n";
        INFO("byte " << static_cast<int>(c));
        CHECK(statuses_of(exp.port(), raw) == std::vector<unsigned>{400});
    }
    CHECK(statuses_of(exp.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\tb\r\nConnection: close\r\n\r\n") ==
          std::vector<unsigned>{200});
    CHECK(statuses_of(exp.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Tenant-ID: \xc3\xbc \xe6\x97\xa5\r\n"
                                  "Connection: close\r\n\r\n") == std::vector<unsigned>{200});
    // RFC 9112 §3.2: a target with a control byte or a space is not a request-target.
    CHECK(statuses_of(exp.port(), "GET /heal\x01thz HTTP/1.1\r\nHost: x\r\n\r\n") == std::vector<unsigned>{400});
    CHECK(statuses_of(exp.port(), "GET /heal\x7fthz HTTP/1.1\r\nHost: x\r\n\r\n") == std::vector<unsigned>{400});
    CHECK(serves(exp));
}

TEST_CASE("exposer: long targets get 414, many header bytes 431, under the limits 200", "[serve][hostile]") {
    lm::exposer exp{[](lm::format, std::string& out) { out += "up 1\n"; }, {.max_header_bytes = 4096}};
    const auto get = [&](const std::string& target, const std::string& fields = {}) {
        return statuses_of(exp.port(), "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + fields + "Connection: close\r\n\r\n");
    };
    // RFC 9110 §15.5.15: a target, or its query string, longer than the head may be.
    CHECK(get("/metrics?q=" + std::string(20000, 'a')) == std::vector<unsigned>{414});
    CHECK(get("/" + std::string(5000, 'a')) == std::vector<unsigned>{414});
    CHECK(get("/metrics?q=" + std::string(3500, 'a')) == std::vector<unsigned>{200});  // under: served
    // Many fields, each small: their sum is what the limit bounds (RFC 6585 §5: 431).
    std::string some, many;
    for (int i = 0; i < 150; ++i) some += "X-H" + std::to_string(i) + ": v\r\n";   // ~1.5 KB
    for (int i = 0; i < 1000; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";  // ~11 KB
    CHECK(get("/metrics", some) == std::vector<unsigned>{200});
    CHECK(get("/metrics", many) == std::vector<unsigned>{431});
    // A long target and then one more byte of fields than fit: 431, not 414.
    CHECK(get("/metrics?q=" + std::string(3500, 'a'), "X-Big: " + std::string(1000, 'b') + "\r\n") ==
          std::vector<unsigned>{431});
    CHECK(serves(exp));
}

TEST_CASE("exposer: Expect 100-continue in HTTP/1.1, ignored in HTTP/1.0, 417 otherwise", "[serve][hostile]") {
    lm::exposer exp{[](lm::format, std::string& out) { out += "up 1\n"; }, {.max_body_bytes = 1024}};
    exp.add_route("POST", "/echo", [](const lm::http_request& req) { return lm::http_response::text(201, req.body()); });

    SECTION("HTTP/1.1: 100 before the body, then the answer") {
        raw_http::client c(exp.port());
        c.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n");
        CHECK(c.read_some().starts_with("HTTP/1.1 100 Continue\r\n\r\n"));
        c.send("hello");
        const auto rs = raw_http::parse_responses(c.read_all());
        REQUIRE(rs.size() == 1);
        CHECK(rs[0].status == 201);
        CHECK(rs[0].body == "hello");
    }
    SECTION("HTTP/1.1 with the body already sent: no 100, just the answer") {
        const auto rs = statuses_of(exp.port(),
                                    "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n"
                                    "Connection: close\r\n\r\nhello");
        CHECK(rs == std::vector<unsigned>{201});
    }
    SECTION("HTTP/1.0: the expectation is ignored (RFC 9110 §10.1.1)") {
        raw_http::client c(exp.port(), 300ms);
        c.send("POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        CHECK(c.read_some().empty());  // nothing until the body comes
        c.send("hello");
        const auto rs = raw_http::parse_responses(c.read_all());
        REQUIRE(rs.size() == 1);
        CHECK(rs[0].status == 201);
    }
    SECTION("a body over the limit gets 413 instead of 100") {
        CHECK(statuses_of(exp.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                                      "Content-Length: 5000\r\n\r\n") == std::vector<unsigned>{413});
    }
    SECTION("an expectation other than 100-continue: 417 (RFC 9110 §10.1.1), no 100") {
        CHECK(statuses_of(exp.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 5\r\n\r\n") ==
              std::vector<unsigned>{417});
    }
    CHECK(serves(exp));
}

TEST_CASE("exposer answers pipelined requests in order, one response at a time", "[serve][hostile]") {
    std::atomic<int> handled{0};
    lm::exposer exp{[](lm::format, std::string& out) { out += "up 1\n"; }, {.write_timeout = 500ms}};
    exp.add_route("GET", "/n", [&](const lm::http_request& req) {
        ++handled;
        return lm::http_response::text(200, std::string(req.query()));
    });
    exp.add_route("GET", "/big", [&](const lm::http_request&) {
        ++handled;
        return lm::http_response::text(200, std::string(64 * 1024, 'b'));
    });

    SECTION("far more than the read-ahead bound, read as they come: all answered, in order") {
        // ~300 KB of requests, several times what a connection buffers (max_read_ahead_bytes).
        const int n = 6000;
        std::string burst;
        for (int i = 0; i < n; ++i) burst += "GET /n?" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
        raw_http::client c(exp.port());
        std::thread writer([&] { c.send(burst); });
        std::string got;
        std::vector<raw_http::response> rs;
        while (rs.size() < static_cast<std::size_t>(n)) {
            const std::string more = c.read_some(1 << 16);
            if (more.empty()) break;
            got += more;
            rs = raw_http::parse_responses(got);
        }
        writer.join();
        REQUIRE(rs.size() == static_cast<std::size_t>(n));
        bool in_order = true;
        for (int i = 0; i < n; ++i) in_order = in_order && rs[i].status == 200 && rs[i].body == std::to_string(i);
        CHECK(in_order);
    }
    SECTION("a client that pipelines and never reads: the server stops at what the socket holds") {
        // No queue of responses: the next request is parsed only once the previous
        // answer is written, so with the reader stalled the server stops parsing.
        std::string burst;
        for (int i = 0; i < 2000; ++i) burst += "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
        raw_http::client c(exp.port(), 3000ms, 4096);
        c.send(burst);  // ~60 KB: fits in the socket buffers
        REQUIRE(eventually([&] { return handled.load() >= 1; }, 3000ms));
        // Then the write timeout closes the connection.
        CHECK(eventually([&] { return exp.open_connections() == 0; }, 5000ms));
        // What was handled fits in the socket buffers (64 KiB a response; Linux
        // buffers a few MB at most), far short of the 2000 asked for.
        CHECK(handled.load() < 200);
        CHECK(handled.load() >= 1);
    }
    CHECK(serves(exp));
}

TEST_CASE("exposer: a client that never reads a large scrape is cut off by write_timeout", "[serve][hostile]") {
    // More than Linux buffers for a socket (tcp_wmem: 4 MB at most), so the write blocks.
    const std::string body = body_of(12 * 1024 * 1024);
    lm::exposer exp{[&](lm::format, std::string& out) { out += body; }, {.gzip = false, .write_timeout = 600ms}};
    raw_http::client stalled(exp.port(), 3000ms, 4096);  // a tiny receive window, never read
    stalled.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    // Meanwhile scrapes from others are served in full.
    for (int i = 0; i < 3; ++i) {
        raw_http::client c(exp.port(), 10000ms);
        c.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        const auto rs = raw_http::parse_responses(c.read_all());
        REQUIRE(rs.size() == 1);
        CHECK(rs[0].body.size() == body.size());
    }
    // The stalled connection is closed once the write outlives its timeout...
    CHECK(eventually([&] { return exp.open_connections() == 0; }, 5000ms));
    // ... and its reader finds a cut-off response (what the socket buffers held), then the close.
    bool closed = false;
    const std::string got = stalled.read_all(&closed);
    CHECK(closed);
    CHECK(got.starts_with("HTTP/1.1 200"));
    CHECK(got.size() < body.size());
    CHECK(serves(exp));
}

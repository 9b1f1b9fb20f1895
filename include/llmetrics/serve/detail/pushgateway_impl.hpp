#pragma once
// The Pushgateway client's HTTP exchange and retry loop (pushgateway.hpp):
// compiled into llmetrics::serve by src/serve/pushgateway.cpp, or inline with
// LLMETRICS_SERVE_HEADER_ONLY.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/http/write.hpp>

#include "../pushgateway.hpp"
#include "http_url.hpp"
#include "push_retry.hpp"
#include "serve_inline.hpp"

namespace llmetrics {
namespace detail {

using push_request = boost::beast::http::request<boost::beast::http::string_body>;

struct http_answer {
    unsigned status = 0;  // 0: no answer; `error` says why
    std::string reason;
    std::string body;
    std::string error;
};

// One HTTP/1.1 exchange on a fresh connection, bounded by `timeout` from name
// resolution to the last byte of the answer. Never throws for network trouble:
// that is an answer with status 0.
inline http_answer http_exchange(const http_url& url, const push_request& req, std::chrono::milliseconds timeout) {
    namespace http = boost::beast::http;
    using tcp = boost::asio::ip::tcp;
    boost::asio::io_context ioc;
    tcp::resolver resolver(ioc);
    boost::beast::tcp_stream stream(ioc);
    boost::beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1024 * 1024);
    boost::beast::error_code result;
    bool done = false;
    const auto fail = [&](boost::beast::error_code ec) {
        result = ec;
        done = true;
    };
    stream.expires_after(timeout);
    resolver.async_resolve(url.host, url.port, [&](boost::beast::error_code ec, tcp::resolver::results_type results) {
        if (ec) return fail(ec);
        stream.async_connect(results, [&](boost::beast::error_code cec, const tcp::endpoint&) {
            if (cec) return fail(cec);
            http::async_write(stream, req, [&](boost::beast::error_code wec, std::size_t) {
                if (wec) return fail(wec);
                http::async_read(stream, buffer, parser, [&](boost::beast::error_code rec, std::size_t) { fail(rec); });
            });
        });
    });
    ioc.run_for(timeout);
    http_answer answer;
    if (!done || result == boost::beast::error::timeout) {
        answer.error = "no answer within " + std::to_string(timeout.count()) + " ms";
    } else if (result) {
        answer.error = result.message();
    } else {
        answer.status = parser.get().result_int();
        answer.reason = std::string(parser.get().reason());
        answer.body = std::move(parser.get().body());
        boost::beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
    return answer;
}

}  // namespace detail

LLMETRICS_SERVE_INLINE void pushgateway::send(boost::beast::http::verb method, std::string body) const {
    namespace http = boost::beast::http;
    using clock = std::chrono::steady_clock;
    using std::chrono::duration_cast;
    using std::chrono::milliseconds;
    detail::push_counters& counts = *counters_;
    counts.calls.fetch_add(1, std::memory_order_relaxed);
    const std::string what = "llmetrics: Pushgateway " + std::string(http::to_string(method)) + " http://" +
                             url_.host + ":" + url_.port + path_;

    detail::push_request req{method, path_, 11};
    req.set(http::field::host, url_.host + ":" + url_.port);
    req.set(http::field::user_agent, "llmetrics");
    if (method != http::verb::delete_) {
        const std::string_view type = content_type(body_format());
        req.set(http::field::content_type, boost::beast::string_view(type.data(), type.size()));
    }
    if (!options_.authorization.empty())
        req.set(http::field::authorization,
                boost::beast::string_view(options_.authorization.data(), options_.authorization.size()));
    req.body() = std::move(body);
    req.prepare_payload();
    req.keep_alive(false);

    const clock::time_point start = clock::now();
    const clock::time_point deadline = start + detail::push_deadline(options_);
    const unsigned max_attempts = std::max(options_.attempts, 1u);
    std::minstd_rand rng(static_cast<std::uint_fast32_t>(start.time_since_epoch().count() ^
                                                         reinterpret_cast<std::uintptr_t>(this)));
    detail::http_answer a;
    unsigned attempt = 1;
    bool deadline_hit = false;
    for (;; ++attempt) {
        const milliseconds left = duration_cast<milliseconds>(deadline - clock::now());
        a = detail::http_exchange(url_, req, std::max(milliseconds(1), std::min(left, options_.timeout)));
        if (a.status >= 200 && a.status <= 299) return;
        if (a.status == 0) counts.no_answer.fetch_add(1, std::memory_order_relaxed);
        else if (detail::push_retriable(a.status)) counts.server_errors.fetch_add(1, std::memory_order_relaxed);
        else counts.rejected.fetch_add(1, std::memory_order_relaxed);
        if (!detail::push_retriable(a.status) || attempt >= max_attempts) break;
        const milliseconds wait = detail::push_backoff(options_, attempt, rng);
        if (clock::now() + wait >= deadline) {  // no time left for another attempt
            deadline_hit = true;
            break;
        }
        std::this_thread::sleep_for(wait);
        counts.retries.fetch_add(1, std::memory_order_relaxed);
    }
    counts.failed.fetch_add(1, std::memory_order_relaxed);
    std::string message = what + (a.status == 0 ? ": " + a.error
                                                : " failed: HTTP " + std::to_string(a.status) + " " + a.reason);
    if (a.status != 0 && !a.body.empty()) message += ": " + a.body.substr(0, 512);
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
    if (attempt > 1 || deadline_hit) {
        const auto took = duration_cast<milliseconds>(clock::now() - start).count();
        message += " (gave up after " + std::to_string(attempt) + (attempt == 1 ? " attempt" : " attempts") +
                   " in " + std::to_string(took) + " ms" + (deadline_hit ? ", at the deadline)" : ")");
    }
    throw pushgateway_error(message, a.status, std::move(a.body), attempt);
}

LLMETRICS_SERVE_INLINE void pushgateway::send_as(push_method m, std::string body) const {
    namespace http = boost::beast::http;
    send(m == push_method::put ? http::verb::put : m == push_method::post ? http::verb::post : http::verb::delete_,
         std::move(body));
}

}  // namespace llmetrics

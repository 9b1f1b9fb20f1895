#pragma once
// The Pushgateway client's HTTP exchange (pushgateway.hpp): compiled into
// llmetrics::serve by src/serve/pushgateway.cpp, or inline with
// LLMETRICS_SERVE_HEADER_ONLY.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
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
#include "serve_inline.hpp"

namespace llmetrics {
namespace detail {

struct http_answer {
    unsigned status = 0;
    std::string reason;
    std::string body;
};

// One HTTP/1.1 exchange on a fresh connection, bounded by `timeout` overall.
// Throws pushgateway_error (status 0) when no answer arrives.
inline http_answer http_exchange(const http_url& url, boost::beast::http::verb method, const std::string& target,
                                 std::string body, std::string_view content_type, std::string_view authorization,
                                 std::chrono::milliseconds timeout, const std::string& what) {
    namespace http = boost::beast::http;
    using tcp = boost::asio::ip::tcp;
    boost::asio::io_context ioc;
    tcp::resolver resolver(ioc);
    boost::beast::tcp_stream stream(ioc);
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, url.host + ":" + url.port);
    req.set(http::field::user_agent, "llmetrics");
    if (!content_type.empty()) req.set(http::field::content_type, boost::beast::string_view(content_type.data(), content_type.size()));
    if (!authorization.empty())
        req.set(http::field::authorization, boost::beast::string_view(authorization.data(), authorization.size()));
    req.body() = std::move(body);
    req.prepare_payload();
    req.keep_alive(false);

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
    if (!done || result == boost::beast::error::timeout)
        throw pushgateway_error(what + ": no answer within " + std::to_string(timeout.count()) + " ms", 0, {});
    if (result)
        throw pushgateway_error(what + ": " + result.message(), 0, {});
    http_answer answer;
    answer.status = parser.get().result_int();
    answer.reason = std::string(parser.get().reason());
    answer.body = std::move(parser.get().body());
    boost::beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return answer;
}

}  // namespace detail

// Sends one request with a Prometheus text body; throws pushgateway_error
// unless the gateway answers 2xx.
LLMETRICS_SERVE_INLINE void pushgateway::send(boost::beast::http::verb method, std::string body) const {
    const std::string what = "llmetrics: Pushgateway " + std::string(boost::beast::http::to_string(method)) +
                             " http://" + url_.host + ":" + url_.port + path_;
    const std::string_view type = method == boost::beast::http::verb::delete_ ? std::string_view{}
                                                                               : content_type(format::prometheus);
    detail::http_answer a = detail::http_exchange(url_, method, path_, std::move(body), type,
                                                  options_.authorization, options_.timeout, what);
    if (a.status < 200 || a.status > 299) {
        std::string message = what + " failed: HTTP " + std::to_string(a.status) + " " + a.reason;
        if (!a.body.empty()) message += ": " + a.body.substr(0, 512);
        while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
        throw pushgateway_error(message, a.status, std::move(a.body));
    }
}

LLMETRICS_SERVE_INLINE void pushgateway::send_as(push_method m, std::string body) const {
    namespace http = boost::beast::http;
    send(m == push_method::put ? http::verb::put : m == push_method::post ? http::verb::post : http::verb::delete_,
         std::move(body));
}

}  // namespace llmetrics

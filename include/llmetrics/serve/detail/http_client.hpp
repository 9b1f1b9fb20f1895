#pragma once
// One HTTP/1.1 request on a fresh connection, plain or TLS, bounded by a timeout
// from name resolution to the last byte of the answer: the exchange the
// Pushgateway client and remote write share. Compiled into llmetrics::serve
// (part of their *_impl.hpp), never included by public headers.

#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "../tls_client_options.hpp"
#include "http_url.hpp"

namespace llmetrics::detail {

using client_request = boost::beast::http::request<boost::beast::http::string_body>;

struct http_answer {
    unsigned status = 0;  // 0: no answer; `error` says why
    std::string reason;
    std::string body;
    std::string retry_after;  // the Retry-After header, when given
    std::string error;
};

// The TLS side of a client: the CAs, the client certificate and the name to check,
// loaded once. Throws std::runtime_error naming the file that could not be read.
struct tls_client {
    boost::asio::ssl::context context{boost::asio::ssl::context::tls_client};
    std::string server_name;
    bool verify = true;

    tls_client(const tls_client_options& o, const std::string& url_host) : server_name(o.server_name), verify(!o.insecure_skip_verify) {
        if (server_name.empty()) server_name = url_host;
        boost::system::error_code ec;
        context.set_options(boost::asio::ssl::context::default_workarounds | boost::asio::ssl::context::no_sslv2 |
                            boost::asio::ssl::context::no_sslv3 | boost::asio::ssl::context::no_tlsv1 |
                            boost::asio::ssl::context::no_tlsv1_1);
        if (o.ca_file.empty()) context.set_default_verify_paths(ec);
        else context.load_verify_file(o.ca_file, ec);
        if (ec) throw std::runtime_error("llmetrics: cannot load the CA file '" + o.ca_file + "': " + ec.message());
        if (!o.cert_file.empty()) {
            context.use_certificate_chain_file(o.cert_file, ec);
            if (ec) throw std::runtime_error("llmetrics: cannot load the client certificate '" + o.cert_file + "': " + ec.message());
            context.use_private_key_file(o.key_file.empty() ? o.cert_file : o.key_file, boost::asio::ssl::context::pem, ec);
            if (ec) throw std::runtime_error("llmetrics: cannot load the client key '" + o.key_file + "': " + ec.message());
        }
        context.set_verify_mode(verify ? boost::asio::ssl::verify_peer : boost::asio::ssl::verify_none);
    }
};

// Never throws for network or TLS trouble: that is an answer with status 0.
// `tls` is required for an https:// URL.
inline http_answer http_exchange(const http_url& url, const client_request& req, std::chrono::milliseconds timeout,
                                 tls_client* tls = nullptr) {
    namespace http = boost::beast::http;
    using tcp = boost::asio::ip::tcp;
    using error_code = boost::beast::error_code;
    boost::asio::io_context ioc;
    tcp::resolver resolver(ioc);
    boost::beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1024 * 1024);
    error_code result;
    bool done = false;
    const auto fail = [&](error_code ec) {
        result = ec;
        done = true;
    };
    // Connects, then (TLS) handshakes, writes and reads, on either kind of stream.
    const auto run = [&](auto& stream, auto&& handshake) {
        auto& tcp_layer = boost::beast::get_lowest_layer(stream);
        tcp_layer.expires_after(timeout);
        resolver.async_resolve(url.host, url.port, [&](error_code ec, tcp::resolver::results_type results) {
            if (ec) return fail(ec);
            tcp_layer.async_connect(results, [&](error_code cec, const tcp::endpoint&) {
                if (cec) return fail(cec);
                handshake([&](error_code hec) {
                    if (hec) return fail(hec);
                    http::async_write(stream, req, [&](error_code wec, std::size_t) {
                        if (wec) return fail(wec);
                        http::async_read(stream, buffer, parser, [&](error_code rec, std::size_t) { fail(rec); });
                    });
                });
            });
        });
        ioc.run_for(timeout);
        error_code ignored;
        tcp_layer.socket().shutdown(tcp::socket::shutdown_both, ignored);
    };
    http_answer answer;
    if (url.tls) {
        if (!tls) {
            answer.error = "https:// needs TLS settings";
            return answer;
        }
        boost::beast::ssl_stream<boost::beast::tcp_stream> stream(ioc, tls->context);
        if (!SSL_set_tlsext_host_name(stream.native_handle(), tls->server_name.c_str())) {
            answer.error = "bad TLS server name '" + tls->server_name + "'";
            return answer;
        }
        if (tls->verify) stream.set_verify_callback(boost::asio::ssl::host_name_verification(tls->server_name));
        run(stream, [&](auto&& next) { stream.async_handshake(boost::asio::ssl::stream_base::client, next); });
    } else {
        boost::beast::tcp_stream stream(ioc);
        run(stream, [&](auto&& next) { next(error_code{}); });
    }
    if (!done || result == boost::beast::error::timeout) {
        answer.error = "no answer within " + std::to_string(timeout.count()) + " ms";
    } else if (result) {
        answer.error = result.message();
    } else {
        answer.status = parser.get().result_int();
        answer.reason = std::string(parser.get().reason());
        answer.retry_after = std::string(parser.get()[http::field::retry_after]);
        answer.body = std::move(parser.get().body());
    }
    return answer;
}

}  // namespace llmetrics::detail

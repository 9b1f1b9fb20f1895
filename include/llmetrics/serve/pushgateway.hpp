#pragma once
// A Pushgateway client for batch jobs and short-lived workers: push (PUT, replaces
// the whole group), push_add (POST, replaces only the families pushed) and remove
// (DELETE the group) of a metrics source, in Prometheus text format, to
//     <url>/metrics/job/<job>{/<label>/<value>}
//
//     llmetrics::pushgateway gw{"http://127.0.0.1:9091", "nightly_import", {{"instance", "db-7"}}};
//     gw.push(metrics);     // throws llmetrics::pushgateway_error on failure
//
// Grouping values (and the job) that are empty, contain '/', or contain anything
// besides letters, digits and `-._~` are sent in the `@base64` form of the
// Pushgateway's URL API (RFC 4648 URL-safe alphabet; `=` alone for an empty value),
// so any string round-trips. Only http:// URLs (no TLS); every call is bounded by
// the timeout, from name resolution to the last byte of the answer.

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

#include "../core/detail/name_rules.hpp"
#include "../exposition/format.hpp"
#include "../exposition/render.hpp"
#include "base64.hpp"

namespace llmetrics {

// A push that did not succeed: status() is the HTTP status the Pushgateway answered
// (0 when there was no answer: unreachable, refused, timed out), body() its text.
class pushgateway_error : public std::runtime_error {
public:
    pushgateway_error(const std::string& what, unsigned status, std::string body)
        : std::runtime_error(what), status_(status), body_(std::move(body)) {}
    unsigned status() const noexcept { return status_; }
    const std::string& body() const noexcept { return body_; }

private:
    unsigned status_;
    std::string body_;
};

struct pushgateway_options {
    std::chrono::milliseconds timeout{5000};
    std::string authorization{};  // Authorization header value, e.g. "Bearer <token>"; empty: none
};

using grouping_labels = std::vector<std::pair<std::string, std::string>>;

namespace detail {

inline bool is_url_unreserved(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

// One `<name>/<value>` path element pair of a grouping key.
inline void append_grouping_pair(std::string& path, std::string_view name, std::string_view value) {
    bool plain = !value.empty() && value != "." && value != "..";
    for (const char c : value) plain = plain && is_url_unreserved(c);
    path += '/';
    path += name;
    if (plain) {
        path += '/';
        path += value;
    } else {
        path += "@base64/";
        path += value.empty() ? std::string("=") : base64_encode(value, base64_alphabet::url_safe);
    }
}

// `/metrics/job/<job>{/<label>/<value>}`; throws std::invalid_argument for an
// empty job, an invalid or reserved label name, or a label given twice.
inline std::string grouping_path(std::string_view job, const grouping_labels& grouping) {
    if (job.empty()) throw std::invalid_argument("llmetrics: a Pushgateway job name must not be empty");
    std::string path = "/metrics";
    append_grouping_pair(path, "job", job);
    for (std::size_t i = 0; i < grouping.size(); ++i) {
        const std::string& name = grouping[i].first;
        if (!is_valid_label_name(name) || name == "job" || name.starts_with("__"))
            throw std::invalid_argument("llmetrics: '" + name +
                                        "' cannot be a Pushgateway grouping label (use [a-zA-Z_][a-zA-Z0-9_]*, "
                                        "not `job`, not starting with `__`)");
        for (std::size_t j = 0; j < i; ++j)
            if (grouping[j].first == name)
                throw std::invalid_argument("llmetrics: grouping label '" + name + "' is given twice");
        append_grouping_pair(path, name, grouping[i].second);
    }
    return path;
}

struct http_url {
    std::string host;
    std::string port;
    std::string base_path;  // without a trailing slash
};

inline http_url parse_http_url(std::string_view url) {
    if (url.starts_with("https://"))
        throw std::invalid_argument("llmetrics: the Pushgateway client speaks plain http:// only");
    if (url.starts_with("http://")) url.remove_prefix(7);
    const std::size_t slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? std::string_view{} : url.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    http_url out;
    out.base_path = std::string(path);
    if (!authority.empty() && authority.front() == '[') {  // [::1]:9091
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) throw std::invalid_argument("llmetrics: bad URL '" + std::string(url) + "'");
        out.host = std::string(authority.substr(1, close - 1));
        authority.remove_prefix(close + 1);
        out.port = authority.starts_with(":") ? std::string(authority.substr(1)) : "80";
    } else {
        const std::size_t colon = authority.rfind(':');
        out.host = std::string(authority.substr(0, colon));
        out.port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
    }
    if (out.host.empty() || out.port.empty())
        throw std::invalid_argument("llmetrics: bad Pushgateway URL '" + std::string(url) + "' (want http://host:port)");
    return out;
}

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

class pushgateway {
public:
    // `url`: http://host:port, optionally with a path prefix the gateway is served under.
    pushgateway(std::string_view url, std::string job, grouping_labels grouping = {}, pushgateway_options options = {})
        : url_(detail::parse_http_url(url)),
          path_(url_.base_path + detail::grouping_path(job, grouping)),
          options_(std::move(options)) {}

    // Replaces every metric of this group with the source's.
    template <metrics_source Source>
    void push(const Source& source) const {
        send(boost::beast::http::verb::put, render(source, format::prometheus));
    }
    // Replaces only the families the source has (by name); others in the group stay.
    template <metrics_source Source>
    void push_add(const Source& source) const {
        send(boost::beast::http::verb::post, render(source, format::prometheus));
    }
    // Deletes the whole group.
    void remove() const { send(boost::beast::http::verb::delete_, {}); }

    // The request path, e.g. /metrics/job/nightly/instance@base64/ZGIvNw==
    const std::string& path() const noexcept { return path_; }

    // Sends one request with a Prometheus text body; throws pushgateway_error
    // unless the gateway answers 2xx.
    void send(boost::beast::http::verb method, std::string body) const {
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

private:
    detail::http_url url_;
    std::string path_;
    pushgateway_options options_;
};

}  // namespace llmetrics

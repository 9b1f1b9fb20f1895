#pragma once
// What an extra route of the exposer sees and returns. Handlers get a read-only
// view of the parsed request and return status, content type, body and any extra
// headers; the exposer adds Content-Length, Connection and the date-free rest.
//
//     exp.add_route("POST", "/v1/chat/completions", [&](const llmetrics::http_request& req) {
//         if (req.header("Content-Type") != "application/json") return llmetrics::http_response::json(415, ...);
//         return llmetrics::http_response::json(200, answer(req.body()));
//     });

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace llmetrics {

class http_request {
public:
    using message_type = boost::beast::http::request<boost::beast::http::string_body>;

    http_request(const message_type& message, std::string_view remote_address) noexcept
        : message_(&message), remote_(remote_address) {}

    std::string_view method() const noexcept { return view(message_->method_string()); }
    // The request target as sent: path, then `?query` if any.
    std::string_view target() const noexcept { return view(message_->target()); }
    std::string_view path() const noexcept { return split_target(target()).first; }
    std::string_view query() const noexcept { return split_target(target()).second; }
    // The first value of a header (names are case-insensitive); empty when absent.
    std::string_view header(std::string_view name) const noexcept {
        const auto it = message_->find(boost::beast::string_view(name.data(), name.size()));
        return it == message_->end() ? std::string_view{} : view(it->value());
    }
    bool has_header(std::string_view name) const noexcept {
        return message_->find(boost::beast::string_view(name.data(), name.size())) != message_->end();
    }
    const std::string& body() const noexcept { return message_->body(); }
    // The peer's IP address, as text.
    std::string_view remote_address() const noexcept { return remote_; }
    // The Beast message, for anything not covered above.
    const message_type& message() const noexcept { return *message_; }

    // Path and query of a request target; an absolute-form target
    // (`http://host/path?q`) is reduced to its path.
    static std::pair<std::string_view, std::string_view> split_target(std::string_view t) noexcept {
        if (!t.empty() && t.front() != '/') {
            const std::size_t scheme = t.find("://");
            if (scheme != std::string_view::npos) {
                const std::size_t slash = t.find('/', scheme + 3);
                t = slash == std::string_view::npos ? std::string_view("/") : t.substr(slash);
            }
        }
        const std::size_t q = t.find('?');
        if (q == std::string_view::npos) return {t, {}};
        return {t.substr(0, q), t.substr(q + 1)};
    }

private:
    static std::string_view view(boost::beast::string_view s) noexcept { return {s.data(), s.size()}; }

    const message_type* message_;
    std::string_view remote_;
};

struct http_response {
    unsigned status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers, e.g. Cache-Control

    static http_response text(unsigned status, std::string body) {
        return {status, "text/plain; charset=utf-8", std::move(body), {}};
    }
    static http_response json(unsigned status, std::string body) {
        return {status, "application/json", std::move(body), {}};
    }
};

using route_handler = std::function<http_response(const http_request&)>;

// Where a route's handler runs: on the exposer's I/O thread (fine for handlers that
// only compute, the fastest), or on a worker thread, for handlers that block.
enum class route_execution { inline_io, worker };

}  // namespace llmetrics

#pragma once
// What an extra route of the exposer sees and returns. Handlers get a read-only
// view of the parsed request and return status, content type, body and any extra
// headers; the exposer adds Content-Length, Connection and the date-free rest.
// The accessors that read the Beast message are compiled into llmetrics::serve
// (detail/exposer_impl.hpp), so this header needs no Beast.
//
//     exp.add_route("POST", "/v1/chat/completions", [&](const llmetrics::http_request& req) {
//         if (req.header("Content-Type") != "application/json") return llmetrics::http_response::json(415, ...);
//         return llmetrics::http_response::json(200, answer(req.body()));
//     });

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detail/beast_fwd.hpp"
#include "detail/serve_inline.hpp"

namespace llmetrics {

class http_request {
public:
    // boost::beast::http::request<boost::beast::http::string_body>; include
    // <boost/beast/http/message.hpp> and string_body.hpp to build one yourself.
    using message_type = detail::beast_request;

    http_request(const message_type& message, std::string_view remote_address) noexcept
        : message_(&message), remote_(remote_address) {}

    LLMETRICS_SERVE_INLINE std::string_view method() const noexcept;
    // The request target as sent: path, then `?query` if any.
    LLMETRICS_SERVE_INLINE std::string_view target() const noexcept;
    std::string_view path() const noexcept { return split_target(target()).first; }
    std::string_view query() const noexcept { return split_target(target()).second; }
    // The first value of a header (names are case-insensitive); empty when absent.
    LLMETRICS_SERVE_INLINE std::string_view header(std::string_view name) const noexcept;
    LLMETRICS_SERVE_INLINE bool has_header(std::string_view name) const noexcept;
    LLMETRICS_SERVE_INLINE const std::string& body() const noexcept;
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

// A streaming route's handler answers through an http_stream (http_stream.hpp):
// a plain response, or a head and then chunks as they are produced. It runs on
// a worker thread; returning ends the answer.
class http_stream;
using stream_route_handler = std::function<void(const http_request&, http_stream&)>;
// Optionally run first, on the I/O thread: a response answers the request there
// (no worker hop, for requests that do not stream); nothing hands it to the
// streaming handler.
using stream_route_screen = std::function<std::optional<http_response>(const http_request&)>;

// Why a streamed answer stopped (http_stream::state()), or `open` while it goes on.
enum class stream_end {
    open,
    finished,       // sent whole
    client_gone,    // the client closed or reset the connection
    write_timeout,  // the client stopped reading: a write took longer than write_timeout
    shutting_down,  // the exposer stopped and closed the connection
};

// Where a route's handler runs: on the exposer's I/O thread (fine for handlers that
// only compute, the fastest), or on a worker thread, for handlers that block.
enum class route_execution { inline_io, worker };

}  // namespace llmetrics

#ifdef LLMETRICS_SERVE_HEADER_ONLY
#include "detail/route_impl.hpp"
#endif

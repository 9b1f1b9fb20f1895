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
// the timeout, from name resolution to the last byte of the answer. The HTTP
// exchange is compiled into llmetrics::serve (detail/pushgateway_impl.hpp).

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "../exposition/format.hpp"
#include "../exposition/render.hpp"
#include "detail/grouping_key.hpp"
#include "detail/http_url.hpp"
#include "detail/serve_inline.hpp"

namespace boost::beast::http {
enum class verb;  // as Beast declares it (boost/beast/http/verb.hpp), without its values
}  // namespace boost::beast::http

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
        send_as(push_method::put, render(source, format::prometheus));
    }
    // Replaces only the families the source has (by name); others in the group stay.
    template <metrics_source Source>
    void push_add(const Source& source) const {
        send_as(push_method::post, render(source, format::prometheus));
    }
    // Deletes the whole group.
    void remove() const { send_as(push_method::delete_, {}); }

    // The request path, e.g. /metrics/job/nightly/instance@base64/ZGIvNw==
    const std::string& path() const noexcept { return path_; }

    // Sends one request with a Prometheus text body; throws pushgateway_error
    // unless the gateway answers 2xx. (Include <boost/beast/http/verb.hpp> to name a verb.)
    LLMETRICS_SERVE_INLINE void send(boost::beast::http::verb method, std::string body) const;

private:
    enum class push_method { put, post, delete_ };
    LLMETRICS_SERVE_INLINE void send_as(push_method m, std::string body) const;

    detail::http_url url_;
    std::string path_;
    pushgateway_options options_;
};

}  // namespace llmetrics

#ifdef LLMETRICS_SERVE_HEADER_ONLY
#include "detail/pushgateway_impl.hpp"
#endif

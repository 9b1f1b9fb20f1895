#pragma once
// A Pushgateway client for batch jobs and short-lived workers: push (PUT, replaces
// the whole group), push_add (POST, replaces only the families pushed) and remove
// (DELETE the group) of a metrics source, in Prometheus text format (or protobuf:
// pushgateway_options::push_format; native histograms need it), to
//     <url>/metrics/job/<job>{/<label>/<value>}
//
//     llmetrics::pushgateway gw{"http://127.0.0.1:9091", "nightly_import", {{"instance", "db-7"}}};
//     gw.push(metrics);     // throws llmetrics::pushgateway_error on failure
//
// Grouping values (and the job) that are empty, contain '/', or contain anything
// besides letters, digits and `-._~` are sent in the `@base64` form of the
// Pushgateway's URL API (RFC 4648 URL-safe alphabet; `=` alone for an empty value),
// so any string round-trips. Only http:// URLs (no TLS). The HTTP exchange is
// compiled into llmetrics::serve (detail/pushgateway_impl.hpp).
//
// A gateway that is down, slow, answers 5xx or 429, or drops the connection
// mid-exchange is retried (pushgateway_options): each attempt is bounded by
// `timeout` from name resolution to the last byte of the answer, attempts are
// spaced by exponential backoff with jitter, and the whole call by `deadline`.
// Other answers (2xx, 4xx) end the call at once. A call that fails throws
// pushgateway_error with the last status and the number of attempts; stats()
// counts calls, failures, retries and their causes.
//
// Recording never waits for a push: push() renders the source first (reading
// the lock-free series as a scrape does) and then does all network I/O and
// every backoff wait on the calling thread, holding no lock of the registry.
// Call it from the batch job's own thread, or from a thread of your own when
// the caller must not wait up to `deadline`.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
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

// A push that did not succeed: status() is the HTTP status the Pushgateway last
// answered (0 when there was no answer: unreachable, refused, reset, timed out),
// body() its text, attempts() how many requests were sent.
class pushgateway_error : public std::runtime_error {
public:
    pushgateway_error(const std::string& what, unsigned status, std::string body, unsigned attempts = 1)
        : std::runtime_error(what), status_(status), body_(std::move(body)), attempts_(attempts) {}
    unsigned status() const noexcept { return status_; }
    const std::string& body() const noexcept { return body_; }
    unsigned attempts() const noexcept { return attempts_; }

private:
    unsigned status_;
    std::string body_;
    unsigned attempts_;
};

struct pushgateway_options {
    std::chrono::milliseconds timeout{5000};  // one attempt: resolve, connect, write, read
    std::string authorization{};  // Authorization header value, e.g. "Bearer <token>"; empty: none
    unsigned attempts = 3;        // requests per call at most, the first included (0 counts as 1)
    // Wait before retry n (n = 1, 2, ...): backoff * 2^(n-1), at most max_backoff,
    // then a random point in its upper half so many clients do not retry in step.
    std::chrono::milliseconds backoff{100};
    std::chrono::milliseconds max_backoff{2000};
    // The whole call, waits included; an attempt gets at most what is left, and no
    // retry starts after it. 0: attempts * timeout + (attempts - 1) * max_backoff.
    std::chrono::milliseconds deadline{0};
    // The body: format::prometheus (text 0.0.4) or format::protobuf (delimited
    // MetricFamily messages, the only one that carries native histograms); any
    // other value is sent as Prometheus text, the formats a Pushgateway reads.
    format push_format = format::prometheus;
};

// What one client has done since it was made (copies share the counts).
struct pushgateway_stats {
    std::uint64_t calls = 0;          // push, push_add, remove and send
    std::uint64_t failed = 0;         // calls that threw pushgateway_error
    std::uint64_t retries = 0;        // requests after a call's first
    std::uint64_t no_answer = 0;      // requests without an HTTP answer: refused, reset, timed out
    std::uint64_t server_errors = 0;  // requests answered 5xx or 429 (retried)
    std::uint64_t rejected = 0;       // requests answered another non-2xx status (not retried)
};

namespace detail {
struct push_counters {
    std::atomic<std::uint64_t> calls{0}, failed{0}, retries{0}, no_answer{0}, server_errors{0}, rejected{0};
};
}  // namespace detail

namespace detail {
inline http_url parse_plain_http_url(std::string_view url) {
    http_url u = parse_http_url(url);
    if (u.tls) throw std::invalid_argument("llmetrics: the Pushgateway client speaks plain http:// only");
    return u;
}
}  // namespace detail

class pushgateway {
public:
    // `url`: http://host:port, optionally with a path prefix the gateway is served under.
    pushgateway(std::string_view url, std::string job, grouping_labels grouping = {}, pushgateway_options options = {})
        : url_(detail::parse_plain_http_url(url)),
          path_(url_.base_path + detail::grouping_path(job, grouping)),
          options_(std::move(options)),
          counters_(std::make_shared<detail::push_counters>()) {}

    // Replaces every metric of this group with the source's.
    template <metrics_source Source>
    void push(const Source& source) const {
        send_as(push_method::put, render(source, body_format()));
    }
    // Replaces only the families the source has (by name); others in the group stay.
    template <metrics_source Source>
    void push_add(const Source& source) const {
        send_as(push_method::post, render(source, body_format()));
    }
    // Deletes the whole group.
    void remove() const { send_as(push_method::delete_, {}); }

    // The request path, e.g. /metrics/job/nightly/instance@base64/ZGIvNw==
    const std::string& path() const noexcept { return path_; }

    pushgateway_stats stats() const noexcept {
        const auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
        const detail::push_counters& c = *counters_;
        return {get(c.calls), get(c.failed), get(c.retries), get(c.no_answer), get(c.server_errors), get(c.rejected)};
    }

    // Sends a request with a body in body_format(), retried as the options say;
    // throws pushgateway_error unless the gateway answers 2xx in time. (Include
    // <boost/beast/http/verb.hpp> to name a verb.)
    LLMETRICS_SERVE_INLINE void send(boost::beast::http::verb method, std::string body) const;

    // What push() and push_add() send, and the Content-Type send() names.
    format body_format() const noexcept {
        return options_.push_format == format::protobuf ? format::protobuf : format::prometheus;
    }

private:
    enum class push_method { put, post, delete_ };
    LLMETRICS_SERVE_INLINE void send_as(push_method m, std::string body) const;

    detail::http_url url_;
    std::string path_;
    pushgateway_options options_;
    std::shared_ptr<detail::push_counters> counters_;
};

}  // namespace llmetrics

#ifdef LLMETRICS_SERVE_HEADER_ONLY
#include "detail/pushgateway_impl.hpp"
#endif

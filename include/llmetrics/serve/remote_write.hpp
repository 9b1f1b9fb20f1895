#pragma once
// Prometheus Remote-Write 1.0 from the application: a thread of its own
// snapshots a metrics source every interval and POSTs it, as a snappy-compressed
// `prometheus.WriteRequest` (remote_write_encoder.hpp), to any receiver
// (Prometheus with --web.enable-remote-write-receiver, Mimir, Thanos Receive,
// VictoriaMetrics, Cortex):
//
//     lm::remote_write_options o;
//     o.interval = 15s;
//     o.external_labels = {{"job", "router"}, {"instance", "router-7"}, {"region", "eu-west-1"}};
//     o.headers = {{"X-Scope-OrgID", "team-a"}};
//     lm::remote_write push{"https://mimir.example/api/v1/push", metrics, o};   // starts the thread
//     metrics.add_collector(push.make_collector());                            // its own metrics
//     ...                                                                      // ~remote_write flushes
//
// Recording never waits for it: the snapshot reads the lock-free series as a
// scrape does, and all encoding, compression and network I/O happen on its
// thread. Each snapshot becomes one request in a queue bounded in samples and
// bytes; when a new one does not fit, the oldest are dropped (and counted). Every
// series of a snapshot carries one sample with the snapshot's time, so requests
// are sent in order and each delivered one is complete on its own: a dropped
// request loses the points of that instant, never a counter's total.
//
// Retries follow the specification: no answer, 5xx and 429 are retried with
// exponential backoff and jitter (waiting at least what Retry-After says); any
// other 4xx is never retried: that request is dropped, counted, and the
// receiver's message kept (last_error(), options.error_log). stop() and the
// destructor take a last snapshot and send what is queued until the flush
// deadline. The source and the collectors it calls must outlive the client (or
// its stop()). The HTTP and TLS code (OpenSSL) and snappy are compiled into
// llmetrics::serve (detail/remote_write_impl.hpp).
//
// Remote-Write 2.0 (io.prometheus.write.v2.Request) is not implemented: it is
// still experimental, and Prometheus 2.x receivers accept 1.0 only.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/version.hpp"
#include "../exposition/render.hpp"
#include "../registry/collector.hpp"
#include "auth.hpp"
#include "detail/serve_inline.hpp"
#include "remote_write_encoder.hpp"
#include "remote_write_stats.hpp"
#include "tls_client_options.hpp"

namespace llmetrics {

struct remote_write_options {
    std::chrono::milliseconds interval{15000};            // between snapshots
    std::vector<remote_write_label> external_labels{};    // added to every series that lacks the name
    std::chrono::milliseconds timeout{10000};             // one request: connect, TLS, write, read
    std::chrono::milliseconds backoff{100};               // before the first retry; doubles up to max_backoff
    std::chrono::milliseconds max_backoff{5000};
    std::chrono::milliseconds max_retry_time{0};          // a request retried longer is dropped; 0: no limit
    std::uint64_t max_queue_samples = 1'000'000;          // samples + native histograms pending at most
    std::uint64_t max_queue_bytes = 64u << 20;            // compressed bytes pending at most
    std::chrono::milliseconds flush_deadline{5000};       // stop() and the destructor: time to send what is left
    http_auth auth{};                                     // http_auth::bearer(token) or ::basic(user, password)
    std::vector<std::pair<std::string, std::string>> headers{};  // e.g. {"X-Scope-OrgID", "tenant-1"}
    tls_client_options tls{};                             // for https:// URLs
    std::string user_agent = "llmetrics/" LLMETRICS_VERSION;
    bool send_metadata = true;                            // MetricMetadata (type, help, unit) with each request
    // Called on the client's thread with a line for each failed request (status,
    // the receiver's message); keep it short and do not throw.
    std::function<void(const std::string&)> error_log{};
};

namespace detail {
class remote_write_worker;
}

class remote_write {
public:
    using visit_function = std::function<void(remote_write_encoder&)>;

    // `url`: the receiver's write endpoint, http:// or https://, e.g.
    // http://127.0.0.1:9090/api/v1/write. Starts the thread; the first snapshot
    // is taken one interval from now (send_now() for sooner).
    template <class Source>
        requires detail::visits<Source, remote_write_encoder>
    remote_write(std::string_view url, const Source& source, remote_write_options options = {})
        : remote_write(url, visit_function([&source](remote_write_encoder& e) { source.visit(e); }),
                       std::move(options)) {}
    LLMETRICS_SERVE_INLINE remote_write(std::string_view url, visit_function visit, remote_write_options options);

    remote_write(const remote_write&) = delete;
    remote_write& operator=(const remote_write&) = delete;
    LLMETRICS_SERVE_INLINE ~remote_write();  // stop()

    // Takes a snapshot now (on the client's thread) instead of at the next interval.
    LLMETRICS_SERVE_INLINE void send_now();
    // Takes a last snapshot, sends what is queued until `flush_deadline` has
    // passed (what is left then is dropped, reason "stopped"), and ends the thread.
    // Later calls do nothing.
    LLMETRICS_SERVE_INLINE void stop();

    LLMETRICS_SERVE_INLINE remote_write_stats stats() const;
    // The last failed request's status line and the receiver's message; empty if none.
    LLMETRICS_SERVE_INLINE std::string last_error() const;
    // The client's self-metrics (detail/remote_write_collector.hpp), for a registry's add_collector().
    LLMETRICS_SERVE_INLINE std::shared_ptr<collector> make_collector() const;

private:
    std::unique_ptr<detail::remote_write_worker> worker_;
};

}  // namespace llmetrics

#ifdef LLMETRICS_SERVE_HEADER_ONLY
#include "detail/remote_write_impl.hpp"
#endif

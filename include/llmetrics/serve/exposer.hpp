#pragma once
// The HTTP exposer: serves a metrics source to Prometheus, plus liveness and
// readiness probes and any routes the application adds. Boost.Beast over Asio,
// compiled once into the llmetrics::serve library (or inline with
// LLMETRICS_SERVE_HEADER_ONLY, see detail/serve_inline.hpp); gzip through zlib.
// This header declares; the implementation is detail/exposer_impl.hpp, on top of
// detail/exposer_acceptor.hpp, exposer_connection.hpp and request_router.hpp.
//
//     llmetrics::exposer exp{metrics, {.port = 9464}};      // 127.0.0.1:9464, its own thread
//     exp.add_readiness_check("model-cache", [&] { return cache.warm(); });
//     metrics.add_collector(exp.make_collector());           // the exposer's own metrics (detail/exposer_collector.hpp)
//     ...
//     exp.stop();                                            // or ~exposer, or SIGTERM with handle_signals
//
// Endpoints:
//   GET|HEAD /metrics   the source in the format negotiated from Accept (OpenMetrics
//                       for Prometheus, Prometheus text for curl and anything else),
//                       gzip when Accept-Encoding allows; 401 without the configured
//                       credentials; 500 if rendering throws (the next scrape is fine)
//   GET|HEAD /healthz   200 "ok" while the server runs (liveness)
//   GET|HEAD /readyz    readiness checks run in parallel, each under its timeout:
//                       200 or 503 with a JSON body listing each check
//   routes added with add_route() and add_streaming_route() (chunked, see
//                       http_stream.hpp); anything else 404, a known path with another
//   method 405 with Allow.
//
// Safe by default: binds 127.0.0.1 (set `address` to "0.0.0.0" or "::" to listen
// on every interface); port 0 picks a free port (see port()). The request line and
// headers together are bounded (431 past max_header_bytes), bodies too (413); a
// slow client never holds a thread (all I/O is asynchronous).
//
// Under a flood (exposer_options): the headers must be complete within
// header_timeout of the accept (or of a keep-alive request's first byte), the body
// within body_timeout of the headers, however slowly the bytes trickle in; a
// keep-alive connection waits idle_timeout for its next request; and at most
// max_connections are open. At the bound a new connection evicts the one whose
// request has waited longest (idle or partway through its request, never one
// mid-response), and is refused only when every connection is mid-response.
// A scrape, which sends its request at once, so always gets through, on one I/O
// thread, while any number of slow or idle clients hold connections (the routes
// added with add_route too); detail/exposer_acceptor.hpp says why.
// llmetrics_http_connections_closed_total{reason} counts the evictions, refusals
// and timeouts. A request Beast cannot parse gets 400, a chunked request body 411
// (send Content-Length), and the connection is closed.
//
// The metrics source must outlive the exposer. Route handlers and readiness checks
// may run concurrently on several threads.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "../exposition/format.hpp"
#include "../exposition/render.hpp"
#include "../registry/collector.hpp"
#include "detail/beast_fwd.hpp"
#include "detail/serve_inline.hpp"
#include "exposer_options.hpp"
#include "http_stream.hpp"
#include "readiness_checks.hpp"
#include "route.hpp"

namespace llmetrics {

class exposer {
public:
    // Serves `source` on threads of its own; listening when the constructor returns.
    template <metrics_source Source>
    explicit exposer(const Source& source, exposer_options options = {})
        : exposer(renderer_for(source), std::move(options)) {}

    LLMETRICS_SERVE_INLINE explicit exposer(metrics_renderer render, exposer_options options = {});

    // Serves `source` on the caller's io_context: the exposer's handlers run on
    // whatever threads run `ioc`, which must outlive the exposer.
    template <metrics_source Source>
    exposer(boost::asio::io_context& ioc, const Source& source, exposer_options options = {})
        : exposer(ioc, renderer_for(source), std::move(options)) {}

    LLMETRICS_SERVE_INLINE exposer(boost::asio::io_context& ioc, metrics_renderer render, exposer_options options = {});

    exposer(const exposer&) = delete;
    exposer& operator=(const exposer&) = delete;
    LLMETRICS_SERVE_INLINE ~exposer();

    LLMETRICS_SERVE_INLINE std::uint16_t port() const noexcept;
    // boost::asio::ip::tcp::endpoint; include <boost/asio/ip/tcp.hpp> to use it.
    LLMETRICS_SERVE_INLINE detail::tcp_endpoint endpoint() const noexcept;

    // Adds (or replaces) the handler for `method` on `path` (exact match, query
    // ignored). Any time, from any thread.
    LLMETRICS_SERVE_INLINE void add_route(std::string method, std::string path, route_handler handler,
                                          route_execution execution = route_execution::inline_io);

    // Adds (or replaces) a streaming handler for `method` on `path`: it answers
    // through an http_stream (http_stream.hpp), on a worker thread, pushing chunks
    // as it produces them. `screen`, if given, runs first on the I/O thread and
    // may answer itself (route.hpp). Any time, from any thread.
    LLMETRICS_SERVE_INLINE void add_streaming_route(std::string method, std::string path,
                                                    stream_route_handler handler, stream_route_screen screen = {});

    // A readiness check shown by /readyz; see readiness_checks.hpp.
    LLMETRICS_SERVE_INLINE void add_readiness_check(std::string name, health_checks::check_fn check,
                                                    std::chrono::milliseconds timeout = std::chrono::seconds(1));
    LLMETRICS_SERVE_INLINE health_checks& readiness_checks() noexcept;

    // A collector exporting the exposer's own metrics and the readiness results;
    // add it to the registry being served. It stays valid after the exposer is gone.
    LLMETRICS_SERVE_INLINE std::shared_ptr<collector> make_collector() const;

    LLMETRICS_SERVE_INLINE std::size_t open_connections() const;

    // Stops accepting, lets requests in progress finish (up to shutdown_timeout),
    // then closes everything and joins the exposer's threads. Idempotent. Called
    // from one of the exposer's own threads (a handler), it only requests the stop.
    LLMETRICS_SERVE_INLINE void stop();

    // Blocks until a stop is requested (stop() from another thread, or SIGINT /
    // SIGTERM with handle_signals), then completes it.
    LLMETRICS_SERVE_INLINE void wait();

    LLMETRICS_SERVE_INLINE bool stopping() const noexcept;

private:
    template <class Source>
    static metrics_renderer renderer_for(const Source& source) {
        return [&source](format f, std::string& out) { render_to(out, source, f); };
    }

    struct state;  // threads, worker pool and acceptor; detail/exposer_impl.hpp
    std::unique_ptr<state> state_;
};

}  // namespace llmetrics

#ifdef LLMETRICS_SERVE_HEADER_ONLY
#include "detail/exposer_impl.hpp"
#endif

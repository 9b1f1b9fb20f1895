#pragma once
// The HTTP exposer: serves a metrics source to Prometheus, plus liveness and
// readiness probes and any routes the application adds. Boost.Beast over Asio,
// header-only; gzip through zlib.
//
//     llmetrics::exposer exp{metrics, {.port = 9464}};      // 127.0.0.1:9464, its own thread
//     exp.add_readiness_check("model-cache", [&] { return cache.warm(); });
//     metrics.add_collector(exp.make_collector());           // the exposer's own metrics
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
//   routes added with add_route(); anything else 404, a known path with another
//   method 405 with Allow.
//
// Safe by default: binds 127.0.0.1 (set `address` to "0.0.0.0" or "::" to listen
// on every interface); port 0 picks a free port (see port()). The request line and
// headers together are bounded (431 past max_header_bytes), bodies too (413), a
// request must arrive within read_timeout of its first byte (a slow client is
// disconnected, it never holds a thread: all I/O is asynchronous), a keep-alive
// connection waits idle_timeout for its next request, and at most max_connections
// are open: at the bound, the connection that has waited longest for a next
// request is closed to make room, and when none is waiting the new one is refused.
// A request Beast cannot parse gets 400, a chunked request body 411 (send
// Content-Length), and the connection is closed.
//
// The metrics source must outlive the exposer. Route handlers and readiness checks
// may run concurrently on several threads.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/http/write.hpp>

#include "../core/metric_type.hpp"
#include "../exposition/format.hpp"
#include "../exposition/negotiate.hpp"
#include "../exposition/render.hpp"
#include "../registry/collector.hpp"
#include "../core/snapshot.hpp"
#include "auth.hpp"
#include "gzip.hpp"
#include "health.hpp"
#include "route.hpp"

namespace llmetrics {

// Renders the metrics source in a format, appending to the string.
using metrics_renderer = std::function<void(format, std::string&)>;

struct exposer_options {
    std::string address = "127.0.0.1";  // "0.0.0.0" / "::" to listen on every interface
    std::uint16_t port = 0;             // 0: pick a free port (see exposer::port())
    unsigned threads = 1;               // I/O threads when the exposer runs its own io_context
    unsigned worker_threads = 2;        // for readiness checks and worker routes

    std::string metrics_path = "/metrics";
    http_auth metrics_auth = http_auth::none();  // http_auth::bearer(token) / http_auth::basic(user, pw)

    bool gzip = true;                 // when the client's Accept-Encoding allows it
    int gzip_level = 1;               // zlib level 1-9
    std::size_t gzip_min_bytes = 1024;  // smaller bodies go uncompressed

    std::size_t max_connections = 128;
    std::size_t max_header_bytes = 8 * 1024;    // request line + headers
    std::size_t max_body_bytes = 1024 * 1024;
    std::chrono::milliseconds read_timeout{5000};    // first byte to complete request
    std::chrono::milliseconds idle_timeout{60000};   // keep-alive wait for the next request
    std::chrono::milliseconds write_timeout{10000};
    std::chrono::milliseconds shutdown_timeout{3000};  // stop() lets requests in progress finish this long

    bool handle_signals = false;  // SIGINT and SIGTERM stop the exposer (see exposer::wait())
};

namespace detail {

namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using http_message = http::request<http::string_body>;
using http_reply = http::response<http::string_body>;

// The exposer's own counters; shared with its collector so they outlive it.
struct exposer_stats {
    enum reason : std::size_t {
        bad_request,
        header_too_large,
        body_too_large,
        read_timeout,
        unauthorized,
        connection_limit,
        idle_evicted,
        render_failed,
        handler_failed,
        reason_count
    };
    static constexpr std::string_view reason_names[reason_count] = {
        "bad_request",   "header_too_large", "body_too_large", "read_timeout",   "unauthorized",
        "connection_limit", "idle_evicted", "render_failed",  "handler_failed"};

    std::atomic<std::uint64_t> rejected[reason_count]{};
    std::atomic<std::uint64_t> scrapes{0};
    std::atomic<std::int64_t> open_connections{0};

    void count(reason r) noexcept { rejected[r].fetch_add(1, std::memory_order_relaxed); }
};

inline std::string_view sv(boost::beast::string_view s) noexcept { return {s.data(), s.size()}; }

// Everything about answering a request that needs no socket: routing, auth,
// negotiation, rendering, compression. The connection code feeds it parsed
// requests; the fuzz target feeds it whatever Beast makes of random bytes.
class request_router {
public:
    struct route {
        std::string method;
        route_handler handler;
        route_execution execution;
    };

    // What to do with a request: its response is ready, or it needs a worker
    // thread (readiness checks, worker routes).
    struct decision {
        enum kind_t { ready, readiness, worker_route } kind = ready;
        route_handler handler;  // worker_route
    };

    request_router(metrics_renderer render, const exposer_options& options,
                   std::shared_ptr<health_checks> checks, std::shared_ptr<exposer_stats> stats)
        : render_(std::move(render)),
          metrics_path_(options.metrics_path),
          auth_(options.metrics_auth),
          gzip_(options.gzip),
          gzip_level_(options.gzip_level),
          gzip_min_bytes_(options.gzip_min_bytes),
          checks_(std::move(checks)),
          stats_(std::move(stats)),
          routes_(std::make_shared<const route_map>()) {}

    void add_route(std::string method, std::string path, route_handler handler, route_execution execution) {
        if (!handler) throw std::invalid_argument("llmetrics: add_route needs a handler");
        if (path.empty() || path.front() != '/') throw std::invalid_argument("llmetrics: a route path starts with '/'");
        if (method.empty()) throw std::invalid_argument("llmetrics: a route needs a method, e.g. \"POST\"");
        std::lock_guard lock(routes_mutex_);
        auto next = std::make_shared<route_map>(*routes_);
        auto& list = (*next)[std::move(path)];
        std::erase_if(list, [&](const route& r) { return r.method == method; });
        list.push_back({std::move(method), std::move(handler), execution});
        routes_ = std::move(next);
    }

    decision dispatch(const http_message& req, http_reply& res, std::string_view remote) const {
        const std::string_view method = sv(req.method_string());
        const std::string_view path = http_request::split_target(sv(req.target())).first;
        const bool get_or_head = req.method() == http::verb::get || req.method() == http::verb::head;

        std::shared_ptr<const route_map> routes;
        {
            std::lock_guard lock(routes_mutex_);
            routes = routes_;
        }
        if (const auto it = routes->find(path); it != routes->end()) {
            for (const route& r : it->second) {
                if (r.method != method) continue;
                if (r.execution == route_execution::worker) return {decision::worker_route, r.handler};
                run_route(r.handler, req, res, remote);
                return {};
            }
            std::string allow;
            for (const route& r : it->second) allow += (allow.empty() ? "" : ", ") + r.method;
            set_error(res, http::status::method_not_allowed, "method not allowed\n");
            res.set(http::field::allow, allow);
            return {};
        }
        const bool builtin = path == metrics_path_ || path == "/healthz" || path == "/readyz";
        if (!builtin) {
            set_error(res, http::status::not_found, "not found\n");
            return {};
        }
        if (!get_or_head) {
            set_error(res, http::status::method_not_allowed, "method not allowed\n");
            res.set(http::field::allow, "GET, HEAD");
            return {};
        }
        if (path == metrics_path_) {
            serve_metrics(req, res);
        } else if (path == "/healthz") {
            set_body(res, http::status::ok, "text/plain; charset=utf-8", "ok\n");
        } else {
            if (!checks_->empty()) return {decision::readiness, {}};
            set_readiness(res, readiness_report{});
        }
        return {};
    }

    // Fills `res` from a handler's answer (500 if it throws).
    void run_route(const route_handler& handler, const http_message& req, http_reply& res,
                   std::string_view remote) const {
        try {
            http_response out = handler(http_request(req, remote));
            res.result(out.status);
            for (auto& [name, value] : out.headers) res.set(name, value);
            res.set(http::field::content_type, out.content_type);
            res.body() = std::move(out.body);
        } catch (...) {
            stats_->count(exposer_stats::handler_failed);
            set_error(res, http::status::internal_server_error, "internal server error\n");
        }
    }

    static void set_readiness(http_reply& res, const readiness_report& report) {
        set_body(res, report.ok ? http::status::ok : http::status::service_unavailable, "application/json",
                 report.to_json());
        res.set(http::field::cache_control, "no-store");
    }

    static void set_error(http_reply& res, http::status status, std::string_view text) {
        set_body(res, status, "text/plain; charset=utf-8", text);
    }

    static void set_body(http_reply& res, http::status status, std::string_view type, std::string_view body) {
        res.result(status);
        res.set(http::field::content_type, boost::beast::string_view(type.data(), type.size()));
        res.body().assign(body.data(), body.size());
    }

    health_checks& checks() const noexcept { return *checks_; }
    exposer_stats& stats() const noexcept { return *stats_; }

private:
    using route_map = std::map<std::string, std::vector<route>, std::less<>>;

    void serve_metrics(const http_message& req, http_reply& res) const {
        if (auth_.enabled() && !auth_.check(sv(req[http::field::authorization]))) {
            stats_->count(exposer_stats::unauthorized);
            set_error(res, http::status::unauthorized, "unauthorized\n");
            const std::string_view challenge = auth_.challenge();
            res.set(http::field::www_authenticate, boost::beast::string_view(challenge.data(), challenge.size()));
            return;
        }
        const format f = negotiate(sv(req[http::field::accept]));
        const bool compress = gzip_ && accepts_gzip(sv(req[http::field::accept_encoding]));
        std::string& body = res.body();
        body.clear();
        try {
            if (compress) {
                thread_local std::string plain;
                plain.clear();
                render_(f, plain);
                if (plain.size() >= gzip_min_bytes_) {
                    gzip_compress(plain, body, gzip_level_);
                    res.set(http::field::content_encoding, "gzip");
                } else {
                    body.assign(plain);
                }
                if (plain.capacity() > 16 * 1024 * 1024) std::string().swap(plain);  // keep no giant buffer
            } else {
                render_(f, body);
            }
        } catch (...) {
            stats_->count(exposer_stats::render_failed);
            res.erase(http::field::content_encoding);
            set_error(res, http::status::internal_server_error, "failed to render metrics\n");
            return;
        }
        stats_->scrapes.fetch_add(1, std::memory_order_relaxed);
        res.result(http::status::ok);
        const std::string_view type = content_type(f);
        res.set(http::field::content_type, boost::beast::string_view(type.data(), type.size()));
        res.set(http::field::vary, "Accept, Accept-Encoding");
        res.set(http::field::cache_control, "no-store");
    }

    metrics_renderer render_;
    std::string metrics_path_;
    http_auth auth_;
    bool gzip_;
    int gzip_level_;
    std::size_t gzip_min_bytes_;
    std::shared_ptr<health_checks> checks_;
    std::shared_ptr<exposer_stats> stats_;
    mutable std::mutex routes_mutex_;
    std::shared_ptr<const route_map> routes_;
};

// Finishes a response for the wire: HEAD keeps the length but drops the body.
inline void finalize_reply(http_reply& res, const http_message* req, bool keep_alive) {
    res.version(req ? req->version() : 11);
    if (req && req->version() < 10) res.version(11);
    const bool head = req && req->method() == http::verb::head;
    res.keep_alive(keep_alive);
    res.content_length(res.body().size());
    if (head) res.body().clear();
}

class exposer_core;

// One accepted connection; every member runs on the connection's strand.
class exposer_connection : public std::enable_shared_from_this<exposer_connection> {
public:
    enum phase_t : int { idle, reading, busy, closed };

    exposer_connection(std::shared_ptr<exposer_core> core, tcp::socket&& socket);
    ~exposer_connection();

    void start() {
        boost::asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->wait_for_request(); });
    }
    // From any thread.
    void close_soon() {
        boost::asio::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
    }
    phase_t phase() const noexcept { return phase_.load(std::memory_order_acquire); }

    // Position in the core's list (guarded by the core's mutex).
    std::list<std::weak_ptr<exposer_connection>>::iterator position;
    bool listed = false;

private:
    void wait_for_request();
    void read_request();
    void on_header(boost::beast::error_code ec);
    void read_body();
    void on_read(boost::beast::error_code ec);
    bool handle_read_error(boost::beast::error_code ec);
    void handle();
    void reply_error(http::status status, std::string_view text);
    void write();
    void linger_close();
    void close();
    bool set_phase(phase_t p) noexcept {  // false once closed
        phase_t now = phase_.load(std::memory_order_acquire);
        while (now != closed)
            if (phase_.compare_exchange_weak(now, p, std::memory_order_acq_rel)) return true;
        return false;
    }

    std::shared_ptr<exposer_core> core_;
    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http_message req_;
    http_reply res_;
    std::string remote_;
    bool have_request_ = false;  // res_ answers a parsed req_ (not a parse error)
    bool close_after_write_ = false;
    std::atomic<phase_t> phase_{idle};
    std::size_t drained_ = 0;
    static constexpr std::size_t retained_body_bytes = 4 * 1024 * 1024;
};

// State shared by the acceptor and the connections; outlives the exposer object
// while handlers still hold it (on a user's io_context).
class exposer_core : public std::enable_shared_from_this<exposer_core> {
public:
    exposer_core(boost::asio::io_context& ioc, metrics_renderer render, exposer_options options)
        : options(std::move(options)),
          stats(std::make_shared<exposer_stats>()),
          checks(std::make_shared<health_checks>()),
          router(std::move(render), this->options, checks, stats),
          ioc_(ioc),
          acceptor_(boost::asio::make_strand(ioc)),
          retry_timer_(acceptor_.get_executor()) {
        if (this->options.max_connections == 0) throw std::invalid_argument("llmetrics: max_connections must be > 0");
        const tcp::endpoint endpoint(boost::asio::ip::make_address(this->options.address), this->options.port);
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(boost::asio::socket_base::max_listen_connections);
        bound_ = acceptor_.local_endpoint();
    }

    void start(bool handle_signals) {
        if (handle_signals) {
            signals_.emplace(acceptor_.get_executor(), SIGINT, SIGTERM);
            signals_->async_wait([self = shared_from_this()](boost::system::error_code ec, int) {
                if (!ec) self->request_stop();
            });
        }
        boost::asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->accept(); });
    }

    tcp::endpoint endpoint() const noexcept { return bound_; }

    // Stops accepting and closes connections that are not in the middle of a
    // request; the others close once their response is written. Any thread.
    void request_stop() {
        std::vector<std::shared_ptr<exposer_connection>> to_close;
        {
            std::lock_guard lock(mutex_);
            if (stopping_.exchange(true)) return;
            for (auto& weak : connections_)
                if (auto c = weak.lock(); c && c->phase() != exposer_connection::busy) to_close.push_back(std::move(c));
        }
        for (auto& c : to_close) c->close_soon();
        boost::asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
            boost::system::error_code ignored;
            self->acceptor_.close(ignored);
            self->retry_timer_.cancel();
            if (self->signals_) self->signals_->cancel(ignored);
        });
        stop_requested_.notify_all();
    }

    void close_all() {
        std::vector<std::shared_ptr<exposer_connection>> all;
        {
            std::lock_guard lock(mutex_);
            for (auto& weak : connections_)
                if (auto c = weak.lock()) all.push_back(std::move(c));
        }
        for (auto& c : all) c->close_soon();
    }

    bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }

    void wait_for_stop_request() {
        std::unique_lock lock(mutex_);
        stop_requested_.wait(lock, [&] { return stopping_.load(); });
    }

    // Waits until every connection has closed; false on timeout.
    bool wait_drained(std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        return drained_.wait_for(lock, timeout, [&] { return connections_.empty(); });
    }

    std::size_t connection_count() const {
        std::lock_guard lock(mutex_);
        return connections_.size();
    }

    // Runs `task` on a worker thread; false when the workers are gone (stopping).
    bool post_to_worker(std::function<void()> task) {
        std::lock_guard lock(workers_mutex_);
        if (!workers_) return false;
        boost::asio::post(*workers_, std::move(task));
        return true;
    }
    void set_workers(boost::asio::thread_pool* pool) {
        std::lock_guard lock(workers_mutex_);
        workers_ = pool;
    }

    void forget(exposer_connection& c) {
        std::lock_guard lock(mutex_);
        if (!c.listed) return;
        connections_.erase(c.position);
        c.listed = false;
        stats->open_connections.store(static_cast<std::int64_t>(connections_.size()), std::memory_order_relaxed);
        if (connections_.empty()) drained_.notify_all();
    }

    const exposer_options options;
    const std::shared_ptr<exposer_stats> stats;
    const std::shared_ptr<health_checks> checks;
    request_router router;

private:
    void accept() {
        acceptor_.async_accept(boost::asio::make_strand(ioc_), [self = shared_from_this()](
                                                                   boost::system::error_code ec, tcp::socket socket) {
            self->on_accept(ec, std::move(socket));
        });
    }

    void on_accept(boost::system::error_code ec, tcp::socket socket) {
        if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (ec) {  // e.g. out of file descriptors: back off instead of spinning
            retry_timer_.expires_after(std::chrono::milliseconds(50));
            retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
                if (!wait_ec) self->accept();
            });
            return;
        }
        admit(std::move(socket));
        accept();
    }

    void admit(tcp::socket socket) {
        std::shared_ptr<exposer_connection> evict;
        std::shared_ptr<exposer_connection> conn;
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;  // socket closes as it goes out of scope
            if (connections_.size() >= options.max_connections) {
                for (auto it = connections_.begin(); it != connections_.end(); ++it) {
                    auto c = it->lock();
                    if (!c || c->phase() != exposer_connection::idle) continue;
                    connections_.erase(it);
                    c->listed = false;
                    evict = std::move(c);
                    break;
                }
                if (!evict) {
                    stats->count(exposer_stats::connection_limit);
                    return;
                }
                stats->count(exposer_stats::idle_evicted);
            }
            conn = std::make_shared<exposer_connection>(shared_from_this(), std::move(socket));
            conn->position = connections_.insert(connections_.end(), conn);
            conn->listed = true;
            stats->open_connections.store(static_cast<std::int64_t>(connections_.size()), std::memory_order_relaxed);
        }
        if (evict) evict->close_soon();
        conn->start();
    }

    boost::asio::io_context& ioc_;
    tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_timer_;
    std::optional<boost::asio::signal_set> signals_;
    tcp::endpoint bound_;

    mutable std::mutex mutex_;
    std::condition_variable drained_, stop_requested_;
    std::list<std::weak_ptr<exposer_connection>> connections_;
    std::atomic<bool> stopping_{false};

    std::mutex workers_mutex_;
    boost::asio::thread_pool* workers_ = nullptr;
};

inline exposer_connection::exposer_connection(std::shared_ptr<exposer_core> core, tcp::socket&& socket)
    : core_(std::move(core)), stream_(std::move(socket)) {
    boost::system::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string();
}

inline exposer_connection::~exposer_connection() { core_->forget(*this); }

inline void exposer_connection::wait_for_request() {
    if (!set_phase(idle)) return;
    if (core_->stopping()) return close();
    if (buffer_.size() > 0) return read_request();  // a pipelined request is already here
    stream_.expires_after(core_->options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(1024),
                            [self = shared_from_this()](boost::beast::error_code ec, std::size_t n) {
                                if (ec) return self->close();  // idle timeout, peer gone, or evicted
                                self->buffer_.commit(n);
                                self->read_request();
                            });
}

inline void exposer_connection::read_request() {
    if (!set_phase(reading)) return;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(core_->options.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(core_->options.max_body_bytes);
    stream_.expires_after(core_->options.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](boost::beast::error_code ec, std::size_t) {
                                self->on_header(ec);
                            });
}

inline void exposer_connection::on_header(boost::beast::error_code ec) {
    if (ec) return void(handle_read_error(ec));
    if (parser_->chunked()) {
        // Chunked request bodies are refused: Beast 1.74's chunk parser asserts on
        // some splits of a chunked body with trailers (a debug build would abort),
        // and the clients that matter send Content-Length.
        core_->stats->count(exposer_stats::bad_request);
        return reply_error(http::status::length_required, "chunked request bodies are not accepted; send Content-Length\n");
    }
    if (parser_->is_done()) return handle();
    const auto expect = parser_->get()[http::field::expect];
    if (detail::iequals(sv(expect), "100-continue")) {
        static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
        boost::asio::async_write(stream_, boost::asio::buffer(go_on.data(), go_on.size()),
                                 [self = shared_from_this()](boost::beast::error_code wec, std::size_t) {
                                     if (wec) return self->close();
                                     self->read_body();
                                 });
        return;
    }
    read_body();
}

inline void exposer_connection::read_body() {
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](boost::beast::error_code ec, std::size_t) {
        self->on_read(ec);
    });
}

inline void exposer_connection::on_read(boost::beast::error_code ec) {
    if (ec) return void(handle_read_error(ec));
    handle();
}

// Answers what can be answered (400, 413, 431) and closes; true if handled.
inline bool exposer_connection::handle_read_error(boost::beast::error_code ec) {
    exposer_stats& stats = *core_->stats;
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
        stats.count(exposer_stats::header_too_large);
        reply_error(http::status::request_header_fields_too_large, "request header fields too large\n");
    } else if (ec == http::error::body_limit) {
        stats.count(exposer_stats::body_too_large);
        reply_error(http::status::payload_too_large, "payload too large\n");
    } else if (ec == boost::beast::error::timeout) {
        stats.count(exposer_stats::read_timeout);
        close();
    } else if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
               ec != http::error::end_of_stream && ec != http::error::partial_message) {
        stats.count(exposer_stats::bad_request);
        reply_error(http::status::bad_request, "bad request\n");
    } else {
        close();  // end of stream, reset, or closed by stop()
    }
    return true;
}

inline void exposer_connection::handle() {
    if (!set_phase(busy)) return;
    req_ = parser_->release();
    parser_.reset();
    have_request_ = true;
    close_after_write_ = !req_.keep_alive();
    // Reuse the body's capacity from one response to the next, up to a bound:
    // an idle keep-alive connection must not sit on a huge scrape's buffer.
    std::string body = std::move(res_.body());
    body.clear();
    if (body.capacity() > retained_body_bytes) body = std::string();
    res_ = {};
    res_.body() = std::move(body);

    request_router::decision d = core_->router.dispatch(req_, res_, remote_);
    if (d.kind == request_router::decision::ready) return write();

    auto self = shared_from_this();
    // Nothing is pending on the socket meanwhile: keep the io_context's run() from
    // returning for lack of work before the answer is posted back.
    auto work = boost::asio::make_work_guard(stream_.get_executor());
    const bool posted = core_->post_to_worker([self, d = std::move(d), work = std::move(work)]() mutable {
        // The connection does nothing else until write() is posted back, so the
        // worker may use req_ and build the reply; the post orders it for the strand.
        if (d.kind == request_router::decision::readiness)
            request_router::set_readiness(self->res_, self->core_->checks->run());
        else
            self->core_->router.run_route(d.handler, self->req_, self->res_, self->remote_);
        boost::asio::post(self->stream_.get_executor(), [self] { self->write(); });
        work.reset();
    });
    if (!posted) {
        request_router::set_error(res_, http::status::service_unavailable, "shutting down\n");
        close_after_write_ = true;
        write();
    }
}

inline void exposer_connection::reply_error(http::status status, std::string_view text) {
    if (!set_phase(busy)) return;
    have_request_ = false;
    close_after_write_ = true;
    res_ = {};
    request_router::set_error(res_, status, text);
    parser_.reset();
    write();
}

inline void exposer_connection::write() {
    const bool keep_alive = !close_after_write_ && !core_->stopping();
    finalize_reply(res_, have_request_ ? &req_ : nullptr, keep_alive);
    stream_.expires_after(core_->options.write_timeout);
    http::async_write(stream_, res_, [self = shared_from_this(), keep_alive](boost::beast::error_code ec, std::size_t) {
        if (ec) return self->close();
        if (!keep_alive) return self->linger_close();
        self->have_request_ = false;
        self->wait_for_request();
    });
}

// Closing a socket with unread input resets the connection, and the peer may lose
// the response it has not read yet. So: send FIN, then read and discard what the
// peer still sends (a bounded amount, for a bounded time) until it closes too.
inline void exposer_connection::linger_close() {
    boost::beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.clear();
    drained_ = 0;
    stream_.expires_after(std::min(core_->options.read_timeout, std::chrono::milliseconds(1000)));
    struct drain {
        std::shared_ptr<exposer_connection> self;
        void operator()(boost::beast::error_code ec = {}, std::size_t n = 0) {
            self->drained_ += n;
            self->buffer_.clear();
            if (ec || self->drained_ > 64 * 1024) return self->close();
            self->stream_.async_read_some(self->buffer_.prepare(4096), std::move(*this));
        }
    };
    drain{shared_from_this()}();
}

inline void exposer_connection::close() {
    if (phase_.exchange(closed) == closed) return;
    boost::beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    core_->forget(*this);
}

// The exposer's own metrics, plus the readiness checks' results.
class exposer_collector final : public collector {
public:
    exposer_collector(std::shared_ptr<exposer_stats> stats, std::shared_ptr<health_checks> checks)
        : stats_(std::move(stats)), health_(checks->make_collector()) {}

    void collect(std::vector<family_snapshot>& out) override {
        out.push_back({"llmetrics_http_open_connections", "Connections the exposer holds open", "", metric_type::gauge,
                       {{{}, static_cast<double>(stats_->open_connections.load(std::memory_order_relaxed))}}});
        out.push_back({"llmetrics_http_scrapes_total", "Metrics responses rendered by the exposer", "",
                       metric_type::counter,
                       {{{}, counter_value{stats_->scrapes.load(std::memory_order_relaxed), 0.0}}}});
        family_snapshot rejected{"llmetrics_http_rejected_total",
                                 "Requests and connections the exposer turned away or cut short, by reason", "",
                                 metric_type::counter, {}};
        for (std::size_t r = 0; r < exposer_stats::reason_count; ++r)
            rejected.series.push_back({{{"reason", std::string(exposer_stats::reason_names[r])}},
                                       counter_value{stats_->rejected[r].load(std::memory_order_relaxed), 0.0}});
        out.push_back(std::move(rejected));
        health_->collect(out);
    }

private:
    std::shared_ptr<exposer_stats> stats_;
    std::shared_ptr<collector> health_;
};

}  // namespace detail

class exposer {
public:
    // Serves `source` on threads of its own; listening when the constructor returns.
    template <metrics_source Source>
    explicit exposer(const Source& source, exposer_options options = {})
        : exposer(renderer_for(source), std::move(options)) {}

    explicit exposer(metrics_renderer render, exposer_options options = {})
        : own_ioc_(std::in_place, static_cast<int>(std::max(1u, options.threads))) {
        init(*own_ioc_, std::move(render), std::move(options));
        const unsigned n = std::max(1u, core_->options.threads);
        try {
            for (unsigned i = 0; i < n; ++i)
                io_threads_.emplace_back([this] {
                    for (;;) {
                        try {
                            own_ioc_->run();
                            return;
                        } catch (...) {  // handlers catch their own errors; keep serving regardless
                        }
                    }
                });
        } catch (...) {
            stop();
            throw;
        }
    }

    // Serves `source` on the caller's io_context: the exposer's handlers run on
    // whatever threads run `ioc`, which must outlive the exposer.
    template <metrics_source Source>
    exposer(boost::asio::io_context& ioc, const Source& source, exposer_options options = {})
        : exposer(ioc, renderer_for(source), std::move(options)) {}

    exposer(boost::asio::io_context& ioc, metrics_renderer render, exposer_options options = {}) {
        init(ioc, std::move(render), std::move(options));
    }

    exposer(const exposer&) = delete;
    exposer& operator=(const exposer&) = delete;
    ~exposer() { stop(); }

    std::uint16_t port() const noexcept { return core_->endpoint().port(); }
    boost::asio::ip::tcp::endpoint endpoint() const noexcept { return core_->endpoint(); }

    // Adds (or replaces) the handler for `method` on `path` (exact match, query
    // ignored). Any time, from any thread.
    void add_route(std::string method, std::string path, route_handler handler,
                   route_execution execution = route_execution::inline_io) {
        core_->router.add_route(std::move(method), std::move(path), std::move(handler), execution);
    }

    // A readiness check shown by /readyz; see health.hpp.
    void add_readiness_check(std::string name, health_checks::check_fn check,
                             std::chrono::milliseconds timeout = std::chrono::seconds(1)) {
        core_->checks->add(std::move(name), std::move(check), timeout);
    }
    health_checks& readiness_checks() noexcept { return *core_->checks; }

    // A collector exporting the exposer's own metrics and the readiness results;
    // add it to the registry being served. It stays valid after the exposer is gone.
    std::shared_ptr<collector> make_collector() const {
        return std::make_shared<detail::exposer_collector>(core_->stats, core_->checks);
    }

    std::size_t open_connections() const { return core_->connection_count(); }

    // Stops accepting, lets requests in progress finish (up to shutdown_timeout),
    // then closes everything and joins the exposer's threads. Idempotent. Called
    // from one of the exposer's own threads (a handler), it only requests the stop.
    void stop() {
        if (!core_) return;
        core_->request_stop();
        if (on_own_thread()) return;
        std::lock_guard lock(stop_mutex_);
        if (stopped_) return;
        stopped_ = true;
        if (own_ioc_) {
            if (!core_->wait_drained(core_->options.shutdown_timeout)) core_->close_all();
            core_->set_workers(nullptr);
            workers_->join();
            core_->wait_drained(std::chrono::milliseconds(500));
            own_ioc_->stop();
            for (std::thread& t : io_threads_)
                if (t.joinable()) t.join();
        } else {
            core_->close_all();
            core_->set_workers(nullptr);
            workers_->join();
        }
    }

    // Blocks until a stop is requested (stop() from another thread, or SIGINT /
    // SIGTERM with handle_signals), then completes it.
    void wait() {
        core_->wait_for_stop_request();
        stop();
    }

    bool stopping() const noexcept { return core_->stopping(); }

private:
    template <class Source>
    static metrics_renderer renderer_for(const Source& source) {
        return [&source](format f, std::string& out) { render_to(out, source, f); };
    }

    void init(boost::asio::io_context& ioc, metrics_renderer render, exposer_options options) {
        if (!render) throw std::invalid_argument("llmetrics: exposer needs a metrics renderer");
        const bool signals = options.handle_signals;
        const unsigned workers = std::max(1u, options.worker_threads);
        core_ = std::make_shared<detail::exposer_core>(ioc, std::move(render), std::move(options));
        workers_.emplace(workers);
        core_->set_workers(&*workers_);
        core_->start(signals);
    }

    bool on_own_thread() const noexcept {
        const auto me = std::this_thread::get_id();
        return std::any_of(io_threads_.begin(), io_threads_.end(), [&](const std::thread& t) { return t.get_id() == me; });
    }

    std::optional<boost::asio::io_context> own_ioc_;
    std::vector<std::thread> io_threads_;
    std::optional<boost::asio::thread_pool> workers_;
    std::shared_ptr<detail::exposer_core> core_;
    std::mutex stop_mutex_;
    bool stopped_ = false;
};

}  // namespace llmetrics

#pragma once
// Everything about answering a request that needs no socket: routing, auth,
// negotiation, rendering, compression, and finishing a response for the wire.

#include <algorithm>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

#include "../../exposition/format.hpp"
#include "../../exposition/negotiate.hpp"
#include "../auth.hpp"
#include "../exposer_options.hpp"
#include "../readiness_checks.hpp"
#include "../route.hpp"
#include "buffer_bounds.hpp"
#include "exposer_collector.hpp"
#include "gzip.hpp"

namespace llmetrics::detail {

namespace http = boost::beast::http;
using http_message = http::request<http::string_body>;
using http_reply = http::response<http::string_body>;

inline std::string_view sv(boost::beast::string_view s) noexcept { return {s.data(), s.size()}; }

// Answers the requests of every connection of one exposer. The connection code
// feeds it parsed requests; the fuzz target feeds it whatever Beast makes of random bytes.
class request_router {
public:
    struct route {
        std::string method;
        route_handler handler;  // or, for a streaming route:
        stream_route_handler stream_handler;
        stream_route_screen screen;  // optional, before stream_handler
        route_execution execution;
    };

    // What to do with a request: its response is ready, or it needs a worker
    // thread (readiness checks, worker routes).
    struct decision {
        enum kind_t { ready, readiness, worker_route, stream_route } kind = ready;
        route_handler handler;                // worker_route
        stream_route_handler stream_handler;  // stream_route
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
        insert(std::move(path), {std::move(method), std::move(handler), {}, {}, execution});
    }

    // Streaming handlers always run on a worker thread; the screen inline.
    void add_streaming_route(std::string method, std::string path, stream_route_handler handler,
                             stream_route_screen screen) {
        if (!handler) throw std::invalid_argument("llmetrics: add_streaming_route needs a handler");
        insert(std::move(path), {std::move(method), {}, std::move(handler), std::move(screen), route_execution::worker});
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
                if (r.stream_handler) {
                    if (r.screen && screen_answers(r.screen, req, res, remote)) return {};
                    return {decision::stream_route, {}, r.stream_handler};
                }
                if (r.execution == route_execution::worker) return {decision::worker_route, r.handler, {}};
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
            if (!checks_->empty()) return {decision::readiness, {}, {}};
            set_readiness(res, readiness_report{});
        }
        return {};
    }

    // Fills `res` from a handler's answer (500 if it throws).
    void run_route(const route_handler& handler, const http_message& req, http_reply& res,
                   std::string_view remote) const {
        try {
            set_response(res, handler(http_request(req, remote)));
        } catch (...) {
            stats_->count(exposer_stats::handler_failed);
            set_error(res, http::status::internal_server_error, "internal server error\n");
        }
    }

    // True when the screen answered (or threw: 500) and the stream is not needed.
    bool screen_answers(const stream_route_screen& screen, const http_message& req, http_reply& res,
                        std::string_view remote) const {
        try {
            std::optional<http_response> out = screen(http_request(req, remote));
            if (!out) return false;
            set_response(res, std::move(*out));
        } catch (...) {
            stats_->count(exposer_stats::handler_failed);
            set_error(res, http::status::internal_server_error, "internal server error\n");
        }
        return true;
    }

    static void set_response(http_reply& res, http_response out) {
        res.result(out.status);
        for (auto& [name, value] : out.headers) res.set(name, value);
        res.set(http::field::content_type, out.content_type);
        res.body() = std::move(out.body);
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

    void insert(std::string path, route r) {
        if (path.empty() || path.front() != '/') throw std::invalid_argument("llmetrics: a route path starts with '/'");
        if (r.method.empty()) throw std::invalid_argument("llmetrics: a route needs a method, e.g. \"POST\"");
        std::lock_guard lock(routes_mutex_);
        auto next = std::make_shared<route_map>(*routes_);
        auto& list = (*next)[std::move(path)];
        std::erase_if(list, [&](const route& existing) { return existing.method == r.method; });
        list.push_back(std::move(r));
        routes_ = std::move(next);
    }

    void serve_metrics(const http_message& req, http_reply& res) const {
        if (auth_.enabled() && !auth_.check(sv(req[http::field::authorization]))) {
            stats_->count(exposer_stats::unauthorized);
            set_error(res, http::status::unauthorized, "unauthorized\n");
            const std::string_view challenge = auth_.challenge();
            res.set(http::field::www_authenticate, boost::beast::string_view(challenge.data(), challenge.size()));
            return;
        }
        const exposition_choice choice = negotiate_exposition(sv(req[http::field::accept]));
        const format f = choice.fmt;
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
                if (plain.capacity() > max_retained_gzip_staging_bytes) std::string().swap(plain);
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
        const std::string_view type = choice.content_type();
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

}  // namespace llmetrics::detail

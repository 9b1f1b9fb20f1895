#pragma once
// The exposer's member functions (exposer.hpp): compiled into llmetrics::serve by
// src/serve/exposer.cpp, or included inline with LLMETRICS_SERVE_HEADER_ONLY.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>

#include "../exposer.hpp"
#include "exposer_acceptor.hpp"
#include "exposer_collector.hpp"
#include "route_impl.hpp"
#include "serve_inline.hpp"

namespace llmetrics {

struct exposer::state {
    std::optional<boost::asio::io_context> own_ioc;  // when the exposer runs its own threads
    std::vector<std::thread> io_threads;
    std::optional<boost::asio::thread_pool> workers;
    std::shared_ptr<detail::exposer_acceptor> acceptor;
    std::mutex stop_mutex;
    bool stopped = false;

    void init(boost::asio::io_context& ioc, metrics_renderer render, exposer_options options) {
        if (!render) throw std::invalid_argument("llmetrics: exposer needs a metrics renderer");
        const bool signals = options.handle_signals;
        const unsigned worker_count = std::max(1u, options.worker_threads);
        acceptor = std::make_shared<detail::exposer_acceptor>(ioc, std::move(render), std::move(options));
        workers.emplace(worker_count);
        acceptor->set_workers(&*workers);
        acceptor->start(signals);
    }

    bool on_own_thread() const noexcept {
        const auto me = std::this_thread::get_id();
        return std::any_of(io_threads.begin(), io_threads.end(), [&](const std::thread& t) { return t.get_id() == me; });
    }
};

LLMETRICS_SERVE_INLINE exposer::exposer(metrics_renderer render, exposer_options options)
    : state_(std::make_unique<state>()) {
    state_->own_ioc.emplace(static_cast<int>(std::max(1u, options.threads)));
    state_->init(*state_->own_ioc, std::move(render), std::move(options));
    const unsigned n = std::max(1u, state_->acceptor->options.threads);
    try {
        for (unsigned i = 0; i < n; ++i)
            state_->io_threads.emplace_back([s = state_.get()] {
                for (;;) {
                    try {
                        s->own_ioc->run();
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

LLMETRICS_SERVE_INLINE exposer::exposer(boost::asio::io_context& ioc, metrics_renderer render,
                                        exposer_options options)
    : state_(std::make_unique<state>()) {
    state_->init(ioc, std::move(render), std::move(options));
}

LLMETRICS_SERVE_INLINE exposer::~exposer() { stop(); }

LLMETRICS_SERVE_INLINE std::uint16_t exposer::port() const noexcept { return state_->acceptor->endpoint().port(); }

LLMETRICS_SERVE_INLINE detail::tcp_endpoint exposer::endpoint() const noexcept { return state_->acceptor->endpoint(); }

LLMETRICS_SERVE_INLINE void exposer::add_route(std::string method, std::string path, route_handler handler,
                                               route_execution execution) {
    state_->acceptor->router.add_route(std::move(method), std::move(path), std::move(handler), execution);
}

LLMETRICS_SERVE_INLINE void exposer::add_streaming_route(std::string method, std::string path,
                                                         stream_route_handler handler, stream_route_screen screen) {
    state_->acceptor->router.add_streaming_route(std::move(method), std::move(path), std::move(handler),
                                                 std::move(screen));
}

LLMETRICS_SERVE_INLINE void exposer::add_readiness_check(std::string name, health_checks::check_fn check,
                                                         std::chrono::milliseconds timeout) {
    state_->acceptor->checks->add(std::move(name), std::move(check), timeout);
}

LLMETRICS_SERVE_INLINE health_checks& exposer::readiness_checks() noexcept { return *state_->acceptor->checks; }

LLMETRICS_SERVE_INLINE std::shared_ptr<collector> exposer::make_collector() const {
    return std::make_shared<detail::exposer_collector>(state_->acceptor->stats, state_->acceptor->checks);
}

LLMETRICS_SERVE_INLINE std::size_t exposer::open_connections() const { return state_->acceptor->connection_count(); }

LLMETRICS_SERVE_INLINE void exposer::stop() {
    if (!state_ || !state_->acceptor) return;
    detail::exposer_acceptor& acceptor = *state_->acceptor;
    acceptor.request_stop();
    if (state_->on_own_thread()) return;
    std::lock_guard lock(state_->stop_mutex);
    if (state_->stopped) return;
    state_->stopped = true;
    if (state_->own_ioc) {
        if (!acceptor.wait_drained(acceptor.options.shutdown_timeout)) acceptor.close_all();
        acceptor.set_workers(nullptr);
        state_->workers->join();
        acceptor.wait_drained(std::chrono::milliseconds(500));
        state_->own_ioc->stop();
        for (std::thread& t : state_->io_threads)
            if (t.joinable()) t.join();
    } else {
        acceptor.close_all();
        acceptor.set_workers(nullptr);
        state_->workers->join();
    }
}

LLMETRICS_SERVE_INLINE void exposer::wait() {
    state_->acceptor->wait_for_stop_request();
    stop();
}

LLMETRICS_SERVE_INLINE bool exposer::stopping() const noexcept { return state_->acceptor->stopping(); }

}  // namespace llmetrics

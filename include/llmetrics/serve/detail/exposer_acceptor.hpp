#pragma once
// The exposer's listening socket and its open connections: binds, accepts (backing
// off when accept fails, e.g. out of file descriptors), and at max_connections
// evicts the connection whose request has made the least progress to make room
// for the new one, refusing the new one only when every connection is
// mid-response. Also the stop protocol: stop accepting, close idle connections,
// let busy ones finish.
//
// Least progress: the open connections are listed in the order their current
// request started waiting (the accept, or the end of the previous response on a
// keep-alive connection), and the first one that is not busy is evicted. A real
// client sends its whole request at once and is busy a moment after it connects,
// so what is left waiting longest is a slow or idle client, and a newcomer (a
// scrape) is the last candidate: max_connections - 1 further accepts must come
// before it could be evicted. Whatever slow clients do, they only ever take the
// place of one another.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include "../exposer_options.hpp"
#include "../readiness_checks.hpp"
#include "exposer_collector.hpp"
#include "exposer_connection.hpp"
#include "request_router.hpp"

namespace llmetrics::detail {

// Accepts connections and keeps the list of open ones, which also holds the
// state they share (options, router, stats, worker pool); outlives the exposer
// object while handlers still hold it (on a user's io_context).
class exposer_acceptor : public std::enable_shared_from_this<exposer_acceptor> {
public:
    using connection = exposer_connection<exposer_acceptor>;

    exposer_acceptor(boost::asio::io_context& ioc, metrics_renderer render, exposer_options options)
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
        std::vector<std::shared_ptr<connection>> open;  // released after the lock (see admit)
        {
            std::lock_guard lock(mutex_);
            if (stopping_.exchange(true)) return;
            for (auto& weak : connections_)
                if (auto c = weak.lock()) open.push_back(std::move(c));
        }
        for (auto& c : open)
            if (c->phase() != connection::busy) c->close_soon();
        boost::asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
            boost::system::error_code ignored;
            self->acceptor_.close(ignored);
            self->retry_timer_.cancel();
            if (self->signals_) self->signals_->cancel(ignored);
        });
        stop_requested_.notify_all();
    }

    void close_all() {
        std::vector<std::shared_ptr<connection>> all;
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

    // `c` starts waiting for a new request: to the back of the eviction order.
    void requeue(connection& c) {
        std::lock_guard lock(mutex_);
        if (c.listed) connections_.splice(connections_.end(), connections_, c.position);
    }

    void forget(connection& c) {
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
        // Busy connections passed over; released after the lock, since releasing
        // the last reference runs ~connection, which takes the lock.
        std::vector<std::shared_ptr<connection>> passed;
        std::shared_ptr<connection> evicted;  // the same
        std::shared_ptr<connection> conn;
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;  // socket closes as it goes out of scope
            if (connections_.size() >= options.max_connections) {
                evicted = evict_least_progress(passed);
                if (!evicted) {
                    stats->count(exposer_stats::refused);
                    return;
                }
            }
            conn = std::make_shared<connection>(shared_from_this(), std::move(socket));
            conn->position = connections_.insert(connections_.end(), conn);
            conn->listed = true;
            stats->open_connections.store(static_cast<std::int64_t>(connections_.size()), std::memory_order_relaxed);
        }
        conn->start();
    }

    // Under the lock: takes the first connection in wait order that is not busy
    // out of the list and closes it (try_evict decides atomically, so one that has
    // just become busy is passed over).
    std::shared_ptr<connection> evict_least_progress(std::vector<std::shared_ptr<connection>>& passed) {
        for (auto it = connections_.begin(); it != connections_.end(); ++it) {
            auto c = it->lock();
            if (!c) continue;
            const auto was = c->try_evict();
            if (was != connection::idle && was != connection::reading) {
                passed.push_back(std::move(c));
                continue;
            }
            stats->count(was == connection::idle ? exposer_stats::evicted_idle : exposer_stats::evicted_reading);
            connections_.erase(it);
            c->listed = false;
            return c;
        }
        return nullptr;
    }

    boost::asio::io_context& ioc_;
    tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_timer_;
    std::optional<boost::asio::signal_set> signals_;
    tcp::endpoint bound_;

    mutable std::mutex mutex_;
    std::condition_variable drained_, stop_requested_;
    std::list<std::weak_ptr<connection>> connections_;
    std::atomic<bool> stopping_{false};

    std::mutex workers_mutex_;
    boost::asio::thread_pool* workers_ = nullptr;
};

}  // namespace llmetrics::detail

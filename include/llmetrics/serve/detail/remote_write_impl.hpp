#pragma once
// remote_write's thread, queue, compression and HTTP (remote_write.hpp):
// compiled into llmetrics::serve by src/serve/remote_write.cpp, or inline with
// LLMETRICS_SERVE_HEADER_ONLY (then link snappy and OpenSSL yourself).
//
// One thread does everything, so the queue needs no lock: it takes a snapshot
// when the interval is up (or send_now() asks), otherwise sends the oldest
// pending request unless that one waits out a backoff, otherwise sleeps until
// the earlier of the two. A request being sent delays the next snapshot by at
// most `timeout`; the application's threads never wait for any of it.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "../../core/detail/unix_time.hpp"
#include "../remote_write.hpp"
#include "http_client.hpp"
#include "http_url.hpp"
#include "push_retry.hpp"
#include "remote_write_collector.hpp"
#include "remote_write_counters.hpp"
#include "remote_write_queue.hpp"
#include "serve_inline.hpp"
#include "snappy_block.hpp"

namespace llmetrics {
namespace detail {

class remote_write_worker {
public:
    using clock = std::chrono::steady_clock;

    remote_write_worker(std::string_view url, remote_write::visit_function visit, remote_write_options options)
        : url_(parse_http_url(url)),
          visit_(std::move(visit)),
          options_(std::move(options)),
          queue_(options_.max_queue_samples, options_.max_queue_bytes),
          counters_(std::make_shared<remote_write_counters>()),
          rng_(static_cast<std::uint_fast32_t>(clock::now().time_since_epoch().count())) {
        namespace http = boost::beast::http;
        if (url_.tls) tls_ = std::make_unique<tls_client>(options_.tls, url_.host);
        what_ = "llmetrics: remote write to " + std::string(url);
        req_ = client_request{http::verb::post, url_.base_path.empty() ? "/" : url_.base_path, 11};
        req_.set(http::field::host, url_.host + ":" + url_.port);
        req_.set(http::field::user_agent, options_.user_agent);
        req_.set(http::field::content_type, "application/x-protobuf");
        req_.set(http::field::content_encoding, "snappy");
        req_.set("X-Prometheus-Remote-Write-Version", "0.1.0");
        if (const std::string auth = options_.auth.header_value(); !auth.empty())
            req_.set(http::field::authorization, auth);
        for (const auto& [name, value] : options_.headers) req_.set(name, value);
        req_.keep_alive(false);
        thread_ = std::thread([this] { run(); });
    }

    ~remote_write_worker() { stop(); }

    void send_now() {
        {
            std::lock_guard lock(mutex_);
            snapshot_wanted_ = true;
        }
        wake_.notify_one();
    }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_one();
        if (thread_.joinable()) thread_.join();
    }

    const std::shared_ptr<remote_write_counters>& counters() const noexcept { return counters_; }

private:
    void run() {
        clock::time_point next_snapshot = clock::now() + options_.interval;
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            const clock::time_point now = clock::now();
            if (snapshot_wanted_ || now >= next_snapshot) {
                snapshot_wanted_ = false;
                lock.unlock();
                take_snapshot();
                next_snapshot += options_.interval;
                if (next_snapshot <= now) next_snapshot = now + options_.interval;  // fell behind: skip, not burst
                lock.lock();
                continue;
            }
            if (!queue_.empty() && now >= retry_at_) {
                lock.unlock();
                send_front(options_.timeout);
                lock.lock();
                continue;
            }
            const clock::time_point wake = queue_.empty() ? next_snapshot : std::min(next_snapshot, retry_at_);
            wake_.wait_until(lock, wake, [&] { return stopping_ || snapshot_wanted_; });
        }
        lock.unlock();
        flush();
    }

    // The last snapshot, then what is queued, until the flush deadline.
    void flush() {
        const clock::time_point deadline = clock::now() + options_.flush_deadline;
        take_snapshot();
        while (!queue_.empty()) {
            const clock::time_point now = clock::now();
            if (now >= deadline) break;
            if (now < retry_at_) {
                std::this_thread::sleep_until(std::min(retry_at_, deadline));
                continue;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
            send_front(std::clamp(left, std::chrono::milliseconds(1), options_.timeout));
        }
        while (!queue_.empty()) {
            counters_->dropped[remote_write_counters::stopped].add(queue_.front().counts);
            queue_.pop();
        }
        publish_queue();
    }

    void take_snapshot() {
        counters_->snapshots.fetch_add(1, std::memory_order_relaxed);
        const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
        remote_write_batch batch;
        try {
            remote_write_encoder e(cache_, now_ms, options_.external_labels, options_.send_metadata);
            visit_(e);
            e.finish();
            batch.counts = e.counts();
        } catch (const std::exception& ex) {
            report(what_ + ": snapshot failed: " + ex.what());
            return;
        }
        if (batch.samples() == 0) return;
        batch.body = snappy_compress(cache_.message(), compressed_);
        batch.created = clock::now();
        const remote_write_counts dropped = queue_.push(std::move(batch));
        counters_->dropped[remote_write_counters::queue_full].add(dropped);
        publish_queue();
    }

    // One attempt at the oldest request; on a retriable failure it stays first
    // and retry_at_ says when to try again.
    void send_front(std::chrono::milliseconds timeout) {
        remote_write_batch& batch = queue_.front();
        remote_write_counters& c = *counters_;
        if (batch.attempts > 0) c.retried.add(batch.counts);
        req_.body().swap(batch.body);
        req_.prepare_payload();
        const clock::time_point start = clock::now();
        const http_answer a = http_exchange(url_, req_, timeout, tls_.get());
        const clock::time_point end = clock::now();
        req_.body().swap(batch.body);
        c.observe_duration(std::chrono::duration<double>(end - start).count());
        if (a.status >= 200 && a.status <= 299) {
            c.sent.add(batch.counts);
            c.requests_sent.fetch_add(1, std::memory_order_relaxed);
            c.last_success_seconds.store(unix_time_seconds(), std::memory_order_relaxed);
            queue_.pop();
            retry_at_ = {};
            return publish_queue();
        }
        c.failed.add(batch.counts);
        ++batch.attempts;
        std::string message = what_ + (a.status == 0 ? ": " + a.error
                                                     : ": HTTP " + std::to_string(a.status) + " " + a.reason);
        if (a.status != 0 && !a.body.empty()) message += ": " + a.body.substr(0, 512);
        while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
        if (!push_retriable(a.status)) {
            c.dropped[remote_write_counters::rejected].add(batch.counts);
            queue_.pop();
            retry_at_ = {};
            report(message + " (not retried; request dropped)");
            return publish_queue();
        }
        if (options_.max_retry_time.count() > 0 && end - batch.created >= options_.max_retry_time) {
            c.dropped[remote_write_counters::deadline].add(batch.counts);
            queue_.pop();
            retry_at_ = {};
            report(message + " (retried for longer than max_retry_time; request dropped)");
            return publish_queue();
        }
        std::chrono::milliseconds wait = retry_backoff(options_.backoff, options_.max_backoff, batch.attempts, rng_);
        wait = std::max(wait, std::min(parse_retry_after(a.retry_after), std::chrono::milliseconds(std::chrono::minutes(5))));
        retry_at_ = end + wait;
        report(message + " (retrying in " + std::to_string(wait.count()) + " ms)");
    }

    void publish_queue() noexcept {
        counters_->queue_requests.store(queue_.size(), std::memory_order_relaxed);
        counters_->queue_samples.store(queue_.samples(), std::memory_order_relaxed);
        counters_->queue_bytes.store(queue_.bytes(), std::memory_order_relaxed);
    }

    void report(const std::string& message) {
        {
            std::lock_guard lock(counters_->error_mutex);
            counters_->last_error = message;
        }
        if (options_.error_log) options_.error_log(message);
    }

    http_url url_;
    remote_write::visit_function visit_;
    remote_write_options options_;
    remote_write_queue queue_;
    std::shared_ptr<remote_write_counters> counters_;
    std::minstd_rand rng_;
    std::unique_ptr<tls_client> tls_;
    std::string what_;
    client_request req_;
    remote_write_cache cache_;        // the last message: a series in it is not encoded again
    byte_buffer compressed_;          // snappy's room, reused
    clock::time_point retry_at_{};    // the front request waits until then
    std::mutex mutex_;                // guards the two flags
    std::condition_variable wake_;
    bool stopping_ = false, snapshot_wanted_ = false;
    std::thread thread_;              // last: starts when everything else is ready
};

}  // namespace detail

LLMETRICS_SERVE_INLINE remote_write::remote_write(std::string_view url, visit_function visit,
                                                  remote_write_options options)
    : worker_(std::make_unique<detail::remote_write_worker>(url, std::move(visit), std::move(options))) {}

LLMETRICS_SERVE_INLINE remote_write::~remote_write() = default;

LLMETRICS_SERVE_INLINE void remote_write::send_now() { worker_->send_now(); }

LLMETRICS_SERVE_INLINE void remote_write::stop() { worker_->stop(); }

LLMETRICS_SERVE_INLINE remote_write_stats remote_write::stats() const { return worker_->counters()->stats(); }

LLMETRICS_SERVE_INLINE std::string remote_write::last_error() const {
    const detail::remote_write_counters& c = *worker_->counters();
    std::lock_guard lock(c.error_mutex);
    return c.last_error;
}

LLMETRICS_SERVE_INLINE std::shared_ptr<collector> remote_write::make_collector() const {
    return std::make_shared<detail::remote_write_collector>(worker_->counters());
}

}  // namespace llmetrics

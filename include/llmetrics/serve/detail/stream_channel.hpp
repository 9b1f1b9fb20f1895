#pragma once
// What a streaming route's handler (on a worker thread) and its connection (on
// the I/O strand) share: the head or plain answer the handler chose, a bounded
// queue of body bytes, and why the stream ended. No Beast here: the connection
// passes `wake`, which posts its pump to the strand, and reads the rest under
// the mutex.
//
// Bounded memory: bytes count against max_queued_bytes from push() until the
// connection reports them written (write_done), so the queue and the write in
// flight together hold at most about max_queued_bytes (or one larger chunk,
// accepted alone), whatever the client does. A push that does not fit waits,
// which is the backpressure: the socket's send buffer fills, the write stays
// pending, the queue stays full.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../route.hpp"

namespace llmetrics::detail {

class stream_channel {
public:
    using end_reason = stream_end;

    stream_channel(std::size_t max_queued_bytes, std::function<void()> wake)
        : max_queued_(max_queued_bytes), wake_(std::move(wake)) {}

    // --- the handler's side (any thread) ---------------------------------------

    // The answer is a plain response, not a stream; false if the client is gone
    // or an answer was given already. It goes out once the handler has returned
    // (finish()): until then the handler may still read the request, which the
    // connection's next request would overwrite.
    bool respond(http_response plain) {
        std::lock_guard lock(mutex_);
        if (answered_ || reason_ != end_reason::open) return false;
        answered_ = true;
        plain_ = std::move(plain);
        return true;
    }

    // The head of a streamed answer; false if the client is gone or an answer
    // was given already.
    bool begin(http_response head) {
        {
            std::lock_guard lock(mutex_);
            if (answered_ || reason_ != end_reason::open) return false;
            answered_ = true;
            head_ = std::move(head);
        }
        notify();
        return true;
    }

    // Queues `bytes` after begin(), waiting while the queue is full (until
    // `deadline`, if given: then false with nothing queued, the stream still
    // open). False once the stream has ended.
    bool push(std::string_view bytes, std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt) {
        std::unique_lock lock(mutex_);
        const auto fits = [&] {
            return reason_ != end_reason::open || queued_bytes_ == 0 || queued_bytes_ + bytes.size() <= max_queued_;
        };
        if (deadline) {
            if (!room_.wait_until(lock, *deadline, fits)) return false;
        } else {
            room_.wait(lock, fits);
        }
        if (reason_ != end_reason::open || !head_ || finish_requested_) return false;
        if (bytes.empty()) return true;
        queue_.emplace_back(bytes);
        queued_bytes_ += bytes.size();
        const bool wake = !std::exchange(pump_pending_, true);
        lock.unlock();
        if (wake) wake_();
        return true;
    }

    // The handler has returned: what is queued goes out, then the body's end
    // (or the plain answer).
    void finish() {
        {
            std::lock_guard lock(mutex_);
            if (finish_requested_ || failed_) return;
            finish_requested_ = true;
        }
        notify();
    }

    // The handler threw: a 500 if nothing was answered yet, else the body is cut
    // short (the client sees an incomplete message). A complete answer stands.
    void fail() {
        {
            std::lock_guard lock(mutex_);
            if (finish_requested_ || failed_) return;
            failed_ = true;
        }
        notify();
    }

    bool alive() const {
        std::lock_guard lock(mutex_);
        return reason_ == end_reason::open;
    }
    end_reason reason() const {
        std::lock_guard lock(mutex_);
        return reason_;
    }
    // Waits up to `timeout` for the stream to end; true if it has ended.
    bool wait_end_for(std::chrono::nanoseconds timeout) const {
        std::unique_lock lock(mutex_);
        return room_.wait_for(lock, timeout, [&] { return reason_ != end_reason::open; });
    }
    std::size_t queued_bytes() const {
        std::lock_guard lock(mutex_);
        return queued_bytes_;
    }

    // --- the connection's side (its strand) ------------------------------------

    struct work {
        std::optional<http_response> plain;  // answer with this and stop
        bool unanswered = false;             // or with a 500: the handler failed or gave no answer
        std::optional<http_response> head;   // else write this head first
        std::vector<std::string> chunks;     // then these
        bool last = false;                   // then the end of the body
        bool cut = false;                    // or cut the body short: the handler failed
    };

    // What to write next; the chunks stay counted until write_done().
    work take() {
        std::lock_guard lock(mutex_);
        pump_pending_ = false;
        work w;
        if (taken_plain_) return w;
        if (plain_ && (finish_requested_ || failed_)) {
            taken_plain_ = true;
            w.plain = std::move(plain_);
            return w;
        }
        if ((failed_ || finish_requested_) && !answered_) {
            taken_plain_ = true;
            w.unanswered = true;
            return w;
        }
        if (plain_) return w;  // the handler is still running
        if (head_ && !taken_head_) {
            taken_head_ = true;
            w.head = *head_;
        }
        w.chunks = std::exchange(queue_, {});
        w.last = finish_requested_ && answered_;
        w.cut = failed_ && answered_;
        return w;
    }

    void write_done(std::size_t bytes) {
        {
            std::lock_guard lock(mutex_);
            queued_bytes_ -= std::min(bytes, queued_bytes_);
        }
        room_.notify_all();
    }

    // The stream is over (sent whole, or cut off): pushes fail from now on and
    // the handler learns why.
    void end(end_reason why) {
        {
            std::lock_guard lock(mutex_);
            if (reason_ == end_reason::open) reason_ = why;
            queue_.clear();
        }
        room_.notify_all();
    }

private:
    void notify() {
        bool wake = false;
        {
            std::lock_guard lock(mutex_);
            wake = !std::exchange(pump_pending_, true);
        }
        room_.notify_all();
        if (wake) wake_();
    }

    const std::size_t max_queued_;
    const std::function<void()> wake_;
    mutable std::mutex mutex_;
    mutable std::condition_variable room_;
    std::vector<std::string> queue_;
    std::size_t queued_bytes_ = 0;
    std::optional<http_response> plain_, head_;
    bool answered_ = false, taken_plain_ = false, taken_head_ = false;
    bool finish_requested_ = false, failed_ = false, pump_pending_ = false;
    end_reason reason_ = end_reason::open;  // set by the connection only
};

}  // namespace llmetrics::detail

#pragma once
// One accepted connection of the exposer, as a state machine: wait for a request
// (idle), read it (reading; the header by a deadline from the accept or, on a
// keep-alive connection, from its first byte after at most idle_timeout; the body
// by one from the end of the header; and the size limits), answer it (busy:
// inline, or on a worker thread and back), write, then wait again or close with a
// lingering drain. Idle and reading connections may be evicted by the acceptor at
// the connection bound; busy ones never are. A streaming route's answer is
// pumped from its stream_channel while its handler runs on a worker (busy too),
// with a read kept pending meanwhile to notice a client that goes away. Every member runs on the
// connection's strand. `Acceptor` (exposer_acceptor.hpp) owns the options, the
// router, the stats and the list of open connections; it is a parameter only so
// that the two headers need not include each other.

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <functional>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "../http_stream.hpp"
#include "buffer_bounds.hpp"
#include "exposer_collector.hpp"
#include "head_buffer.hpp"
#include "request_router.hpp"
#include "request_screen.hpp"
#include "stream_channel.hpp"

namespace llmetrics::detail {

using tcp = boost::asio::ip::tcp;

// One accepted connection; every member runs on the connection's strand.
template <class Acceptor>
class exposer_connection : public std::enable_shared_from_this<exposer_connection<Acceptor>> {
public:
    enum phase_t : int { idle, reading, busy, closed };

    exposer_connection(std::shared_ptr<Acceptor> acceptor, tcp::socket&& socket);
    ~exposer_connection();

    void start() {
        boost::asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->wait_for_request(); });
    }
    // From any thread.
    void close_soon() {
        boost::asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->close(); });
    }
    phase_t phase() const noexcept { return phase_.load(std::memory_order_acquire); }
    // From any thread: closes the connection unless it is busy (mid-response).
    // Returns the phase it was evicted from, or `busy`/`closed` when it was not.
    phase_t try_evict() {
        phase_t now = phase_.load(std::memory_order_acquire);
        while (now == idle || now == reading)
            if (phase_.compare_exchange_weak(now, closed, std::memory_order_acq_rel)) {
                boost::asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->close_socket(); });
                return now;
            }
        return now;
    }

    // Position in the acceptor's list (guarded by the acceptor's mutex).
    typename std::list<std::weak_ptr<exposer_connection>>::iterator position;
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
    // Streaming routes.
    void start_stream(stream_route_handler handler);
    void watch_peer();
    void pump_stream();
    void write_stream(std::string bytes, std::size_t payload, bool last);
    void end_stream(stream_end why, bool keep_alive);
    void after_peer_watch(std::function<void()> next);
    void linger_close();
    void close();
    void close_socket();
    void frame(std::string& out, std::string_view chunk) const {  // one chunk of the body
        if (chunk.empty()) return;
        if (!stream_chunked_) return void(out += chunk);
        char hex[2 * sizeof(std::size_t)];
        const auto r = std::to_chars(hex, hex + sizeof hex, chunk.size(), 16);
        out.append(hex, r.ptr);
        out += "\r\n";
        out += chunk;
        out += "\r\n";
    }
    bool set_phase(phase_t p) noexcept {  // false once closed
        phase_t now = phase_.load(std::memory_order_acquire);
        while (now != closed)
            if (phase_.compare_exchange_weak(now, p, std::memory_order_acq_rel)) return true;
        return false;
    }

    std::shared_ptr<Acceptor> acceptor_;  // the acceptor: options, router, stats, the connection list
    boost::beast::tcp_stream stream_;
    head_buffer buffer_;  // bounded: max_header_bytes + max_read_ahead_bytes
    std::optional<http::request_parser<http::string_body>> parser_;
    http_message req_;
    http_reply res_;
    std::string remote_;
    bool have_request_ = false;  // res_ answers a parsed req_ (not a parse error)
    bool close_after_write_ = false;
    std::atomic<phase_t> phase_{idle};
    std::size_t drained_ = 0;
    bool first_request_ = true;  // its header deadline runs from the accept
    std::chrono::steady_clock::time_point header_deadline_;
    // A streamed answer in progress.
    std::shared_ptr<stream_channel> channel_;
    std::optional<http::response<http::empty_body>> stream_head_;
    std::optional<http::response_serializer<http::empty_body>> stream_head_writer_;
    std::string stream_out_;        // the chunks being written, framed
    bool stream_chunked_ = true;    // else HTTP/1.0: raw bytes, then close
    bool stream_cut_ = false;       // the handler failed: no last chunk
    bool stream_writing_ = false;   // a write is pending: its completion pumps again
    bool peer_watch_pending_ = false;
    std::function<void()> after_peer_watch_;  // runs once the peer watch has stopped
};

template <class Acceptor>
exposer_connection<Acceptor>::exposer_connection(std::shared_ptr<Acceptor> acceptor, tcp::socket&& socket)
    : acceptor_(std::move(acceptor)),
      stream_(std::move(socket)),
      buffer_(acceptor_->options.max_header_bytes,
              std::min<std::size_t>(acceptor_->options.max_header_bytes, UINT32_MAX) + max_read_ahead_bytes),
      header_deadline_(std::chrono::steady_clock::now() + acceptor_->options.header_timeout) {
    boost::system::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string();
}

template <class Acceptor>
exposer_connection<Acceptor>::~exposer_connection() {
    if (channel_) channel_->end(stream_end::shutting_down);  // a handler waiting to push returns
    acceptor_->forget(*this);
}

template <class Acceptor>
void exposer_connection<Acceptor>::wait_for_request() {
    if (!set_phase(idle)) return;
    if (acceptor_->stopping()) return close();
    const bool first = std::exchange(first_request_, false);
    // A new request starts waiting now: the acceptor orders its eviction
    // candidates by that time.
    if (!first) acceptor_->requeue(*this);
    if (buffer_.size() > 0) {  // a pipelined request is already here
        header_deadline_ = std::chrono::steady_clock::now() + acceptor_->options.header_timeout;
        return read_request();
    }
    if (first) stream_.expires_at(header_deadline_);
    else stream_.expires_after(acceptor_->options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(1024),
                            [self = this->shared_from_this(), first](boost::beast::error_code ec, std::size_t n) {
                                if (ec == boost::beast::error::timeout)
                                    self->acceptor_->stats->count(first ? exposer_stats::header_timeout
                                                                        : exposer_stats::idle_timeout);
                                if (ec) return self->close();  // timed out, peer gone, or evicted
                                self->buffer_.commit(n);
                                if (!first)
                                    self->header_deadline_ =
                                        std::chrono::steady_clock::now() + self->acceptor_->options.header_timeout;
                                self->read_request();
                            });
}

template <class Acceptor>
void exposer_connection<Acceptor>::read_request() {
    if (!set_phase(reading)) return;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(acceptor_->options.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(acceptor_->options.max_body_bytes);
    stream_.expires_at(header_deadline_);
    buffer_.watch_head();
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](boost::beast::error_code ec, std::size_t) {
                                self->on_header(ec);
                            });
}

template <class Acceptor>
void exposer_connection<Acceptor>::on_header(boost::beast::error_code ec) {
    if (ec) return void(handle_read_error(ec));
    if (const auto refusal = screen_request_head(parser_->get(), buffer_.folded())) {
        acceptor_->stats->count(exposer_stats::bad_request);
        return reply_error(refusal->status, refusal->text);
    }
    if (parser_->is_done()) return handle();
    stream_.expires_after(acceptor_->options.body_timeout);  // covers a 100 Continue too
    // No 100 once body bytes are here (RFC 9110 §10.1.1: the server may omit it).
    if (expects_continue(parser_->get()) && buffer_.size() == 0) {
        static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
        boost::asio::async_write(stream_, boost::asio::buffer(go_on.data(), go_on.size()),
                                 [self = this->shared_from_this()](boost::beast::error_code wec, std::size_t) {
                                     if (wec) return self->close();
                                     self->read_body();
                                 });
        return;
    }
    read_body();
}

template <class Acceptor>
void exposer_connection<Acceptor>::read_body() {
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](boost::beast::error_code ec, std::size_t) {
        self->on_read(ec);
    });
}

template <class Acceptor>
void exposer_connection<Acceptor>::on_read(boost::beast::error_code ec) {
    if (ec) return void(handle_read_error(ec));
    handle();
}

// Answers what can be answered (400, 413, 414, 431) and closes; true if handled.
template <class Acceptor>
bool exposer_connection<Acceptor>::handle_read_error(boost::beast::error_code ec) {
    exposer_stats& stats = *acceptor_->stats;
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
        stats.count(exposer_stats::header_too_large);
        // The request line alone (its target, the query) over the limit: 414 (RFC 9110
        // §15.5.15). Else the fields: 431 (RFC 6585 §5). Until Beast has parsed the
        // request line, the buffer starts with it.
        const auto in = buffer_.data();
        const std::string_view buffered(static_cast<const char*>(in.data()), in.size());
        if (parser_ && parser_->get().target().empty() && buffered.find("\r\n") == std::string_view::npos)
            reply_error(http::status::uri_too_long, "request target too long\n");
        else
            reply_error(http::status::request_header_fields_too_large, "request header fields too large\n");
    } else if (ec == http::error::body_limit) {
        stats.count(exposer_stats::body_too_large);
        reply_error(http::status::payload_too_large, "payload too large\n");
    } else if (ec == boost::beast::error::timeout) {
        stats.count(parser_ && parser_->is_header_done() ? exposer_stats::body_timeout : exposer_stats::header_timeout);
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

template <class Acceptor>
void exposer_connection<Acceptor>::handle() {
    if (!set_phase(busy)) return;
    req_ = parser_->release();
    parser_.reset();
    have_request_ = true;
    close_after_write_ = !req_.keep_alive();
    // Reuse the body's capacity from one response to the next, up to a bound:
    // an idle keep-alive connection must not sit on a huge scrape's buffer.
    std::string body = std::move(res_.body());
    body.clear();
    if (body.capacity() > max_retained_body_bytes) body = std::string();
    res_ = {};
    res_.body() = std::move(body);

    request_router::decision d = acceptor_->router.dispatch(req_, res_, remote_);
    if (d.kind == request_router::decision::ready) return write();
    if (d.kind == request_router::decision::stream_route) return start_stream(std::move(d.stream_handler));

    auto self = this->shared_from_this();
    // Nothing is pending on the socket meanwhile: keep the io_context's run() from
    // returning for lack of work before the answer is posted back.
    auto work = boost::asio::make_work_guard(stream_.get_executor());
    const bool posted = acceptor_->post_to_worker([self, d = std::move(d), work = std::move(work)]() mutable {
        // The connection does nothing else until write() is posted back, so the
        // worker may use req_ and build the reply; the post orders it for the strand.
        if (d.kind == request_router::decision::readiness)
            request_router::set_readiness(self->res_, self->acceptor_->checks->run());
        else
            self->acceptor_->router.run_route(d.handler, self->req_, self->res_, self->remote_);
        boost::asio::post(self->stream_.get_executor(), [self] { self->write(); });
        work.reset();
    });
    if (!posted) {
        request_router::set_error(res_, http::status::service_unavailable, "shutting down\n");
        close_after_write_ = true;
        write();
    }
}

template <class Acceptor>
void exposer_connection<Acceptor>::reply_error(http::status status, std::string_view text) {
    if (!set_phase(busy)) return;
    have_request_ = false;
    close_after_write_ = true;
    res_ = {};
    request_router::set_error(res_, status, text);
    parser_.reset();
    write();
}

template <class Acceptor>
void exposer_connection<Acceptor>::write() {
    const bool keep_alive = !close_after_write_ && !acceptor_->stopping();
    finalize_reply(res_, have_request_ ? &req_ : nullptr, keep_alive);
    stream_.expires_after(acceptor_->options.write_timeout);
    http::async_write(stream_, res_, [self = this->shared_from_this(), keep_alive](boost::beast::error_code ec, std::size_t) {
        if (ec == boost::beast::error::timeout) self->acceptor_->stats->count(exposer_stats::write_timeout);
        if (ec) return self->close();
        if (!keep_alive) return self->linger_close();
        self->have_request_ = false;
        self->wait_for_request();
    });
}

// The handler runs on a worker with the channel; the strand pumps what it
// queues. The connection stays busy (never evicted) until the answer is done.
template <class Acceptor>
void exposer_connection<Acceptor>::start_stream(stream_route_handler handler) {
    auto self = this->shared_from_this();
    std::weak_ptr<exposer_connection> weak = self;
    // wake() runs on the handler's thread, which holds the connection: the post keeps it.
    channel_ = std::make_shared<stream_channel>(acceptor_->options.stream_queue_bytes, [weak] {
        if (auto c = weak.lock()) boost::asio::post(c->stream_.get_executor(), [c] { c->pump_stream(); });
    });
    stream_chunked_ = req_.version() >= 11;
    stream_cut_ = false;
    boost::beast::error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);  // each chunk goes out when pushed
    watch_peer();
    auto work = boost::asio::make_work_guard(stream_.get_executor());
    const bool posted = acceptor_->post_to_worker(
        [self, handler = std::move(handler), channel = channel_, work = std::move(work)]() mutable {
            http_stream out(channel);
            try {
                handler(http_request(self->req_, self->remote_), out);
                channel->finish();
            } catch (...) {
                self->acceptor_->stats->count(exposer_stats::handler_failed);
                channel->fail();
            }
            work.reset();
        });
    if (!posted) {
        std::exchange(channel_, nullptr)->end(stream_end::shutting_down);
        after_peer_watch([this] {
            request_router::set_error(res_, http::status::service_unavailable, "shutting down\n");
            close_after_write_ = true;
            write();
        });
    }
}

// A read pending while the handler works: its failure means the client has
// gone (before the first chunk too, when nothing is written yet). Bytes that
// arrive (a pipelined request) stay in the buffer and end the watch.
template <class Acceptor>
void exposer_connection<Acceptor>::watch_peer() {
    if (buffer_.size() > 0) return;  // a pipelined request is here: the next writes will notice a reset
    peer_watch_pending_ = true;
    stream_.socket().async_read_some(
        buffer_.prepare(1024), [self = this->shared_from_this()](boost::beast::error_code ec, std::size_t n) {
            self->peer_watch_pending_ = false;
            if (!ec) self->buffer_.commit(n);
            if (auto next = std::exchange(self->after_peer_watch_, nullptr)) return next();
            if (ec && ec != boost::asio::error::operation_aborted && self->channel_) {
                std::exchange(self->channel_, nullptr)->end(stream_end::client_gone);
                self->close();
            }
        });
}

// Runs `next` once no peer watch is pending (cancelling it if need be).
template <class Acceptor>
void exposer_connection<Acceptor>::after_peer_watch(std::function<void()> next) {
    if (!peer_watch_pending_) return next();
    after_peer_watch_ = std::move(next);
    boost::beast::error_code ignored;
    stream_.socket().cancel(ignored);
}

template <class Acceptor>
void exposer_connection<Acceptor>::pump_stream() {
    if (!channel_ || stream_writing_) return;
    stream_channel::work w = channel_->take();
    if (w.plain || w.unanswered) {  // an answer without a stream: the ordinary write
        std::exchange(channel_, nullptr)->end(stream_end::finished);
        if (w.plain) request_router::set_response(res_, std::move(*w.plain));
        else request_router::set_error(res_, http::status::internal_server_error, "internal server error\n");
        return after_peer_watch([this] { write(); });
    }
    if (w.cut) {  // the handler failed mid-stream: what it pushed, then no last chunk (the message is cut)
        w.last = true;
        close_after_write_ = true;
        stream_cut_ = true;
    }
    if (w.head) {
        const bool keep_alive = stream_chunked_ && !close_after_write_ && !acceptor_->stopping();
        auto& head = stream_head_.emplace();
        head.version(11);
        head.result(w.head->status);
        for (auto& [name, value] : w.head->headers) head.set(name, value);
        head.set(http::field::content_type, w.head->content_type);
        head.keep_alive(keep_alive);
        if (stream_chunked_) head.chunked(true);
        close_after_write_ = !keep_alive;
        stream_head_writer_.emplace(head);
        stream_writing_ = true;
        stream_.expires_after(acceptor_->options.write_timeout);
        http::async_write_header(stream_, *stream_head_writer_,
                                 [self = this->shared_from_this(), chunks = std::move(w.chunks), last = w.last](
                                     boost::beast::error_code ec, std::size_t) mutable {
                                     self->stream_writing_ = false;
                                     if (ec) return self->end_stream(ec == boost::beast::error::timeout
                                                                         ? stream_end::write_timeout
                                                                         : stream_end::client_gone, false);
                                     // What came with the head goes next.
                                     std::string out;
                                     std::size_t payload = 0;
                                     for (const std::string& c : chunks) {
                                         payload += c.size();
                                         self->frame(out, c);
                                     }
                                     if (last && self->stream_chunked_ && !self->stream_cut_) out += "0\r\n\r\n";
                                     if (out.empty() && !last) return self->pump_stream();
                                     self->write_stream(std::move(out), payload, last);
                                 });
        return;
    }
    std::string out = std::move(stream_out_);
    out.clear();
    std::size_t payload = 0;
    for (const std::string& c : w.chunks) {
        payload += c.size();
        frame(out, c);
    }
    if (w.last && stream_chunked_ && !stream_cut_) out += "0\r\n\r\n";
    if (out.empty() && !w.last) return;
    write_stream(std::move(out), payload, w.last);
}

template <class Acceptor>
void exposer_connection<Acceptor>::write_stream(std::string bytes, std::size_t payload, bool last) {
    if (!channel_) return;
    if (bytes.empty()) return end_stream(stream_end::finished, !close_after_write_);
    stream_out_ = std::move(bytes);
    stream_writing_ = true;
    stream_.expires_after(acceptor_->options.write_timeout);  // each write: a client that stops reading is cut off
    boost::asio::async_write(stream_, boost::asio::buffer(stream_out_),
                             [self = this->shared_from_this(), payload, last](boost::beast::error_code ec, std::size_t) {
                                 self->stream_writing_ = false;
                                 if (!self->channel_) return;
                                 if (ec)
                                     return self->end_stream(ec == boost::beast::error::timeout
                                                                 ? stream_end::write_timeout
                                                                 : stream_end::client_gone, false);
                                 self->channel_->write_done(payload);
                                 if (last) return self->end_stream(stream_end::finished, !self->close_after_write_);
                                 self->pump_stream();
                             });
}

template <class Acceptor>
void exposer_connection<Acceptor>::end_stream(stream_end why, bool keep_alive) {
    if (why == stream_end::write_timeout) acceptor_->stats->count(exposer_stats::write_timeout);
    if (channel_) std::exchange(channel_, nullptr)->end(why);
    stream_head_writer_.reset();
    stream_head_.reset();
    std::string().swap(stream_out_);
    if (why != stream_end::finished) return close();
    after_peer_watch([this, keep_alive] {
        if (!keep_alive || acceptor_->stopping()) return linger_close();
        have_request_ = false;
        wait_for_request();
    });
}

// Closing a socket with unread input resets the connection, and the peer may lose
// the response it has not read yet. So: send FIN, then read and discard what the
// peer still sends (a bounded amount, for a bounded time) until it closes too.
template <class Acceptor>
void exposer_connection<Acceptor>::linger_close() {
    boost::beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.clear();
    drained_ = 0;
    stream_.expires_after(std::min(acceptor_->options.header_timeout, std::chrono::milliseconds(1000)));
    struct drain {
        std::shared_ptr<exposer_connection> self;
        void operator()(boost::beast::error_code ec = {}, std::size_t n = 0) {
            self->drained_ += n;
            self->buffer_.clear();
            if (ec || self->drained_ > 64 * 1024) return self->close();
            self->stream_.async_read_some(self->buffer_.prepare(4096), std::move(*this));
        }
    };
    drain{this->shared_from_this()}();
}

template <class Acceptor>
void exposer_connection<Acceptor>::close() {
    if (phase_.exchange(closed) == closed) return;  // closed already, or evicted (close_socket is posted)
    close_socket();
}

template <class Acceptor>
void exposer_connection<Acceptor>::close_socket() {
    if (channel_) std::exchange(channel_, nullptr)->end(acceptor_->stopping() ? stream_end::shutting_down
                                                                                : stream_end::client_gone);
    boost::beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    acceptor_->forget(*this);
}

}  // namespace llmetrics::detail

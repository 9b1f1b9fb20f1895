#pragma once
// The writer a streaming route's handler answers through (exposer::add_streaming_route):
// a plain response, or a head (status, content type, headers) and then chunks
// pushed as they are produced, sent with chunked transfer encoding (HTTP/1.1;
// an HTTP/1.0 client gets the raw bytes and the connection closes at the end).
// Returning from the handler ends the body; throwing before any answer gives a
// 500, after the head cuts the body short (no last chunk, so the client sees an
// incomplete message).
//
//     exp.add_streaming_route("POST", "/events", [](const lm::http_request& req, lm::http_stream& out) {
//         if (req.body().empty()) return void(out.respond(lm::http_response::text(400, "no body\n")));
//         out.begin(200, "text/event-stream");
//         while (auto event = next_event())
//             if (!out.push("data: " + *event + "\n\n")) return;  // client gone: stop the work
//     });
//
// A screen given to add_streaming_route runs first, on the I/O thread, and may
// answer a request that needs no stream without the hop to a worker.
//
// Backpressure and bounded memory: pushed bytes wait in a queue of at most
// exposer_options::stream_queue_bytes (one larger chunk is taken alone) until
// the socket has taken them; push() blocks while it is full, push_for() gives up
// after a wait. The exposer's write_timeout bounds each write: a client that
// stops reading is cut off, and push() returns false from then on. A client that
// closes the connection, before the first chunk or during the stream, is noticed
// by a read the exposer keeps pending: cancelled() turns true and push() false.
// state() says why the stream ended. Any thread may use the writer while the
// handler runs; it must not be kept after the handler returns.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detail/stream_channel.hpp"
#include "route.hpp"

namespace llmetrics {

class http_stream {
public:
    explicit http_stream(std::shared_ptr<detail::stream_channel> channel) noexcept : channel_(std::move(channel)) {}

    // Answers with a plain response instead of a stream (e.g. a 400 for a bad
    // request), sent when the handler returns. False if an answer was given
    // already or the client is gone.
    bool respond(http_response response) { return channel_->respond(std::move(response)); }

    // Starts the streamed answer: the head goes out at once (Transfer-Encoding
    // and Connection are the exposer's). False if an answer was given already or
    // the client is gone.
    bool begin(unsigned status, std::string content_type,
               std::vector<std::pair<std::string, std::string>> headers = {}) {
        return channel_->begin({status, std::move(content_type), {}, std::move(headers)});
    }

    // Queues a chunk after begin(), waiting while the queue is full. False once
    // the stream has ended (client gone, write timeout, exposer stopping): stop
    // producing. An empty chunk sends nothing (the last chunk is the exposer's).
    bool push(std::string_view bytes) { return channel_->push(bytes); }

    enum class push_result { accepted, full, ended };
    // As push(), waiting at most `wait` for room: `full` leaves nothing queued.
    template <class Rep, class Period>
    push_result push_for(std::string_view bytes, std::chrono::duration<Rep, Period> wait) {
        if (channel_->push(bytes, std::chrono::steady_clock::now() + wait)) return push_result::accepted;
        return channel_->reason() == stream_end::open ? push_result::full : push_result::ended;
    }

    // True once no more bytes can reach the client.
    bool cancelled() const {
        const stream_end s = channel_->reason();
        return s != stream_end::open && s != stream_end::finished;
    }
    stream_end state() const { return channel_->reason(); }

    // Sleeps for `d`, waking early when the stream ends; true if it has ended
    // (for a producer that waits between chunks, e.g. for the first token).
    template <class Rep, class Period>
    bool wait_cancelled_for(std::chrono::duration<Rep, Period> d) const {
        return channel_->wait_end_for(std::chrono::duration_cast<std::chrono::nanoseconds>(d));
    }

    // Bytes pushed and not yet taken by the socket.
    std::size_t queued_bytes() const { return channel_->queued_bytes(); }

private:
    std::shared_ptr<detail::stream_channel> channel_;
};

}  // namespace llmetrics

#pragma once
// What an exposer serves and how: the renderer it calls for each scrape, and its
// options (address, paths, credentials, gzip, the bounds on connections, request
// sizes and times). See exposer.hpp.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "../exposition/format.hpp"
#include "auth.hpp"

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

    // Bounds (see exposer.hpp, "Under a flood"). Memory held for connections stays
    // under max_connections * (max_header_bytes + max_body_bytes + about 80 KiB of
    // read buffer and socket state), plus the responses being written: about 140 MiB
    // with the defaults if every client uploads a full body; 128 clients that send
    // 7 KB of headers and stop hold 14 KiB each (1.8 MiB).
    std::size_t max_connections = 128;          // at the bound the least advanced request is evicted
    std::size_t max_header_bytes = 8 * 1024;    // request line + headers, in all (414 / 431 past it)
    std::size_t max_body_bytes = 1024 * 1024;   // 413 past it
    // Deadlines, not reset by each byte that trickles in (nginx client_header_timeout,
    // Go's ReadHeaderTimeout): the request line and headers must be complete within
    // header_timeout of the accept (first request) or of the request's first byte
    // (keep-alive); the body within body_timeout of the end of the headers.
    std::chrono::milliseconds header_timeout{5000};
    std::chrono::milliseconds body_timeout{10000};
    std::chrono::milliseconds idle_timeout{30000};   // keep-alive wait for the next request's first byte
    std::chrono::milliseconds write_timeout{10000};  // one response, whole: a client that stops reading is closed
                                                     // (a streamed response: each write of its queued chunks)
    std::chrono::milliseconds shutdown_timeout{3000};
    // A streamed response (http_stream.hpp): bytes pushed and not yet taken by the
    // socket, at most; a push waits beyond it.
    std::size_t stream_queue_bytes = 64 * 1024;  // stop() lets requests in progress finish this long

    bool handle_signals = false;  // SIGINT and SIGTERM stop the exposer (see exposer::wait())
};

}  // namespace llmetrics

#pragma once
// How large the exposer's buffers grow. Reusing capacity saves an allocation per
// scrape; past the retained bounds the buffer is freed instead, so that one huge
// scrape does not leave an idle exposer holding its memory.

#include <cstddef>

namespace llmetrics::detail {

// The per-thread string a scrape is rendered into before gzip compresses it.
inline constexpr std::size_t max_retained_gzip_staging_bytes = 16 * 1024 * 1024;
// The response body a keep-alive connection keeps between its requests.
inline constexpr std::size_t max_retained_body_bytes = 4 * 1024 * 1024;
// What a connection reads past the head it is parsing (pipelined requests, a
// body): its input buffer holds at most max_header_bytes plus this. Beast reads
// at most 64 KiB at a time, and only while the parser needs more.
inline constexpr std::size_t max_read_ahead_bytes = 64 * 1024;

}  // namespace llmetrics::detail

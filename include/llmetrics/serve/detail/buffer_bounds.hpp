#pragma once
// How large a buffer the exposer keeps for reuse between requests. Reusing
// capacity saves an allocation per scrape; past these bounds the buffer is freed
// instead, so that one huge scrape does not leave an idle exposer holding its memory.

#include <cstddef>

namespace llmetrics::detail {

// The per-thread string a scrape is rendered into before gzip compresses it.
inline constexpr std::size_t max_retained_gzip_staging_bytes = 16 * 1024 * 1024;
// The response body a keep-alive connection keeps between its requests.
inline constexpr std::size_t max_retained_body_bytes = 4 * 1024 * 1024;

}  // namespace llmetrics::detail

#pragma once
// gzip for scrape responses (RFC 9110 §8.4 content coding, RFC 1952 framing via
// zlib): whether a request's Accept-Encoding allows it, and one-shot compression.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include <zlib.h>

#include "../../exposition/detail/http_tokens.hpp"

namespace llmetrics::detail {

// q of one Accept-Encoding element (`gzip;q=0.5`), or -1 when malformed.
inline double coding_quality(std::string_view params) noexcept {
    double q = 1.0;
    while (!params.empty()) {
        const std::size_t semi = find_unquoted(params, ';');
        const std::string_view p = trim_http(params.substr(0, semi));
        params.remove_prefix(semi < params.size() ? semi + 1 : semi);
        const std::size_t eq = p.find('=');
        if (eq == std::string_view::npos || !iequals(trim_http(p.substr(0, eq)), "q")) continue;
        q = parse_qvalue(trim_http(p.substr(eq + 1)));
        if (q < 0) return -1;
    }
    return q;
}

// True when the Accept-Encoding header value admits gzip: `gzip` (or `x-gzip`)
// with q > 0, or `*` with q > 0 and gzip not refused by name. Never throws.
inline bool accepts_gzip(std::string_view accept_encoding) noexcept {
    double named = -1, wildcard = -1;
    while (!accept_encoding.empty()) {
        const std::size_t comma = find_unquoted(accept_encoding, ',');
        std::string_view item = trim_http(accept_encoding.substr(0, comma));
        accept_encoding.remove_prefix(comma < accept_encoding.size() ? comma + 1 : comma);
        const std::size_t semi = find_unquoted(item, ';');
        const std::string_view coding = trim_http(item.substr(0, semi));
        const double q = coding_quality(semi < item.size() ? item.substr(semi + 1) : std::string_view{});
        if (q < 0) continue;
        if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
            if (q > named) named = q;
        } else if (coding == "*") {
            if (q > wildcard) wildcard = q;
        }
    }
    if (named >= 0) return named > 0;
    return wildcard > 0;
}

// Appends the gzip (RFC 1952) encoding of `in` to `out`. `level` is zlib's 0-9;
// 1 is the sensible default for scrapes (most of the size win, a fraction of the
// CPU of 6). Throws std::runtime_error only if zlib itself fails (out of memory).
inline void gzip_compress(std::string_view in, std::string& out, int level = 1) {
    z_stream zs{};
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("llmetrics: deflateInit2 failed");
    const std::size_t start = out.size();
    out.resize(start + deflateBound(&zs, static_cast<uLong>(in.size())));
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + start);
    zs.avail_out = static_cast<uInt>(out.size() - start);
    const int rc = deflate(&zs, Z_FINISH);
    const std::size_t produced = zs.total_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        out.resize(start);
        throw std::runtime_error("llmetrics: gzip compression failed");
    }
    out.resize(start + produced);
}

}  // namespace llmetrics::detail

#pragma once
// Snappy block compression of a remote write request (Debian's libsnappy). The
// output is built in a scratch buffer kept by the caller and copied out at its
// real size: snappy::Compress() into a std::string first zero-fills the worst
// case (about 1.17 times the input) and leaves the string holding that much,
// which is what every queued request would then keep.

#include <cstddef>
#include <string>
#include <string_view>

#include <snappy.h>

#include "../../exposition/detail/byte_buffer.hpp"

namespace llmetrics::detail {

inline std::string snappy_compress(std::string_view raw, byte_buffer& scratch) {
    scratch.resize(snappy::MaxCompressedLength(raw.size()));
    std::size_t size = 0;
    snappy::RawCompress(raw.data(), raw.size(), scratch.data(), &size);
    return std::string(scratch.data(), size);
}

}  // namespace llmetrics::detail

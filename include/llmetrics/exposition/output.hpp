#pragma once
// Where rendered text goes: any buffer that can append characters. Supported out
// of the box: std::string, fmt::memory_buffer (anything with append(first, last);
// nothing here names fmt, so it is used when the program has it and never needed),
// and std::ostream (anything with write(ptr, n)).

#include <cstddef>
#include <iosfwd>

namespace llmetrics {

template <class Out>
concept text_output = requires(Out& out, const char* p, std::size_t n) {
    out.append(p, p + n);
} || requires(Out& out, const char* p, std::size_t n) {
    out.write(p, static_cast<std::streamsize>(n));
};

}  // namespace llmetrics

#pragma once
// JSON strings and numbers as RFC 8259 writes them (the JSON encoder and the
// request log share them).

#include <cmath>
#include <cstddef>
#include <string_view>

#include "buffered_output.hpp"
#include "number_format.hpp"

namespace llmetrics::detail {


// The characters of a JSON string, without the surrounding quotes.
template <text_output Out>
void write_json_chars(Out& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    std::size_t run = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        if (i > run) put(out, text.substr(run, i - run));
        run = i + 1;
        switch (c) {
        case '"': put(out, "\\\""); break;
        case '\\': put(out, "\\\\"); break;
        case '\n': put(out, "\\n"); break;
        case '\r': put(out, "\\r"); break;
        case '\t': put(out, "\\t"); break;
        case '\b': put(out, "\\b"); break;
        case '\f': put(out, "\\f"); break;
        default: {
            const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
            put(out, std::string_view(esc, 6));
        }
        }
    }
    if (run < text.size()) put(out, text.substr(run));
}

template <text_output Out>
void write_json_string(Out& out, std::string_view text) {
    put(out, '"');
    write_json_chars(out, text);
    put(out, '"');
}

template <text_output Out>
void write_json_number(Out& out, double v) {
    if (std::isfinite(v)) {
        write_double(out, v);
    } else {
        put(out, '"');
        put(out, non_finite_spelling(v));
        put(out, '"');
    }
}

}  // namespace llmetrics::detail

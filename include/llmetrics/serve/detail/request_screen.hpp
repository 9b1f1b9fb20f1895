#pragma once
// The rules a parsed request head must pass before its body is read or it is
// routed, where Beast's parser leaves the choice to the server: framing (RFC 9112
// §6), Host (RFC 9112 §3.2), obsolete line folding (RFC 9112 §5.2) and
// expectations (RFC 9110 §10.1.1). Each refusal closes the connection afterwards
// (the caller's reply_error), so no byte of a doubtful message is read as the
// start of the next one: these are the request smuggling shapes.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>

#include "../../exposition/detail/http_tokens.hpp"

namespace llmetrics::detail {

struct request_refusal {
    boost::beast::http::status status;
    std::string_view text;  // the response body
};

// Calls f(element) for each non-empty element of a comma-separated field value.
template <class F>
void for_each_list_element(std::string_view value, F&& f) {
    while (!value.empty()) {
        const std::size_t comma = find_unquoted(value, ',');
        if (const std::string_view element = trim_http(value.substr(0, comma)); !element.empty()) f(element);
        value.remove_prefix(comma == value.size() ? comma : comma + 1);
    }
}

// True when a request asks for "100 Continue" before it sends its body; an
// HTTP/1.0 request's expectation is ignored (RFC 9110 §10.1.1).
inline bool expects_continue(const boost::beast::http::request_header<>& head) {
    if (head.version() < 11) return false;
    const auto expect = head[boost::beast::http::field::expect];
    return iequals(trim_http({expect.data(), expect.size()}), "100-continue");
}

// Why this head is refused, or nothing. `folded`: the head had an obs-fold line
// (Beast's parser joins it with spaces; head_buffer.hpp notices it).
inline std::optional<request_refusal> screen_request_head(const boost::beast::http::request_header<>& head,
                                                          bool folded) {
    namespace http = boost::beast::http;
    using status = http::status;
    // RFC 9112 §5.2: refused rather than joined, since a proxy in front may not join it.
    if (folded) return request_refusal{status::bad_request, "obsolete line folding is not accepted\n"};

    std::size_t te_lines = 0, cl_lines = 0, host_lines = 0, codings = 0, chunked_at = 0;
    bool unmet_expectation = false;
    for (const auto& f : head) {
        const std::string_view value{f.value().data(), f.value().size()};
        switch (f.name()) {
        case http::field::transfer_encoding:
            ++te_lines;
            for_each_list_element(value, [&](std::string_view coding) {
                ++codings;
                if (iequals(coding, "chunked")) chunked_at = chunked_at ? SIZE_MAX : codings;  // twice: invalid
            });
            break;
        case http::field::content_length: ++cl_lines; break;
        case http::field::host: ++host_lines; break;
        case http::field::expect:
            for_each_list_element(value, [&](std::string_view e) { unmet_expectation |= !iequals(e, "100-continue"); });
            break;
        default: break;
        }
    }
    if (te_lines > 0) {
        // Beast refuses Content-Length next to "chunked", but not next to another coding.
        // RFC 9112 §6.1: a server may reject both together (and must close after).
        if (cl_lines > 0) return request_refusal{status::bad_request, "both Transfer-Encoding and Content-Length\n"};
        // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing.
        if (head.version() < 11) return request_refusal{status::bad_request, "Transfer-Encoding in HTTP/1.0\n"};
        // RFC 9112 §6.3 (4): unless chunked is the final coding the length is unknown.
        if (chunked_at == 0 || chunked_at != codings)
            return request_refusal{status::bad_request, "chunked must be the final transfer coding\n"};
        // Well-formed chunked: refused too. Beast 1.74's chunk parser asserts on some
        // splits of a chunked body with trailers (a debug build would abort), and the
        // clients that matter send Content-Length. RFC 9110 §15.5.12.
        return request_refusal{status::length_required, "chunked request bodies are not accepted; send Content-Length\n"};
    }
    // Two Content-Length lines that differ are Beast's 400; equal ones are one
    // length (RFC 9110 §8.6 allows either).
    // RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host; more than one in any version is a 400.
    if (host_lines > 1 || (host_lines == 0 && head.version() >= 11))
        return request_refusal{status::bad_request, "a request needs exactly one Host header\n"};
    // RFC 9110 §10.1.1: an expectation the server cannot meet may get 417.
    if (unmet_expectation) return request_refusal{status::expectation_failed, "only Expect: 100-continue is supported\n"};
    return std::nullopt;
}

}  // namespace llmetrics::detail

#pragma once
// The accessors of http_request (route.hpp) that read the Beast message:
// compiled into llmetrics::serve, or inline with LLMETRICS_SERVE_HEADER_ONLY.

#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "../route.hpp"
#include "serve_inline.hpp"

namespace llmetrics {

namespace detail {
inline std::string_view view(boost::beast::string_view s) noexcept { return {s.data(), s.size()}; }
}  // namespace detail

LLMETRICS_SERVE_INLINE std::string_view http_request::method() const noexcept {
    return detail::view(message_->method_string());
}

LLMETRICS_SERVE_INLINE std::string_view http_request::target() const noexcept {
    return detail::view(message_->target());
}

LLMETRICS_SERVE_INLINE std::string_view http_request::header(std::string_view name) const noexcept {
    const auto it = message_->find(boost::beast::string_view(name.data(), name.size()));
    return it == message_->end() ? std::string_view{} : detail::view(it->value());
}

LLMETRICS_SERVE_INLINE bool http_request::has_header(std::string_view name) const noexcept {
    return message_->find(boost::beast::string_view(name.data(), name.size())) != message_->end();
}

LLMETRICS_SERVE_INLINE const std::string& http_request::body() const noexcept { return message_->body(); }

}  // namespace llmetrics

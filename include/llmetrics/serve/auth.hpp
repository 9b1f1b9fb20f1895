#pragma once
// Credentials for the /metrics endpoint: a bearer token (RFC 6750) or HTTP Basic
// (RFC 7617), checked against the Authorization header in time that depends only
// on the length of what the client sent, never on where it first differs from the
// secret.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "../exposition/detail/http_tokens.hpp"
#include "detail/base64.hpp"
#include "detail/constant_time_equal.hpp"

namespace llmetrics {

struct http_auth {
    enum class scheme { none, bearer, basic };

    static http_auth none() { return {}; }
    static http_auth bearer(std::string token) {
        http_auth a;
        a.scheme_ = token.empty() ? scheme::none : scheme::bearer;
        a.expected_ = std::move(token);
        return a;
    }
    static http_auth basic(std::string_view user, std::string_view password) {
        http_auth a;
        a.scheme_ = scheme::basic;
        std::string pair(user);
        pair += ':';
        pair += password;
        a.expected_ = detail::base64_encode(pair);
        return a;
    }

    bool enabled() const noexcept { return scheme_ != scheme::none; }
    scheme kind() const noexcept { return scheme_; }

    // True when the Authorization header value carries the configured credentials
    // (always true when no credentials are configured).
    bool check(std::string_view authorization) const noexcept {
        if (scheme_ == scheme::none) return true;
        authorization = detail::trim_http(authorization);
        const std::size_t space = authorization.find(' ');
        if (space == std::string_view::npos) return false;
        const std::string_view name = authorization.substr(0, space);
        const std::string_view credentials = detail::trim_http(authorization.substr(space + 1));
        if (!detail::iequals(name, scheme_ == scheme::bearer ? "Bearer" : "Basic")) return false;
        return detail::constant_time_equal(credentials, expected_);
    }

    // The Authorization header value a client sends with these credentials
    // ("Bearer <token>", "Basic <base64>"); empty for none.
    std::string header_value() const {
        if (scheme_ == scheme::none) return {};
        return (scheme_ == scheme::bearer ? "Bearer " : "Basic ") + expected_;
    }

    // The WWW-Authenticate challenge a 401 carries.
    std::string_view challenge() const noexcept {
        return scheme_ == scheme::basic ? std::string_view(R"(Basic realm="metrics", charset="UTF-8")")
                                        : std::string_view(R"(Bearer realm="metrics")");
    }

private:
    scheme scheme_ = scheme::none;
    std::string expected_;  // the token, or base64("user:password")
};

}  // namespace llmetrics

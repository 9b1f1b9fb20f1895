#pragma once
// An http:// URL taken apart into host, port and path prefix (the Pushgateway's).

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace llmetrics::detail {

struct http_url {
    std::string host;
    std::string port;
    std::string base_path;  // without a trailing slash
};

inline http_url parse_http_url(std::string_view url) {
    if (url.starts_with("https://"))
        throw std::invalid_argument("llmetrics: the Pushgateway client speaks plain http:// only");
    if (url.starts_with("http://")) url.remove_prefix(7);
    const std::size_t slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? std::string_view{} : url.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    http_url out;
    out.base_path = std::string(path);
    if (!authority.empty() && authority.front() == '[') {  // [::1]:9091
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) throw std::invalid_argument("llmetrics: bad URL '" + std::string(url) + "'");
        out.host = std::string(authority.substr(1, close - 1));
        authority.remove_prefix(close + 1);
        out.port = authority.starts_with(":") ? std::string(authority.substr(1)) : "80";
    } else {
        const std::size_t colon = authority.rfind(':');
        out.host = std::string(authority.substr(0, colon));
        out.port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
    }
    if (out.host.empty() || out.port.empty())
        throw std::invalid_argument("llmetrics: bad Pushgateway URL '" + std::string(url) + "' (want http://host:port)");
    return out;
}

}  // namespace llmetrics::detail

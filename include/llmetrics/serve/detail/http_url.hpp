#pragma once
// An http:// or https:// URL taken apart into scheme, host, port and path (the
// Pushgateway's prefix, the remote-write endpoint's path).

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace llmetrics::detail {

struct http_url {
    std::string host;
    std::string port;
    std::string base_path;  // without a trailing slash
    bool tls = false;       // https://
};

inline http_url parse_http_url(std::string_view url) {
    const bool tls = url.starts_with("https://");
    if (tls) url.remove_prefix(8);
    else if (url.starts_with("http://")) url.remove_prefix(7);
    const std::string default_port = tls ? "443" : "80";
    const std::size_t slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? std::string_view{} : url.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    http_url out;
    out.base_path = std::string(path);
    out.tls = tls;
    if (!authority.empty() && authority.front() == '[') {  // [::1]:9091
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) throw std::invalid_argument("llmetrics: bad URL '" + std::string(url) + "'");
        out.host = std::string(authority.substr(1, close - 1));
        authority.remove_prefix(close + 1);
        out.port = authority.starts_with(":") ? std::string(authority.substr(1)) : default_port;
    } else {
        const std::size_t colon = authority.rfind(':');
        out.host = std::string(authority.substr(0, colon));
        out.port = colon == std::string_view::npos ? default_port : std::string(authority.substr(colon + 1));
    }
    if (out.host.empty() || out.port.empty())
        throw std::invalid_argument("llmetrics: bad URL '" + std::string(url) + "' (want http[s]://host[:port][/path])");
    return out;
}

}  // namespace llmetrics::detail

#pragma once
// Declarations of the few Boost.Beast and Asio types the public serve headers
// name, so that those headers do not include Beast or Asio (the compiled mode's
// point: their cost is paid once, in the llmetrics::serve library). Code that
// uses these types' members includes the Boost headers itself. Beast declares
// `message` the same way (boost/beast/http/type_traits.hpp).

#include <memory>
#include <string>

namespace boost {
namespace beast::http {
template <bool, class, class>
class message;
template <class, class, class>
struct basic_string_body;
template <class>
class basic_fields;
}  // namespace beast::http
namespace asio {
class io_context;
namespace ip {
class tcp;
template <typename>
class basic_endpoint;
}  // namespace ip
}  // namespace asio
}  // namespace boost

namespace llmetrics::detail {

// boost::beast::http::request<boost::beast::http::string_body>, spelled out.
using beast_request =
    boost::beast::http::message<true,
                                boost::beast::http::basic_string_body<char, std::char_traits<char>, std::allocator<char>>,
                                boost::beast::http::basic_fields<std::allocator<char>>>;
// boost::asio::ip::tcp::endpoint
using tcp_endpoint = boost::asio::ip::basic_endpoint<boost::asio::ip::tcp>;

}  // namespace llmetrics::detail

// (d) The yardstick for (c): Boost.Beast's http and Asio headers, a trivial request built.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <sstream>

int main() {
    boost::asio::io_context ioc;
    boost::beast::http::request<boost::beast::http::string_body> req{boost::beast::http::verb::get, "/metrics", 11};
    req.set(boost::beast::http::field::host, "127.0.0.1");
    req.prepare_payload();
    std::ostringstream out;
    out << req;
    std::fputs(out.str().c_str(), stdout);
    ioc.run();
}

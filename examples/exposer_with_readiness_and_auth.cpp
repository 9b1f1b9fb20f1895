// Serving /metrics over HTTP. The exposer binds 127.0.0.1 (port 0: any free
// port) on threads of its own, answers /healthz (liveness) and /readyz (the
// readiness checks, 503 until all pass) and, with metrics_auth, refuses
// /metrics without the credentials. Here the program asks itself, with a
// minimal Boost.Beast client, and prints each answer's status.
#include <atomic>
#include <cstdio>
#include <string>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <llmetrics/serve.hpp>

namespace lm = llmetrics;
namespace http = boost::beast::http;

struct jobs_done_total : lm::counter<"jobs_done_total", "Jobs finished", lm::labels<"queue">> {};

// GET target from 127.0.0.1:port, with a bearer token when one is given.
std::pair<unsigned, std::string> get(unsigned short port, const char* target, const char* token = nullptr) {
    boost::asio::io_context ioc;
    boost::beast::tcp_stream stream(ioc);
    stream.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, "127.0.0.1");
    if (token) request.set(http::field::authorization, std::string("Bearer ") + token);
    http::write(stream, request);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    return {response.result_int(), response.body()};
}

int main() {
    lm::registry<jobs_done_total> metrics;  // declared first: the exposer reads it until it stops
    metrics.get<jobs_done_total>().labels("email").inc(7);

    std::atomic<bool> cache_warm{false};
    lm::exposer exposer{metrics, {.port = 0, .metrics_auth = lm::http_auth::bearer("s3cret")}};
    exposer.add_readiness_check("model-cache", [&] { return cache_warm.load(); });

    std::printf("GET /healthz            -> %u\n", get(exposer.port(), "/healthz").first);
    std::printf("GET /readyz             -> %u (cache cold)\n", get(exposer.port(), "/readyz").first);
    cache_warm = true;
    std::printf("GET /readyz             -> %u\n", get(exposer.port(), "/readyz").first);
    std::printf("GET /metrics            -> %u (no token)\n", get(exposer.port(), "/metrics").first);
    const auto [status, body] = get(exposer.port(), "/metrics", "s3cret");
    const std::string first_family = body.substr(0, body.find("# HELP", 1));
    std::printf("GET /metrics with token -> %u, first lines:\n%s", status, first_family.c_str());
    exposer.stop();
}

// libFuzzer target: the exposer's request path without a socket. The bytes go to
// Beast's request parser with the exposer's limits, fed in chunks as a network
// would deliver them; a request that parses is dispatched by the same router the
// server uses (auth on /metrics, negotiation, gzip, routes, 404/405), and the reply
// is finalized for the wire. Nothing may crash, and every reply must carry a status
// the exposer sends.

#include <llmetrics/llmetrics.hpp>
#include <llmetrics/serve/detail/request_router.hpp>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

namespace lm = llmetrics;
namespace http = boost::beast::http;

using requests_total = lm::counter<"fuzz_requests_total", "Requests", lm::labels<"method">>;

struct fixture {
    lm::registry<requests_total> metrics;
    lm::exposer_options options;
    std::unique_ptr<lm::detail::request_router> router;

    fixture() {
        metrics.get<requests_total>().labels("GET").inc(3);
        options.metrics_auth = lm::http_auth::bearer("fuzz-token");
        options.gzip_min_bytes = 0;
        router = std::make_unique<lm::detail::request_router>(
            [this](lm::format f, std::string& out) { lm::render_to(out, metrics, f); }, options,
            std::make_shared<lm::health_checks>(), std::make_shared<lm::detail::exposer_stats>());
        router->add_route("POST", "/v1/chat/completions", [](const lm::http_request& req) {
            std::string body = "{\"tenant\":\"";
            body += req.header("X-Tenant-ID");
            body += "\",\"path\":\"";
            body += req.path();
            body += "\",\"query\":\"";
            body += req.query();
            body += "\"}";
            return lm::http_response::json(req.body().empty() ? 400 : 200, std::move(body));
        }, lm::route_execution::inline_io);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fixture fx;
    if (size == 0) return 0;
    // The first byte picks the chunk size, as reads of different sizes would.
    const std::size_t chunk = 1 + data[0] % 64;
    std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

    http::request_parser<http::string_body> parser;
    parser.header_limit(4096);
    parser.body_limit(64 * 1024);
    boost::beast::error_code ec;
    std::string pending;
    while (!input.empty() && !parser.is_done()) {
        pending.append(input.substr(0, chunk));
        input.remove_prefix(std::min(chunk, input.size()));
        const std::size_t used = parser.put(boost::asio::buffer(pending), ec);
        pending.erase(0, used);
        if (ec == http::error::need_more) {
            ec = {};
            continue;
        }
        if (ec) break;
        if (parser.is_header_done() && parser.chunked()) return 0;  // the server answers 411
    }
    if (!parser.is_done()) return 0;  // the server would answer 400/431/413 or wait

    http::request<http::string_body> req = parser.release();
    http::response<http::string_body> res;
    const auto decision = fx.router->dispatch(req, res, "127.0.0.1");
    if (decision.kind == lm::detail::request_router::decision::worker_route)
        fx.router->run_route(decision.handler, req, res, "127.0.0.1");
    else if (decision.kind == lm::detail::request_router::decision::readiness)
        lm::detail::request_router::set_readiness(res, fx.router->checks().run());
    lm::detail::finalize_reply(res, &req, req.keep_alive());
    switch (res.result_int()) {
    case 200: case 400: case 401: case 404: case 405: case 500: case 503: break;
    default: std::abort();
    }
    return 0;
}

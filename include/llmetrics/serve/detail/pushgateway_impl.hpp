#pragma once
// The Pushgateway client's HTTP exchange and retry loop (pushgateway.hpp):
// compiled into llmetrics::serve by src/serve/pushgateway.cpp, or inline with
// LLMETRICS_SERVE_HEADER_ONLY.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "../pushgateway.hpp"
#include "http_client.hpp"
#include "http_url.hpp"
#include "push_retry.hpp"
#include "serve_inline.hpp"

namespace llmetrics {

LLMETRICS_SERVE_INLINE void pushgateway::send(boost::beast::http::verb method, std::string body) const {
    namespace http = boost::beast::http;
    using clock = std::chrono::steady_clock;
    using std::chrono::duration_cast;
    using std::chrono::milliseconds;
    detail::push_counters& counts = *counters_;
    counts.calls.fetch_add(1, std::memory_order_relaxed);
    const std::string what = "llmetrics: Pushgateway " + std::string(http::to_string(method)) + " http://" +
                             url_.host + ":" + url_.port + path_;

    detail::client_request req{method, path_, 11};
    req.set(http::field::host, url_.host + ":" + url_.port);
    req.set(http::field::user_agent, "llmetrics");
    if (method != http::verb::delete_) {
        const std::string_view type = content_type(body_format());
        req.set(http::field::content_type, boost::beast::string_view(type.data(), type.size()));
    }
    if (!options_.authorization.empty())
        req.set(http::field::authorization,
                boost::beast::string_view(options_.authorization.data(), options_.authorization.size()));
    req.body() = std::move(body);
    req.prepare_payload();
    req.keep_alive(false);

    const clock::time_point start = clock::now();
    const clock::time_point deadline = start + detail::push_deadline(options_);
    const unsigned max_attempts = std::max(options_.attempts, 1u);
    std::minstd_rand rng(static_cast<std::uint_fast32_t>(start.time_since_epoch().count() ^
                                                         reinterpret_cast<std::uintptr_t>(this)));
    detail::http_answer a;
    unsigned attempt = 1;
    bool deadline_hit = false;
    for (;; ++attempt) {
        const milliseconds left = duration_cast<milliseconds>(deadline - clock::now());
        a = detail::http_exchange(url_, req, std::max(milliseconds(1), std::min(left, options_.timeout)));
        if (a.status >= 200 && a.status <= 299) return;
        if (a.status == 0) counts.no_answer.fetch_add(1, std::memory_order_relaxed);
        else if (detail::push_retriable(a.status)) counts.server_errors.fetch_add(1, std::memory_order_relaxed);
        else counts.rejected.fetch_add(1, std::memory_order_relaxed);
        if (!detail::push_retriable(a.status) || attempt >= max_attempts) break;
        const milliseconds wait = detail::push_backoff(options_, attempt, rng);
        if (clock::now() + wait >= deadline) {  // no time left for another attempt
            deadline_hit = true;
            break;
        }
        std::this_thread::sleep_for(wait);
        counts.retries.fetch_add(1, std::memory_order_relaxed);
    }
    counts.failed.fetch_add(1, std::memory_order_relaxed);
    std::string message = what + (a.status == 0 ? ": " + a.error
                                                : " failed: HTTP " + std::to_string(a.status) + " " + a.reason);
    if (a.status != 0 && !a.body.empty()) message += ": " + a.body.substr(0, 512);
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
    if (attempt > 1 || deadline_hit) {
        const auto took = duration_cast<milliseconds>(clock::now() - start).count();
        message += " (gave up after " + std::to_string(attempt) + (attempt == 1 ? " attempt" : " attempts") +
                   " in " + std::to_string(took) + " ms" + (deadline_hit ? ", at the deadline)" : ")");
    }
    throw pushgateway_error(message, a.status, std::move(a.body), attempt);
}

LLMETRICS_SERVE_INLINE void pushgateway::send_as(push_method m, std::string body) const {
    namespace http = boost::beast::http;
    send(m == push_method::put ? http::verb::put : m == push_method::post ? http::verb::post : http::verb::delete_,
         std::move(body));
}

}  // namespace llmetrics

#pragma once
// The tutorial's HTTP middleware as a timer any HTTP framework can use: start it
// when a request arrives, finish it when the response is sent. finish() records
// both HTTP families of the catalog:
//
//   http_requests_total{method, route, status_code, tenant_id}            + 1
//   http_request_duration_seconds{method, route, tenant_id}               observe(elapsed)
//
// An empty tenant is recorded as "unknown" (the tutorial's
// `req.auth?.getTenantId() || 'unknown'`); pass the route pattern ("/users/:id"),
// not the raw path, to keep cardinality bounded.
//
//     // Boost.Beast, Crow, Drogon, a hand-written server...:
//     llmetrics::http_request_timer timer{metrics};
//     auto response = handle(request);
//     timer.finish(request.method_string(), "/api/inference", response.result_int(), tenant);
//
// While a trace context is current (scoped_trace_context) both records carry
// its trace id as an exemplar, shown in OpenMetrics output.
//
// A timer records once: later finish() calls return false and do nothing. A
// timer that is never finished records nothing. It is a small value (copy it into
// an asynchronous completion handler freely; each copy records at most once).

#include <charconv>
#include <cstdint>
#include <string_view>

#include "catalog.hpp"
#include "guards.hpp"
#include "../registry/holds.hpp"
#include "../core/clock.hpp"
#include "trace_context.hpp"

namespace llmetrics {

template <class Registry>
class http_request_timer {
    static_assert(registry_has_role_v<Registry, catalog::http_requests_total> ||
                      registry_has_role_v<Registry, catalog::http_request_duration_seconds>,
                  "llmetrics: http_request_timer needs a registry holding catalog::http_requests_total and/or "
                  "catalog::http_request_duration_seconds (e.g. llmetrics::catalog_registry)");

public:
    explicit http_request_timer(Registry& metrics, time_source clock = {}) noexcept
        : metrics_(&metrics), clock_(clock), start_ns_(clock.now_ns()) {}

    bool finish(std::string_view method, std::string_view route, int status_code, std::string_view tenant_id = {}) {
        char text[16];
        const auto [end, ec] = std::to_chars(text, text + sizeof text, status_code);
        const std::string_view code = ec == std::errc{} ? std::string_view(text, static_cast<std::size_t>(end - text))
                                                        : std::string_view("unknown");
        return finish(method, route, code, tenant_id);
    }

    bool finish(std::string_view method, std::string_view route, std::string_view status_code,
                std::string_view tenant_id = {}) {
        if (finished_) return false;
        finished_ = true;
        const double seconds = elapsed_seconds();
        const std::string_view tenant = detail::or_unknown(tenant_id);
        detail::with_trace_exemplar([&](auto ex) {
            if constexpr (registry_has_role_v<Registry, catalog::http_requests_total>)
                detail::inc_traced(metrics_->template get<registry_role_t<Registry, catalog::http_requests_total>>()
                                       .labels(method, route, status_code, tenant),
                                   ex);
            if constexpr (registry_has_role_v<Registry, catalog::http_request_duration_seconds>)
                detail::observe_traced(
                    metrics_->template get<registry_role_t<Registry, catalog::http_request_duration_seconds>>()
                        .labels(method, route, tenant),
                    seconds, ex);
        });
        return true;
    }

    double elapsed_seconds() const noexcept { return clock_.seconds_since(start_ns_); }
    bool finished() const noexcept { return finished_; }

    // Starts again from now (e.g. a timer kept per keep-alive connection).
    void restart() noexcept {
        start_ns_ = clock_.now_ns();
        finished_ = false;
    }

private:
    Registry* metrics_;
    time_source clock_;
    std::int64_t start_ns_;
    bool finished_ = false;
};

}  // namespace llmetrics

#pragma once
// RAII guards for the tutorial's two gauges. A guard adds to its gauge when it
// is made and takes the same amount away when it is destroyed, so an exception
// (or an early return) between the two cannot leave a count behind:
//
//     void handle(request& req) {
//         llmetrics::connection_guard connection{metrics, req.tenant};   // active_connections{tenant} + 1
//         llmetrics::queue_guard queued{metrics, "inference", req.tenant}; // queue_depth{inference, tenant} + 1
//         wait_for_slot();                                                  // may throw
//         queued.release();                                                 // dequeued: - 1 now
//         run(req);                                                         // may throw
//     }                                                                     // connection - 1
//
// Guards move (the moved-from one no longer owns the count) and never copy.
// Any gauge series can be guarded with gauge_guard directly.

#include <string_view>
#include <utility>

#include "../storage/series.hpp"
#include "catalog.hpp"
#include "gateway_catalog.hpp"
#include "../registry/holds.hpp"

namespace llmetrics {

class gauge_guard {
public:
    gauge_guard() noexcept = default;
    explicit gauge_guard(gauge_series& gauge, double amount = 1.0) noexcept : gauge_(&gauge), amount_(amount) {
        gauge.add(amount);
    }
    gauge_guard(const gauge_guard&) = delete;
    gauge_guard& operator=(const gauge_guard&) = delete;
    gauge_guard(gauge_guard&& other) noexcept
        : gauge_(std::exchange(other.gauge_, nullptr)), amount_(other.amount_) {}
    gauge_guard& operator=(gauge_guard&& other) noexcept {
        if (this != &other) {
            release();
            gauge_ = std::exchange(other.gauge_, nullptr);
            amount_ = other.amount_;
        }
        return *this;
    }
    ~gauge_guard() { release(); }

    // Gives the amount back now (at most once).
    void release() noexcept {
        if (gauge_) std::exchange(gauge_, nullptr)->sub(amount_);
    }
    bool active() const noexcept { return gauge_ != nullptr; }

private:
    gauge_series* gauge_ = nullptr;
    double amount_ = 0.0;
};

namespace detail {
inline std::string_view or_unknown(std::string_view v) noexcept { return v.empty() ? std::string_view("unknown") : v; }
}  // namespace detail

// active_connections{tenant_id} + 1 for the guard's life (empty tenant: "unknown").
class connection_guard : public gauge_guard {
public:
    connection_guard() noexcept = default;
    template <class Registry>
    connection_guard(Registry& metrics, std::string_view tenant_id)
        : gauge_guard(series(metrics, tenant_id)) {}

private:
    template <class Registry>
    static gauge_series& series(Registry& metrics, std::string_view tenant_id) {
        static_assert(registry_has_role_v<Registry, catalog::active_connections>,
                      "llmetrics: connection_guard needs a registry holding catalog::active_connections "
                      "(e.g. llmetrics::catalog_registry)");
        return metrics.template get<registry_role_t<Registry, catalog::active_connections>>().labels(detail::or_unknown(tenant_id));
    }
};

// queue_depth{queue_type, tenant_id} + 1 for the guard's life, or until release().
class queue_guard : public gauge_guard {
public:
    queue_guard() noexcept = default;
    template <class Registry>
    queue_guard(Registry& metrics, std::string_view queue_type, std::string_view tenant_id)
        : gauge_guard(series(metrics, queue_type, tenant_id)) {}

private:
    template <class Registry>
    static gauge_series& series(Registry& metrics, std::string_view queue_type, std::string_view tenant_id) {
        static_assert(registry_has_role_v<Registry, catalog::queue_depth>,
                      "llmetrics: queue_guard needs a registry holding catalog::queue_depth "
                      "(e.g. llmetrics::catalog_registry)");
        return metrics.template get<registry_role_t<Registry, catalog::queue_depth>>().labels(queue_type, detail::or_unknown(tenant_id));
    }
};

// requests_queued{model_id} + 1 for the guard's life, or until release()
// (catalog::gateway; empty model: "unknown").
class model_queue_guard : public gauge_guard {
public:
    model_queue_guard() noexcept = default;
    template <class Registry>
    model_queue_guard(Registry& metrics, std::string_view model_id) : gauge_guard(series(metrics, model_id)) {}

private:
    template <class Registry>
    static gauge_series& series(Registry& metrics, std::string_view model_id) {
        static_assert(registry_has_role_v<Registry, catalog::gateway::requests_queued>,
                      "llmetrics: model_queue_guard needs a registry holding catalog::gateway::requests_queued "
                      "(e.g. llmetrics::llm_router_gateway_registry)");
        return metrics.template get<registry_role_t<Registry, catalog::gateway::requests_queued>>().labels(
            detail::or_unknown(model_id));
    }
};

}  // namespace llmetrics

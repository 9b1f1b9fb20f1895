#pragma once
// The tutorial's recording helpers (`recordModelInference`, `recordError`,
// `recordCacheOperation`, `recordModelLoad`, `updateActiveConnections`,
// `updateQueueDepth`) as free functions over any registry that holds the
// catalog families they touch. As in the tutorial, an empty tenant (and an empty
// model in record_error) is recorded as "unknown". Durations are seconds, or any
// std::chrono::duration.
//
//     llmetrics::catalog_registry metrics;
//     llmetrics::record_cache_operation(metrics, "model", /*hit=*/true, "tenant-a");
//     llmetrics::update_queue_depth(metrics, "inference", 3, "tenant-a");
//     llmetrics::record_error(metrics, "TimeoutError", "gpt-4", "tenant-a");
//
// Each call looks its series up by label values (a hash probe, no lock once the
// series exists). On a hot path keep the handle instead:
// `auto& hits = metrics.get<catalog::cache_hits_total>().labels("model", "tenant-a");`.

#include <chrono>
#include <optional>
#include <string_view>

#include "../core/labels.hpp"
#include "catalog.hpp"
#include "guards.hpp"
#include "../registry/holds.hpp"

namespace llmetrics {

namespace detail {
template <class Registry, class F>
auto& catalog_family(Registry& metrics) {
    static_assert(registry_has_role_v<Registry, F>,
                  "llmetrics: this registry does not hold the catalog family the helper records; use "
                  "llmetrics::catalog_registry or add the family from llmetrics::catalog to registry<...>");
    if constexpr (registry_has_role_v<Registry, F>) return metrics.template get<registry_role_t<Registry, F>>();
}

template <class Rep, class Period>
double to_seconds(std::chrono::duration<Rep, Period> d) noexcept {
    return std::chrono::duration<double>(d).count();
}
inline double to_seconds(double seconds) noexcept { return seconds; }
}  // namespace detail

// model_inference_total{status}; on success also the duration, tokens and, when
// a cost is given, the cost in cents (cost x 100).
template <class Registry, class Duration>
void record_model_inference(Registry& metrics, std::string_view model_id, std::string_view strategy,
                            Duration duration, double tokens, std::optional<double> cost,
                            std::string_view tenant_id, bool success = true) {
    const std::string_view tenant = detail::or_unknown(tenant_id);
    auto& total = detail::catalog_family<Registry, catalog::model_inference_total>(metrics);
    if (!success) {
        total.labels(model_id, strategy, value<"error">, tenant).inc();
        return;
    }
    total.labels(model_id, strategy, value<"success">, tenant).inc();
    detail::catalog_family<Registry, catalog::model_inference_duration_seconds>(metrics)
        .labels(model_id, strategy, tenant)
        .observe(detail::to_seconds(duration));
    detail::catalog_family<Registry, catalog::model_inference_tokens>(metrics)
        .labels(model_id, strategy, tenant)
        .observe(tokens);
    if (cost)
        detail::catalog_family<Registry, catalog::request_cost_cents>(metrics).labels(model_id, tenant).observe(*cost * 100.0);
}

template <class Registry>
void record_error(Registry& metrics, std::string_view error_type, std::string_view model_id = {},
                  std::string_view tenant_id = {}) {
    detail::catalog_family<Registry, catalog::errors_total>(metrics)
        .labels(error_type, detail::or_unknown(model_id), detail::or_unknown(tenant_id))
        .inc();
}

template <class Registry>
void record_cache_operation(Registry& metrics, std::string_view cache_type, bool hit, std::string_view tenant_id = {}) {
    if (hit)
        detail::catalog_family<Registry, catalog::cache_hits_total>(metrics)
            .labels(cache_type, detail::or_unknown(tenant_id))
            .inc();
    else
        detail::catalog_family<Registry, catalog::cache_misses_total>(metrics)
            .labels(cache_type, detail::or_unknown(tenant_id))
            .inc();
}

// model_load_time_seconds{model_id, format, loader}; an empty loader is "auto".
template <class Registry, class Duration>
void record_model_load(Registry& metrics, std::string_view model_id, std::string_view format,
                       std::string_view loader, Duration load_time) {
    detail::catalog_family<Registry, catalog::model_load_time_seconds>(metrics)
        .labels(detail::or_unknown(model_id), detail::or_unknown(format), loader.empty() ? std::string_view("auto") : loader)
        .observe(detail::to_seconds(load_time));
}

template <class Registry>
void update_active_connections(Registry& metrics, double count, std::string_view tenant_id = {}) {
    detail::catalog_family<Registry, catalog::active_connections>(metrics).labels(detail::or_unknown(tenant_id)).set(count);
}

template <class Registry>
void update_queue_depth(Registry& metrics, std::string_view queue_type, double depth, std::string_view tenant_id = {}) {
    detail::catalog_family<Registry, catalog::queue_depth>(metrics)
        .labels(queue_type, detail::or_unknown(tenant_id))
        .set(depth);
}

}  // namespace llmetrics

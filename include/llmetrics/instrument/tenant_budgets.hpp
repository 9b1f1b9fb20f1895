#pragma once
// Spend and budget per tenant, kept consistent: one spend() adds to
// tenant_spend_cents_total and takes the same amount from
// tenant_budget_remaining_cents (instrument/gateway_catalog.hpp), so the two
// never disagree by a request.
//
//     llmetrics::tenant_budgets budgets{metrics};
//     budgets.set_budget("tenant-a", 50'000);      // remaining = 50000 cents
//     router.attach(budgets);                       // monitored_router spends for each call
//     router.process(prompt, options);              // result cost c: spend += c, remaining -= c
//     budgets.spend("tenant-b", 12);                // by hand; no budget: spend only
//
// monitored_router records the spend of every call whose result reports a cost
// (result_traits' usage.cost, x 100 as cents) and, once attach()ed, charges the
// same cents to the budget here (charge_budget()); call spend() only for costs
// that do not go through a router.
//
// Only tenants given a budget have a remaining-budget series, so "remaining <= 0"
// means a budget ran out, never "this tenant has none". set_budget() again
// replaces the remaining amount (a new period); remove_budget() drops the series.
//
// Thread-safe: a shared mutex guards the table of budgeted tenants (spends share
// it; set_budget() and remove_budget() take it alone); the series themselves are
// lock-free. Keep one tenant_budgets per registry.

#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "../registry/holds.hpp"
#include "../storage/series.hpp"
#include "gateway_catalog.hpp"

namespace llmetrics {

namespace detail {
// A function call, not an expression, in the static_assert: compilers then print
// the message alone.
template <class Registry>
constexpr bool holds_spend_and_budget() {
    return registry_has_role_v<Registry, catalog::gateway::tenant_spend_cents_total> &&
           registry_has_role_v<Registry, catalog::gateway::tenant_budget_remaining_cents>;
}
}  // namespace detail

template <class Registry>
class tenant_budgets {
    static_assert(detail::holds_spend_and_budget<Registry>(),
                  "llmetrics: tenant_budgets needs a registry holding catalog::gateway::tenant_spend_cents_total "
                  "and catalog::gateway::tenant_budget_remaining_cents (e.g. llm_router_gateway_registry)");

public:
    explicit tenant_budgets(Registry& metrics) noexcept : metrics_(&metrics) {}

    // The tenant's remaining budget is `cents` from now.
    void set_budget(std::string_view tenant_id, double cents) {
        std::unique_lock lock(mutex_);
        gauge_series& remaining = budget_family().labels(tenant_id);
        remaining.set(cents);
        budgeted_.insert_or_assign(std::string(tenant_id), &remaining);
    }

    // The tenant no longer has a budget: its remaining series goes.
    void remove_budget(std::string_view tenant_id) {
        std::unique_lock lock(mutex_);
        if (const auto it = budgeted_.find(tenant_id); it != budgeted_.end()) budgeted_.erase(it);
        budget_family().remove(tenant_id);
    }

    // Spent `cents` (>= 0): added to the tenant's spend and, when it has a budget,
    // taken from what remains.
    void spend(std::string_view tenant_id, double cents) {
        if (!(cents > 0)) return;  // nothing spent (or not a number)
        std::shared_lock lock(mutex_);
        metrics_->template get<registry_role_t<Registry, catalog::gateway::tenant_spend_cents_total>>()
            .labels(tenant_id)
            .inc(cents);
        charge_locked(tenant_id, cents);
    }

    // Takes `cents` (> 0) from the tenant's budget, when it has one, and adds
    // nothing to its spend: what monitored_router calls once attach()ed, after it
    // recorded the spend itself.
    void charge_budget(std::string_view tenant_id, double cents) {
        if (!(cents > 0)) return;
        std::shared_lock lock(mutex_);
        charge_locked(tenant_id, cents);
    }

    bool has_budget(std::string_view tenant_id) const {
        std::shared_lock lock(mutex_);
        return budgeted_.find(tenant_id) != budgeted_.end();
    }

private:
    void charge_locked(std::string_view tenant_id, double cents) {
        if (const auto it = budgeted_.find(tenant_id); it != budgeted_.end()) it->second->sub(cents);
    }

    auto& budget_family() {
        return metrics_->template get<registry_role_t<Registry, catalog::gateway::tenant_budget_remaining_cents>>();
    }

    Registry* metrics_;
    mutable std::shared_mutex mutex_;  // the table; a budget changes apart from spends
    std::map<std::string, gauge_series*, std::less<>> budgeted_;
};

}  // namespace llmetrics

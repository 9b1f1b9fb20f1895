// expect: compiles
#include <llmetrics/instrument/tenant_budgets.hpp>
namespace lm = llmetrics;
int main() {
    lm::registry<lm::catalog::errors_total, lm::catalog::gateway::tenant_spend_cents_total,
                 lm::catalog::gateway::tenant_budget_remaining_cents>
        metrics;
    lm::tenant_budgets budgets{metrics};
    budgets.spend("tenant-a", 12);
}

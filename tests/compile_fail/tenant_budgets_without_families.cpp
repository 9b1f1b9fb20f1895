// expect-error: llmetrics: tenant_budgets needs a registry holding catalog::gateway::tenant_spend_cents_total
#include <llmetrics/instrument/tenant_budgets.hpp>
namespace lm = llmetrics;
int main() {
    lm::registry<lm::catalog::errors_total> metrics;  // no spend or budget family
    lm::tenant_budgets budgets{metrics};
    budgets.spend("tenant-a", 12);
}

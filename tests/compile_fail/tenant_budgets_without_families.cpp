// expect-error: llmetrics: tenant_budgets needs a registry holding catalog::gateway::tenant_spend_cents_total
#include <llmetrics/instrument/tenant_budgets.hpp>
namespace lm = llmetrics;
int main() {
    lm::catalog_registry metrics;  // the tutorial's twelve: no spend or budget families
    lm::tenant_budgets budgets{metrics};
    budgets.spend("tenant-a", 12);
}

// expect-error: llmetrics: a role_row lists its labels in another order than the family declares them
// monitored_router's role table: a row naming two labels of its family in swapped order.
#include <llmetrics/instrument/detail/router_roles.hpp>
namespace d = llmetrics::detail;
using row = d::role_row<llmetrics::catalog::request_cost_cents, d::call_event::success, d::cost_cents,
                        d::from<"tenant_id", &d::call_facts::tenant_id>, d::from<"model_id", &d::call_facts::model>>;
int main() { return row::cached ? 0 : 1; }

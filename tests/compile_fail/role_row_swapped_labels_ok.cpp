// expect: compiles
// monitored_router's role table: the row in the family's label order.
#include <llmetrics/instrument/detail/router_roles.hpp>
namespace d = llmetrics::detail;
using row = d::role_row<llmetrics::catalog::request_cost_cents, d::call_event::success, d::cost_cents,
                        d::from<"model_id", &d::call_facts::model>, d::from<"tenant_id", &d::call_facts::tenant_id>>;
int main() { return row::cached ? 0 : 1; }

// expect-error: llmetrics: lm::value<.*> is not in the value_set
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::counter<"c_total", "h", lm::labels<"status">, lm::value_set<"status", "success", "error">>;
int main() { lm::registry<f> r; r.get<f>().labels(lm::value<"ok">).inc(); }

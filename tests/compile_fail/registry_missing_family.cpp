// expect-error: llmetrics: this registry does not hold that family
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using a = lm::counter<"c_total", "h">;
using b = lm::counter<"d_total", "h">;
int main() { lm::registry<a> r; r.get<b>().labels().inc(); }

// expect-error: llmetrics: a registry prefix must match
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using a = lm::counter<"c_total", "h">;
int main() { lm::registry<lm::prefix<"llm-router_">, a> r; (void)r; }

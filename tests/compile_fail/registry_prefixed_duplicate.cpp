// expect-error: llmetrics: two families in one registry have the same name
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using a = lm::gauge<"x_depth", "h">;
using b = lm::gauge<"x_depth", "h">;
int main() { lm::registry<lm::prefix<"svc_">, a, b> r; (void)r; }

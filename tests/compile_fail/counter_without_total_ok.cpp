// expect: compiles
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::counter<"requests_total", "h">;
int main() { lm::registry<f> r; (void)r; }

// expect-error: llmetrics: a counter's name must end in
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::counter<"requests", "h">;
int main() { lm::registry<f> r; (void)r; }

// expect-error: llmetrics: two families in one registry have the same name
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using a = lm::counter<"c_total", "h">;
using b = lm::counter<"c_total", "other help">;
int main() { lm::registry<a, b> r; (void)r; }

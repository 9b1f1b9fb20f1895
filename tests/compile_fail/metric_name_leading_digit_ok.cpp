// expect: compiles
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::gauge<"rate_5xx:per_route", "h">;
int main() { lm::registry<f> r; (void)r; }

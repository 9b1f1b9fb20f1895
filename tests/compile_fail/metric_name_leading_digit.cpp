// expect-error: llmetrics: a metric name must match
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::gauge<"5xx_rate", "h">;
int main() { lm::registry<f> r; (void)r; }

// expect-error: llmetrics: native_schema<S> needs S in -4 \.\.\. 8
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::native_histogram<"h_seconds", "h", lm::labels<>, lm::native_schema<9>>;
int main() { lm::registry<f> r; (void)r; }

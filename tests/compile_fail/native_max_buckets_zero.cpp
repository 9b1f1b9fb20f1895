// expect-error: llmetrics: native_max_buckets<N> needs 1 <= N <= 65536
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::native_histogram<"h_seconds", "h", lm::labels<>, lm::native_max_buckets<0>>;
int main() { lm::registry<f> r; (void)r; }

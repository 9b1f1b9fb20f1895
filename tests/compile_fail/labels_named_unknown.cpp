// expect-error: llmetrics: lm::label<.{1,3}name.{1,3}> names must be exactly
#include <string>
#include <string_view>
#include <llmetrics/registry/registry.hpp>
namespace lm = llmetrics;
using f = lm::counter<"c_total", "h", lm::labels<"a", "b">>;
int main() { lm::registry<f> r; r.get<f>().labels(lm::label<"a">{"x"}, lm::label<"c">{"y"}).inc(); }

// Bounding cardinality. A label with a closed set of values (value_set) becomes
// an index into a fixed table: every value of the set is exported from the first
// use. max_series<N> bounds the label sets of a family: past N, new label sets
// share one series whose labels read "__overflow__", so a flood of tenants cannot
// grow memory without bound. A value outside its set goes there too. Both are
// counted in dropped() and in llmetrics_series_dropped_total.
#include <cstdio>
#include <string>

#include <llmetrics/llmetrics.hpp>

namespace lm = llmetrics;

struct inference_total
    : lm::counter<"inference_total", "Inferences by tenant and outcome", lm::labels<"tenant_id", "status">,
                  lm::value_set<"status", "success", "error">, lm::max_series<2>> {};

int main() {
    lm::registry<inference_total> metrics;
    auto& family = metrics.get<inference_total>();

    family.labels("tenant-a", lm::value<"success">).inc();  // checked against the set when compiling
    family.labels("tenant-a", "error").inc();
    family.labels("tenant-b", "success").inc(2);
    family.labels("tenant-c", "success").inc();  // a third tenant: the overflow series
    family.labels("tenant-d", "error").inc();    // and a fourth
    family.labels("tenant-a", "timeout").inc();  // not in the value set: overflow too

    std::fputs(lm::render(metrics, lm::format::prometheus).c_str(), stdout);
    std::printf("dropped: %llu\n", static_cast<unsigned long long>(family.dropped()));
}

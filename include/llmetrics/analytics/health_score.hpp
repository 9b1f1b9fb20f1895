#pragma once
// The tutorial's system health score, from the latest memory and lag samples:
//   100
//   -30 if memory use > 0.90, else -15 if memory use > 0.70
//   -20 if scheduling lag > 100 ms, else -10 if lag > 50 ms
// (never below 0). A missing input costs nothing.
//
// "Memory use" here is resident memory over the memory the process may use:
// rss / memoryLimit of the latest memory_usage sample, where memoryLimit is the
// physical RAM or the cgroup memory limit, whichever is lower. The tutorial's
// heapUsed / heapTotal ratio is not used: for malloc it measures how much of the
// memory the allocator holds is in use (fragmentation), not memory pressure, and
// not every allocator reports it. "Lag" is the `lag` field of the latest
// scheduling_lag sample: how late the sampler's periodic timer fired.

#include <algorithm>
#include <optional>

#include "system_metrics.hpp"

namespace llmetrics {

inline int system_health_score(std::optional<double> memory_use, std::optional<double> lag_ms) noexcept {
    int score = 100;
    if (memory_use) {
        if (*memory_use > 0.9) score -= 30;
        else if (*memory_use > 0.7) score -= 15;
    }
    if (lag_ms) {
        if (*lag_ms > 100) score -= 20;
        else if (*lag_ms > 50) score -= 10;
    }
    return std::max(0, score);
}

inline int system_health_score(const system_metric_store& store) {
    std::optional<double> memory, lag;
    if (auto m = store.latest(system_metric::memory_usage)) {
        const auto rss = m->field(system_field::rss);
        const auto limit = m->field(system_field::memory_limit);
        if (rss && limit && *limit > 0) memory = *rss / *limit;  // a limit that is not positive says nothing
    }
    if (auto l = store.latest(system_metric::scheduling_lag)) lag = l->field(system_field::lag);
    return system_health_score(memory, lag);
}

}  // namespace llmetrics

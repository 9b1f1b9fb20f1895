#pragma once
// Seconds since the Unix epoch from the system clock, as Prometheus timestamps are written.

#include <chrono>

namespace llmetrics::detail {

inline double unix_time_seconds() noexcept {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace llmetrics::detail

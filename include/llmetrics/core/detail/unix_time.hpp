#pragma once
// Seconds since the Unix epoch from the system clock, as Prometheus timestamps are written.

#include <chrono>

namespace llmetrics::detail {

// Whole microseconds (the double nearest to micros / 10^6): enough for any
// timestamp a scrape shows, and the exposition then spells it without a
// shortest-digits search (exposition/detail/number_format.hpp, write_timestamp).
inline double unix_time_seconds() noexcept {
    using namespace std::chrono;
    return static_cast<double>(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()) / 1e6;
}

}  // namespace llmetrics::detail

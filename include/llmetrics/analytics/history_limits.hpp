#pragma once
// How far a history may grow before it is trimmed, the way the tutorial bounds
// its arrays: once it holds more than `high` entries it keeps only the latest
// `keep` (analytics_options::history and ::user_history).

#include <cstddef>
#include <stdexcept>

namespace llmetrics {

struct history_limits {
    std::size_t high = 1000;  // trim once the size goes past this
    std::size_t keep = 500;   // ... down to this many (the latest ones)

    void validate() const {
        if (keep == 0 || keep > high)
            throw std::invalid_argument("llmetrics: history_limits needs 0 < keep <= high");
    }
};

}  // namespace llmetrics

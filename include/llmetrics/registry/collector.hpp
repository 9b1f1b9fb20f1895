#pragma once
// Runtime collectors contribute whole families at scrape time (process metrics,
// GPU metrics, analytics). They are registered on a registry and called from the
// scraping thread; an implementation must be safe to call concurrently with the
// application's own threads, and should leave out a series it cannot read rather
// than report a made-up value.

#include <vector>

#include "../core/snapshot.hpp"

namespace llmetrics {

class collector {
public:
    virtual ~collector() = default;
    // Appends this collector's families to `out`. Must not throw for ordinary
    // read failures (skip the series instead).
    virtual void collect(std::vector<family_snapshot>& out) = 0;
};

}  // namespace llmetrics

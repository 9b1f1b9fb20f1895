#pragma once
// llmetrics: compile-time typed Prometheus metrics for C++20.
// Umbrella header: everything except the HTTP server (include
// <llmetrics/serve/exposer.hpp> for that; it needs Boost.Beast).

#include "core/metric_type.hpp"
#include "core/fixed_string.hpp"
#include "core/labels.hpp"
#include "core/buckets.hpp"
#include "core/options.hpp"
#include "core/family.hpp"
#include "storage/series.hpp"
#include "storage/family.hpp"
#include "registry/registry.hpp"
#include "core/version.hpp"
#include "registry/snapshot.hpp"
#include "registry/collector.hpp"
#include "exposition/output.hpp"
#include "exposition/encoder.hpp"
#include "collectors/process_collector.hpp"
#include "collectors/scheduling_lag_collector.hpp"
#include "collectors/gpu_collector.hpp"

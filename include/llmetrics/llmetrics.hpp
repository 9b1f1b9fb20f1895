#pragma once
// llmetrics: compile-time typed Prometheus metrics for C++20.
// Umbrella header of the llmetrics::core target: families, storage, the
// registry, the exposition formats and the process/GPU collectors. Needs only
// Boost.Hana and threads. The other targets have their own umbrella headers:
// instrument.hpp (monitored_router, HTTP timing), analytics.hpp, operate.hpp
// (rules, dashboards), serve.hpp (HTTP exposer, Pushgateway), all.hpp.

#include "core/buckets.hpp"
#include "core/encoder.hpp"
#include "core/family.hpp"
#include "core/fixed_string.hpp"
#include "core/labels.hpp"
#include "core/metric_type.hpp"
#include "core/options.hpp"
#include "core/sample.hpp"
#include "core/snapshot.hpp"
#include "core/version.hpp"
#include "storage/exemplar.hpp"
#include "storage/family_store.hpp"
#include "storage/series.hpp"
#include "registry/collector.hpp"
#include "registry/registry.hpp"
#include "exposition/canonical_number.hpp"
#include "exposition/format.hpp"
#include "exposition/json.hpp"
#include "exposition/negotiate.hpp"
#include "exposition/openmetrics.hpp"
#include "exposition/output.hpp"
#include "exposition/prometheus_text.hpp"
#include "exposition/render.hpp"
#include "collectors/gpu_collector.hpp"
#include "collectors/process_collector.hpp"
#include "collectors/scheduling_lag_collector.hpp"

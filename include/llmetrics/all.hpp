#pragma once
// Everything llmetrics has (CMake target llmetrics::llmetrics): the core, the
// instrumentation, analytics, operations (rules, dashboards) and the HTTP layer.
// Prefer the umbrella of the one target you link; this one is for applications
// that use them all.

#include "llmetrics.hpp"
#include "instrument.hpp"
#include "analytics.hpp"
#include "operate.hpp"
#include "serve.hpp"

#pragma once
// Umbrella header of the llmetrics::operate target (needs nlohmann_json): the
// instrumentation (instrument.hpp) and what operates a service built on it:
// SLOs, Prometheus alerting and recording rules, the Grafana dashboard.

#include "instrument.hpp"

#include "operate/dashboard.hpp"
#include "operate/promql.hpp"
#include "operate/rules.hpp"
#include "operate/slo.hpp"

#pragma once
// llmetrics' operations layer: <llmetrics/instrument.hpp> plus SLOs, PromQL,
// Prometheus rules and Grafana dashboards (link llmetrics::operate in CMake; needs
// nlohmann_json).

#include "instrument.hpp"
#include "operate/dashboard.hpp"
#include "operate/promql.hpp"
#include "operate/request_log.hpp"
#include "operate/rules.hpp"
#include "operate/slo.hpp"

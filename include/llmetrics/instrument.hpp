#pragma once
// Umbrella header of the llmetrics::instrument target: the core (llmetrics.hpp)
// and the instrumentation of an LLM router: the tutorial's and the GenAI
// catalogs, monitored_router, the recording helpers and guards, the HTTP timer,
// trace contexts and the JSON-lines request log.

#include "llmetrics.hpp"

#include "instrument/cancellation.hpp"
#include "instrument/catalog.hpp"
#include "instrument/error_type.hpp"
#include "instrument/gateway_catalog.hpp"
#include "instrument/genai_catalog.hpp"
#include "instrument/guards.hpp"
#include "instrument/http_request_timer.hpp"
#include "instrument/label_defaults.hpp"
#include "instrument/llm_router.hpp"
#include "instrument/monitored_router.hpp"
#include "instrument/recorders.hpp"
#include "instrument/request_log.hpp"
#include "instrument/routing_report.hpp"
#include "instrument/tenant_budgets.hpp"
#include "core/clock.hpp"
#include "core/tsc_clock.hpp"
#include "instrument/trace_context.hpp"
#include "registry/holds.hpp"

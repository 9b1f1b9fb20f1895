#pragma once
// llmetrics' instrumentation: <llmetrics/llmetrics.hpp> plus the llm_router
// concept, monitored_router, the HTTP request timer, the catalogs and the trace
// context (link llmetrics::instrument in CMake).

#include "llmetrics.hpp"
#include "instrument/catalog.hpp"
#include "instrument/genai_catalog.hpp"
#include "instrument/guards.hpp"
#include "instrument/http_request_timer.hpp"
#include "instrument/llm_router.hpp"
#include "instrument/monitored_router.hpp"
#include "instrument/recorders.hpp"
#include "instrument/trace_context.hpp"

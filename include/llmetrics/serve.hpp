#pragma once
// llmetrics' opt-in HTTP layer: the exposer (/metrics, /healthz, /readyz, extra
// routes), readiness checks and the Pushgateway client. Needs Boost.Beast/Asio and
// zlib (link llmetrics::serve in CMake). Not part of <llmetrics/llmetrics.hpp>.

#include "llmetrics.hpp"
#include "serve/auth.hpp"
#include "serve/base64.hpp"
#include "serve/exposer.hpp"
#include "serve/gzip.hpp"
#include "serve/health.hpp"
#include "serve/pushgateway.hpp"
#include "serve/route.hpp"

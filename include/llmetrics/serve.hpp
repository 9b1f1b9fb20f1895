#pragma once
// llmetrics' HTTP layer (CMake target llmetrics::serve): the exposer (/metrics,
// /healthz, /readyz, extra routes), readiness checks, the Pushgateway client and
// Prometheus remote write.
// The Boost.Beast/Asio code is compiled once into the llmetrics::serve library, so
// these headers include no Beast or Asio; define LLMETRICS_SERVE_HEADER_ONLY to
// use them without the library (then Beast, Asio and zlib are compiled inline).

#include "llmetrics.hpp"
#include "serve/auth.hpp"
#include "serve/exposer.hpp"
#include "serve/exposer_options.hpp"
#include "serve/http_stream.hpp"
#include "serve/pushgateway.hpp"
#include "serve/readiness_checks.hpp"
#include "serve/remote_write.hpp"
#include "serve/route.hpp"

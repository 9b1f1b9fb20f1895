// The compiled half of remote write: its thread, snappy, HTTP and TLS (see exposer.cpp).
#ifdef LLMETRICS_SERVE_HEADER_ONLY
#error "llmetrics: src/serve/ builds the compiled library; do not define LLMETRICS_SERVE_HEADER_ONLY for it"
#endif

#include <llmetrics/serve/detail/remote_write_impl.hpp>

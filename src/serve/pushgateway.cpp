// The compiled half of the Pushgateway client (see exposer.cpp).
#ifdef LLMETRICS_SERVE_HEADER_ONLY
#error "llmetrics: src/serve/ builds the compiled library; do not define LLMETRICS_SERVE_HEADER_ONLY for it"
#endif

#include <llmetrics/serve/detail/pushgateway_impl.hpp>

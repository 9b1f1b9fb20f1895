// The compiled half of llmetrics::serve: the exposer and http_request, with all
// of their Boost.Beast/Asio code, built once here instead of in every user's
// translation unit (see include/llmetrics/serve/detail/serve_inline.hpp).
#ifdef LLMETRICS_SERVE_HEADER_ONLY
#error "llmetrics: src/serve/ builds the compiled library; do not define LLMETRICS_SERVE_HEADER_ONLY for it"
#endif

#include <llmetrics/serve/detail/exposer_impl.hpp>

// Consumer of llmetrics::serve from an installed llmetrics: the HTTP layer's
// headers are installed and the target brings Boost.Beast's needs and zlib.
#include <llmetrics/serve.hpp>

#include <cstdio>

#include <zlib.h>

int main() {
    llmetrics::exposer_options options;
    (void)options;
    std::printf("llmetrics::serve package OK (zlib %s)\n", zlibVersion());
    return 0;
}

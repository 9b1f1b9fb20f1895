// Loads an NVML library by path with llmetrics::gpu_collector and prints what
// it collected: a status line on stderr, the families as Prometheus text on
// stdout (nothing when NVML is unavailable). Driven by test_gpu_fake_nvml.py.
//
//   gpu_probe <library> [prefix] [--openmetrics]

#include <llmetrics/collectors/gpu_collector.hpp>
#include <llmetrics/exposition/render.hpp>

#include <cstdio>
#include <string>
#include <string_view>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: gpu_probe <library> [prefix] [--openmetrics]\n");
        return 2;
    }
    std::string prefix;
    auto format = llmetrics::format::prometheus;
    for (int i = 2; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--openmetrics")
            format = llmetrics::format::openmetrics;
        else
            prefix = argv[i];
    }
    std::string text;
    {
        llmetrics::gpu_collector gpu(prefix, argv[1]);
        std::fprintf(stderr, "available=%d devices=%u error=%s\n", gpu.available() ? 1 : 0,
                     gpu.device_count(), gpu.error().c_str());
        llmetrics::snapshot_source source;
        gpu.collect(source.families());
        if (!source.families().empty())
            text = llmetrics::render(source, format);
    }  // the collector shuts NVML down here; the fake library logs it
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
}

// llmetrics-gpu-probe: shows what llmetrics' GPU collector finds on this machine.
//
//   llmetrics-gpu-probe [--library NAME_OR_PATH] [--prefix PREFIX]
//                       [--format prometheus|openmetrics|json]
//
// With NVML present it prints the device count on stderr and the GPU families on
// stdout; without it, "no NVML: <reason>" on stderr. Both exit 0: a machine
// without a GPU is not an error for the collector. Bad options exit 2.

#include <llmetrics/collectors/gpu_collector.hpp>
#include <llmetrics/exposition/render.hpp>

#include <cstdio>
#include <string>
#include <string_view>

namespace lm = llmetrics;

namespace {

void usage(std::FILE* to) {
    std::fprintf(to,
                 "usage: llmetrics-gpu-probe [--library NAME_OR_PATH] [--prefix PREFIX]\n"
                 "                           [--format prometheus|openmetrics|json]\n"
                 "Loads NVML (default libnvidia-ml.so.1) at run time and prints the GPU metrics\n"
                 "llmetrics::gpu_collector exports, or \"no NVML\" and the reason.\n");
}

}  // namespace

int main(int argc, char** argv) {
    std::string library = "libnvidia-ml.so.1";
    std::string prefix;
    lm::format format = lm::format::prometheus;

    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        if (arg == "--help" || arg == "-h") {
            usage(stdout);
            return 0;
        }
        const char* v = nullptr;
        if (arg == "--library" && (v = value())) {
            library = v;
        } else if (arg == "--prefix" && (v = value())) {
            prefix = v;
        } else if (arg == "--format" && (v = value())) {
            const std::string_view f = v;
            if (f == "prometheus")
                format = lm::format::prometheus;
            else if (f == "openmetrics")
                format = lm::format::openmetrics;
            else if (f == "json")
                format = lm::format::json;
            else {
                std::fprintf(stderr, "llmetrics-gpu-probe: unknown format '%s'\n", v);
                return 2;
            }
        } else {
            std::fprintf(stderr, "llmetrics-gpu-probe: unknown or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }

    lm::gpu_collector gpu(prefix, library);
    if (!gpu.available()) {
        std::fprintf(stderr, "no NVML: %s\n", gpu.error().c_str());
        return 0;
    }
    std::fprintf(stderr, "NVML loaded (%s): %u device(s)\n", library.c_str(), gpu.device_count());

    lm::snapshot_source source;
    gpu.collect(source.families());
    const std::string text = lm::render(source, format);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
}

// Counts heap allocations on monitored_router's hot path: after a first call
// per label set (which resolves and caches the series handles), process(),
// a streaming scope and an HTTP timer must not allocate. Prints one line per
// case, "<case> calls=<n> allocations=<k>", for tests/integration/test_instrument.py.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <optional>
#include <string_view>

#include <llmetrics/llmetrics.hpp>
#include <llmetrics/instrument/catalog.hpp>
#include <llmetrics/instrument/genai_catalog.hpp>
#include <llmetrics/instrument/llm_router.hpp>
#include <llmetrics/instrument/monitored_router.hpp>
#include <llmetrics/instrument/recorders.hpp>
#include <llmetrics/instrument/guards.hpp>
#include <llmetrics/instrument/trace_context.hpp>
#include <llmetrics/instrument/http_request_timer.hpp>
#include "allocation_counter.hpp"

namespace lm = llmetrics;

namespace {

// A result that allocates nothing itself, so what is counted is the decorator.
struct result {
    struct {
        std::optional<std::uint64_t> input_tokens;
        std::optional<std::uint64_t> output_tokens;
        std::optional<std::uint64_t> total_tokens;
        std::optional<double> cost;
    } metrics;
};

struct router {
    std::uint64_t n = 0;
    result process(std::string_view, const lm::request_options&) {
        ++n;
        result r;
        r.metrics.input_tokens = 10;
        r.metrics.output_tokens = n % 100;
        r.metrics.total_tokens = 10 + n % 100;
        r.metrics.cost = 0.001;
        return r;
    }
    void register_model(const lm::model_config&) {}
};

constexpr int calls = 10000;

template <class F>
void measure(const char* name, F&& f) {
    f(0);  // first use of each label set: resolves and caches
    f(1);
    const long before = llmetrics_test::allocations.load();
    for (int i = 0; i < calls; ++i) f(i);
    std::printf("%s calls=%d allocations=%ld\n", name, calls, llmetrics_test::allocations.load() - before);
}

}  // namespace

int main() {
    router engine;
    lm::llm_router_streaming_registry metrics;
    lm::genai_registry genai;
    lm::monitored_router tutorial{engine, metrics};
    lm::monitored_router both{engine, metrics, genai};
    const lm::request_options options[2] = {{.model = "gpt-4", .tenant_id = "tenant-a"},
                                            {.model = "gpt-3.5-turbo", .tenant_id = "tenant-b", .provider = "openai"}};

    measure("process_tutorial", [&](int i) { tutorial.process("Hello", options[i & 1]); });
    measure("process_tutorial_and_genai", [&](int i) { both.process("Hello", options[i & 1]); });
    measure("stream_scope", [&](int i) {
        auto call = both.start(options[i & 1]);
        call.token();
        call.token(4);
        call.succeed(lm::usage{.input_tokens = 3, .output_tokens = 5});
    });
    measure("connection_guard", [&](int i) {
        lm::connection_guard connection{metrics, i & 1 ? "tenant-a" : "tenant-b"};
    });
    measure("http_request_timer", [&](int i) {
        lm::http_request_timer timer{metrics};
        timer.finish("POST", "/api/inference", i & 1 ? 200 : 500, i & 1 ? "tenant-a" : "tenant-b");
    });
    return 0;
}

// monitored_router over a streaming router. The router's process_stream(prompt,
// options, on_chunk) calls on_chunk for each output token; the decorator counts
// them and records the time to the first token and the time per output token
// after it, in the catalog::streaming families llm_router_streaming_registry
// holds. Time comes from a manual clock, so every run records the same values.
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include <llmetrics/instrument.hpp>

namespace lm = llmetrics;
using namespace std::chrono_literals;

struct manual_clock {
    std::chrono::milliseconds t{0};
    std::chrono::milliseconds now() const { return t; }
};

// A router that "generates" four tokens: 200 ms to the first, 50 ms per token after.
struct streaming_router {
    manual_clock* clock;
    lm::inference_result process(std::string_view, const lm::request_options&) { return {}; }
    void register_model(const lm::model_config&) {}
    template <class OnChunk>
    lm::inference_result process_stream(std::string_view prompt, const lm::request_options&, OnChunk&& on_chunk) {
        for (std::string_view token : {"Hello", ",", " world", "!"}) {
            clock->t += clock->t == 0ms ? 200ms : 50ms;
            on_chunk(token);
        }
        return {.text = "Hello, world!", .metrics = {.input_tokens = prompt.size() / 4, .output_tokens = 4}};
    }
};

int main() {
    manual_clock clock;
    lm::llm_router_streaming_registry metrics;
    lm::monitored_router router{streaming_router{&clock}, metrics};
    router.set_time_source(lm::time_source::of(clock));

    const auto print_chunk = [](std::string_view token) {
        std::printf("chunk: \"%.*s\"\n", static_cast<int>(token.size()), token.data());
    };
    router.process_stream("Tell me a story", {.model = "gpt-4", .tenant_id = "tenant-a"}, print_chunk);

    const std::string body = lm::render(metrics, lm::format::prometheus);
    for (std::size_t pos = 0, end; pos < body.size(); pos = end + 1) {
        end = body.find('\n', pos);
        const std::string_view line(body.data() + pos, end - pos);
        if (line.starts_with("llm_router_tokens_total") || line.starts_with("llm_router_time_") ||
            line.starts_with("llm_router_model_inference_duration_seconds_sum"))
            if (line.find("_bucket") == std::string_view::npos) std::printf("%.*s\n", int(line.size()), line.data());
    }
}

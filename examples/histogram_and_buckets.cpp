// A histogram counts observations into buckets whose upper bounds are part of
// its type: listed (buckets<...>), evenly spaced (linear_buckets<start, width,
// count>) or growing by a factor (exponential_buckets<start, factor, count>).
// The +Inf bucket is implied. Bounds are rendered canonically ("1.0", not "1"),
// as Prometheus and recording rules expect.
#include <cstdio>
#include <string>

#include <llmetrics/llmetrics.hpp>

namespace lm = llmetrics;

// snippet-begin
struct inference_seconds
    : lm::histogram<"inference_duration_seconds", "Duration of model inference in seconds",
                    lm::labels<"model_id">, lm::buckets<0.1, 0.5, 1, 2, 5>> {};
struct prompt_tokens  // bounds 16, 64, 256
    : lm::histogram<"prompt_tokens", "Tokens per prompt", lm::labels<>, lm::exponential_buckets<16, 4, 3>> {};
// snippet-end

int main() {
    lm::registry<inference_seconds, prompt_tokens> metrics;

    auto& gpt4 = metrics.get<inference_seconds>().labels("gpt-4");
    for (double seconds : {0.3, 0.7, 1.7, 1.9, 12.0}) gpt4.observe(seconds);  // 12 s lands in +Inf only
    for (double tokens : {10, 40, 200, 5000}) metrics.get<prompt_tokens>().labels().observe(tokens);

    std::fputs(lm::render(metrics, lm::format::prometheus).c_str(), stdout);
}

#pragma once
// The simulated LLM router behind llmetrics-demo: seeded random latency, token
// counts, cost and failures, with time advanced on a fake clock instead of slept.
// Streaming draws a stream_plan (time to the first token, the gap before each
// further one) and plays it: on the fake clock (simulated_router::process_stream),
// or in real time (paced_router, the service's `"stream": true`).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <string>
#include <string_view>
#include <vector>

#include <llmetrics/instrument.hpp>

namespace llmetrics_demo {

namespace lm = llmetrics;

// The time the simulated router "spends": advanced by the router, read by the
// instrumentation through llmetrics::time_source.
struct fake_clock {
    std::chrono::nanoseconds elapsed{0};
    std::chrono::nanoseconds now() const noexcept { return elapsed; }
    void advance(double seconds) noexcept {
        elapsed += std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9));
    }
};

// splitmix64: small, fast and the same on every platform (the standard
// distributions are not), so a seed gives the same run everywhere.
class random_source {
public:
    explicit random_source(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() noexcept {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    double uniform(double lo, double hi) noexcept {
        return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53;
    }
    std::uint64_t between(std::uint64_t lo, std::uint64_t hi) noexcept { return lo + next() % (hi - lo + 1); }

private:
    std::uint64_t state_;
};

// The simulated failures, named like the errors the tutorial's router throws
// (errors_total's error_type is the exception's type name).
struct TimeoutError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct RateLimitError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct ModelNotFoundError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// One streamed answer, drawn before it is played: its result (usage and cost)
// and its timing.
struct stream_plan {
    lm::inference_result result;
    double first_token_seconds = 0;
    std::vector<double> gaps;  // seconds before each token after the first
};

// The text of the i-th simulated token.
inline std::string_view simulated_token(std::size_t i) noexcept {
    static constexpr std::string_view words[] = {"simulated ", "tokens ", "arrive ", "one ", "at ", "a ", "time "};
    return words[i % std::size(words)];
}

// Plays `plan`: wait(seconds) before each token, then on_chunk(token). A
// callback returning false (the client is gone) stops the stream.
template <class Wait, class OnChunk>
lm::inference_result play_stream(const stream_plan& plan, Wait&& wait, OnChunk&& on_chunk) {
    const std::size_t tokens = static_cast<std::size_t>(plan.result.metrics.output_tokens.value_or(0));
    for (std::size_t i = 0; i < tokens; ++i) {
        wait(i == 0 ? plan.first_token_seconds : plan.gaps[i - 1]);
        if constexpr (std::is_same_v<decltype(on_chunk(simulated_token(i))), bool>) {
            if (!on_chunk(simulated_token(i))) break;  // no more upstream work
        } else {
            on_chunk(simulated_token(i));
        }
    }
    return plan.result;
}

struct model_profile {
    std::string id;
    double min_latency, max_latency;          // seconds
    double input_price, output_price;         // dollars per 1000 tokens
};

class simulated_router {
public:
    simulated_router(std::uint64_t seed, fake_clock& clock, double failure_rate = 0.12)
        : random_(seed), clock_(&clock), failure_rate_(failure_rate) {}

    void initialize() { initialized_ = true; }

    void register_model(const lm::model_config& config) {
        clock_->advance(config.format == "gguf" ? random_.uniform(6.0, 20.0) : random_.uniform(0.2, 1.5));
        if (config.id.empty()) throw std::invalid_argument("a model needs an id");
        const bool large = config.id == "gpt-4";
        models_.push_back({config.id, large ? 0.8 : 0.2, large ? 6.0 : 2.5, large ? 0.03 : 0.0015,
                           large ? 0.06 : 0.002});
    }

    lm::inference_result process(std::string_view prompt, const lm::request_options& options) {
        if (!initialized_) throw std::logic_error("router not initialised");
        const model_profile* model = find(options.model.empty() ? std::string_view("gpt-3.5-turbo") : options.model);
        if (!model) throw ModelNotFoundError("no model " + std::string(options.model));

        const double roll = random_.uniform(0.0, 1.0);
        if (roll < failure_rate_ / 2) {
            clock_->advance(30.0);
            throw TimeoutError("inference timed out after 30 s");
        }
        if (roll < failure_rate_) {
            clock_->advance(random_.uniform(0.005, 0.05));
            throw RateLimitError("rate limit exceeded for " + std::string(options.tenant_id));
        }

        const std::uint64_t input = prompt.size() / 4 + random_.between(5, 40);
        const std::uint64_t limit = options.max_tokens ? options.max_tokens : 600;
        const std::uint64_t output = random_.between(std::min<std::uint64_t>(10, limit), limit);
        clock_->advance(random_.uniform(model->min_latency, model->max_latency));

        lm::inference_result result;
        result.model = model->id;
        result.text = "simulated completion";
        result.metrics.input_tokens = input;
        result.metrics.output_tokens = output;
        result.metrics.total_tokens = input + output;
        result.metrics.cost = (static_cast<double>(input) * model->input_price +
                               static_cast<double>(output) * model->output_price) / 1000.0;
        return result;
    }

    // A streamed answer: failures as process() (thrown now), then a time to
    // the first token and a gap before each further one, seeded.
    stream_plan plan_stream(std::string_view prompt, const lm::request_options& options) {
        stream_plan plan;
        const std::chrono::nanoseconds before = clock_->now();
        plan.result = process(prompt, options);
        clock_->elapsed = before;  // the stream's own timing replaces the call's latency
        const bool large = plan.result.model == "gpt-4";
        plan.first_token_seconds = random_.uniform(large ? 0.15 : 0.08, large ? 0.4 : 0.25);
        const std::size_t tokens = static_cast<std::size_t>(plan.result.metrics.output_tokens.value_or(0));
        for (std::size_t i = 1; i < tokens; ++i) plan.gaps.push_back(random_.uniform(0.01, large ? 0.04 : 0.025));
        return plan;
    }

    // Streams on the fake clock (the simulated load's `--stream-share`).
    template <class OnChunk>
    lm::inference_result process_stream(std::string_view prompt, const lm::request_options& options, OnChunk&& on_chunk) {
        const stream_plan plan = plan_stream(prompt, options);
        return play_stream(plan, [&](double seconds) { clock_->advance(seconds); }, on_chunk);
    }

    random_source& random() noexcept { return random_; }

private:
    const model_profile* find(std::string_view id) const {
        for (const model_profile& m : models_)
            if (m.id == id) return &m;
        return nullptr;
    }

    random_source random_;
    fake_clock* clock_;
    std::vector<model_profile> models_;
    bool initialized_ = false;
    double failure_rate_;
};

// The service's streaming router: the plan is drawn from the shared engine
// under its mutex, then played in real time (sleeps), so concurrent streams
// do not wait for one another.
class paced_router {
public:
    paced_router(simulated_router& engine, std::mutex& engine_mutex) : engine_(&engine), mutex_(&engine_mutex) {}

    lm::inference_result process(std::string_view prompt, const lm::request_options& options) {
        std::lock_guard lock(*mutex_);
        return engine_->process(prompt, options);
    }
    void register_model(const lm::model_config&) {}  // the engine has its models

    template <class OnChunk>
    lm::inference_result process_stream(std::string_view prompt, const lm::request_options& options, OnChunk&& on_chunk) {
        stream_plan plan;
        {
            std::lock_guard lock(*mutex_);
            plan = engine_->plan_stream(prompt, options);
        }
        const auto sleep = [](double seconds) { std::this_thread::sleep_for(std::chrono::duration<double>(seconds)); };
        return play_stream(plan, sleep, on_chunk);
    }

private:
    simulated_router* engine_;
    std::mutex* mutex_;
};

}  // namespace llmetrics_demo

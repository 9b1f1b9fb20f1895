#pragma once
// The simulated LLM router behind llmetrics-demo: seeded random latency, token
// counts, cost and failures, with time advanced on a fake clock instead of slept.
//
// Each model is served by `upstreams` deployments (<model>-1, <model>-2, ...,
// --upstreams N). A call that succeeds tries the model's upstreams in turn, each
// attempt failing with the failure rate (rate limited, timed out or a server
// error); when every one has failed it falls back to another model, whose
// upstream answers. A call that fails (the tutorial's TimeoutError and
// RateLimitError) has tried every upstream of its model with that result. Two
// failures in a row put an upstream in a 10 s cooldown (skipped while others
// are not); one failure leaves it degraded; a success brings it back up. Each
// upstream allows 600 requests and 200,000 tokens per simulated minute. The
// attempts, the states and remaining limits of the upstreams touched, and the
// router's own time go into the call's routing report (llmetrics/instrument/
// routing_report.hpp): the options' one when given, else the result's.
// Streaming draws a stream_plan (time to the first token, the gap before each
// further one) and plays it: on the fake clock (simulated_router::process_stream),
// or in real time (paced_router, the service's `"stream": true`).

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
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

// One deployment of a model, as the router sees it.
struct upstream_profile {
    std::string name;
    int consecutive_failures = 0;
    std::chrono::nanoseconds cooldown_until{0};
    std::chrono::nanoseconds window_start{0};  // the current rate-limit minute
    double used_requests = 0, used_tokens = 0;
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
    std::vector<upstream_profile> upstreams;  // filled once at registration: the names stay put
    std::size_t next = 0;                     // round robin
};

class simulated_router {
public:
    static constexpr double requests_per_minute = 600, tokens_per_minute = 200'000;
    static constexpr double cooldown_seconds = 10;

    simulated_router(std::uint64_t seed, fake_clock& clock, double failure_rate = 0.12, std::size_t upstreams = 2)
        : random_(seed), clock_(&clock), failure_rate_(failure_rate), upstreams_(upstreams < 1 ? 1 : upstreams) {}

    void initialize() { initialized_ = true; }

    void register_model(const lm::model_config& config) {
        clock_->advance(config.format == "gguf" ? random_.uniform(6.0, 20.0) : random_.uniform(0.2, 1.5));
        if (config.id.empty()) throw std::invalid_argument("a model needs an id");
        const bool large = config.id == "gpt-4";
        model_profile m{config.id, large ? 0.8 : 0.2, large ? 6.0 : 2.5, large ? 0.03 : 0.0015, large ? 0.06 : 0.002,
                        {}, 0};
        for (std::size_t k = 1; k <= upstreams_; ++k) m.upstreams.push_back({config.id + "-" + std::to_string(k)});
        models_.push_back(std::move(m));
    }

    lm::inference_result process(std::string_view prompt, const lm::request_options& options) {
        if (!initialized_) throw std::logic_error("router not initialised");
        model_profile* model = find(options.model.empty() ? std::string_view("gpt-3.5-turbo") : options.model);
        if (!model) throw ModelNotFoundError("no model " + std::string(options.model));

        lm::inference_result result;
        lm::routing_report& report = options.routing ? *options.routing : result.routing;
        report.clear();
        const double overhead = random_.uniform(0.0002, 0.002);  // choosing upstreams, parsing, accounting
        clock_->advance(overhead);
        report.overhead_seconds = overhead;

        const double roll = random_.uniform(0.0, 1.0);
        if (roll < failure_rate_ / 2) {
            fail_every_upstream(*model, lm::attempt_result::timeout, 30.0, report);
            throw TimeoutError("inference timed out after 30 s");
        }
        if (roll < failure_rate_) {
            fail_every_upstream(*model, lm::attempt_result::rate_limited, random_.uniform(0.005, 0.05), report);
            throw RateLimitError("rate limit exceeded for " + std::string(options.tenant_id));
        }

        const std::uint64_t input = prompt.size() / 4 + random_.between(5, 40);
        const std::uint64_t limit = options.max_tokens ? options.max_tokens : 600;
        const std::uint64_t output = random_.between(std::min<std::uint64_t>(10, limit), limit);
        model_profile* served = serve(*model, static_cast<double>(input + output), report);
        clock_->advance(random_.uniform(served->min_latency, served->max_latency));

        result.model = served->id;
        result.text = "simulated completion";
        result.metrics.input_tokens = input;
        result.metrics.output_tokens = output;
        result.metrics.total_tokens = input + output;
        if (random_.uniform(0.0, 1.0) < 0.3) result.metrics.cached_input_tokens = input / 2;  // a cached prefix
        if (served->id == "gpt-4") result.metrics.reasoning_output_tokens = output / 4;
        result.metrics.cost = (static_cast<double>(input) * served->input_price +
                               static_cast<double>(output) * served->output_price) / 1000.0;
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
    model_profile* find(std::string_view id) {
        for (model_profile& m : models_)
            if (m.id == id) return &m;
        return nullptr;
    }

    // The model a failed one falls back to.
    model_profile* fallback_for(const model_profile& m) {
        model_profile* f = find(m.id == "gpt-3.5-turbo" ? "gpt-4" : "gpt-3.5-turbo");
        return f ? f : &models_.front();
    }

    // The next upstream in turn that is not cooling down (any, when all are).
    upstream_profile& pick(model_profile& m) {
        for (std::size_t i = 0; i < m.upstreams.size(); ++i) {
            upstream_profile& u = m.upstreams[(m.next + i) % m.upstreams.size()];
            if (clock_->now() >= u.cooldown_until) {
                m.next = (m.next + i + 1) % m.upstreams.size();
                return u;
            }
        }
        return m.upstreams[m.next++ % m.upstreams.size()];
    }

    void attempt(model_profile& m, upstream_profile& u, std::string_view result, double tokens,
                 lm::routing_report& report) {
        if (clock_->now() - u.window_start >= std::chrono::minutes(1)) {
            u.window_start = clock_->now();
            u.used_requests = u.used_tokens = 0;
        }
        u.used_requests += 1;
        u.used_tokens += tokens;
        if (result == lm::attempt_result::success) {
            u.consecutive_failures = 0;
        } else if (++u.consecutive_failures >= 2) {
            u.consecutive_failures = 0;
            u.cooldown_until =
                clock_->now() + std::chrono::nanoseconds(static_cast<std::int64_t>(cooldown_seconds * 1e9));
        }
        report.attempts.push_back({m.id, u.name, result});
    }

    // The states and remaining limits of a model's upstreams, after the call.
    void report_upstreams(const model_profile& m, lm::routing_report& report) const {
        for (const upstream_profile& u : m.upstreams) {
            const lm::upstream_state state = clock_->now() < u.cooldown_until ? lm::upstream_state::cooling_down
                                             : u.consecutive_failures > 0   ? lm::upstream_state::degraded
                                                                            : lm::upstream_state::up;
            report.upstreams.push_back({m.id, u.name, state, std::max(0.0, requests_per_minute - u.used_requests),
                                        std::max(0.0, tokens_per_minute - u.used_tokens)});
        }
    }

    void fail_every_upstream(model_profile& m, std::string_view result, double seconds, lm::routing_report& report) {
        for (std::size_t k = 0; k < m.upstreams.size(); ++k) attempt(m, pick(m), result, 0, report);
        clock_->advance(seconds);
        report_upstreams(m, report);
    }

    // Tries the model's upstreams in turn, then falls back; returns the model that answered.
    model_profile* serve(model_profile& m, double tokens, lm::routing_report& report) {
        for (std::size_t k = 0; k < m.upstreams.size(); ++k) {
            upstream_profile& u = pick(m);
            if (!(random_.uniform(0.0, 1.0) < failure_rate_)) {
                attempt(m, u, lm::attempt_result::success, tokens, report);
                report_upstreams(m, report);
                return &m;
            }
            const double kind = random_.uniform(0.0, 1.0);
            const std::string_view failure = kind < 0.4   ? lm::attempt_result::rate_limited
                                             : kind < 0.7 ? lm::attempt_result::timeout
                                                          : lm::attempt_result::server_error;
            clock_->advance(failure == lm::attempt_result::timeout        ? 2.0
                            : failure == lm::attempt_result::rate_limited ? 0.02
                                                                          : 0.3);
            attempt(m, u, failure, 0, report);
        }
        report_upstreams(m, report);
        model_profile* f = fallback_for(m);
        attempt(*f, pick(*f), lm::attempt_result::success, tokens, report);
        report_upstreams(*f, report);
        return f;
    }

    random_source random_;
    fake_clock* clock_;
    std::deque<model_profile> models_;  // a deque: upstream names are viewed by reports
    bool initialized_ = false;
    double failure_rate_;
    std::size_t upstreams_;
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

// llmetrics-demo: the monitoring tutorial's Prometheus demonstration in C++.
//
// A simulated LLM router (seeded random latency, token counts, cost and the
// occasional failure) is wrapped in llmetrics::monitored_router over the
// tutorial's twelve families and the default process metrics, all under the
// `llm_router_` prefix. As the tutorial's demo, it initialises the router,
// registers models, sends requests alternating tenant-a/tenant-b and
// gpt-4/gpt-3.5-turbo, records cache hits and misses, and prints the key
// `llm_router_` metric lines and how many there are.
//
//     llmetrics-demo                         the tutorial's run (10 requests, seed 42)
//     llmetrics-demo --requests 100 --seed 7
//     llmetrics-demo --format openmetrics    only the whole registry, in that format
//
// Time is simulated: the router advances a fake clock by each call's simulated
// latency instead of sleeping, and the decorator and the HTTP timer read that
// clock (llmetrics::time_source). A run takes milliseconds, its latencies are
// realistic, and every recorded value is the same for the same seed (only the
// process metrics differ from run to run).
//
// Options are parsed in one place (parse_command_line) into demo_options, and
// main() dispatches on the mode: a new mode is one more option_spec entry and
// one more case.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include <llmetrics/llmetrics.hpp>

namespace lm = llmetrics;

namespace {

// --- command line ----------------------------------------------------------

enum class demo_mode { tutorial, print_format, help };

struct demo_options {
    demo_mode mode = demo_mode::tutorial;
    lm::format format = lm::format::prometheus;
    std::uint64_t requests = 10;
    std::uint64_t seed = 42;
};

bool parse_count(std::string_view text, std::uint64_t& out) {
    if (text.empty() || text.size() > 18) return false;
    std::uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out = v;
    return true;
}

struct option_spec {
    std::string_view name;
    std::string_view value_name;  // empty: a flag without a value
    std::string_view help;
    // Applies the option; returns an error message, empty on success.
    std::string (*apply)(demo_options&, std::string_view value);
};

const option_spec option_table[] = {
    {"--format", "prometheus|openmetrics|json",
     "print the whole registry (process metrics included) in that format, and nothing else",
     [](demo_options& o, std::string_view v) -> std::string {
         if (v == "prometheus") o.format = lm::format::prometheus;
         else if (v == "openmetrics") o.format = lm::format::openmetrics;
         else if (v == "json") o.format = lm::format::json;
         else return "unknown format '" + std::string(v) + "' (expected prometheus, openmetrics or json)";
         o.mode = demo_mode::print_format;
         return {};
     }},
    {"--requests", "N", "number of simulated requests (default 10)",
     [](demo_options& o, std::string_view v) -> std::string {
         if (!parse_count(v, o.requests) || o.requests > 1'000'000)
             return "--requests needs a whole number from 0 to 1000000, not '" + std::string(v) + "'";
         return {};
     }},
    {"--seed", "S", "seed of the simulation (default 42); the same seed gives the same metrics",
     [](demo_options& o, std::string_view v) -> std::string {
         if (!parse_count(v, o.seed)) return "--seed needs a whole number, not '" + std::string(v) + "'";
         return {};
     }},
    {"--help", "", "show this help",
     [](demo_options& o, std::string_view) -> std::string {
         o.mode = demo_mode::help;
         return {};
     }},
};

void print_usage(std::FILE* out) {
    std::fprintf(out, "usage: llmetrics-demo [options]\n\n"
                      "Runs the LLM Runner Router monitoring tutorial's Prometheus demo against a\n"
                      "simulated router and prints the key llm_router_ metrics.\n\noptions:\n");
    for (const option_spec& o : option_table) {
        std::string left(o.name);
        if (!o.value_name.empty()) left += " " + std::string(o.value_name);
        std::fprintf(out, "  %-42s %.*s\n", left.c_str(), static_cast<int>(o.help.size()), o.help.data());
    }
}

// Accepts `--name value` and `--name=value`. Returns an error message, empty on success.
std::string parse_command_line(int argc, char** argv, demo_options& out) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        std::string_view inline_value;
        bool has_inline_value = false;
        if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            inline_value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_inline_value = true;
        }
        const option_spec* spec = nullptr;
        for (const option_spec& o : option_table)
            if (o.name == arg) spec = &o;
        if (!spec) return "unknown option '" + std::string(argv[i]) + "' (see --help)";
        std::string_view value;
        if (!spec->value_name.empty()) {
            if (has_inline_value) value = inline_value;
            else if (i + 1 < argc) value = argv[++i];
            else return std::string(arg) + " needs a value: " + std::string(spec->value_name);
        } else if (has_inline_value) {
            return std::string(arg) + " takes no value";
        }
        if (std::string error = spec->apply(out, value); !error.empty()) return error;
        if (out.mode == demo_mode::help) return {};
    }
    return {};
}

// --- the simulation --------------------------------------------------------

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

struct model_profile {
    std::string id;
    double min_latency, max_latency;          // seconds
    double input_price, output_price;         // dollars per 1000 tokens
};

class simulated_router {
public:
    simulated_router(std::uint64_t seed, fake_clock& clock) : random_(seed), clock_(&clock) {}

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
        if (roll < 0.06) {
            clock_->advance(30.0);
            throw TimeoutError("inference timed out after 30 s");
        }
        if (roll < 0.12) {
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
};

// --- the tutorial's demonstration ------------------------------------------

struct outcome {
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;
};

// Runs the simulation into `metrics`; `log` gets the tutorial's per-request lines.
outcome simulate(const demo_options& options, lm::catalog_registry& metrics, std::FILE* log) {
    fake_clock clock;
    const lm::time_source time = lm::time_source::of(clock);
    simulated_router engine(options.seed, clock);
    lm::monitored_router router{engine, metrics};
    router.set_time_source(time);

    router.initialize();
    router.register_model({.id = "gpt-4", .format = "api", .loader = "openai"});
    router.register_model({.id = "gpt-3.5-turbo", .format = "api", .loader = "openai"});
    router.register_model({.id = "llama-2-7b", .format = "gguf", .source = "models/llama-2-7b.Q4_K_M.gguf"});

    if (log) std::fprintf(log, "Simulating operations...\n");
    outcome result;
    for (std::uint64_t i = 0; i < options.requests; ++i) {
        const std::string_view tenant = i % 2 == 0 ? "tenant-a" : "tenant-b";
        const std::string_view model = i % 3 == 0 ? "gpt-4" : "gpt-3.5-turbo";
        const std::string prompt = "Test prompt " + std::to_string(i);

        // What the tutorial's HTTP middleware and connection bookkeeping see.
        lm::http_request_timer http{metrics, time};
        lm::connection_guard connection{metrics, tenant};
        lm::queue_guard queued{metrics, "inference", tenant};
        clock.advance(engine.random().uniform(0.0005, 0.004));  // waiting for a worker
        queued.release();

        int status = 200;
        try {
            router.process(prompt, {.model = model, .tenant_id = tenant, .max_tokens = 50 + 10 * (i % 5)});
            ++result.succeeded;
            if (log) std::fprintf(log, "Request %llu successful\n", static_cast<unsigned long long>(i + 1));
        } catch (const RateLimitError&) {
            status = 429;
            ++result.failed;
            if (log) std::fprintf(log, "Request %llu failed: RateLimitError\n", static_cast<unsigned long long>(i + 1));
        } catch (const std::exception& e) {
            status = 500;
            ++result.failed;
            if (log)
                std::fprintf(log, "Request %llu failed: %s\n", static_cast<unsigned long long>(i + 1),
                             std::string(lm::error_type_name(typeid(e))).c_str());
        }
        http.finish("POST", "/api/inference", status, tenant);

        // Simulate some cache hits/misses, as the tutorial does.
        lm::record_cache_operation(metrics, "model", i % 3 == 0, tenant);
    }
    return result;
}

int run_tutorial(const demo_options& options) {
    lm::catalog_registry metrics;
    metrics.add_collector(std::make_shared<lm::process_collector>("llm_router_"));

    std::printf("Prometheus Metrics Demonstration\n\n");
    const outcome result = simulate(options, metrics, stdout);

    // The tutorial keeps the lines that are not comments and name an
    // llm_router_ metric; llmetrics' own self-metrics mention family names in
    // their labels, so a line counts here when it starts with the prefix.
    const std::string body = lm::render(metrics, lm::format::prometheus);
    std::vector<std::string_view> lines;
    for (std::size_t pos = 0; pos < body.size();) {
        const std::size_t end = std::min(body.find('\n', pos), body.size());
        const std::string_view line(body.data() + pos, end - pos);
        if (line.starts_with("llm_router_")) lines.push_back(line);
        pos = end + 1;
    }

    std::printf("\nCurrent Metrics:\nKey metrics:\n");
    for (std::size_t i = 0; i < lines.size() && i < 10; ++i)
        std::printf("  %.*s\n", static_cast<int>(lines[i].size()), lines[i].data());
    std::printf("\nTotal metrics lines: %zu\n", lines.size());
    std::printf("Requests: %llu successful, %llu failed\n", static_cast<unsigned long long>(result.succeeded),
                static_cast<unsigned long long>(result.failed));
    return 0;
}

int run_print_format(const demo_options& options) {
    lm::catalog_registry metrics;
    metrics.add_collector(std::make_shared<lm::process_collector>("llm_router_"));
    simulate(options, metrics, nullptr);
    const std::string body = lm::render(metrics, options.format);
    std::fwrite(body.data(), 1, body.size(), stdout);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    demo_options options;
    if (const std::string error = parse_command_line(argc, argv, options); !error.empty()) {
        std::fprintf(stderr, "llmetrics-demo: %s\n", error.c_str());
        return 2;
    }
    try {
        switch (options.mode) {
        case demo_mode::help: print_usage(stdout); return 0;
        case demo_mode::print_format: return run_print_format(options);
        case demo_mode::tutorial: return run_tutorial(options);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "llmetrics-demo: %s\n", e.what());
        return 1;
    }
    return 0;
}

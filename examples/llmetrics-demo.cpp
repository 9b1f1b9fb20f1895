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
//     llmetrics-demo --listen 127.0.0.1:9464 the router as an HTTP service (below)
//     llmetrics-demo --push http://127.0.0.1:9091   push the registry to a Pushgateway at the end
//     llmetrics-demo --emit-rules rules.yml --emit-dashboard dashboard.json
//                                            the Prometheus rules (SLO burn rates and alerts)
//                                            and the Grafana dashboard for the demo's registry
//                                            and SLOs, then exit (unless a mode is given too)
//     llmetrics-demo --listen 127.0.0.1:0 --log requests.jsonl --failure-rate 0.5
//                                            a JSON-lines request log, and more failures
//
// Service mode (--listen HOST:PORT, port 0 picks a free one; the bound address is
// printed as `llmetrics-demo listening on http://HOST:PORT`):
//   POST /v1/chat/completions   an OpenAI-style body (examples/chat_request.hpp),
//                               tenant from X-Tenant-ID ("unknown" when absent),
//                               answered by the simulated router through
//                               monitored_router; the HTTP request timer records
//                               both HTTP families. A malformed or wrong-shaped body
//                               gets 400 with a JSON error, counted in
//                               http_requests_total{status_code="400"} and
//                               errors_total{error_type="InvalidRequestError"}.
//   GET /metrics, /healthz, /readyz   llmetrics::exposer (serve/exposer.hpp)
// It runs until SIGINT or SIGTERM, then pushes if --push was given. Tenant values
// are label values as sent (escaped on output; cut at 4 KiB by the library), and
// each family holds at most 10,000 label sets (llmetrics::default_max_series; set
// max_series<N> on a family to change it): further tenants share one
// tenant_id="__overflow__" series and are counted in llmetrics_series_dropped_total,
// so a flood of tenants cannot grow memory without bound.
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
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include <mutex>

#include <llmetrics/llmetrics.hpp>
#include <llmetrics/instrument/catalog.hpp>
#include <llmetrics/instrument/genai_catalog.hpp>
#include <llmetrics/instrument/llm_router.hpp>
#include <llmetrics/instrument/monitored_router.hpp>
#include <llmetrics/instrument/recorders.hpp>
#include <llmetrics/instrument/guards.hpp>
#include <llmetrics/instrument/trace_context.hpp>
#include <llmetrics/instrument/http_request_timer.hpp>
#include <llmetrics/analytics/analytics_collector.hpp>
#include <llmetrics/operate/slo.hpp>
#include <llmetrics/operate/promql.hpp>
#include <llmetrics/operate/rules.hpp>
#include <llmetrics/operate/dashboard.hpp>
#include <llmetrics/operate/request_log.hpp>
#include <llmetrics/serve.hpp>
// The demo builds Beast requests itself (--preload) and reads the exposer's endpoint.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

#include "chat_request.hpp"

namespace lm = llmetrics;

namespace {

// --- command line ----------------------------------------------------------

enum class demo_mode { tutorial, print_format, serve, help };

struct demo_options {
    demo_mode mode = demo_mode::tutorial;
    lm::format format = lm::format::prometheus;
    std::uint64_t requests = 10;
    std::uint64_t seed = 42;
    // service mode
    std::string listen_host;
    std::uint16_t listen_port = 0;
    std::uint64_t threads = 1;
    std::uint64_t preload = 0;
    bool instrumented = true;
    // all modes
    std::string push_url;
    double failure_rate = 0.12;  // half timeouts, half rate limits (the tutorial's 12%)
    // operate
    std::string emit_rules, emit_dashboard, log_path;
    double rules_scale = 1;
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

bool parse_fraction(std::string_view text, double& out) {
    double v = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec != std::errc{} || r.ptr != text.data() + text.size() || !(v >= 0 && v <= 1)) return false;
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
    {"--listen", "HOST:PORT",
     "serve /v1/chat/completions, /metrics, /healthz and /readyz until SIGINT/SIGTERM (port 0: any free port)",
     [](demo_options& o, std::string_view v) -> std::string {
         const std::size_t colon = v.rfind(':');
         std::uint64_t port = 0;
         if (colon == std::string_view::npos || colon == 0 || !parse_count(v.substr(colon + 1), port) || port > 65535)
             return "--listen needs HOST:PORT (e.g. 127.0.0.1:9464), not '" + std::string(v) + "'";
         std::string_view host = v.substr(0, colon);
         if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
         o.listen_host = std::string(host);
         o.listen_port = static_cast<std::uint16_t>(port);
         o.mode = demo_mode::serve;
         return {};
     }},
    {"--push", "URL", "push the registry to the Pushgateway at URL (http://host:port) at the end",
     [](demo_options& o, std::string_view v) -> std::string {
         if (v.empty()) return "--push needs a URL, e.g. http://127.0.0.1:9091";
         o.push_url = std::string(v);
         return {};
     }},
    {"--threads", "N", "with --listen: I/O threads of the HTTP server (default 1)",
     [](demo_options& o, std::string_view v) -> std::string {
         if (!parse_count(v, o.threads) || o.threads < 1 || o.threads > 64)
             return "--threads needs a whole number from 1 to 64, not '" + std::string(v) + "'";
         return {};
     }},
    {"--preload", "N", "with --listen: simulate N requests from 128 tenants before serving (fills /metrics)",
     [](demo_options& o, std::string_view v) -> std::string {
         if (!parse_count(v, o.preload) || o.preload > 10'000'000)
             return "--preload needs a whole number from 0 to 10000000, not '" + std::string(v) + "'";
         return {};
     }},
    {"--no-instrument", "", "with --listen: answer chat requests without monitored_router and the HTTP timer "
                            "(the baseline of the load test)",
     [](demo_options& o, std::string_view) -> std::string {
         o.instrumented = false;
         return {};
     }},
    {"--failure-rate", "R", "share of simulated requests that fail, 0 to 1 (default 0.12: half time out, half are "
                            "rate limited)",
     [](demo_options& o, std::string_view v) -> std::string {
         if (!parse_fraction(v, o.failure_rate))
             return "--failure-rate needs a number from 0 to 1, not '" + std::string(v) + "'";
         return {};
     }},
    {"--emit-rules", "FILE", "write the Prometheus rules (SLO recording rules, burn-rate and plain alerts) to FILE",
     [](demo_options& o, std::string_view v) -> std::string {
         o.emit_rules = std::string(v);
         return {};
     }},
    {"--rules-scale", "F", "with --emit-rules: multiply every rule window by F, e.g. 0.0166667 turns hours into "
                           "minutes (tests)",
     [](demo_options& o, std::string_view v) -> std::string {
         if (!parse_fraction(v, o.rules_scale) || o.rules_scale == 0)
             return "--rules-scale needs a number above 0 and at most 1, not '" + std::string(v) + "'";
         return {};
     }},
    {"--emit-dashboard", "FILE", "write the Grafana dashboard (JSON) to FILE",
     [](demo_options& o, std::string_view v) -> std::string {
         o.emit_dashboard = std::string(v);
         return {};
     }},
    {"--log", "FILE", "with --listen: append a JSON line per chat request to FILE (- for stdout)",
     [](demo_options& o, std::string_view v) -> std::string {
         o.log_path = std::string(v);
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

// --- the tutorial's demonstration ------------------------------------------

struct outcome {
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;
};

// Runs the simulation into `metrics`; `log` gets the tutorial's per-request lines.
outcome simulate(const demo_options& options, lm::catalog_registry& metrics, std::FILE* log) {
    fake_clock clock;
    const lm::time_source time = lm::time_source::of(clock);
    simulated_router engine(options.seed, clock, options.failure_rate);
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

int push_if_asked(const demo_options& options, const lm::catalog_registry& metrics, std::string_view instance);

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
    std::fflush(stdout);
    return push_if_asked(options, metrics, "batch");
}

// --push: the registry to a Pushgateway, grouped by job and instance.
int push_if_asked(const demo_options& options, const lm::catalog_registry& metrics, std::string_view instance) {
    if (options.push_url.empty()) return 0;
    try {
        lm::pushgateway gateway{options.push_url, "llmetrics-demo", {{"instance", std::string(instance)}}};
        gateway.push(metrics);
        std::fprintf(stderr, "llmetrics-demo: pushed to %s%s\n", options.push_url.c_str(), gateway.path().c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "llmetrics-demo: %s\n", e.what());
        return 1;
    }
}

int run_print_format(const demo_options& options) {
    lm::catalog_registry metrics;
    metrics.add_collector(std::make_shared<lm::process_collector>("llm_router_"));
    simulate(options, metrics, nullptr);
    const std::string body = lm::render(metrics, options.format);
    std::fwrite(body.data(), 1, body.size(), stdout);
    std::fflush(stdout);
    return push_if_asked(options, metrics, "batch");
}

// --- the service (--listen) ------------------------------------------------

// The simulated router behind monitored_router, shared by the server's threads:
// the router and its simulated clock are not thread-safe, so each call holds the
// mutex (the HTTP timer reads the real clock and needs no lock).
class chat_service {
public:
    chat_service(const demo_options& options, lm::catalog_registry& metrics)
        : options_(options),
          metrics_(&metrics),
          engine_(options.seed, clock_, options.failure_rate),
          router_(engine_, metrics) {
        router_.set_time_source(lm::time_source::of(clock_));
        router_.initialize();
        router_.register_model({.id = "gpt-4", .format = "api", .loader = "openai"});
        router_.register_model({.id = "gpt-3.5-turbo", .format = "api", .loader = "openai"});
        router_.register_model({.id = "llama-2-7b", .format = "gguf", .source = "models/llama-2-7b.Q4_K_M.gguf"});
        ready_ = true;
    }

    bool ready() const noexcept { return ready_; }
    void set_log(lm::request_log* log) noexcept { log_ = log; }

    lm::http_response handle(const lm::http_request& req) {
        std::string_view tenant = req.header("X-Tenant-ID");
        if (!options_.instrumented) return answer(req.body(), tenant, nullptr);
        // A valid W3C traceparent makes this request a span of the caller's trace
        // (the request log and exemplars read the current context).
        std::optional<lm::scoped_trace_context> trace;
        if (const auto parent = lm::parse_traceparent(req.header("traceparent"))) trace.emplace(parent->child());
        lm::http_request_timer timer{*metrics_};
        lm::connection_guard connection{*metrics_, tenant};
        lm::http_response response = answer(req.body(), tenant, &timer);
        timer.finish("POST", "/v1/chat/completions", static_cast<int>(response.status), tenant);
        return response;
    }

    // What --preload sends: chat requests from 128 tenants, in-process.
    void preload(std::uint64_t n) {
        for (std::uint64_t i = 0; i < n; ++i) {
            const std::string tenant = "preload-" + std::to_string(i % 128);
            const std::string body = R"({"model":")" + std::string(i % 3 == 0 ? "gpt-4" : "gpt-3.5-turbo") +
                                     R"(","messages":[{"role":"user","content":"warm up"}],"max_tokens":64})";
            lm::http_request::message_type message{boost::beast::http::verb::post, "/v1/chat/completions", 11};
            message.set("X-Tenant-ID", tenant);
            message.body() = body;
            handle(lm::http_request(message, "127.0.0.1"));
        }
    }

private:
    lm::http_response answer(std::string_view body, std::string_view tenant, lm::http_request_timer<lm::catalog_registry>* timer) {
        llmetrics_demo::chat_request chat;
        if (std::string error = llmetrics_demo::parse_chat_request(body, chat); !error.empty()) {
            if (timer) lm::record_error(*metrics_, "InvalidRequestError", {}, tenant);
            return error_response(400, "invalid_request_error", error);
        }
        const lm::request_options call{.model = chat.model,
                                       .tenant_id = tenant,
                                       .max_tokens = static_cast<std::size_t>(chat.max_tokens),
                                       .stream = chat.stream};
        lm::inference_result result;
        double seconds = 0;  // simulated time of the call, as the inference duration records it
        const auto logged = [&](lm::http_response response, std::string_view status) {
            if (log_)
                log_->log({.tenant = tenant, .model = result.model.empty() ? chat.model : result.model,
                           .strategy = call.strategy.empty() ? "balanced" : call.strategy, .status = status,
                           .duration_seconds = seconds, .tokens = static_cast<std::uint64_t>(
                                                            result.metrics.total_tokens.value_or(0)),
                           .cost_cents = result.metrics.cost.value_or(0) * 100});
            return response;
        };
        try {
            std::lock_guard lock(mutex_);
            struct stopwatch {  // reads the clock on every way out, under the lock
                const fake_clock& clock;
                std::chrono::nanoseconds start;
                double& out;
                ~stopwatch() { out = std::chrono::duration<double>(clock.now() - start).count(); }
            } watch{clock_, clock_.now(), seconds};
            if (timer) {
                lm::queue_guard queued{*metrics_, "inference", tenant};
                clock_.advance(engine_.random().uniform(0.0005, 0.004));  // waiting for a worker
                queued.release();
                lm::record_cache_operation(*metrics_, "model", engine_.random().uniform(0, 1) < 0.3, tenant);
                result = router_.process(chat.prompt, call);
            } else {
                clock_.advance(engine_.random().uniform(0.0005, 0.004));
                (void)engine_.random().uniform(0, 1);
                result = engine_.process(chat.prompt, call);
            }
        } catch (const RateLimitError& e) {
            return logged(error_response(429, "rate_limit_error", e.what()), "error");
        } catch (const TimeoutError& e) {
            return logged(error_response(504, "timeout", e.what()), "error");
        } catch (const ModelNotFoundError& e) {
            return logged(error_response(404, "model_not_found", e.what()), "error");
        } catch (const std::exception& e) {
            return logged(error_response(500, "server_error", e.what()), "error");
        }
        return logged(completion(chat, result), "success");
    }

    lm::http_response completion(const llmetrics_demo::chat_request& chat, const lm::inference_result& result) {
        const std::uint64_t id = ++completions_;
        const auto created = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count();
        const nlohmann::json message{{"role", "assistant"}, {"content", result.text}};
        nlohmann::json usage{{"prompt_tokens", result.metrics.input_tokens.value_or(0)},
                             {"completion_tokens", result.metrics.output_tokens.value_or(0)},
                             {"total_tokens", result.metrics.total_tokens.value_or(0)}};
        if (!chat.stream) {
            const nlohmann::json body{{"id", "chatcmpl-" + std::to_string(id)},
                                      {"object", "chat.completion"},
                                      {"created", created},
                                      {"model", result.model},
                                      {"choices", {{{"index", 0}, {"message", message}, {"finish_reason", "stop"}}}},
                                      {"usage", std::move(usage)}};
            return lm::http_response::json(200, body.dump());
        }
        // stream: the answer as server-sent events, one chunk then [DONE].
        const nlohmann::json chunk{{"id", "chatcmpl-" + std::to_string(id)},
                                   {"object", "chat.completion.chunk"},
                                   {"created", created},
                                   {"model", result.model},
                                   {"choices", {{{"index", 0}, {"delta", message}, {"finish_reason", "stop"}}}}};
        return {200, "text/event-stream", "data: " + chunk.dump() + "\n\ndata: [DONE]\n\n", {}};
    }

    static lm::http_response error_response(unsigned status, std::string_view type, std::string_view message) {
        const nlohmann::json body{{"error", {{"message", message}, {"type", type}}}};
        return lm::http_response::json(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }

    const demo_options& options_;
    lm::catalog_registry* metrics_;
    fake_clock clock_;
    simulated_router engine_;
    lm::monitored_router<simulated_router&, lm::catalog_registry> router_;
    std::mutex mutex_;
    std::atomic<std::uint64_t> completions_{0};
    bool ready_ = false;
    lm::request_log* log_ = nullptr;
};

int run_service(const demo_options& options) {
    lm::catalog_registry metrics;  // declared first: the exposer reads it until it stops
    metrics.add_collector(std::make_shared<lm::process_collector>("llm_router_"));
    std::unique_ptr<lm::request_log> log;  // before the service: written until the exposer stops
    if (!options.log_path.empty()) {
        log = options.log_path == "-" ? std::make_unique<lm::request_log>(stdout)
                                      : std::make_unique<lm::request_log>(std::filesystem::path(options.log_path));
        metrics.add_collector(log->make_collector("llm_router_"));
    }
    chat_service service(options, metrics);
    service.set_log(log.get());
    service.preload(options.preload);

    lm::exposer exposer{metrics, {.address = options.listen_host,
                                  .port = options.listen_port,
                                  .threads = static_cast<unsigned>(options.threads),
                                  .handle_signals = true}};
    metrics.add_collector(exposer.make_collector());
    exposer.add_readiness_check("router", [&] { return service.ready(); }, std::chrono::milliseconds(500));
    exposer.add_route("POST", "/v1/chat/completions", [&](const lm::http_request& req) { return service.handle(req); });

    const auto endpoint = exposer.endpoint();
    const std::string address = endpoint.address().is_v6() ? "[" + endpoint.address().to_string() + "]"
                                                           : endpoint.address().to_string();
    std::printf("llmetrics-demo listening on http://%s:%u\n", address.c_str(), static_cast<unsigned>(endpoint.port()));
    std::fflush(stdout);
    exposer.wait();  // until SIGINT or SIGTERM
    return push_if_asked(options, metrics, address + ":" + std::to_string(endpoint.port()));
}

// --- operate: the demo's SLOs, rules and dashboard ------------------------

lm::slo_set<lm::catalog_registry> demo_slos() {
    namespace cat = lm::catalog;
    lm::slo_set<lm::catalog_registry> slos;
    slos.add(lm::slo<lm::availability<cat::model_inference_total, "status", "success", lm::by<"tenant_id">>>{
            .name = "inference-availability", .objective = 0.999})
        .add(lm::slo<lm::latency<cat::model_inference_duration_seconds, 10>>{.name = "inference-latency",
                                                                            .objective = 0.99});
    return slos;
}

// Writes the files --emit-rules and --emit-dashboard ask for; false on an I/O error.
bool emit_operate_files(const demo_options& options) {
    const auto write = [](const std::string& path, const std::string& text) {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << text;
        out.close();
        if (!out) std::fprintf(stderr, "llmetrics-demo: cannot write %s\n", path.c_str());
        return static_cast<bool>(out);
    };
    bool ok = true;
    if (!options.emit_rules.empty()) {
        lm::rules_options rules{.dashboard_url = "http://localhost:3000/d/llm-router", .job = "llm-router"};
        if (options.rules_scale != 1) rules = lm::scaled(rules, options.rules_scale);
        ok = write(options.emit_rules, lm::prometheus_rules(demo_slos(), rules)) && ok;
    }
    if (!options.emit_dashboard.empty())
        ok = write(options.emit_dashboard, lm::grafana_dashboard(demo_slos()).dump(2) + "\n") && ok;
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    demo_options options;
    if (const std::string error = parse_command_line(argc, argv, options); !error.empty()) {
        std::fprintf(stderr, "llmetrics-demo: %s\n", error.c_str());
        return 2;
    }
    try {
        if (!emit_operate_files(options)) return 1;
        // Emitting alone is a run of its own; with a mode, the mode runs too.
        if (options.mode == demo_mode::tutorial && (!options.emit_rules.empty() || !options.emit_dashboard.empty()))
            return 0;
        switch (options.mode) {
        case demo_mode::help: print_usage(stdout); return 0;
        case demo_mode::print_format: return run_print_format(options);
        case demo_mode::tutorial: return run_tutorial(options);
        case demo_mode::serve: return run_service(options);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "llmetrics-demo: %s\n", e.what());
        return 1;
    }
    return 0;
}

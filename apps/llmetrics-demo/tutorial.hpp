#pragma once
// The tutorial's demonstration (the default run) and --format: simulated
// requests through monitored_router, then the key metric lines or the whole
// registry; --push sends the registry to a Pushgateway at the end.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include <llmetrics/instrument.hpp>
#include <llmetrics/serve.hpp>

#include "demo_registry.hpp"
#include "cli.hpp"
#include "simulation.hpp"

namespace llmetrics_demo {

namespace lm = llmetrics;

struct outcome {
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;
};

// Runs the simulation into `metrics`; `log` gets the tutorial's per-request lines.
inline outcome simulate(const demo_options& options, demo_registry& metrics, std::FILE* log) {
    fake_clock clock;
    const lm::time_source time = lm::time_source::of(clock);
    simulated_router engine(options.seed, clock, options.failure_rate, options.upstreams);
    lm::monitored_router router{engine, metrics};
    router.set_time_source(time);
    lm::tenant_budgets budgets{metrics};
    give_demo_budgets(budgets);
    router.attach(budgets);  // the router records each call's cost as spend and charges it here

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
        lm::model_queue_guard queued_for_model{metrics, model};
        clock.advance(engine.random().uniform(0.0005, 0.004));  // waiting for a worker
        queued.release();
        queued_for_model.release();

        int status = 200;
        lm::routing_report routing;  // the router's attempts, failed calls included
        try {
            const lm::request_options call{
                .model = model, .tenant_id = tenant, .max_tokens = 50 + 10 * (i % 5), .routing = &routing};
            // --stream-share: drawn only when asked, so the default run stays the tutorial's.
            const bool stream = options.stream_share > 0 && engine.random().uniform(0, 1) < options.stream_share;
            if (stream) router.process_stream(prompt, call, [](std::string_view) {});
            else router.process(prompt, call);
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

// --push: the registry to a Pushgateway, grouped by job and instance.
inline int push_if_asked(const demo_options& options, const demo_registry& metrics, std::string_view instance) {
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

// --remote-write: a client pushing `metrics` (its own metrics registered there
// too), labelled job="llmetrics-demo" and instance; errors go to stderr.
inline std::unique_ptr<lm::remote_write> remote_write_if_asked(const demo_options& options,
                                                               demo_registry& metrics, std::string_view instance) {
    if (options.remote_write_url.empty()) return nullptr;
    lm::remote_write_options o;
    o.interval = std::chrono::milliseconds(static_cast<std::int64_t>(options.remote_write_interval * 1000));
    o.external_labels = {{"job", "llmetrics-demo"}, {"instance", std::string(instance)}};
    o.timeout = std::chrono::milliseconds(2000);
    o.max_backoff = std::chrono::milliseconds(1000);
    if (options.remote_write_queue) o.max_queue_samples = options.remote_write_queue;
    o.tls.ca_file = options.remote_write_ca;
    o.tls.server_name = options.remote_write_server_name;
    o.tls.cert_file = options.remote_write_cert;
    o.tls.key_file = options.remote_write_key;
    if (!options.remote_write_bearer.empty()) o.auth = lm::http_auth::bearer(options.remote_write_bearer);
    o.error_log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
    auto client = std::make_unique<lm::remote_write>(options.remote_write_url, metrics, std::move(o));
    metrics.add_collector(client->make_collector());
    return client;
}

// Stops the client (a last snapshot, then the flush) and prints its counts as one line.
inline void finish_remote_write(std::unique_ptr<lm::remote_write>& client) {
    if (!client) return;
    client->stop();
    const lm::remote_write_stats s = client->stats();
    const lm::remote_write_counts d = s.dropped();
    std::fprintf(stderr, "llmetrics-demo: remote write: %llu requests, %llu samples sent, %llu failed, %llu retried, "
                         "%llu dropped, %llu snapshots\n",
                 static_cast<unsigned long long>(s.requests_sent), static_cast<unsigned long long>(s.sent.samples),
                 static_cast<unsigned long long>(s.failed.samples), static_cast<unsigned long long>(s.retried.samples),
                 static_cast<unsigned long long>(d.samples), static_cast<unsigned long long>(s.snapshots));
}

inline int run_tutorial(const demo_options& options) {
    demo_registry metrics;
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
    auto remote = remote_write_if_asked(options, metrics, "batch");
    finish_remote_write(remote);
    return push_if_asked(options, metrics, "batch");
}

inline int run_print_format(const demo_options& options) {
    demo_registry metrics;
    metrics.add_collector(std::make_shared<lm::process_collector>("llm_router_"));
    simulate(options, metrics, nullptr);
    const std::string body = lm::render(metrics, options.format);
    std::fwrite(body.data(), 1, body.size(), stdout);
    std::fflush(stdout);
    return push_if_asked(options, metrics, "batch");
}

}  // namespace llmetrics_demo

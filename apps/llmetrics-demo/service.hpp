#pragma once
// --listen: the simulated router as an HTTP service. POST /v1/chat/completions
// goes through monitored_router and the HTTP request timer; /metrics, /healthz
// and /readyz are the exposer's. With `"stream": true` the answer is server-sent
// events written as the tokens are produced (exposer streaming route, paced in
// real time): time to first token is when the first event is handed to the
// socket, and a client that disconnects is counted in client_cancellations_total
// by stage while the simulated upstream stops.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <sys/resource.h>

#include <llmetrics/instrument.hpp>
#include <llmetrics/operate.hpp>
#include <llmetrics/serve.hpp>
// The service builds Beast requests itself (--preload) and reads the exposer's endpoint.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

#include "demo_registry.hpp"
#include "chat_request.hpp"
#include "cli.hpp"
#include "simulation.hpp"
#include "tutorial.hpp"

namespace llmetrics_demo {

namespace lm = llmetrics;

// The simulated router behind monitored_router, shared by the server's threads:
// the router and its simulated clock are not thread-safe, so each call holds the
// mutex (the HTTP timer reads the real clock and needs no lock).
class chat_service {
public:
    chat_service(const demo_options& options, demo_registry& metrics)
        : options_(options),
          metrics_(&metrics),
          engine_(options.seed, clock_, options.failure_rate, options.upstreams),
          router_(engine_, metrics),
          budgets_(metrics),
          paced_(engine_, mutex_),
          streams_(paced_, metrics) {
        give_demo_budgets(budgets_);
        router_.attach(budgets_);  // each call's cost: spend, and charged to the tenant's budget
        streams_.attach(budgets_);
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
            // --stream-share: these streams play on the simulated clock, like the rest of the preload.
            const bool stream = options_.stream_share > 0 && preload_random_.uniform(0, 1) < options_.stream_share;
            const std::string body = R"({"model":")" + std::string(i % 3 == 0 ? "gpt-4" : "gpt-3.5-turbo") +
                                     R"(","messages":[{"role":"user","content":"warm up"}],"max_tokens":64)" +
                                     (stream ? R"(,"stream":true})" : "}");
            lm::http_request::message_type message{boost::beast::http::verb::post, "/v1/chat/completions", 11};
            message.set("X-Tenant-ID", tenant);
            message.body() = body;
            handle(lm::http_request(message, "127.0.0.1"));
        }
    }

private:
    lm::http_response answer(std::string_view body, std::string_view tenant, lm::http_request_timer<demo_registry>* timer) {
        llmetrics_demo::chat_request chat;
        if (std::string error = llmetrics_demo::parse_chat_request(body, chat); !error.empty()) {
            if (timer) lm::record_error(*metrics_, "InvalidRequestError", {}, tenant);
            return error_response(400, "invalid_request_error", error);
        }
        lm::routing_report routing;  // the router's attempts, failed calls included
        const lm::request_options call{.model = chat.model,
                                       .tenant_id = tenant,
                                       .max_tokens = static_cast<std::size_t>(chat.max_tokens),
                                       .stream = chat.stream,
                                       .routing = &routing};
        lm::inference_result result;
        double seconds = 0;  // simulated time of the call, as the inference duration records it
        const auto logged = [&](lm::http_response response, std::string_view status) {
            if (log_)
                log_->log({.tenant = tenant, .model = chat.model,  // the model asked for, as the metrics
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
                lm::model_queue_guard queued_for_model{*metrics_, chat.model};
                clock_.advance(engine_.random().uniform(0.0005, 0.004));  // waiting for a worker
                queued.release();
                queued_for_model.release();
                lm::record_cache_operation(*metrics_, "model", engine_.random().uniform(0, 1) < 0.3, tenant);
                if (chat.stream) result = router_.process_stream(chat.prompt, call, [](std::string_view) {});
                else result = router_.process(chat.prompt, call);
            } else {
                clock_.advance(engine_.random().uniform(0.0005, 0.004));
                (void)engine_.random().uniform(0, 1);
                result = engine_.process(chat.prompt, call);
            }
        } catch (const std::exception& e) {
            return logged(error_for(e), "error");
        }
        return logged(completion(chat, result), "success");
    }

public:
    // On the I/O thread: handle()'s answer, unless the request asks for a stream.
    std::optional<lm::http_response> answer_unless_streamed(const lm::http_request& req) {
        llmetrics_demo::chat_request chat;
        if (llmetrics_demo::parse_chat_request(req.body(), chat).empty() && chat.stream) return std::nullopt;
        return handle(req);
    }

    // On a worker: the streamed answer (`"stream": true`).
    void handle_streaming(const lm::http_request& req, lm::http_stream& out) {
        llmetrics_demo::chat_request chat;
        if (!llmetrics_demo::parse_chat_request(req.body(), chat).empty() || !chat.stream) {
            out.respond(handle(req));
            return;
        }
        const auto started = std::chrono::steady_clock::now();
        const std::string_view tenant = req.header("X-Tenant-ID");
        std::optional<lm::scoped_trace_context> trace;
        std::optional<lm::http_request_timer<demo_registry>> timer;
        std::optional<lm::connection_guard> connection;
        if (options_.instrumented) {
            if (const auto parent = lm::parse_traceparent(req.header("traceparent"))) trace.emplace(parent->child());
            timer.emplace(*metrics_);
            connection.emplace(*metrics_, tenant);
        }
        const lm::request_options call{.model = chat.model,
                                       .tenant_id = tenant,
                                       .max_tokens = static_cast<std::size_t>(chat.max_tokens),
                                       .stream = true};
        const std::string id = "chatcmpl-" + std::to_string(++completions_);
        const auto created = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count();
        const auto event = [&](nlohmann::json delta, const char* finish_reason) {
            const nlohmann::json chunk{
                {"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", chat.model},
                {"choices", {{{"index", 0}, {"delta", std::move(delta)},
                              {"finish_reason", finish_reason ? nlohmann::json(finish_reason) : nlohmann::json()}}}}};
            return "data: " + chunk.dump() + "\n\n";
        };
        // The head goes out with the first token, so a failure before it is an
        // ordinary error response.
        bool begun = false;
        const auto begin = [&] {
            return std::exchange(begun, true) || out.begin(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
        };
        // Each token is one event; false (the client is gone) stops the upstream.
        const auto on_chunk = [&](std::string_view token) -> bool {
            return begin() && out.push(event({{"role", "assistant"}, {"content", token}}, nullptr));
        };
        unsigned status = 200;
        std::string_view outcome = "success";
        lm::inference_result result;
        if (out.cancelled()) {  // the client left while the request waited for a worker
            if (options_.instrumented) streams_.record_cancellation(call, lm::cancellation_stage::queued);
            status = 499;
        } else {
            try {
                result = options_.instrumented ? streams_.process_stream(chat.prompt, call, on_chunk)
                                               : paced_.process_stream(chat.prompt, call, on_chunk);
                if (!out.cancelled() && begin()) {
                    out.push(event(nlohmann::json::object(), "stop"));
                    out.push("data: [DONE]\n\n");
                }
                if (out.cancelled()) status = 499;  // nginx's "client closed request"
            } catch (const std::exception& e) {
                lm::http_response error = error_for(e);
                status = error.status;
                if (!begun) out.respond(std::move(error));
            }
        }
        if (status == 499) outcome = "cancelled";
        else if (status != 200) outcome = "error";
        if (timer) timer->finish("POST", "/v1/chat/completions", static_cast<int>(status), tenant);
        if (log_)
            log_->log({.tenant = tenant, .model = result.model.empty() ? chat.model : result.model,
                       .strategy = "balanced", .status = outcome,
                       .duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                       .tokens = static_cast<std::uint64_t>(result.metrics.total_tokens.value_or(0)),
                       .cost_cents = result.metrics.cost.value_or(0) * 100});
    }

private:
    static lm::http_response error_for(const std::exception& e) {
        if (dynamic_cast<const RateLimitError*>(&e)) return error_response(429, "rate_limit_error", e.what());
        if (dynamic_cast<const TimeoutError*>(&e)) return error_response(504, "timeout", e.what());
        if (dynamic_cast<const ModelNotFoundError*>(&e)) return error_response(404, "model_not_found", e.what());
        return error_response(500, "server_error", e.what());
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
    demo_registry* metrics_;
    fake_clock clock_;
    simulated_router engine_;
    lm::monitored_router<simulated_router&, demo_registry> router_;
    lm::tenant_budgets<demo_registry> budgets_;
    std::mutex mutex_;  // the engine and its clock
    paced_router paced_;  // streamed answers, in real time (the steady clock)
    lm::monitored_router<paced_router&, demo_registry> streams_;
    random_source preload_random_{0x5eed};
    std::atomic<std::uint64_t> completions_{0};
    bool ready_ = false;
    lm::request_log* log_ = nullptr;
};

// The exposer holds at most max_connections sockets (the attackers' others wait
// in the kernel's listen backlog, which costs no descriptor); when the soft
// descriptor limit is below that plus a margin, raise it as far as the hard limit
// allows, and say so when that is not enough.
inline void raise_fd_limit(std::size_t max_connections) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    const rlim_t wanted = static_cast<rlim_t>(max_connections) + 64;
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
        limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
        ::setrlimit(RLIMIT_NOFILE, &limit);
        ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted)
        std::fprintf(stderr, "llmetrics-demo: the descriptor limit (%llu) is below --max-connections + 64; "
                             "accepts will back off when it is reached\n",
                     static_cast<unsigned long long>(limit.rlim_cur));
}

inline int run_service(const demo_options& options) {
    demo_registry metrics;  // declared first: the exposer reads it until it stops
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

    lm::exposer_options serve = options.limits;  // --max-connections, --header-timeout, ...
    serve.address = options.listen_host;
    serve.port = options.listen_port;
    serve.threads = static_cast<unsigned>(options.threads);
    serve.worker_threads = std::max(serve.worker_threads, 16u);  // streams run on workers, sleeping mostly
    serve.handle_signals = true;
    raise_fd_limit(serve.max_connections);
    lm::exposer exposer{metrics, std::move(serve)};
    metrics.add_collector(exposer.make_collector());
    exposer.add_readiness_check("router", [&] { return service.ready(); }, std::chrono::milliseconds(500));
    // Plain answers on the I/O thread; streamed ones hold a worker while they last.
    exposer.add_streaming_route(
        "POST", "/v1/chat/completions",
        [&](const lm::http_request& req, lm::http_stream& out) { service.handle_streaming(req, out); },
        [&](const lm::http_request& req) { return service.answer_unless_streamed(req); });

    const auto endpoint = exposer.endpoint();
    const std::string address = endpoint.address().is_v6() ? "[" + endpoint.address().to_string() + "]"
                                                           : endpoint.address().to_string();
    std::printf("llmetrics-demo listening on http://%s:%u\n", address.c_str(), static_cast<unsigned>(endpoint.port()));
    std::fflush(stdout);
    auto remote = remote_write_if_asked(options, metrics, address + ":" + std::to_string(endpoint.port()));
    exposer.wait();  // until SIGINT or SIGTERM
    finish_remote_write(remote);
    return push_if_asked(options, metrics, address + ":" + std::to_string(endpoint.port()));
}

}  // namespace llmetrics_demo

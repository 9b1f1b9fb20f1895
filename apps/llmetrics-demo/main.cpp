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
//     llmetrics-demo --listen 127.0.0.1:0 --remote-write http://127.0.0.1:9090/api/v1/write
//                                            Prometheus remote write every second while serving,
//                                            and a last push at the end
//     llmetrics-demo --emit-rules rules.yml --emit-dashboard dashboard.json
//                                            the Prometheus rules (SLO burn rates and alerts)
//                                            and the Grafana dashboard for the demo's registry
//                                            and SLOs, then exit (unless a mode is given too)
//     llmetrics-demo --listen 127.0.0.1:0 --log requests.jsonl --failure-rate 0.5
//                                            a JSON-lines request log, and more failures
//     llmetrics-demo --upstreams 3 --failure-rate 0.3 --format prometheus
//                                            three deployments per model: failed attempts are
//                                            retried on the next, then fall back to another
//                                            model (the gateway families count each)
//     llmetrics-demo --requests 100 --stream-share 0.3
//                                            30% of the simulated requests stream their
//                                            tokens (time to first token, per token)
//     llmetrics-demo --listen 127.0.0.1:9464 --max-connections 512 --header-timeout 2000
//                                            the exposer's bounds: connections, header and
//                                            body bytes, header/body/idle/write deadlines
//                                            (--help says what each bounds)
//
// Service mode (--listen HOST:PORT, port 0 picks a free one; the bound address is
// printed as `llmetrics-demo listening on http://HOST:PORT`):
//   POST /v1/chat/completions   an OpenAI-style body (chat_request.hpp),
//                               tenant from X-Tenant-ID ("unknown" when absent),
//                               answered by the simulated router through
//                               monitored_router; the HTTP request timer records
//                               both HTTP families. A malformed or wrong-shaped body
//                               gets 400 with a JSON error, counted in
//                               http_requests_total{status_code="400"} and
//                               errors_total{error_type="InvalidRequestError"}.
//                               With "stream": true, server-sent events written
//                               as the tokens are produced (real time, seeded
//                               gaps), data: [DONE] last; a client that leaves
//                               is counted in client_cancellations_total{stage}.
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
// The parts: cli.hpp (options parsed in one place into demo_options),
// simulation.hpp (the router and its clock), tutorial.hpp (the default run and
// --format, --push), service.hpp (--listen), operate_files.hpp (--emit-rules,
// --emit-dashboard). main() dispatches on the mode: a new mode is one more
// option_spec entry and one more case.

#include <cstdio>
#include <exception>
#include <string>

#include "cli.hpp"
#include "operate_files.hpp"
#include "service.hpp"
#include "tutorial.hpp"

using namespace llmetrics_demo;

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

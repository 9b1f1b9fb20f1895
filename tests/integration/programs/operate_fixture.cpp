// The operate layer's output for the catalog registry and two SLOs, for
// tests/integration/test_operate_rules.py.
//
//   operate_fixture rules [--scale F] [--job J] [--dashboard-url U]   Prometheus rules (YAML)
//   operate_fixture dashboard                                         Grafana dashboard (JSON)
//   operate_fixture queries                                           every panel query (JSON)
//   operate_fixture slos                                              the SLOs (JSON)
//   operate_fixture metrics ROUND                                     Prometheus text of the
//       catalog registry after ROUND rounds of traffic (so counters grow from one call
//       to the next), with the process metrics under the same prefix
//
// The SLOs: inference-availability (99.9% of model_inference_total with
// status="success", per tenant_id) and inference-latency (99% of
// model_inference_duration_seconds at most 10 s, global).

#include <llmetrics/collectors/process_collector.hpp>
#include <llmetrics/exposition/render.hpp>
#include <llmetrics/instrument/catalog.hpp>
#include <llmetrics/operate/dashboard.hpp>
#include <llmetrics/operate/rules.hpp>
#include <llmetrics/operate/slo.hpp>

#include <charconv>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace lm = llmetrics;
namespace cat = lm::catalog;

namespace {

using inference_ok = lm::availability<cat::model_inference_total, "status", "success", lm::by<"tenant_id">>;
using inference_fast = lm::latency<cat::model_inference_duration_seconds, 10>;

lm::slo_set<lm::catalog_registry> fixture_slos() {
    lm::slo_set<lm::catalog_registry> slos;
    slos.add(lm::slo<inference_ok>{.name = "inference-availability", .objective = 0.999})
        .add(lm::slo<inference_fast>{.name = "inference-latency",
                                     .objective = 0.99,
                                     .description = "Slow answers count against the budget too."});
    return slos;
}

void traffic(lm::catalog_registry& m, long rounds) {
    const char* tenants[] = {"tenant-a", "tenant-b"};
    const char* models[] = {"gpt-4", "gpt-3.5-turbo"};
    for (long r = 0; r < rounds; ++r)
        for (int t = 0; t < 2; ++t)
            for (int k = 0; k < 2; ++k) {
                const char* tenant = tenants[t];
                const char* model = models[k];
                const double latency = 0.2 + 0.7 * (t + k) + 0.01 * static_cast<double>(r % 7);
                m.get<cat::http_requests_total>().labels("POST", "/v1/chat", "200", tenant).inc();
                m.get<cat::http_request_duration_seconds>().labels("POST", "/v1/chat", tenant).observe(latency + 0.01);
                const bool failed = (r + t + k) % 10 == 0;
                m.get<cat::model_inference_total>()
                    .labels(model, "balanced", failed ? "error" : "success", tenant)
                    .inc();
                m.get<cat::model_inference_duration_seconds>().labels(model, "balanced", tenant).observe(latency);
                m.get<cat::model_inference_tokens>().labels(model, "balanced", tenant).observe(120.0 + 30 * k);
                m.get<cat::request_cost_cents>().labels(model, tenant).observe(0.4 + k);
                m.get<cat::cache_hits_total>().labels("prompt", tenant).inc(k + 1);
                m.get<cat::cache_misses_total>().labels("prompt", tenant).inc();
                if (failed) m.get<cat::errors_total>().labels("timeout", model, tenant).inc();
            }
    m.get<cat::active_connections>().labels("tenant-a").set(3);
    m.get<cat::active_connections>().labels("tenant-b").set(1);
    m.get<cat::queue_depth>().labels("inference", "tenant-a").set(static_cast<double>(rounds % 5));
    m.get<cat::model_load_time_seconds>().labels("gpt-4", "gguf", "local").observe(2.5);
    m.get<cat::model_load_time_seconds>().labels("gpt-3.5-turbo", "onnx", "remote").observe(0.7);
}

int usage() {
    std::cerr << "usage: operate_fixture rules [--scale F] [--job J] [--dashboard-url U] | dashboard | queries | "
                 "slos | metrics ROUND\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage();
    const std::string_view cmd = argv[1];
    const auto slos = fixture_slos();

    if (cmd == "rules") {
        lm::rules_options o;
        double scale = 1;
        for (int i = 2; i + 1 < argc; i += 2) {
            const std::string_view opt = argv[i];
            if (opt == "--scale")
                scale = std::stod(argv[i + 1]);
            else if (opt == "--job")
                o.job = argv[i + 1];
            else if (opt == "--dashboard-url")
                o.dashboard_url = argv[i + 1];
            else
                return usage();
        }
        if (scale != 1) o = lm::scaled(o, scale);
        std::cout << lm::prometheus_rules(slos, o);
        return 0;
    }
    if (cmd == "dashboard") {
        std::cout << lm::grafana_dashboard(slos).dump(2) << "\n";
        return 0;
    }
    if (cmd == "queries") {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& q : lm::dashboard_queries(slos))
            out.push_back({{"panel", q.panel}, {"ref_id", q.ref_id}, {"expr", q.expr}, {"metrics", q.metrics}});
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    if (cmd == "slos") {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& s : slos.specs())
            out.push_back(
                {{"name", s.name()}, {"metric", s.metric()}, {"objective", s.objective()}, {"group_by", s.group_by()}});
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    if (cmd == "metrics" && argc == 3) {
        long rounds = 0;
        const std::string_view text = argv[2];
        if (std::from_chars(text.data(), text.data() + text.size(), rounds).ec != std::errc{}) return usage();
        lm::catalog_registry metrics;
        metrics.add_collector(std::make_shared<lm::process_collector>("llm_router_"));
        traffic(metrics, rounds);
        std::cout << lm::render(metrics, lm::format::prometheus);
        return 0;
    }
    return usage();
}

#pragma once
// llmetrics-demo's command line: the options, their table (name, value, help,
// how to apply), the usage text and the parser. A new option is one more entry.

#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include <llmetrics/exposition/format.hpp>
#include <llmetrics/serve/exposer_options.hpp>

namespace llmetrics_demo {

namespace lm = llmetrics;

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
    lm::exposer_options limits;  // the exposer's bounds (--max-connections, --header-timeout, ...)
    // all modes
    std::string push_url;
    std::string remote_write_url;          // --remote-write
    double remote_write_interval = 1;      // seconds
    std::uint64_t remote_write_queue = 0;  // samples; 0: the library's default
    std::string remote_write_ca;           // https: CA file
    std::string remote_write_server_name;  // https: name the certificate must carry
    std::string remote_write_cert, remote_write_key;  // https: client certificate and key (mutual TLS)
    std::string remote_write_bearer;       // the token read from --remote-write-bearer-file
    double failure_rate = 0.12;  // half timeouts, half rate limits (the tutorial's 12%)
    std::uint64_t upstreams = 2;  // deployments per model (--upstreams)
    double stream_share = 0;     // share of the simulated load's requests that stream
    // operate
    std::string emit_rules, emit_dashboard, log_path;
    double rules_scale = 1;
};

inline bool parse_count(std::string_view text, std::uint64_t& out) {
    if (text.empty() || text.size() > 18) return false;
    std::uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out = v;
    return true;
}

inline bool parse_fraction(std::string_view text, double& out) {
    double v = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec != std::errc{} || r.ptr != text.data() + text.size() || !(v >= 0 && v <= 1)) return false;
    out = v;
    return true;
}

// --max-connections and the other limits: a whole number in [low, high].
template <auto Member, std::uint64_t Low, std::uint64_t High>
std::string apply_limit(demo_options& o, std::string_view name, std::string_view v, std::string_view unit) {
    std::uint64_t n = 0;
    if (!parse_count(v, n) || n < Low || n > High)
        return std::string(name) + " needs a whole number of " + std::string(unit) + " from " + std::to_string(Low) +
               " to " + std::to_string(High) + ", not '" + std::string(v) + "'";
    using field = std::remove_reference_t<decltype(o.limits.*Member)>;
    if constexpr (std::is_same_v<field, std::chrono::milliseconds>) o.limits.*Member = std::chrono::milliseconds(n);
    else o.limits.*Member = static_cast<field>(n);
    return {};
}

struct option_spec {
    std::string_view name;
    std::string_view value_name;  // empty: a flag without a value
    std::string_view help;
    // Applies the option; returns an error message, empty on success.
    std::string (*apply)(demo_options&, std::string_view value);
};

inline const option_spec option_table[] = {
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
    {"--remote-write", "URL",
     "push the registry with Prometheus remote write to URL (e.g. http://127.0.0.1:9090/api/v1/write): every "
     "interval while serving, and once at the end",
     [](demo_options& o, std::string_view v) -> std::string {
         if (!v.starts_with("http://") && !v.starts_with("https://"))
             return "--remote-write needs an http:// or https:// URL, not '" + std::string(v) + "'";
         o.remote_write_url = std::string(v);
         return {};
     }},
    {"--remote-write-interval", "S", "with --remote-write: seconds between pushes (default 1)",
     [](demo_options& o, std::string_view v) -> std::string {
         double s = 0;
         const auto r = std::from_chars(v.data(), v.data() + v.size(), s);
         if (r.ec != std::errc{} || r.ptr != v.data() + v.size() || !(s >= 0.01 && s <= 3600))
             return "--remote-write-interval needs seconds from 0.01 to 3600, not '" + std::string(v) + "'";
         o.remote_write_interval = s;
         return {};
     }},
    {"--remote-write-queue", "N", "with --remote-write: samples pending at most (oldest requests dropped beyond)",
     [](demo_options& o, std::string_view v) -> std::string {
         if (!parse_count(v, o.remote_write_queue) || o.remote_write_queue < 1)
             return "--remote-write-queue needs a whole number of samples, not '" + std::string(v) + "'";
         return {};
     }},
    {"--remote-write-ca", "FILE", "with an https:// --remote-write: the CA certificates to trust (PEM)",
     [](demo_options& o, std::string_view v) -> std::string {
         o.remote_write_ca = std::string(v);
         return {};
     }},
    {"--remote-write-server-name", "NAME", "with an https:// --remote-write: the name the certificate must carry",
     [](demo_options& o, std::string_view v) -> std::string {
         o.remote_write_server_name = std::string(v);
         return {};
     }},
    {"--remote-write-cert", "FILE", "with an https:// --remote-write: the client certificate (PEM), for mutual TLS",
     [](demo_options& o, std::string_view v) -> std::string {
         o.remote_write_cert = std::string(v);
         return {};
     }},
    {"--remote-write-key", "FILE", "with --remote-write-cert: its private key (PEM)",
     [](demo_options& o, std::string_view v) -> std::string {
         o.remote_write_key = std::string(v);
         return {};
     }},
    {"--remote-write-bearer-file", "FILE", "with --remote-write: send `Authorization: Bearer <the file's first line>`",
     [](demo_options& o, std::string_view v) -> std::string {
         std::ifstream f{std::string(v)};
         if (!std::getline(f, o.remote_write_bearer) || o.remote_write_bearer.empty())
             return "--remote-write-bearer-file needs a file whose first line is the token: '" + std::string(v) + "'";
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
    {"--max-connections", "N",
     "with --listen: connections open at once (default 128); at the bound a new one evicts the one whose "
     "request has waited longest, never one mid-response",
     [](demo_options& o, std::string_view v) {
         return apply_limit<&lm::exposer_options::max_connections, 1, 1'000'000>(o, "--max-connections", v,
                                                                                  "connections");
     }},
    {"--max-header-bytes", "N", "with --listen: bytes of request line and headers (default 8192; more gets 431)",
     [](demo_options& o, std::string_view v) {
         return apply_limit<&lm::exposer_options::max_header_bytes, 256, 1 << 20>(o, "--max-header-bytes", v, "bytes");
     }},
    {"--max-body-bytes", "N", "with --listen: bytes of a request body (default 1048576; more gets 413)",
     [](demo_options& o, std::string_view v) {
         return apply_limit<&lm::exposer_options::max_body_bytes, 0, 1 << 30>(o, "--max-body-bytes", v, "bytes");
     }},
    {"--header-timeout", "MS",
     "with --listen: the request line and headers must be complete this long after the accept (or a keep-alive "
     "request's first byte), however slowly they trickle (default 5000)",
     [](demo_options& o, std::string_view v) {
         return apply_limit<&lm::exposer_options::header_timeout, 1, 3'600'000>(o, "--header-timeout", v,
                                                                                 "milliseconds");
     }},
    {"--body-timeout", "MS", "with --listen: a request body must be complete this long after its headers "
                             "(default 10000)",
     [](demo_options& o, std::string_view v) {
         return apply_limit<&lm::exposer_options::body_timeout, 1, 3'600'000>(o, "--body-timeout", v, "milliseconds");
     }},
    {"--idle-timeout", "MS", "with --listen: a keep-alive connection waits this long for its next request "
                             "(default 30000)",
     [](demo_options& o, std::string_view v) {
         return apply_limit<&lm::exposer_options::idle_timeout, 1, 3'600'000>(o, "--idle-timeout", v, "milliseconds");
     }},
    {"--write-timeout", "MS", "with --listen: writing one response may take this long (default 10000)",
     [](demo_options& o, std::string_view v) {
         return apply_limit<&lm::exposer_options::write_timeout, 1, 3'600'000>(o, "--write-timeout", v,
                                                                                "milliseconds");
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
    {"--upstreams", "N", "deployments per simulated model, 1 to 16 (default 2); a failed attempt is retried on the "
                         "next one, then falls back to another model",
     [](demo_options& o, std::string_view v) -> std::string {
         if (!parse_count(v, o.upstreams) || o.upstreams < 1 || o.upstreams > 16)
             return "--upstreams needs a whole number from 1 to 16, not '" + std::string(v) + "'";
         return {};
     }},
    {"--stream-share", "R", "share of the simulated requests (the default run, --format, --preload) that stream "
                            "their tokens, 0 to 1 (default 0); with --listen, a client asks for a stream with "
                            "\"stream\": true",
     [](demo_options& o, std::string_view v) -> std::string {
         if (!parse_fraction(v, o.stream_share))
             return "--stream-share needs a number from 0 to 1, not '" + std::string(v) + "'";
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

inline void print_usage(std::FILE* out) {
    std::fprintf(out, "usage: llmetrics-demo [options]\n\n"
                      "Runs the LLM Runner Router monitoring tutorial's Prometheus demo against a\n"
                      "simulated router and prints the key llm_router_ metrics.\n\noptions:\n");
    for (const option_spec& o : option_table) {
        std::string left(o.name);
        if (!o.value_name.empty()) left.append(" ").append(o.value_name);  // not " " + string: GCC 12 -O3 -Wrestrict false positive
        std::fprintf(out, "  %-42s %.*s\n", left.c_str(), static_cast<int>(o.help.size()), o.help.data());
    }
}

// Accepts `--name value` and `--name=value`. Returns an error message, empty on success.
inline std::string parse_command_line(int argc, char** argv, demo_options& out) {
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

}  // namespace llmetrics_demo

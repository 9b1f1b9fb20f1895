// The tutorial's custom-metrics demo on llmetrics::analytics_collector: records
// 5 api_call and 5 revenue events, 15 interactions of three users (10% errors),
// 10 model performance samples over three models, lets the system sampler run
// briefly, then reports over the last 10 minutes.
//
//   llmetrics-analytics-demo [--seed S] [--json | --prometheus] [--wait-ms N] [--help]
//
// Unlike the tutorial, every user and every model appears at least once (each
// user has 5 interactions in a random order; the first three model samples
// cover the three models), so the report always has 3 users and 3 models.

#include <llmetrics/analytics/analytics_collector.hpp>
#include <llmetrics/exposition/render.hpp>
#include <llmetrics/registry/registry.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr std::string_view program = "llmetrics-analytics-demo";

void usage(std::ostream& out) {
    out << "usage: " << program << " [--seed S] [--json | --prometheus] [--wait-ms N] [--help]\n"
        << "\n"
        << "Records the tutorial's demo data into an analytics collector and prints\n"
        << "a report over the last 10 minutes.\n"
        << "\n"
        << "  --seed S     seed the random data (an unsigned integer) for a repeatable run\n"
        << "  --json       print only the whole report, as one JSON document\n"
        << "  --prometheus print only the collector's families, in the Prometheus text\n"
        << "               format, as a registry holding it exposes them\n"
        << "  --wait-ms N  let the system sampler (period 100 ms) run N ms before the\n"
        << "               report (default 300)\n"
        << "  --help       print this help and exit\n";
}

struct options {
    std::optional<std::uint64_t> seed;
    bool json = false;
    bool prometheus = false;
    std::uint64_t wait_ms = 300;
};

struct usage_error {
    std::string message;
};

std::uint64_t parse_unsigned(std::string_view option, std::string_view text) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
        throw usage_error{"invalid value for " + std::string{option} + ": '" + std::string{text} +
                          "' (expected an unsigned integer)"};
    return value;
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        std::optional<std::string_view> inline_value;
        if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            inline_value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        }
        const auto value = [&]() -> std::string_view {
            if (inline_value) return *inline_value;
            if (i + 1 >= argc) throw usage_error{std::string{arg} + " needs a value"};
            return argv[++i];
        };
        if (arg == "--seed") {
            o.seed = parse_unsigned(arg, value());
        } else if (arg == "--wait-ms") {
            o.wait_ms = parse_unsigned(arg, value());
        } else if ((arg == "--json" || arg == "--prometheus" || arg == "--help" || arg == "-h") && inline_value) {
            throw usage_error{std::string{arg} + " takes no value"};
        } else if (arg == "--json") {
            o.json = true;
        } else if (arg == "--prometheus") {
            o.prometheus = true;
        } else if (arg == "--help" || arg == "-h") {
            usage(std::cout);
            std::exit(0);
        } else {
            throw usage_error{"unknown option '" + std::string{argv[i]} + "'"};
        }
    }
    if (o.json && o.prometheus) throw usage_error{"--json and --prometheus cannot be combined"};
    return o;
}

// A uniform double in [0, 1) from 53 random bits: the same on every standard library.
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

std::size_t below(std::mt19937_64& rng, std::size_t n) {
    return std::min(n - 1, static_cast<std::size_t>(uniform(rng) * static_cast<double>(n)));
}

template <class T>
void shuffle(std::vector<T>& v, std::mt19937_64& rng) {  // Fisher-Yates on our own draws
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(rng, i)]);
}

int run(const options& opt) {
    namespace lm = llmetrics;
    using nlohmann::json;
    std::ostream& log = std::cout;
    const bool talk = !opt.json && !opt.prometheus;

    std::mt19937_64 rng{opt.seed ? *opt.seed : std::random_device{}()};

    if (talk) log << "📊 Custom Metrics Demonstration\n\n📊 Initializing Custom Metrics Collector...\n";
    lm::analytics_options ao;
    ao.sampler_period = std::chrono::milliseconds{100};
    const auto collector = std::make_shared<lm::analytics_collector>(ao);
    lm::analytics_collector& metrics = *collector;
    if (talk) log << "✅ Custom metrics collector ready\n";

    if (talk) log << "💼 Recording business events...\n";
    for (int i = 0; i < 5; ++i) {
        metrics.record_business_event("api_call", 1, {{"endpoint", "/chat"}});
        metrics.record_business_event("revenue", uniform(rng) * 10, {{"plan", "premium"}});
    }

    if (talk) log << "👥 Recording user interactions...\n";
    const std::array<std::string, 3> users{"user1", "user2", "user3"};
    std::vector<std::size_t> who;
    for (std::size_t u = 0; u < users.size(); ++u) who.insert(who.end(), 5, u);
    shuffle(who, rng);
    for (std::size_t u : who) {
        const double duration = 500 + uniform(rng) * 3000;
        const bool error = uniform(rng) < 0.1;
        metrics.record_user_interaction(users[u], "chat", duration,
                                        {{"error", error}, {"model", error ? json(nullptr) : json("gpt-3.5-turbo")}});
    }

    if (talk) log << "🤖 Recording model performance...\n";
    const std::array<std::string, 3> models{"gpt-3.5-turbo", "gpt-4", "claude-3"};
    std::vector<std::size_t> which{0, 1, 2};
    while (which.size() < 10) which.push_back(below(rng, models.size()));
    shuffle(which, rng);
    for (std::size_t m : which) {
        lm::model_performance p;
        p.latency_ms = 1000 + uniform(rng) * 2000;
        p.accuracy = 80 + uniform(rng) * 20;
        p.error = uniform(rng) < 0.05;
        metrics.record_model_performance(models[m], p);
    }

    // Let the sampler take a few samples (the tutorial waits two seconds).
    std::this_thread::sleep_for(std::chrono::milliseconds{opt.wait_ms});
    metrics.sampler().stop();

    if (talk) log << "\n📋 Generating comprehensive report...\n";
    const json report = metrics.generate_report(std::chrono::minutes{10});
    if (opt.json) {
        std::cout << report.dump(2) << '\n';
        return 0;
    }
    if (opt.prometheus) {
        lm::registry<> registry;
        registry.add_collector(collector);
        std::cout << lm::render(registry, lm::format::prometheus);
        return 0;
    }
    log << "📊 Report Summary:\n" << report["summary"].dump(2) << '\n';
    log << "\n💼 Business Metrics:\n" << report["business"].dump(2) << '\n';
    log << "\n👥 User Metrics:\n" << report["users"].dump(2) << '\n';
    log << "\n🤖 Model Metrics:\n" << report["models"].dump(2) << '\n';
    log << "\n⚙️ System Health:\n" << report["system"].dump(2) << '\n';
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(parse(argc, argv));
    } catch (const usage_error& e) {
        std::cerr << program << ": " << e.message << "\n(try --help)\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << program << ": " << e.what() << '\n';
        return 1;
    }
}

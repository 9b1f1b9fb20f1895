// Pushes a small registry to a Pushgateway, for tests/integration/test_pushgateway.py.
//
//   push_fixture --url URL --job JOB [--group NAME=VALUE]... [--op push|push_add|delete]
//                [--counter N] [--gauge X] [--observe X]... [--only-gauge] [--other-help]
//                [--timeout-ms MS] [--protobuf] [--native]
//
// --protobuf pushes in the protobuf format; --native adds a native histogram
// family (push_fixture_native_seconds, from a collector snapshot: buckets 1 and 2
// at schema 0, counts 2 and 3, sum 7.5) to the full registry.
//
// Exit status: 0 pushed; 3 llmetrics::pushgateway_error (its status and message go to
// stderr as `pushgateway_error status=<N>: <what>`); 2 bad arguments; 4 anything else.

#include <llmetrics/llmetrics.hpp>
#include <llmetrics/serve/pushgateway.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lm = llmetrics;

using runs_total = lm::counter<"push_fixture_runs_total", "Runs of the fixture", lm::labels<"kind">>;
using last_value = lm::gauge<"push_fixture_last_value", "Last value the fixture saw", lm::labels<"stage">>;
using duration_seconds = lm::histogram<"push_fixture_duration_seconds", "Fixture durations", lm::labels<>,
                                       lm::buckets<0.5, 1, 2.5>>;
using last_value_other = lm::gauge<"push_fixture_last_value", "A different help text", lm::labels<"stage">>;

// One native histogram: (0.5, 1] holds 2, (1, 2] holds 3 (schema 0), sum 7.5.
struct native_collector : lm::collector {
    void collect(std::vector<lm::family_snapshot>& out) override {
        lm::native_histogram_value n;
        n.schema = 0;
        n.zero_threshold = 0x1p-128;
        n.positive_spans = {{0, 2}};
        n.positive_counts = {2, 3};
        n.count = 5;
        n.sum = 7.5;
        out.push_back({"push_fixture_native_seconds", "A native histogram", "", lm::metric_type::histogram,
                       {{{{"stage", "load"}}, n}}});
    }
};

int main(int argc, char** argv) {
    std::string url, job, op = "push";
    lm::grouping_labels grouping;
    double counter = 0, gauge = 0;
    std::vector<double> observations;
    bool only_gauge = false, other_help = false, protobuf = false, native = false;
    long timeout_ms = 3000;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        const auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "push_fixture: " << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--url") url = next();
        else if (a == "--job") job = next();
        else if (a == "--op") op = next();
        else if (a == "--counter") counter = std::stod(next());
        else if (a == "--gauge") gauge = std::stod(next());
        else if (a == "--observe") observations.push_back(std::stod(next()));
        else if (a == "--timeout-ms") timeout_ms = std::stol(next());
        else if (a == "--only-gauge") only_gauge = true;
        else if (a == "--other-help") other_help = true;
        else if (a == "--protobuf") protobuf = true;
        else if (a == "--native") native = true;
        else if (a == "--group") {
            const std::string g = next();
            const std::size_t eq = g.find('=');
            if (eq == std::string::npos) {
                std::cerr << "push_fixture: --group wants NAME=VALUE\n";
                return 2;
            }
            grouping.emplace_back(g.substr(0, eq), g.substr(eq + 1));
        } else {
            std::cerr << "push_fixture: unknown option " << a << "\n";
            return 2;
        }
    }
    try {
        lm::pushgateway_options options{.timeout = std::chrono::milliseconds(timeout_ms)};
        if (protobuf) options.push_format = lm::format::protobuf;
        const lm::pushgateway gw{url, job, grouping, options};
        std::cout << gw.path() << "\n";
        lm::registry<runs_total, last_value, duration_seconds> full;
        full.get<runs_total>().labels("a").inc(counter);
        full.get<runs_total>().labels("b").inc(1);
        full.get<last_value>().labels("load").set(gauge);
        for (const double x : observations) full.get<duration_seconds>().labels().observe(x);
        if (native) full.add_collector(std::make_shared<native_collector>());
        lm::registry<last_value> gauge_only;
        gauge_only.get<last_value>().labels("load").set(gauge);
        lm::registry<last_value_other> other;
        other.get<last_value_other>().labels("load").set(gauge);

        const auto send = [&](const auto& source) {
            if (op == "push") gw.push(source);
            else if (op == "push_add") gw.push_add(source);
            else if (op == "delete") gw.remove();
            else throw std::invalid_argument("unknown --op " + op);
        };
        if (other_help) send(other);
        else if (only_gauge) send(gauge_only);
        else send(full);
    } catch (const lm::pushgateway_error& e) {
        std::cerr << "pushgateway_error status=" << e.status() << ": " << e.what() << "\n";
        return 3;
    } catch (const std::invalid_argument& e) {
        std::cerr << "invalid_argument: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 4;
    }
    return 0;
}

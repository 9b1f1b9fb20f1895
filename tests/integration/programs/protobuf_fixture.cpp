// Families for the protobuf tests (tests/integration/test_protobuf.py), built as
// collector snapshots so every field is chosen by the fixture:
//
//   protobuf_fixture --write DIR [--seed N] [--random K]
//       DIR/fixed.bin, DIR/random.bin: the protobuf render of a hand-made set of
//       families (every kind, several spans, negative buckets, zero bucket, the
//       empty no-op-span case, exemplars with timestamps, created timestamps,
//       hostile label values) and of K random families (seeded);
//       DIR/fixed.json, DIR/random.json: what was recorded, as the snapshots hold
//       it (doubles as C99 hex strings, so they read back exactly).
//   protobuf_fixture --serve
//       serves native histograms through the exposer (lm::native_histogram
//       families, one limited to 40 buckets, and reference snapshots) and prints
//       `listening on http://127.0.0.1:<port>`, then one JSON line with the
//       observations' count, sum and exact quantiles; runs until SIGTERM.
//   protobuf_fixture --remote-write URL
//       pushes the same two lm::native_histogram families once with
//       lm::remote_write (external label job="native_push"), prints the same JSON
//       line with the client's counts added, and exits (0 when both were delivered).
//
// The snapshots of --serve get their buckets from a reference bucket function
// (exact at powers of two through frexp); the families from the library's storage.

#include <llmetrics/llmetrics.hpp>
#include <llmetrics/serve.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace lm = llmetrics;
using lm::metric_type;
using json = nlohmann::json;

namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
constexpr double infinity = std::numeric_limits<double>::infinity();

std::string hex(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%a", v);
    return buf;
}

json labels_json(const std::vector<std::pair<std::string, std::string>>& labels) {
    json out = json::array();
    for (const auto& [n, v] : labels) out.push_back({n, v});
    return out;
}

json spans_json(const std::vector<lm::native_bucket_span>& spans) {
    json out = json::array();
    for (const auto& s : spans) out.push_back({s.offset, s.length});
    return out;
}

json describe(const std::vector<lm::family_snapshot>& families) {
    json out = json::array();
    for (const lm::family_snapshot& f : families) {
        json fam = {{"name", f.name}, {"help", f.help}, {"unit", f.unit}, {"type", std::string(to_string(f.type))}};
        json series = json::array();
        for (const lm::series_snapshot& s : f.series) {
            json j = {{"labels", labels_json(s.labels)}, {"created", hex(s.created)}};
            json xs = json::array();
            for (const auto& x : s.exemplars)
                xs.push_back({{"labels", labels_json(x.labels)}, {"value", hex(x.value)}, {"timestamp", hex(x.timestamp)}});
            j["exemplars"] = xs;
            if (const auto* c = std::get_if<lm::counter_value>(&s.value)) {
                j["counter"] = {{"integral", std::to_string(c->integral)}, {"fractional", hex(c->fractional)}};
            } else if (const auto* g = std::get_if<double>(&s.value)) {
                j["gauge"] = hex(*g);
            } else if (const auto* h = std::get_if<lm::histogram_value>(&s.value)) {
                json bounds = json::array();
                for (double b : h->bounds) bounds.push_back(hex(b));
                j["histogram"] = {{"bounds", bounds}, {"counts", h->counts}, {"sum", hex(h->sum)}};
            } else if (const auto* n = std::get_if<lm::native_histogram_value>(&s.value)) {
                json bounds = json::array();
                for (double b : n->classic.bounds) bounds.push_back(hex(b));
                j["native"] = {{"schema", n->schema},
                               {"zero_threshold", hex(n->zero_threshold)},
                               {"zero_count", n->zero_count},
                               {"count", n->count},
                               {"sum", hex(n->sum)},
                               {"positive_spans", spans_json(n->positive_spans)},
                               {"positive_counts", n->positive_counts},
                               {"negative_spans", spans_json(n->negative_spans)},
                               {"negative_counts", n->negative_counts},
                               {"classic_bounds", bounds},
                               {"classic_counts", n->classic.counts}};
            }
            series.push_back(j);
        }
        fam["series"] = series;
        out.push_back(fam);
    }
    return out;
}

const std::string hostile[] = {"quo\"te", "back\\slash\\", "new\nline", "comma,and=equals", "", "unicode ü 日本 🚀",
                               "brace} {\"x\"=\"y\"}", std::string(300, 'x')};

std::vector<lm::family_snapshot> fixed_families() {
    std::vector<lm::family_snapshot> out;
    out.push_back({"fx_requests_total", "Requests \"quoted\" \\ and\nnewline", "", metric_type::counter, {}});
    for (std::size_t i = 0; i < std::size(hostile); ++i) {
        lm::series_snapshot s{{{"route", "/chat"}, {"tenant", hostile[i]}}, lm::counter_value{1000 + i, i % 2 ? 0.25 : 0},
                              i % 3 ? 1700000000.0 + static_cast<double>(i) / 8 : not_a_number};
        if (i % 2 == 0) s.exemplars = {{{{"trace_id", "t" + std::to_string(i)}, {"odd", hostile[i]}}, 0.5 * i,
                                        i % 4 ? 1700000100.75 : not_a_number}};
        out.back().series.push_back(s);
    }
    out.push_back({"fx_big_total", "", "", metric_type::counter, {{{}, lm::counter_value{(1ULL << 60) + 1, 0}}}});
    out.push_back({"fx_temperature_celsius", "Temperature", "celsius", metric_type::gauge,
                   {{{{"room", "a"}}, -1.25e-3}, {{{"room", "b"}}, not_a_number}, {{{"room", "c"}}, infinity},
                    {{{"room", "d"}}, -infinity}, {{{"room", "e"}}, 5e-324}}});
    out.push_back({"fx_build_info", "Build", "", metric_type::info, {{{{"version", "1.2.3"}, {"commit", "abc"}}, 1.0}}});
    out.push_back({"fx_mystery", "Untyped", "", metric_type::unknown, {{{}, 42.5}}});
    out.push_back({"fx_nothing", "No series", "", metric_type::gauge, {}});

    lm::series_snapshot classic{{{"model", "gpt-4"}}, lm::histogram_value{{0.1, 0.5, 1, 5}, {3, 0, 7, 1, 2}, 19.75},
                                1700000000.5};
    lm::series_snapshot classic_x{{{"model", hostile[5]}}, lm::histogram_value{{0.1, 0.5, 1, 5}, {1, 1, 1, 1, 1}, 9.0}};
    classic_x.exemplars = {{{{"trace_id", "b0"}}, 0.05, 1700000200.125}, {}, {{{"trace_id", "b2"}}, 0.75}, {},
                           {{{"trace_id", "inf"}}, 7.5, 1700000201.0}};
    out.push_back({"fx_latency_seconds", "Latency", "seconds", metric_type::histogram, {classic, classic_x}});

    lm::native_histogram_value n;
    n.schema = 3;
    n.zero_threshold = 0x1p-128;
    n.zero_count = 2;
    n.positive_spans = {{-10, 3}, {4, 2}, {0, 1}, {100, 1}};
    n.positive_counts = {5, 1, 9, 4, 4, 2, 1000000};
    n.negative_spans = {{-2, 2}, {7, 1}};
    n.negative_counts = {3, 0, 8};
    n.count = 2 + 5 + 1 + 9 + 4 + 4 + 2 + 1000000 + 3 + 0 + 8 + 1;  // one NaN
    n.sum = -1234.5;
    lm::series_snapshot native{{{"model", "gpt-4"}, {"tenant", hostile[0]}}, n, 1700000300.25};
    native.exemplars = {{{{"trace_id", "n0"}}, 0.01, 1700000301.5}, {{{"trace_id", "n1"}, {"x", hostile[2]}}, -3.0, 1700000302.0}};
    lm::native_histogram_value empty;  // never observed, zero threshold 0: the no-op span
    empty.zero_threshold = 0;
    lm::native_histogram_value coarse;
    coarse.schema = -4;
    coarse.zero_threshold = 1e-3;
    coarse.zero_count = 7;
    coarse.count = 7;
    lm::native_histogram_value both = n;
    both.schema = 8;
    both.classic = lm::histogram_value{{1, 10}, {10, 20, n.count - 31}, n.sum};
    lm::series_snapshot both_s{{{"model", "both"}, {"tenant", ""}}, both, 1700000400.0};
    both_s.exemplars = {{{{"trace_id", "c0"}}, 0.5, 1700000401.0}, {}, {{{"trace_id", "c2"}}, 50.0}};
    out.push_back({"fx_ttft_seconds", "Time to first token", "seconds", metric_type::histogram,
                   {native, {{{"model", "empty"}, {"tenant", "x"}}, empty}, {{{"model", "coarse"}, {"tenant", "y"}}, coarse},
                    both_s}});
    return out;
}

std::vector<lm::family_snapshot> random_families(std::uint64_t seed, int k) {
    std::mt19937_64 rng(seed);
    const auto uniform = [&](std::uint64_t lo, std::uint64_t hi) { return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng); };
    const auto chance = [&](int percent) { return uniform(0, 99) < static_cast<std::uint64_t>(percent); };
    const char* pieces[] = {"a", "Z", "0", "_", " ", "\"", "\\", "\n", "ü", "日本", "🚀", "{", "}", "=", ",", "\t"};
    const auto text = [&](std::size_t max) {
        std::string s;
        for (std::size_t n = uniform(0, max); n; --n) s += pieces[uniform(0, std::size(pieces) - 1)];
        return s;
    };
    const auto any_double = [&]() -> double {
        switch (uniform(0, 7)) {
            case 0: return not_a_number;
            case 1: return chance(50) ? infinity : -infinity;
            case 2: return std::ldexp(static_cast<double>(uniform(1, 1000)), -1074 + static_cast<int>(uniform(0, 8)));
            case 3: return -std::ldexp(static_cast<double>(uniform(0, 1ULL << 52)), static_cast<int>(uniform(0, 900)));
            default: return std::ldexp(static_cast<double>(uniform(0, 1ULL << 53)), static_cast<int>(uniform(0, 80)) - 60);
        }
    };
    const auto timestamp = [&]() {
        return chance(30) ? not_a_number : 1.6e9 + std::ldexp(static_cast<double>(uniform(0, 1ULL << 40)), -10);
    };
    const auto exemplar = [&](bool timestamped) {
        lm::exemplar_snapshot x;
        for (std::size_t n = uniform(1, 3); n; --n) x.labels.push_back({"l" + std::to_string(n), text(6)});
        x.value = any_double();
        x.timestamp = timestamped ? 1.7e9 + static_cast<double>(uniform(0, 1000000)) / 1024 : timestamp();
        return x;
    };
    const auto native_part = [&](std::vector<lm::native_bucket_span>& spans, std::vector<std::uint64_t>& counts) {
        std::uint64_t total = 0;
        for (std::size_t n = uniform(0, 4), i = 0; i < n; ++i) {
            const auto offset = i == 0 ? static_cast<std::int32_t>(uniform(0, 400)) - 200 : static_cast<std::int32_t>(uniform(0, 20));
            const auto length = static_cast<std::uint32_t>(uniform(1, 12));
            spans.push_back({offset, length});
            for (std::uint32_t b = 0; b < length; ++b) {
                counts.push_back(chance(20) ? 0 : uniform(0, chance(10) ? (1ULL << 50) : 1000));
                total += counts.back();
            }
        }
        return total;
    };
    std::vector<lm::family_snapshot> out;
    for (int f = 0; f < k; ++f) {
        const auto kind = uniform(0, 5);
        const metric_type type = kind == 0 ? metric_type::counter
                                 : kind == 1 ? metric_type::gauge
                                 : kind == 2 ? metric_type::info
                                 : kind == 3 ? metric_type::unknown
                                             : metric_type::histogram;
        lm::family_snapshot fam{"rnd_" + std::to_string(f) + (type == metric_type::counter ? "_total" : ""), text(20),
                                chance(30) && type != metric_type::info ? "unit" + std::to_string(f) : "", type, {}};
        if (type == metric_type::info) fam.name = "rnd_" + std::to_string(f) + "_info";
        for (std::size_t n = uniform(0, 5); n; --n) {
            lm::series_snapshot s;
            for (std::size_t l = uniform(0, 3); l; --l) s.labels.push_back({"k" + std::to_string(l), text(10)});
            if (type == metric_type::counter) {
                s.value = lm::counter_value{uniform(0, chance(10) ? ~0ULL : 100000), chance(30) ? static_cast<double>(uniform(0, 1000)) / 64 : 0.0};
                s.created = timestamp();
                if (chance(40)) s.exemplars.push_back(exemplar(false));
            } else if (type != metric_type::histogram) {
                s.value = type == metric_type::info ? 1.0 : any_double();
            } else if (kind == 4) {
                lm::histogram_value h;
                double bound = -static_cast<double>(uniform(0, 100));
                for (std::size_t b = uniform(0, 10); b; --b) h.bounds.push_back(bound += static_cast<double>(uniform(1, 1000)) / 16);
                for (std::size_t b = 0; b <= h.bounds.size(); ++b) h.counts.push_back(uniform(0, 1000));
                h.sum = any_double();
                s.value = h;
                s.created = timestamp();
                if (chance(50))
                    for (std::size_t b = 0; b <= h.bounds.size(); ++b) s.exemplars.push_back(chance(50) ? exemplar(false) : lm::exemplar_snapshot{});
            } else {
                lm::native_histogram_value n;
                n.schema = static_cast<std::int32_t>(uniform(0, 12)) - 4;
                n.zero_threshold = chance(30) ? 0.0 : std::ldexp(1.0, -static_cast<int>(uniform(1, 128)));
                n.zero_count = chance(50) ? 0 : uniform(0, 1000);
                n.count = n.zero_count + native_part(n.positive_spans, n.positive_counts) +
                          native_part(n.negative_spans, n.negative_counts) + uniform(0, 2);
                n.sum = any_double();
                s.created = timestamp();
                if (chance(30)) {
                    for (std::size_t b = uniform(0, 5); b; --b) n.classic.bounds.push_back(static_cast<double>(b) * 0.5 + 1);
                    std::sort(n.classic.bounds.begin(), n.classic.bounds.end());
                    n.classic.counts.assign(n.classic.bounds.size() + 1, 0);
                    n.classic.counts.back() = n.count;
                    n.classic.sum = n.sum;
                    if (chance(50))
                        for (std::size_t b = 0; b <= n.classic.bounds.size(); ++b) s.exemplars.push_back(chance(50) ? exemplar(chance(50)) : lm::exemplar_snapshot{});
                } else {
                    for (std::size_t x = uniform(0, 3); x; --x) s.exemplars.push_back(exemplar(true));
                }
                s.value = n;
            }
            fam.series.push_back(s);
        }
        out.push_back(fam);
    }
    return out;
}

void write(const std::string& dir, const std::string& stem, const std::vector<lm::family_snapshot>& families) {
    lm::snapshot_source src{families};
    std::ofstream(dir + "/" + stem + ".bin", std::ios::binary) << lm::render(src, lm::format::protobuf);
    std::ofstream(dir + "/" + stem + ".json") << describe(families).dump() << '\n';
}

// The reference bucket index of v > 0 for `schema`: the i with b^(i-1) < v <= b^i,
// b = 2^(2^-schema); exact at powers of two (frexp), nudged against rounding elsewhere.
std::int32_t bucket_index(double v, int schema) {
    int exp = 0;
    const double frac = std::frexp(v, &exp);  // v = frac * 2^exp, frac in [0.5, 1)
    if (frac == 0.5) {  // an exact power of two: 2^(exp-1) is an upper bound at every schema
        const int power = exp - 1;
        return schema >= 0 ? power * (1 << schema) : static_cast<std::int32_t>(std::ceil(power / std::ldexp(1.0, -schema)));
    }
    const auto upper = [&](std::int64_t i) { return std::exp2(static_cast<double>(i) * std::ldexp(1.0, -schema)); };
    auto i = static_cast<std::int64_t>(std::ceil(std::log2(v) * std::ldexp(1.0, schema)));
    while (upper(i - 1) >= v) --i;
    while (upper(i) < v) ++i;
    return static_cast<std::int32_t>(i);
}

// A native histogram of positive observations at `schema`, the resolution halved
// until it has at most `max_buckets` buckets (the spec's strategy when nothing else helps).
lm::native_histogram_value native_of(const std::vector<double>& values, int schema, std::size_t max_buckets) {
    std::map<std::int32_t, std::uint64_t> buckets;
    for (double v : values) ++buckets[bucket_index(v, schema)];
    while (buckets.size() > max_buckets && schema > -4) {
        std::map<std::int32_t, std::uint64_t> coarser;  // index i at schema s is ceil(i/2) at s-1
        for (const auto& [i, c] : buckets) coarser[static_cast<std::int32_t>(std::floor((i + 1) / 2.0))] += c;
        buckets.swap(coarser);
        --schema;
    }
    lm::native_histogram_value n;
    n.schema = schema;
    n.zero_threshold = 0x1p-128;
    std::int32_t next = 0;
    for (const auto& [i, c] : buckets) {
        if (n.positive_spans.empty() || i != next) n.positive_spans.push_back({n.positive_spans.empty() ? i : i - next, 0});
        ++n.positive_spans.back().length;
        n.positive_counts.push_back(c);
        next = i + 1;
    }
    n.count = values.size();
    for (double v : values) n.sum += v;
    return n;
}

std::atomic<bool> stop{false};

struct observed_seconds : lm::native_histogram<"fx_observed_seconds", "Observed, schema 3", lm::labels<"case">> {};
struct observed_limited_seconds
    : lm::native_histogram<"fx_observed_limited_seconds", "Observed, at most 40 buckets", lm::labels<"case">,
                           lm::native_max_buckets<40>> {};

// Hands out the same snapshot families at every scrape.
struct fixed_collector : lm::collector {
    std::vector<lm::family_snapshot> families;
    void collect(std::vector<lm::family_snapshot>& out) override {
        out.insert(out.end(), families.begin(), families.end());
    }
};

// 1 ms ... 10 min, log-uniform: every bucket of the range holds observations.
std::vector<double> observed_values() {
    const std::size_t count = 20000;
    std::vector<double> values;
    for (std::size_t k = 0; k < count; ++k)
        values.push_back(1e-3 * std::pow(600 / 1e-3, (static_cast<double>(k) + 0.5) / static_cast<double>(count)));
    return values;
}

using observed_registry = lm::registry<observed_seconds, observed_limited_seconds>;

void observe_all(observed_registry& metrics, const std::vector<double>& values) {
    auto& observed = metrics.get<observed_seconds>().labels("fine");
    auto& limited_observed = metrics.get<observed_limited_seconds>().labels("limited");
    for (double v : values) {
        observed.observe(v);
        limited_observed.observe(v);
    }
}

// What the test compares Prometheus' answers with: count, sum and exact quantiles.
json observed_facts(const std::vector<double>& values) {
    const std::size_t count = values.size();
    json quantiles = json::object();
    for (double q : {0.5, 0.9, 0.99}) {
        // The observation of rank ceil(q * count): the one histogram_quantile's bucket holds.
        const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(count)));
        quantiles[std::to_string(q).substr(0, 4)] = values[rank - 1];
    }
    const lm::native_histogram_value fine = native_of(values, 3, 160), limited = native_of(values, 3, 40);
    return {{"count", count}, {"sum", hex(fine.sum)}, {"quantiles", quantiles},
            {"fine_schema", fine.schema}, {"fine_buckets", fine.positive_counts.size()},
            {"limited_schema", limited.schema}, {"limited_buckets", limited.positive_counts.size()}};
}

int push(const std::string& url) {
    const std::vector<double> values = observed_values();
    observed_registry metrics;
    observe_all(metrics, values);
    lm::remote_write_options o;
    o.interval = std::chrono::hours(1);  // only the last snapshot of stop()
    o.external_labels = {{"job", "native_push"}};
    o.flush_deadline = std::chrono::seconds(20);
    o.error_log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
    lm::remote_write client(url, metrics, o);
    client.stop();
    const lm::remote_write_stats s = client.stats();
    json facts = observed_facts(values);
    facts["histograms_sent"] = s.sent.histograms;
    facts["requests_sent"] = s.requests_sent;
    std::printf("%s\n", facts.dump().c_str());
    return s.sent.histograms == 2 ? 0 : 1;
}

int serve() {
    const std::vector<double> values = observed_values();
    observed_registry metrics;
    observe_all(metrics, values);
    auto snapshots = std::make_shared<fixed_collector>();
    lm::snapshot_source src;
    const lm::native_histogram_value fine = native_of(values, 3, 160), limited = native_of(values, 3, 40);
    src.add({"fx_latency_seconds", "Latency, schema 3", "", metric_type::histogram, {{{{"case", "fine"}}, fine, 1.7e9}}});
    src.add({"fx_limited_seconds", "Latency, bucket limit 40", "", metric_type::histogram,
             {{{{"case", "limited"}}, limited, 1.7e9}}});
    src.add({"fx_empty_seconds", "Never observed", "", metric_type::histogram,
             {{{{"case", "empty"}}, lm::native_histogram_value{}, 1.7e9}}});
    lm::exposer_options options;
    options.gzip_min_bytes = 0;  // the test checks gzip on this small body too
    snapshots->families = src.families();
    metrics.add_collector(snapshots);
    lm::exposer exposer{metrics, options};
    std::printf("listening on http://127.0.0.1:%u\n", static_cast<unsigned>(exposer.port()));
    std::printf("%s\n", observed_facts(values).dump().c_str());
    std::fflush(stdout);
    std::signal(SIGTERM, [](int) { stop = true; });
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string dir;
    std::uint64_t seed = 1;
    int random = 200;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--serve") return serve();
        if (a == "--remote-write" && i + 1 < argc) return push(argv[i + 1]);
        if (i + 1 >= argc) {
            std::cerr << "protobuf_fixture: " << a << " needs a value\n";
            return 2;
        }
        if (a == "--write") dir = argv[++i];
        else if (a == "--seed") seed = std::stoull(argv[++i]);
        else if (a == "--random") random = std::stoi(argv[++i]);
        else {
            std::cerr << "protobuf_fixture: unknown argument " << a << "\n";
            return 2;
        }
    }
    if (dir.empty()) {
        std::cerr << "usage: protobuf_fixture --write DIR [--seed N] [--random K] | --serve | --remote-write URL\n";
        return 2;
    }
    write(dir, "fixed", fixed_families());
    write(dir, "random", random_families(seed, random));
    return 0;
}

// Renders a snapshot full of hostile label values, for
// tests/integration/test_exposition_parsers.py.
//
//   exposition_fixture prometheus|openmetrics|json   the exposition, on stdout
//   exposition_fixture --expect                      what it holds, as JSON: label
//                                                    values as hex of the bytes given
//                                                    *before* UTF-8 repair, so the
//                                                    test can repair them itself
//   exposition_fixture --check-no-alloc              streams every format through
//                                                    the encoders into preallocated
//                                                    buffers; exits 1 if anything
//                                                    touched the heap
//   exposition_fixture --canonical < numbers         one number a line in, its `le`
//                                                    spelling (canonical_number) out
//   exposition_fixture --exemplars                   {"text": OpenMetrics of a registry
//                                                    whose samples carry exemplars,
//                                                    "expect": those exemplars}

#include <llmetrics/core/detail/utf8.hpp>
#include <llmetrics/exposition/canonical_number.hpp>
#include <llmetrics/exposition/detail/number_format.hpp>
#include <llmetrics/exposition/render.hpp>
#include <llmetrics/registry/registry.hpp>
#include "allocation_counter.hpp"

#include <array>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

namespace lm = llmetrics;

namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
constexpr double infinity = std::numeric_limits<double>::infinity();

// Values meant to break a line, forge a label, or confuse a naive series key.
std::vector<std::string> hostile_values() {
    std::vector<std::string> v = {
        "plain",
        "",
        "say \"hi\"",
        "C:\\path\\to\\",
        "\\",
        "\\\\\"",
        "\\n is not a newline",
        "line1\nline2\n",
        "\n",
        "tab\there",
        "carriage\rreturn",
        "x\",forged=\"1",
        "x\"} 1\nfake_metric{a=\"b",
        "# HELP fake",
        "{}=,:;",
        "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xF0\x9F\x98\x80 e\xCC\x81 \xE2\x80\xA8",  // CJK, emoji, combining, U+2028
        "\xF4\x8F\xBF\xBF",                                                               // U+10FFFF
        // Invalid UTF-8: repaired by sanitize_utf8 before it reaches an encoder.
        "bad \xFF byte",
        "trunc \xE2\x82",
        "overlong \xC0\xAF",
        "surrogate \xED\xA0\x80",
        "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
        "too big \xF4\x90\x80\x80",
        std::string(1024, 'k'),
    };
    std::string quotes;  // 1 KiB of nothing but characters that need escaping
    while (quotes.size() < 1024) quotes += "\"\\\n";
    v.push_back(quotes.substr(0, 1024));
    std::string mixed;  // 1 KiB that mixes everything, with an invalid byte in the middle
    while (mixed.size() < 1024) mixed += "a\"b\\c\nd\xC3\xA9";
    mixed.resize(1024);
    mixed[512] = '\xFF';
    v.push_back(mixed);
    return v;
}

struct raw_series {
    std::vector<std::pair<std::string, std::string>> labels;  // before UTF-8 repair
    decltype(lm::series_snapshot::value) value;
    double created = not_a_number;
};

struct raw_family {
    std::string name, help, unit;
    lm::metric_type type;
    std::vector<raw_series> series;
};

std::vector<raw_family> fixture() {
    std::vector<raw_family> out;
    const auto values = hostile_values();

    raw_family requests{"fixture_requests_total", "Requests, with \"quotes\", a back\\slash and a\nnewline.", "",
                        lm::metric_type::counter, {}};
    std::uint64_t n = 1;
    for (const auto& v : values) {
        requests.series.push_back({{{"value", v}, {"kind", "hostile"}}, lm::counter_value{n, 0}, 1700000000.0 + n});
        n += 7;
    }
    // Label sets that collide if a key is built by naive joining.
    requests.series.push_back({{{"value", "x,b:y"}, {"kind", ""}}, lm::counter_value{1001, 0}});
    requests.series.push_back({{{"value", "x"}, {"kind", "b:y"}}, lm::counter_value{1002, 0}});
    requests.series.push_back({{{"value", "x,kind=y"}, {"kind", ""}}, lm::counter_value{1003, 0}});
    requests.series.push_back({{{"value", "x"}, {"kind", "y"}}, lm::counter_value{1004, 0}});
    requests.series.push_back({{{"value", "x\",kind=\"y"}, {"kind", ""}}, lm::counter_value{1005, 0}});
    requests.series.push_back({{{"value", "x\x1Fy"}, {"kind", ""}}, lm::counter_value{1006, 0}});
    requests.series.push_back({{{"value", "x"}, {"kind", "\x1Fy"}}, lm::counter_value{1007, 0}});
    // Exact integers past 2^53, and a counter with a fractional part.
    requests.series.push_back({{{"value", "two_pow_53_plus_1"}, {"kind", "big"}}, lm::counter_value{9007199254740993ULL, 0}});
    requests.series.push_back({{{"value", "max"}, {"kind", "big"}}, lm::counter_value{18446744073709551615ULL, 0}});
    requests.series.push_back({{{"value", "123456789"}, {"kind", "big"}}, lm::counter_value{123456789, 0}});
    requests.series.push_back({{{"value", "fraction"}, {"kind", "float"}}, lm::counter_value{2, 0.1 + 0.2}});
    out.push_back(std::move(requests));

    raw_family temperature{"fixture_temperature_celsius", "Temperature.", "celsius", lm::metric_type::gauge, {}};
    const std::pair<const char*, double> gauges[] = {
        {"sum", 0.1 + 0.2}, {"negative", -1.25e-3}, {"nan", not_a_number}, {"pinf", infinity}, {"ninf", -infinity},
        {"huge", 1e300},    {"tiny", 5e-324},       {"zero", 0.0},          {"big", 123456789.0}, {"million", 1e6}};
    for (const auto& [name, v] : gauges) temperature.series.push_back({{{"case", name}}, v});
    for (const auto& v : values) temperature.series.push_back({{{"case", v}}, 1.5});
    out.push_back(std::move(temperature));

    raw_family latency{"fixture_request_duration_seconds", "Request duration.", "seconds",
                       lm::metric_type::histogram, {}};
    const std::vector<double> bounds = {0.0001, 0.001, 0.005, 0.1, 0.25, 1, 2.5, 10, 60, 100000, 1e6};
    std::vector<std::uint64_t> counts(bounds.size() + 1);
    for (std::size_t i = 0; i < counts.size(); ++i) counts[i] = i % 3;
    latency.series.push_back({{{"route", "/chat"}, {"tenant", "a"}}, lm::histogram_value{bounds, counts, 123.25}, 1700000000.5});
    for (const auto& v : values)
        latency.series.push_back({{{"route", v}, {"tenant", "b"}}, lm::histogram_value{bounds, counts, 0.1 + 0.2}});
    latency.series.push_back({{{"route", "empty"}, {"tenant", "c"}},
                              lm::histogram_value{bounds, std::vector<std::uint64_t>(bounds.size() + 1), 0}});
    out.push_back(std::move(latency));

    // An info family is given without its `_info` suffix.
    out.push_back({"fixture_build", "Build information.", "", lm::metric_type::info,
                   {{{{"version", "1.2.3"}, {"note", "quote\" back\\ nl\n \xFF"}}, 1.0}}});
    out.push_back({"fixture_idle_total", "A labelled family with no series yet.", "", lm::metric_type::counter, {}});
    out.push_back({"fixture_legacy_value", "Untyped in 0.0.4, unknown in OpenMetrics.", "", lm::metric_type::unknown,
                   {{{}, 42.5}}});
    return out;
}

lm::snapshot_source to_source(const std::vector<raw_family>& raw) {
    lm::snapshot_source src;
    for (const auto& f : raw) {
        lm::family_snapshot family{f.name, f.help, f.unit, f.type, {}};
        for (const auto& s : f.series) {
            lm::series_snapshot copy{{}, s.value, s.created};
            for (const auto& [name, value] : s.labels) copy.labels.emplace_back(name, lm::detail::sanitize_utf8(value));
            family.series.push_back(std::move(copy));
        }
        src.add(std::move(family));
    }
    return src;
}

// --- --expect ---------------------------------------------------------------------
std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 0xF];
    }
    return out;
}

std::string number(double v) {
    std::string out = "\"";
    lm::detail::write_double(out, v);
    return out + "\"";
}

void print_expectation(const std::vector<raw_family>& raw) {
    std::string out = "{\"families\":[";
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const auto& f = raw[i];
        out += i ? "," : "";
        out += "{\"name\":\"" + f.name + "\",\"help_hex\":\"" + hex(f.help) + "\",\"unit\":\"" + f.unit +
               "\",\"type\":\"" + std::string(lm::to_string(f.type)) + "\",\"series\":[";
        for (std::size_t j = 0; j < f.series.size(); ++j) {
            const auto& s = f.series[j];
            out += j ? ",{\"labels\":[" : "{\"labels\":[";
            for (std::size_t k = 0; k < s.labels.size(); ++k)
                out += (k ? ",[\"" : "[\"") + s.labels[k].first + "\",\"" + hex(s.labels[k].second) + "\"]";
            out += "],\"created\":" + number(s.created);
            if (const auto* c = std::get_if<lm::counter_value>(&s.value)) {
                out += ",\"integral\":\"" + std::to_string(c->integral) + "\",\"fractional\":" + number(c->fractional);
            } else if (const auto* g = std::get_if<double>(&s.value)) {
                out += ",\"value\":" + number(*g);
            } else if (const auto* h = std::get_if<lm::histogram_value>(&s.value)) {
                out += ",\"bounds\":[";
                for (std::size_t b = 0; b < h->bounds.size(); ++b) out += (b ? "," : "") + number(h->bounds[b]);
                out += "],\"counts\":[";
                for (std::size_t b = 0; b < h->counts.size(); ++b) out += (b ? "," : "") + std::to_string(h->counts[b]);
                out += "],\"sum\":" + number(h->sum);
            }
            out += "}";
        }
        out += "]}";
    }
    out += "]}\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
}

// --- --check-no-alloc -------------------------------------------------------------
// A fixed-capacity output: proves the encoders need nothing but append().
struct fixed_output {
    std::array<char, 1 << 16> data;
    std::size_t size = 0;
    bool overflow = false;
    void append(const char* first, const char* last) {
        const auto n = static_cast<std::size_t>(last - first);
        if (size + n > data.size()) {
            overflow = true;
            return;
        }
        std::copy(first, last, data.data() + size);
        size += n;
    }
};

template <class Encoder>
void stream_families(Encoder& e) {
    static constexpr std::array<std::string_view, 2> names{"route", "tenant"};
    static constexpr std::array<std::string_view, 2> values{"/chat \"quoted\" \\ \n", "t\xC3\xA9nant"};
    static constexpr std::array<double, 5> bounds{0.005, 0.1, 1, 100000, 1e6};
    static constexpr std::array<std::uint64_t, 6> counts{1, 2, 3, 4, 5, 6};
    const lm::labels_view labels{names, values};
    e.begin_family({"stream_requests_total", "Help with \"quotes\" and \\ and\nnewline.", "", lm::metric_type::counter});
    e.counter(labels, {9007199254740993ULL, 0}, 1700000000.25, nullptr);
    e.counter(labels, {1, 0.5}, not_a_number, nullptr);
    e.end_family();
    e.begin_family({"stream_level_ratio", "Level.", "ratio", lm::metric_type::gauge});
    e.gauge(labels, 0.1 + 0.2);
    e.gauge(labels, -infinity);
    e.gauge(labels, not_a_number);
    e.end_family();
    e.begin_family({"stream_latency_seconds", "Latency.", "seconds", lm::metric_type::histogram});
    e.histogram(labels, bounds, counts, 12.5, 1700000000.0, {});
    e.end_family();
    e.begin_family({"stream_build", "Build.", "", lm::metric_type::info});
    e.gauge(labels, 1);
    e.end_family();
    e.finish();
}

int check_no_alloc() {
    bool ok = true;
    const auto run = [&](const char* what, auto make_encoder, auto& out, auto size) {
        const long before = llmetrics_test::allocations.load();
        {
            auto e = make_encoder(out);
            stream_families(e);
        }
        const long used = llmetrics_test::allocations.load() - before;
        std::printf("%s: %ld allocations, %zu bytes\n", what, used, static_cast<std::size_t>(size(out)));
        if (used != 0) ok = false;
    };
    static fixed_output fixed[3];
    const auto fixed_size = [](const fixed_output& o) { return o.size; };
    run("prometheus -> fixed buffer", [](fixed_output& o) { return lm::prometheus_text_encoder<fixed_output>{o}; }, fixed[0], fixed_size);
    run("openmetrics -> fixed buffer", [](fixed_output& o) { return lm::openmetrics_encoder<fixed_output>{o}; }, fixed[1], fixed_size);
    run("json -> fixed buffer", [](fixed_output& o) { return lm::json_encoder<fixed_output>{o}; }, fixed[2], fixed_size);
    std::string strings[3];
    for (auto& s : strings) s.reserve(1 << 16);
    const auto string_size = [](const std::string& s) { return s.size(); };
    run("prometheus -> reserved std::string", [](std::string& o) { return lm::prometheus_text_encoder<std::string>{o}; }, strings[0], string_size);
    run("openmetrics -> reserved std::string", [](std::string& o) { return lm::openmetrics_encoder<std::string>{o}; }, strings[1], string_size);
    run("json -> reserved std::string", [](std::string& o) { return lm::json_encoder<std::string>{o}; }, strings[2], string_size);
    for (int i = 0; i < 3; ++i) {
        if (fixed[i].overflow || std::string_view(fixed[i].data.data(), fixed[i].size) != strings[i]) {
            std::printf("output %d differs between the two buffers\n", i);
            ok = false;
        }
    }
    // Control: the counter must see the allocations of a growing string.
    const long before = llmetrics_test::allocations.load();
    std::string growing;
    {
        lm::prometheus_text_encoder<std::string> e{growing};
        stream_families(e);
    }
    if (llmetrics_test::allocations.load() == before) {
        std::printf("allocation counting does not work\n");
        ok = false;
    }
    std::printf("%s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}

int print_canonical() {
    std::string line, out;
    while (std::getline(std::cin, line)) {
        double v = 0;
        const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), v);
        if (ec != std::errc() || end != line.data() + line.size()) {
            std::fprintf(stderr, "not a number: %s\n", line.c_str());
            return 2;
        }
        out += lm::canonical_number(v);
        out += '\n';
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}

// --- --exemplars ------------------------------------------------------------------
using exemplar_requests_total =
    lm::counter<"fixture_exemplar_requests_total", "Requests with exemplars.", lm::labels<"case">>;
using exemplar_latency_seconds = lm::histogram<"fixture_exemplar_latency_seconds", "Latency with exemplars.",
                                               lm::labels<"route">, lm::buckets<0.1, 1, 10>, lm::unit<"seconds">>;

void append_json_string(std::string& out, std::string_view text) {
    lm::detail::write_json_string(out, text);
}

int print_exemplars() {
    lm::registry<exemplar_requests_total, exemplar_latency_seconds> r;
    // No '}' in these values: prometheus_client 0.16 ends an exemplar's label set at
    // the first '}', even one inside a quoted value (the spec allows it there).
    const std::string_view values[] = {"plain", "q\"uote", "back\\slash\\", "new\nline", "\xE6\x97\xA5\xE6\x9C\xAC",
                                       "{=,# x", ""};
    std::string expect = "[";
    double ts = 1700000000.0;
    int i = 0;
    for (const std::string_view v : values) {
        const std::string name = "case" + std::to_string(i++);
        ts += 0.25;
        r.get<exemplar_requests_total>().labels(name).inc(2, lm::exemplar{{{"trace_id", v}}, ts});
        expect += expect.size() > 1 ? "," : "";
        expect += "{\"sample\":\"fixture_exemplar_requests_total\",\"labels\":{\"case\":\"" + name +
                  "\"},\"exemplar\":{\"trace_id\":";
        append_json_string(expect, v);
        expect += "},\"value\":2,\"timestamp\":";
        lm::detail::write_double(expect, ts);
        expect += "}";
    }
    r.get<exemplar_requests_total>().labels("none").inc();  // no exemplar at all
    auto& h = r.get<exemplar_latency_seconds>().labels("/chat");
    const double observations[] = {0.05, 0.5, 5, 50};
    const char* les[] = {"0.1", "1.0", "10.0", "+Inf"};
    for (std::size_t b = 0; b < 4; ++b) {
        const std::string trace = "t" + std::to_string(b);
        h.observe(observations[b], lm::exemplar{{{"trace_id", trace}, {"span_id", "s\"" + std::to_string(b)}}, 1700000100.5});
        expect += ",{\"sample\":\"fixture_exemplar_latency_seconds_bucket\",\"labels\":{\"route\":\"/chat\",\"le\":\"";
        expect += les[b];
        expect += "\"},\"exemplar\":{\"trace_id\":\"" + trace + "\",\"span_id\":";
        append_json_string(expect, "s\"" + std::to_string(b));
        expect += "},\"value\":";
        lm::detail::write_double(expect, observations[b]);
        expect += ",\"timestamp\":1700000100.5}";
    }
    expect += "]";
    std::string out = "{\"text\":";
    append_json_string(out, lm::render(r, lm::format::openmetrics));
    out += ",\"expect\":" + expect + "}\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string_view arg = argc > 1 ? argv[1] : "prometheus";
    if (arg == "--check-no-alloc") return check_no_alloc();
    if (arg == "--canonical") return print_canonical();
    if (arg == "--exemplars") return print_exemplars();
    const auto raw = fixture();
    if (arg == "--expect") {
        print_expectation(raw);
        return 0;
    }
    lm::format f;
    if (arg == "prometheus") f = lm::format::prometheus;
    else if (arg == "openmetrics") f = lm::format::openmetrics;
    else if (arg == "json") f = lm::format::json;
    else {
        std::fprintf(stderr, "usage: %s prometheus|openmetrics|json|--expect|--check-no-alloc|--canonical|--exemplars\n", argv[0]);
        return 2;
    }
    const std::string text = lm::render(to_source(raw), f);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
}

// The protobuf exposition format (exposition/protobuf.hpp): exact bytes for a
// small family, and every field of every family kind read back with a small wire
// reader written here from the protobuf encoding spec (the integration test
// test_protobuf_decode.py decodes with the real protobuf library).

#include <catch2/catch.hpp>

#include <llmetrics/exposition/protobuf.hpp>
#include <llmetrics/exposition/render.hpp>
#include <llmetrics/registry/registry.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace lm = llmetrics;
using lm::metric_type;

// One field of a message: its number, wire type and value (varint, fixed64 bits
// or the bytes of a length-delimited field).
struct wire_field {
    std::uint32_t number = 0;
    std::uint32_t type = 0;
    std::uint64_t value = 0;
    std::string_view bytes;
};

std::uint64_t read_varint(std::string_view& in) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        REQUIRE(!in.empty());
        const auto b = static_cast<unsigned char>(in.front());
        in.remove_prefix(1);
        v |= std::uint64_t{b & 0x7Fu} << shift;
        if (b < 0x80) return v;
    }
    FAIL("varint longer than 10 bytes");
    return 0;
}

std::vector<wire_field> parse(std::string_view in) {
    std::vector<wire_field> out;
    while (!in.empty()) {
        const std::uint64_t key = read_varint(in);
        wire_field f{static_cast<std::uint32_t>(key >> 3), static_cast<std::uint32_t>(key & 7), 0, {}};
        if (f.type == 0) {
            f.value = read_varint(in);
        } else if (f.type == 1) {
            REQUIRE(in.size() >= 8);
            for (int i = 0; i < 8; ++i) f.value |= std::uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
            in.remove_prefix(8);
        } else {
            REQUIRE(f.type == 2);
            const std::uint64_t n = read_varint(in);
            REQUIRE(n <= in.size());
            f.bytes = in.substr(0, n);
            in.remove_prefix(n);
        }
        out.push_back(f);
    }
    return out;
}

std::vector<wire_field> all(const std::vector<wire_field>& m, std::uint32_t number) {
    std::vector<wire_field> out;
    for (const wire_field& f : m)
        if (f.number == number) out.push_back(f);
    return out;
}
wire_field one(const std::vector<wire_field>& m, std::uint32_t number) {
    const auto found = all(m, number);
    REQUIRE(found.size() == 1);
    return found[0];
}
bool has(const std::vector<wire_field>& m, std::uint32_t number) { return !all(m, number).empty(); }
double as_double(const wire_field& f) {
    double d;
    std::memcpy(&d, &f.value, sizeof d);
    return d;
}
std::int64_t unzigzag(std::uint64_t v) { return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1); }

// The length-delimited MetricFamily messages of a stream.
std::vector<std::vector<wire_field>> families(std::string_view stream) {
    std::vector<std::vector<wire_field>> out;
    while (!stream.empty()) {
        const std::uint64_t n = read_varint(stream);
        REQUIRE(n <= stream.size());
        out.push_back(parse(stream.substr(0, n)));
        stream.remove_prefix(n);
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> labels_of(const std::vector<wire_field>& m) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const wire_field& l : all(m, 1)) {
        const auto pair = parse(l.bytes);
        out.emplace_back(std::string(one(pair, 1).bytes), std::string(one(pair, 2).bytes));
    }
    return out;
}

// seconds + nanos of a google.protobuf.Timestamp, absent fields as 0.
std::pair<std::int64_t, std::int64_t> timestamp_of(std::string_view bytes) {
    const auto t = parse(bytes);
    const std::int64_t s = has(t, 1) ? static_cast<std::int64_t>(one(t, 1).value) : 0;
    const std::int64_t n = has(t, 2) ? static_cast<std::int64_t>(one(t, 2).value) : 0;
    return {s, n};
}

constexpr double infinity = std::numeric_limits<double>::infinity();
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

}  // namespace

TEST_CASE("a one-counter family, byte for byte", "[protobuf]") {
    lm::snapshot_source src;
    src.add({"a_total", "h", "", metric_type::counter, {{{}, lm::counter_value{1, 0}}}});
    const std::string out = lm::render(src, lm::format::protobuf);
    // length 27; name (1) "a_total", help (2) "h", type (3) COUNTER, metric (4)
    // { counter (3) { value (1) 1.0 } }.
    const std::string expected("\x1b"
                               "\x0a\x07" "a_total" "\x12\x01" "h" "\x18\x00"
                               "\x22\x0b" "\x1a\x09" "\x09\x00\x00\x00\x00\x00\x00\xf0\x3f",
                               28);
    CHECK(out == expected);
}

TEST_CASE("counters, gauges, info and unknown families", "[protobuf]") {
    lm::snapshot_source src;
    src.add({"req_total", "Requests \"quoted\"\nand more", "", metric_type::counter,
             {{{{"route", "/chat"}, {"odd", "quo\"te\\ \n ü 日本"}}, lm::counter_value{9007199254740993ULL, 0},
               1700000000.25,
               {{{{"trace_id", "abc"}}, 0.5, 1700000001.125}}},
              {{{"route", "/x"}, {"odd", ""}}, lm::counter_value{2, 0.5}}}});
    src.add({"temp_celsius", "Temperature", "celsius", metric_type::gauge, {{{}, -1.25e-3}, {{}, not_a_number}}});
    src.add({"build_info", "Build", "", metric_type::info, {{{{"version", "1.2"}}, 1.0}}});
    src.add({"misc", "", "", metric_type::unknown, {{{}, 42.0}}});
    src.add({"empty_family", "no series", "", metric_type::gauge, {}});
    const std::string body = lm::render(src, lm::format::protobuf);
    const auto fams = families(body);
    REQUIRE(fams.size() == 4);  // the family without series is left out

    // Sorted by name: build_info, misc, req_total, temp_celsius.
    CHECK(one(fams[0], 1).bytes == "build_info");
    CHECK(one(fams[0], 3).value == 1);  // GAUGE
    CHECK(as_double(one(parse(one(parse(one(fams[0], 4).bytes), 2).bytes), 1)) == 1.0);

    CHECK(one(fams[1], 1).bytes == "misc");
    CHECK(one(fams[1], 2).bytes.empty());
    CHECK(one(fams[1], 3).value == 3);  // UNTYPED
    const auto misc = parse(one(fams[1], 4).bytes);
    CHECK(!has(misc, 2));
    CHECK(as_double(one(parse(one(misc, 5).bytes), 1)) == 42.0);

    const auto& req = fams[2];
    CHECK(one(req, 1).bytes == "req_total");
    CHECK(one(req, 2).bytes == "Requests \"quoted\"\nand more");  // bytes as they are: no escaping
    CHECK(one(req, 3).value == 0);  // COUNTER
    CHECK(!has(req, 5));
    const auto metrics = all(req, 4);
    REQUIRE(metrics.size() == 2);
    const auto m0 = parse(metrics[0].bytes);
    CHECK(labels_of(m0) == std::vector<std::pair<std::string, std::string>>{{"route", "/chat"},
                                                                            {"odd", "quo\"te\\ \n ü 日本"}});
    const auto c0 = parse(one(m0, 3).bytes);
    CHECK(as_double(one(c0, 1)) == 9007199254740992.0);  // a double: exact only to 2^53
    CHECK(timestamp_of(one(c0, 3).bytes) == std::pair<std::int64_t, std::int64_t>{1700000000, 250000000});
    const auto x = parse(one(c0, 2).bytes);
    CHECK(labels_of(x) == std::vector<std::pair<std::string, std::string>>{{"trace_id", "abc"}});
    CHECK(as_double(one(x, 2)) == 0.5);
    CHECK(timestamp_of(one(x, 3).bytes) == std::pair<std::int64_t, std::int64_t>{1700000001, 125000000});
    const auto m1 = parse(metrics[1].bytes);
    CHECK(labels_of(m1)[1].second.empty());
    const auto c1 = parse(one(m1, 3).bytes);
    CHECK(as_double(one(c1, 1)) == 2.5);
    CHECK(!has(c1, 2));
    CHECK(!has(c1, 3));  // created unknown

    const auto& temp = fams[3];
    CHECK(one(temp, 5).bytes == "celsius");
    const auto gauges = all(temp, 4);
    REQUIRE(gauges.size() == 2);
    CHECK(as_double(one(parse(one(parse(gauges[0].bytes), 2).bytes), 1)) == -1.25e-3);
    CHECK(std::isnan(as_double(one(parse(one(parse(gauges[1].bytes), 2).bytes), 1))));
}

TEST_CASE("classic histograms: cumulative buckets, +Inf only for its exemplar", "[protobuf]") {
    lm::snapshot_source src;
    lm::series_snapshot plain{{{"m", "a"}}, lm::histogram_value{{0.1, 1, 10}, {1, 0, 2, 3}, 27.5}, 1700000000.0};
    lm::series_snapshot with{{{"m", "b"}}, lm::histogram_value{{0.1, 1, 10}, {1, 1, 1, 1}, 12.0}};
    with.exemplars = {{{{"trace_id", "t0"}}, 0.05, 1700000002.5}, {}, {}, {{{"trace_id", "tinf"}}, 99.0}};
    src.add({"lat_seconds", "Latency", "seconds", metric_type::histogram, {plain, with}});
    const std::string body = lm::render(src, lm::format::protobuf);
    const auto fams = families(body);
    REQUIRE(fams.size() == 1);
    CHECK(one(fams[0], 3).value == 4);  // HISTOGRAM
    const auto metrics = all(fams[0], 4);
    REQUIRE(metrics.size() == 2);

    const auto h0 = parse(one(parse(metrics[0].bytes), 7).bytes);
    CHECK(one(h0, 1).value == 6);
    CHECK(as_double(one(h0, 2)) == 27.5);
    const auto b0 = all(h0, 3);
    REQUIRE(b0.size() == 3);  // no +Inf bucket: sample_count stands for it
    const std::uint64_t cumulative[] = {1, 1, 3};
    const double bounds[] = {0.1, 1, 10};
    for (std::size_t i = 0; i < 3; ++i) {
        const auto b = parse(b0[i].bytes);
        CHECK(one(b, 1).value == cumulative[i]);
        CHECK(as_double(one(b, 2)) == bounds[i]);
        CHECK(!has(b, 3));
    }
    CHECK(timestamp_of(one(h0, 15).bytes) == std::pair<std::int64_t, std::int64_t>{1700000000, 0});
    CHECK(!has(h0, 5));  // classic only: no schema, no spans
    CHECK(!has(h0, 12));

    const auto h1 = parse(one(parse(metrics[1].bytes), 7).bytes);
    CHECK(!has(h1, 15));
    const auto b1 = all(h1, 3);
    REQUIRE(b1.size() == 4);
    const auto first = parse(b1[0].bytes);
    const auto x0 = parse(one(first, 3).bytes);
    CHECK(labels_of(x0)[0].second == "t0");
    CHECK(timestamp_of(one(x0, 3).bytes) == std::pair<std::int64_t, std::int64_t>{1700000002, 500000000});
    const auto inf = parse(b1[3].bytes);
    CHECK(as_double(one(inf, 2)) == infinity);
    CHECK(one(inf, 1).value == 4);
    const auto xinf = parse(one(inf, 3).bytes);
    CHECK(as_double(one(xinf, 2)) == 99.0);
    CHECK(!has(xinf, 3));  // no timestamp given
}

namespace {
lm::native_histogram_value sample_native() {
    lm::native_histogram_value n;
    n.schema = -2;
    n.zero_threshold = 1e-9;
    n.zero_count = 4;
    // positive: indices -3,-2 and 5,6,7; negative: index 1
    n.positive_spans = {{-3, 2}, {5, 3}};
    n.positive_counts = {5, 2, 7, 7, 1};
    n.negative_spans = {{1, 1}};
    n.negative_counts = {3};
    n.count = 4 + 5 + 2 + 7 + 7 + 1 + 3 + 1;  // one NaN observation
    n.sum = -12.75;
    return n;
}
}  // namespace

TEST_CASE("native histograms: spans, deltas, zero bucket, exemplars, no-op span", "[protobuf]") {
    lm::snapshot_source src;
    lm::series_snapshot full{{{"model", "gpt-4"}}, sample_native(), 1700000003.5};
    full.exemplars = {{{{"trace_id", "n1"}}, 3.0, 1700000004.0}, {{{"trace_id", "n2"}}, -7.0, 1700000005.5}};
    lm::native_histogram_value empty;  // no observation, zero threshold 0
    lm::native_histogram_value only_zero;
    only_zero.zero_threshold = 0.001;
    only_zero.zero_count = 2;
    only_zero.count = 2;
    src.add({"ttft_seconds", "TTFT", "seconds", metric_type::histogram,
             {full, {{{"model", "empty"}}, empty}, {{{"model", "zero"}}, only_zero}}});
    const std::string body = lm::render(src, lm::format::protobuf);
    const auto fams = families(body);
    REQUIRE(fams.size() == 1);
    const auto metrics = all(fams[0], 4);
    REQUIRE(metrics.size() == 3);

    const auto h = parse(one(parse(metrics[0].bytes), 7).bytes);
    CHECK(one(h, 1).value == 30);
    CHECK(as_double(one(h, 2)) == -12.75);
    CHECK(!has(h, 3));  // native only: no classic bucket
    CHECK(unzigzag(one(h, 5).value) == -2);
    CHECK(as_double(one(h, 6)) == 1e-9);
    CHECK(one(h, 7).value == 4);
    const auto span = [](const wire_field& f) {
        const auto s = parse(f.bytes);
        return std::pair<std::int64_t, std::uint64_t>{unzigzag(one(s, 1).value), one(s, 2).value};
    };
    const auto pos = all(h, 12);
    REQUIRE(pos.size() == 2);
    CHECK(span(pos[0]) == std::pair<std::int64_t, std::uint64_t>{-3, 2});
    CHECK(span(pos[1]) == std::pair<std::int64_t, std::uint64_t>{5, 3});
    std::vector<std::int64_t> deltas;
    for (const auto& d : all(h, 13)) deltas.push_back(unzigzag(d.value));
    CHECK(deltas == std::vector<std::int64_t>{5, -3, 5, 0, -6});  // across spans
    const auto neg = all(h, 9);
    REQUIRE(neg.size() == 1);
    CHECK(span(neg[0]) == std::pair<std::int64_t, std::uint64_t>{1, 1});
    REQUIRE(all(h, 10).size() == 1);
    CHECK(unzigzag(one(h, 10).value) == 3);
    CHECK(timestamp_of(one(h, 15).bytes) == std::pair<std::int64_t, std::int64_t>{1700000003, 500000000});
    const auto xs = all(h, 16);
    REQUIRE(xs.size() == 2);
    CHECK(as_double(one(parse(xs[1].bytes), 2)) == -7.0);
    CHECK(timestamp_of(one(parse(xs[1].bytes), 3).bytes) ==
          std::pair<std::int64_t, std::int64_t>{1700000005, 500000000});

    // No bucket at all: the no-op span {0, 0}, which marks the histogram as native.
    for (const std::size_t i : {1u, 2u}) {
        const auto e = parse(one(parse(metrics[i].bytes), 7).bytes);
        const auto noop = all(e, 12);
        REQUIRE(noop.size() == 1);
        CHECK(span(noop[0]) == std::pair<std::int64_t, std::uint64_t>{0, 0});
        CHECK(!has(e, 13));
        CHECK(!has(e, 9));
        CHECK(unzigzag(one(e, 5).value) == 3);
        CHECK(one(e, 7).value == (i == 1 ? 0u : 2u));
    }
}

TEST_CASE("classic and native parts in one Histogram message", "[protobuf]") {
    lm::snapshot_source src;
    lm::native_histogram_value n = sample_native();
    n.negative_spans.clear();
    n.negative_counts.clear();
    n.count = 4 + 5 + 2 + 7 + 7 + 1;
    n.sum = 100;
    n.classic = lm::histogram_value{{1, 10}, {11, 10, 5}, 100};
    lm::series_snapshot s{{}, n, 1700000000.5};
    s.exemplars = {{{{"trace_id", "c0"}}, 0.5, 1700000001.0}, {}, {{{"trace_id", "c2"}}, 50.0}};
    src.add({"both_seconds", "Both", "", metric_type::histogram, {s}});
    const std::string body = lm::render(src, lm::format::protobuf);
    const auto fams = families(body);
    const auto h = parse(one(parse(one(fams[0], 4).bytes), 7).bytes);
    CHECK(one(h, 1).value == 26);
    CHECK(as_double(one(h, 2)) == 100.0);
    const auto buckets = all(h, 3);
    REQUIRE(buckets.size() == 3);  // 1, 10 and +Inf for its exemplar
    CHECK(one(parse(buckets[1].bytes), 1).value == 21);
    CHECK(has(parse(buckets[0].bytes), 3));
    CHECK(!has(parse(buckets[1].bytes), 3));
    CHECK(unzigzag(one(h, 5).value) == -2);
    CHECK(all(h, 12).size() == 2);
    CHECK(all(h, 13).size() == 5);
    // Only the timestamped exemplar is also a native one.
    const auto xs = all(h, 16);
    REQUIRE(xs.size() == 1);
    CHECK(labels_of(parse(xs[0].bytes))[0].second == "c0");
}

namespace {
struct pb_requests : lm::counter<"pb_requests_total", "Requests", lm::labels<"code">> {};
struct pb_latency : lm::histogram<"pb_latency_seconds", "Latency", lm::labels<>, lm::buckets<0.5, 1>> {};
struct pb_depth : lm::gauge<"pb_depth", "Depth"> {};
}  // namespace

TEST_CASE("a registry renders the same stream into every output", "[protobuf]") {
    lm::registry<pb_requests, pb_latency, pb_depth> metrics;
    for (int i = 0; i < 300; ++i) metrics.get<pb_requests>().labels(std::to_string(i)).inc(i);  // a family > 16 KiB
    metrics.get<pb_latency>().labels().observe(0.7);
    metrics.get<pb_latency>().labels().observe(3);
    metrics.get<pb_depth>().labels().set(-2);
    const std::string body = lm::render(metrics, lm::format::protobuf);
    std::ostringstream stream;
    lm::render_to(stream, metrics, lm::format::protobuf);
    CHECK(stream.str() == body);

    const auto fams = families(body);
    REQUIRE(fams.size() == 6);  // the registry's own three llmetrics_* families first
    CHECK(one(fams[0], 1).bytes == "llmetrics_collector_errors_total");
    CHECK(one(fams[3], 1).bytes == "pb_depth");
    CHECK(one(fams[4], 1).bytes == "pb_latency_seconds");
    CHECK(one(fams[5], 1).bytes == "pb_requests_total");
    const auto requests = all(fams[5], 4);
    REQUIRE(requests.size() == 300);
    for (int i = 0; i < 300; ++i) {
        const auto m = parse(requests[static_cast<std::size_t>(i)].bytes);
        CHECK(labels_of(m)[0].second == std::to_string(i));
        CHECK(as_double(one(parse(one(m, 3).bytes), 1)) == i);
    }
    const auto h = parse(one(parse(one(fams[4], 4).bytes), 7).bytes);
    CHECK(one(h, 1).value == 2);
    CHECK(as_double(one(h, 2)) == 3.7);
    CHECK(one(parse(all(h, 3)[1].bytes), 1).value == 1);
}

TEST_CASE("the encoder called directly; long messages get multi-byte lengths", "[protobuf]") {
    std::string out;
    lm::protobuf_encoder<std::string> e{out};
    const std::string long_value(300, 'v');
    const std::string_view names[] = {"k"};
    const std::string_view values[] = {long_value};
    e.begin_family({"g", "", "", metric_type::gauge});
    e.gauge({names, values}, infinity);
    e.end_family();
    e.begin_family({"nothing", "", "", metric_type::counter});
    e.end_family();
    e.finish();
    const auto fams = families(out);
    REQUIRE(fams.size() == 1);
    const auto m = parse(one(fams[0], 4).bytes);
    CHECK(labels_of(m)[0].second == long_value);
    CHECK(as_double(one(parse(one(m, 2).bytes), 1)) == infinity);
    CHECK(static_cast<unsigned char>(out[0]) >= 0x80);  // the family's length takes two bytes
}

TEST_CASE("timestamps before 1970 and fractions that round up", "[protobuf]") {
    lm::snapshot_source src;
    src.add({"t_total", "", "", metric_type::counter,
             {{{{"i", "0"}}, lm::counter_value{1, 0}, -1.5}, {{{"i", "1"}}, lm::counter_value{1, 0}, 0.9999999999}}});
    const std::string body = lm::render(src, lm::format::protobuf);
    const auto metrics = all(families(body)[0], 4);
    REQUIRE(metrics.size() == 2);
    CHECK(timestamp_of(one(parse(one(parse(metrics[0].bytes), 3).bytes), 3).bytes) ==
          std::pair<std::int64_t, std::int64_t>{-2, 500000000});
    CHECK(timestamp_of(one(parse(one(parse(metrics[1].bytes), 3).bytes), 3).bytes) ==
          std::pair<std::int64_t, std::int64_t>{1, 0});
}

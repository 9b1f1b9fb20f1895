// Exposition formats: byte-exact golden outputs for Prometheus text 0.0.4,
// OpenMetrics 1.0 and JSON, number spellings, escaping, and JSON read back.

#include <catch2/catch.hpp>

#include <llmetrics/exposition/format.hpp>
#include <llmetrics/exposition/canonical_number.hpp>
#include <llmetrics/exposition/detail/number_format.hpp>
#include <llmetrics/exposition/render.hpp>
#include <llmetrics/registry/registry.hpp>

#include <nlohmann/json.hpp>

// fmt is optional: llmetrics never names it, a fmt::memory_buffer is one more
// output with append(first, last). CMake defines this when it finds fmt.
#ifdef LLMETRICS_TEST_WITH_FMT
#include <fmt/format.h>
#endif

#include <array>
#include <charconv>
#include <random>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace lm = llmetrics;
using lm::counter_value;
using lm::family_snapshot;
using lm::histogram_value;
using lm::metric_type;

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
constexpr double infinity = std::numeric_limits<double>::infinity();

std::string shortest(double v) {
    std::string out;
    lm::detail::write_double(out, v);
    return out;
}

std::string counter_text(counter_value c) {
    std::string out;
    lm::detail::write_counter(out, c);
    return out;
}

// One family of each kind, with the values the issue singles out.
lm::snapshot_source sample_source() {
    lm::snapshot_source src;
    // Added out of order on purpose: rendering sorts families by name.
    src.add({"temperature_celsius", "Current temperature.", "celsius", metric_type::gauge, {{{}, 0.1 + 0.2, not_a_number}}});
    src.add({"http_requests_total", "Total HTTP requests.", "", metric_type::counter,
             {{{{"method", "GET"}, {"code", "200"}}, counter_value{123456789, 0}, 1700000000.5},
              {{{"method", "POST"}, {"code", "500"}}, counter_value{9007199254740993ULL, 0}, not_a_number},
              {{{"method", "PUT"}, {"code", "201"}}, counter_value{2, 0.25}, not_a_number}}});
    src.add({"special_values", "Non-finite gauges.", "", metric_type::gauge,
             {{{{"kind", "not_a_number"}}, not_a_number, not_a_number},
              {{{"kind", "pinf"}}, infinity, not_a_number},
              {{{"kind", "ninf"}}, -infinity, not_a_number},
              {{{"kind", "tiny"}}, -1.25e-3, not_a_number},
              {{{"kind", "huge"}}, 1e300, not_a_number}}});
    src.add({"request_duration_seconds", "Request latency.", "seconds", metric_type::histogram,
             {{{{"route", "/chat"}},
               histogram_value{{0.005, 0.1, 1, 10, 100000, 1e6}, {1, 2, 3, 0, 0, 0, 1}, 7.5},
               1700000000},
              {{{"route", "/embed"}}, histogram_value{{0.005, 0.1, 1, 10, 100000, 1e6}, {0, 0, 0, 0, 0, 0, 0}, 0}, not_a_number}}});
    src.add({"build", "Build information.", "", metric_type::info,
             {{{{"version", "1.2.3"}, {"revision", "abc"}}, 1.0, not_a_number}}});
    src.add({"jobs_waiting_total", "Never incremented yet.", "", metric_type::counter, {}});
    src.add({"legacy_value", "", "", metric_type::unknown, {{{}, 42.0, not_a_number}}});
    src.add({"escaping", "Back\\slash, \"quotes\" and a\nnewline.", "", metric_type::gauge,
             {{{{"path", "C:\\dir\\\"file\"\nnext"}, {"unicode", "h\xC3\xA9llo \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80"}},
               1.0,
               not_a_number}}});
    return src;
}

constexpr std::string_view prometheus_golden = R"(# HELP build_info Build information.
# TYPE build_info gauge
build_info{version="1.2.3",revision="abc"} 1
# HELP escaping Back\\slash, "quotes" and a\nnewline.
# TYPE escaping gauge
escaping{path="C:\\dir\\\"file\"\nnext",unicode="héllo 日本 😀"} 1
# HELP http_requests_total Total HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="GET",code="200"} 123456789
http_requests_total{method="POST",code="500"} 9007199254740993
http_requests_total{method="PUT",code="201"} 2.25
# HELP jobs_waiting_total Never incremented yet.
# TYPE jobs_waiting_total counter
# TYPE legacy_value untyped
legacy_value 42
# HELP request_duration_seconds Request latency.
# TYPE request_duration_seconds histogram
request_duration_seconds_bucket{route="/chat",le="0.005"} 1
request_duration_seconds_bucket{route="/chat",le="0.1"} 3
request_duration_seconds_bucket{route="/chat",le="1.0"} 6
request_duration_seconds_bucket{route="/chat",le="10.0"} 6
request_duration_seconds_bucket{route="/chat",le="100000.0"} 6
request_duration_seconds_bucket{route="/chat",le="1e+06"} 6
request_duration_seconds_bucket{route="/chat",le="+Inf"} 7
request_duration_seconds_sum{route="/chat"} 7.5
request_duration_seconds_count{route="/chat"} 7
request_duration_seconds_bucket{route="/embed",le="0.005"} 0
request_duration_seconds_bucket{route="/embed",le="0.1"} 0
request_duration_seconds_bucket{route="/embed",le="1.0"} 0
request_duration_seconds_bucket{route="/embed",le="10.0"} 0
request_duration_seconds_bucket{route="/embed",le="100000.0"} 0
request_duration_seconds_bucket{route="/embed",le="1e+06"} 0
request_duration_seconds_bucket{route="/embed",le="+Inf"} 0
request_duration_seconds_sum{route="/embed"} 0
request_duration_seconds_count{route="/embed"} 0
# HELP special_values Non-finite gauges.
# TYPE special_values gauge
special_values{kind="not_a_number"} NaN
special_values{kind="pinf"} +Inf
special_values{kind="ninf"} -Inf
special_values{kind="tiny"} -0.00125
special_values{kind="huge"} 1e+300
# HELP temperature_celsius Current temperature.
# TYPE temperature_celsius gauge
temperature_celsius 0.30000000000000004
)";

constexpr std::string_view openmetrics_golden = R"(# TYPE build info
# HELP build Build information.
build_info{version="1.2.3",revision="abc"} 1
# TYPE escaping gauge
# HELP escaping Back\\slash, \"quotes\" and a\nnewline.
escaping{path="C:\\dir\\\"file\"\nnext",unicode="héllo 日本 😀"} 1
# TYPE http_requests counter
# HELP http_requests Total HTTP requests.
http_requests_total{method="GET",code="200"} 123456789
http_requests_created{method="GET",code="200"} 1700000000.5
http_requests_total{method="POST",code="500"} 9007199254740993
http_requests_total{method="PUT",code="201"} 2.25
# TYPE jobs_waiting counter
# HELP jobs_waiting Never incremented yet.
# TYPE legacy_value unknown
legacy_value 42
# TYPE request_duration_seconds histogram
# UNIT request_duration_seconds seconds
# HELP request_duration_seconds Request latency.
request_duration_seconds_bucket{route="/chat",le="0.005"} 1
request_duration_seconds_bucket{route="/chat",le="0.1"} 3
request_duration_seconds_bucket{route="/chat",le="1.0"} 6
request_duration_seconds_bucket{route="/chat",le="10.0"} 6
request_duration_seconds_bucket{route="/chat",le="100000.0"} 6
request_duration_seconds_bucket{route="/chat",le="1e+06"} 6
request_duration_seconds_bucket{route="/chat",le="+Inf"} 7
request_duration_seconds_sum{route="/chat"} 7.5
request_duration_seconds_count{route="/chat"} 7
request_duration_seconds_created{route="/chat"} 1.7e+09
request_duration_seconds_bucket{route="/embed",le="0.005"} 0
request_duration_seconds_bucket{route="/embed",le="0.1"} 0
request_duration_seconds_bucket{route="/embed",le="1.0"} 0
request_duration_seconds_bucket{route="/embed",le="10.0"} 0
request_duration_seconds_bucket{route="/embed",le="100000.0"} 0
request_duration_seconds_bucket{route="/embed",le="1e+06"} 0
request_duration_seconds_bucket{route="/embed",le="+Inf"} 0
request_duration_seconds_sum{route="/embed"} 0
request_duration_seconds_count{route="/embed"} 0
# TYPE special_values gauge
# HELP special_values Non-finite gauges.
special_values{kind="not_a_number"} NaN
special_values{kind="pinf"} +Inf
special_values{kind="ninf"} -Inf
special_values{kind="tiny"} -0.00125
special_values{kind="huge"} 1e+300
# TYPE temperature_celsius gauge
# UNIT temperature_celsius celsius
# HELP temperature_celsius Current temperature.
temperature_celsius 0.30000000000000004
# EOF
)";

constexpr std::string_view json_golden =
    R"({"families":[)"
    R"({"name":"build_info","type":"info","help":"Build information.","series":[)"
    R"({"labels":{"version":"1.2.3","revision":"abc"},"value":1}]},)"
    R"({"name":"escaping","type":"gauge","help":"Back\\slash, \"quotes\" and a\nnewline.","series":[)"
    R"({"labels":{"path":"C:\\dir\\\"file\"\nnext","unicode":"héllo 日本 😀"},"value":1}]},)"
    R"({"name":"http_requests_total","type":"counter","help":"Total HTTP requests.","series":[)"
    R"({"labels":{"method":"GET","code":"200"},"value":123456789},)"
    R"({"labels":{"method":"POST","code":"500"},"value":9007199254740993},)"
    R"({"labels":{"method":"PUT","code":"201"},"value":2.25}]},)"
    R"({"name":"jobs_waiting_total","type":"counter","help":"Never incremented yet.","series":[]},)"
    R"({"name":"legacy_value","type":"unknown","help":"","series":[{"labels":{},"value":42}]},)"
    R"({"name":"request_duration_seconds","type":"histogram","help":"Request latency.","unit":"seconds","series":[)"
    R"({"labels":{"route":"/chat"},"buckets":[{"le":"0.005","count":1},{"le":"0.1","count":3},)"
    R"({"le":"1.0","count":6},{"le":"10.0","count":6},{"le":"100000.0","count":6},{"le":"1e+06","count":6},)"
    R"({"le":"+Inf","count":7}],"sum":7.5,"count":7},)"
    R"({"labels":{"route":"/embed"},"buckets":[{"le":"0.005","count":0},{"le":"0.1","count":0},)"
    R"({"le":"1.0","count":0},{"le":"10.0","count":0},{"le":"100000.0","count":0},{"le":"1e+06","count":0},)"
    R"({"le":"+Inf","count":0}],"sum":0,"count":0}]},)"
    R"({"name":"special_values","type":"gauge","help":"Non-finite gauges.","series":[)"
    R"({"labels":{"kind":"not_a_number"},"value":"NaN"},{"labels":{"kind":"pinf"},"value":"+Inf"},)"
    R"({"labels":{"kind":"ninf"},"value":"-Inf"},{"labels":{"kind":"tiny"},"value":-0.00125},)"
    R"({"labels":{"kind":"huge"},"value":1e+300}]},)"
    R"({"name":"temperature_celsius","type":"gauge","help":"Current temperature.","unit":"celsius","series":[)"
    R"({"labels":{},"value":0.30000000000000004}]}]})"
    "\n";

}  // namespace

TEST_CASE("sample values use the shortest round-trip spelling", "[exposition]") {
    CHECK(shortest(0.1 + 0.2) == "0.30000000000000004");
    CHECK(shortest(123456789) == "123456789");
    CHECK(shortest(0) == "0");
    CHECK(shortest(-0.0) == "-0");
    CHECK(shortest(2.5) == "2.5");
    CHECK(shortest(-1.25e-3) == "-0.00125");
    CHECK(shortest(1e300) == "1e+300");
    CHECK(shortest(5e-324) == "5e-324");
    CHECK(shortest(not_a_number) == "NaN");
    CHECK(shortest(-not_a_number) == "NaN");
    CHECK(shortest(infinity) == "+Inf");
    CHECK(shortest(-infinity) == "-Inf");
    for (double v : {0.1, 1.0 / 3, 6.02214076e23, 1e-7, 2.2250738585072014e-308, 1.7976931348623157e308})
        CHECK(std::stod(shortest(v)) == v);
}

TEST_CASE("counters stay exact past 2^53 while they are integral", "[exposition]") {
    CHECK(counter_text({123456789, 0}) == "123456789");
    CHECK(counter_text({9007199254740993ULL, 0}) == "9007199254740993");  // 2^53 + 1: a double would say ...992
    CHECK(counter_text({std::numeric_limits<std::uint64_t>::max(), 0}) == "18446744073709551615");
    CHECK(counter_text({0, 0}) == "0");
    CHECK(counter_text({1, 0.5}) == "1.5");
    CHECK(counter_text({0, 0.1 + 0.2}) == "0.30000000000000004");
}

TEST_CASE("le and quantile values use the OpenMetrics canonical spelling", "[exposition]") {
    // The examples the OpenMetrics 1.0 spec lists ("Considerations: Canonical Numbers").
    const std::array<std::pair<double, std::string_view>, 21> examples{{
        {0.0, "0.0"},     {0.001, "0.001"},     {0.002, "0.002"},     {0.01, "0.01"},   {0.1, "0.1"},
        {0.9, "0.9"},     {0.95, "0.95"},       {0.99, "0.99"},       {0.999, "0.999"}, {1.0, "1.0"},
        {1.7, "1.7"},     {10.0, "10.0"},       {1e-10, "1e-10"},     {1e-9, "1e-09"},  {1e-5, "1e-05"},
        {0.0001, "0.0001"}, {100000.0, "100000.0"}, {1e6, "1e+06"},   {1e10, "1e+10"},  {infinity, "+Inf"},
        {-infinity, "-Inf"},
    }};
    for (const auto& [value, text] : examples) CHECK(lm::canonical_number(value) == text);
    // Go's %g layout beyond the spec's list: exponent form from 1e6 and below 1e-4.
    CHECK(lm::canonical_number(123456) == "123456.0");
    CHECK(lm::canonical_number(999999) == "999999.0");
    CHECK(lm::canonical_number(1234567) == "1.234567e+06");
    CHECK(lm::canonical_number(2.5e-5) == "2.5e-05");
    CHECK(lm::canonical_number(0.00012) == "0.00012");
    CHECK(lm::canonical_number(0.25) == "0.25");
    CHECK(lm::canonical_number(60) == "60.0");
    CHECK(lm::canonical_number(-2.5) == "-2.5");
    CHECK(lm::canonical_number(-1) == "-1.0");
    CHECK(lm::canonical_number(-0.0) == "-0.0");
    CHECK(lm::canonical_number(1e100) == "1e+100");
    CHECK(lm::canonical_number(1.7976931348623157e308) == "1.7976931348623157e+308");
    CHECK(lm::canonical_number(5e-324) == "5e-324");
    CHECK(lm::canonical_number(0.1 + 0.2) == "0.30000000000000004");
    CHECK(lm::canonical_number(not_a_number) == "NaN");
}

TEST_CASE("content types", "[exposition]") {
    CHECK(lm::content_type(lm::format::prometheus) == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(lm::content_type(lm::format::openmetrics) == "application/openmetrics-text; version=1.0.0; charset=utf-8");
    CHECK(lm::content_type(lm::format::json) == "application/json");
}

TEST_CASE("Prometheus text 0.0.4 golden output", "[exposition]") {
    const auto src = sample_source();
    CHECK(lm::render(src) == prometheus_golden);
    CHECK(lm::render(src, lm::format::prometheus) == prometheus_golden);
}

TEST_CASE("OpenMetrics 1.0 golden output", "[exposition]") {
    CHECK(lm::render(sample_source(), lm::format::openmetrics) == openmetrics_golden);
}

TEST_CASE("JSON golden output", "[exposition]") {
    CHECK(lm::render(sample_source(), lm::format::json) == json_golden);
}

TEST_CASE("JSON parses back with the values it was given", "[exposition]") {
    const auto doc = nlohmann::json::parse(lm::render(sample_source(), lm::format::json));
    const auto& families = doc.at("families");
    REQUIRE(families.size() == 8);

    const auto& requests = families.at(2);
    CHECK(requests.at("name") == "http_requests_total");
    CHECK(requests.at("type") == "counter");
    CHECK_FALSE(requests.contains("unit"));
    const auto& series = requests.at("series");
    CHECK(series.at(0).at("labels") == nlohmann::json{{"method", "GET"}, {"code", "200"}});
    CHECK(series.at(0).at("value").get<std::uint64_t>() == 123456789);
    CHECK(series.at(1).at("value").is_number_unsigned());
    CHECK(series.at(1).at("value").get<std::uint64_t>() == 9007199254740993ULL);
    CHECK(series.at(2).at("value").get<double>() == 2.25);

    const auto& escaping = families.at(1);
    CHECK(escaping.at("help") == "Back\\slash, \"quotes\" and a\nnewline.");
    CHECK(escaping.at("series").at(0).at("labels").at("path") == "C:\\dir\\\"file\"\nnext");
    CHECK(escaping.at("series").at(0).at("labels").at("unicode") ==
          "h\xC3\xA9llo \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80");

    const auto& histogram = families.at(5);
    CHECK(histogram.at("unit") == "seconds");
    const auto& chat = histogram.at("series").at(0);
    CHECK(chat.at("buckets").size() == 7);
    CHECK(chat.at("buckets").back() == nlohmann::json{{"le", "+Inf"}, {"count", 7}});
    CHECK(chat.at("count") == 7);
    CHECK(chat.at("sum").get<double>() == 7.5);

    const auto& special = families.at(6).at("series");
    CHECK(special.at(0).at("value") == "NaN");
    CHECK(special.at(1).at("value") == "+Inf");
    CHECK(special.at(2).at("value") == "-Inf");
    CHECK(special.at(4).at("value").get<double>() == 1e300);

    CHECK(families.at(7).at("series").at(0).at("value").get<double>() == 0.1 + 0.2);
    CHECK(families.at(3).at("series").empty());
}

TEST_CASE("JSON escapes every control character", "[exposition]") {
    std::string all;
    for (int c = 1; c < 0x20; ++c) all.push_back(static_cast<char>(c));
    all += "\"\\/\x7F\xE2\x80\xA8";  // quote, backslash, slash, DEL, U+2028
    all.push_back('\0');
    lm::snapshot_source src;
    src.add({"g", all, "", metric_type::gauge, {{{{"v", all}}, 1.0, not_a_number}}});
    const std::string text = lm::render(src, lm::format::json);
    for (char c : text) CHECK((static_cast<unsigned char>(c) >= 0x20 || c == '\n'));
    CHECK(text.find(R"(\u0001)") != std::string::npos);
    CHECK(text.find(R"(\u001f)") != std::string::npos);
    CHECK(text.find(R"(\u0000)") != std::string::npos);
    CHECK(text.find(R"(\t\n\u000b\f\r)") != std::string::npos);
    const auto doc = nlohmann::json::parse(text);
    CHECK(doc["families"][0]["help"] == all);
    CHECK(doc["families"][0]["series"][0]["labels"]["v"] == all);
}

TEST_CASE("HELP and label values are escaped as each text format requires", "[exposition]") {
    lm::snapshot_source src;
    src.add({"x_total", "a\\b\"c\nd\te", "", metric_type::counter,
             {{{{"v", "a\\b\"c\nd\te"}, {"w", ""}}, counter_value{1, 0}, not_a_number}}});
    CHECK(lm::render(src) == "# HELP x_total a\\\\b\"c\\nd\te\n"
                             "# TYPE x_total counter\n"
                             "x_total{v=\"a\\\\b\\\"c\\nd\te\",w=\"\"} 1\n");
    CHECK(lm::render(src, lm::format::openmetrics) == "# TYPE x counter\n"
                                                      "# HELP x a\\\\b\\\"c\\nd\te\n"
                                                      "x_total{v=\"a\\\\b\\\"c\\nd\te\",w=\"\"} 1\n"
                                                      "# EOF\n");
}

TEST_CASE("label sets that a naive key would confuse stay apart", "[exposition]") {
    lm::snapshot_source src;
    src.add({"c_total", "h", "", metric_type::counter,
             {{{{"a", "x,b:y"}, {"b", ""}}, counter_value{1, 0}, not_a_number},
              {{{"a", "x"}, {"b", "y"}}, counter_value{2, 0}, not_a_number},
              {{{"a", "x\",b=\"y"}, {"b", ""}}, counter_value{3, 0}, not_a_number}}});
    CHECK(lm::render(src) == "# HELP c_total h\n"
                             "# TYPE c_total counter\n"
                             "c_total{a=\"x,b:y\",b=\"\"} 1\n"
                             "c_total{a=\"x\",b=\"y\"} 2\n"
                             "c_total{a=\"x\\\",b=\\\"y\",b=\"\"} 3\n");
}

TEST_CASE("OpenMetrics leaves out _sum and _count where they would not be counters", "[exposition]") {
    lm::snapshot_source src;
    src.add({"temperature_delta", "h", "", metric_type::histogram,
             {{{}, histogram_value{{-1, 0, 1}, {1, 0, 2, 0}, 0.5}, not_a_number}}});
    src.add({"weird", "h", "", metric_type::histogram, {{{}, histogram_value{{1}, {1, 0}, not_a_number}, 10.0}}});
    CHECK(lm::render(src, lm::format::openmetrics) == R"(# TYPE temperature_delta histogram
# HELP temperature_delta h
temperature_delta_bucket{le="-1.0"} 1
temperature_delta_bucket{le="0.0"} 1
temperature_delta_bucket{le="1.0"} 3
temperature_delta_bucket{le="+Inf"} 3
# TYPE weird histogram
# HELP weird h
weird_bucket{le="1.0"} 1
weird_bucket{le="+Inf"} 1
weird_created 10
# EOF
)");
    // Prometheus text has no such rule: _sum and _count are always there.
    CHECK(lm::render(src).find("temperature_delta_sum 0.5\ntemperature_delta_count 3\n") != std::string::npos);
    CHECK(lm::render(src).find("weird_sum NaN\nweird_count 1\n") != std::string::npos);
}

TEST_CASE("an info family named with its _info suffix gets it only once", "[exposition]") {
    for (const std::string_view name : {"build", "build_info"}) {
        lm::snapshot_source src;
        src.add({std::string(name), "B.", "", metric_type::info, {{{{"v", "1"}}, 1.0, not_a_number}}});
        CHECK(lm::render(src) == "# HELP build_info B.\n# TYPE build_info gauge\nbuild_info{v=\"1\"} 1\n");
        CHECK(lm::render(src, lm::format::openmetrics) ==
              "# TYPE build info\n# HELP build B.\nbuild_info{v=\"1\"} 1\n# EOF\n");
        CHECK(lm::render(src, lm::format::json).starts_with(R"({"families":[{"name":"build_info","type":"info")"));
    }
}

TEST_CASE("bucket lines stay right when bounds change between series or are many", "[exposition]") {
    std::vector<double> many;
    for (int i = 1; i <= 70; ++i) many.push_back(i / 4.0);
    const std::string long_value(1500, '"');  // escaped, too long for the label buffer
    lm::snapshot_source src;
    src.add({"h", "", "", metric_type::histogram,
             {{{{"k", "a"}}, histogram_value{{1, 2}, {1, 1, 1}, 1.0}, not_a_number},
              {{{"k", "b"}}, histogram_value{{0.5, 2}, {1, 1, 1}, 1.0}, not_a_number},
              {{{"k", "c"}}, histogram_value{{1, 2}, {1, 1, 1}, 1.0}, not_a_number},
              {{{"k", "d"}}, histogram_value{{}, {3}, 1.0}, not_a_number},
              {{{"k", "e"}}, histogram_value{many, std::vector<std::uint64_t>(71, 1), 1.0}, not_a_number},
              {{{"k", long_value}}, histogram_value{{1}, {1, 1}, 1.0}, not_a_number}}});
    for (const auto f : {lm::format::prometheus, lm::format::openmetrics}) {
        const std::string text = lm::render(src, f);
        CHECK(text.find("h_bucket{k=\"a\",le=\"1.0\"} 1\nh_bucket{k=\"a\",le=\"2.0\"} 2\n") != std::string::npos);
        CHECK(text.find("h_bucket{k=\"b\",le=\"0.5\"} 1\nh_bucket{k=\"b\",le=\"2.0\"} 2\n") != std::string::npos);
        CHECK(text.find("h_bucket{k=\"c\",le=\"1.0\"} 1\nh_bucket{k=\"c\",le=\"2.0\"} 2\n") != std::string::npos);
        CHECK(text.find("h_bucket{k=\"d\",le=\"+Inf\"} 3\n") != std::string::npos);
        CHECK(text.find("h_bucket{k=\"e\",le=\"0.25\"} 1\n") != std::string::npos);
        CHECK(text.find("h_bucket{k=\"e\",le=\"17.5\"} 70\nh_bucket{k=\"e\",le=\"+Inf\"} 71\n") != std::string::npos);
        std::string escaped;
        for (int i = 0; i < 1500; ++i) escaped += "\\\"";
        CHECK(text.find("h_bucket{k=\"" + escaped + "\",le=\"1.0\"} 1\n") != std::string::npos);
        CHECK(text.find("h_bucket{k=\"" + escaped + "\",le=\"+Inf\"} 2\n") != std::string::npos);
    }
    const auto doc = nlohmann::json::parse(lm::render(src, lm::format::json));
    const auto& series = doc["families"][0]["series"];
    CHECK(series[1]["buckets"][0]["le"] == "0.5");
    CHECK(series[2]["buckets"][0]["le"] == "1.0");
    CHECK(series[4]["buckets"][69]["le"] == "17.5");
    CHECK(series[5]["labels"]["k"] == long_value);
}

TEST_CASE("a histogram without bounds has only the +Inf bucket", "[exposition]") {
    lm::snapshot_source src;
    src.add({"h", "", "", metric_type::histogram, {{{{"k", "v"}}, histogram_value{{}, {5}, 2.0}, not_a_number}}});
    CHECK(lm::render(src) == "# TYPE h histogram\n"
                             "h_bucket{k=\"v\",le=\"+Inf\"} 5\n"
                             "h_sum{k=\"v\"} 2\n"
                             "h_count{k=\"v\"} 5\n");
}

TEST_CASE("empty sources", "[exposition]") {
    const lm::snapshot_source empty;
    CHECK(lm::render(empty, lm::format::prometheus).empty());
    CHECK(lm::render(empty, lm::format::openmetrics) == "# EOF\n");
    CHECK(lm::render(empty, lm::format::json) == "{\"families\":[]}\n");
    CHECK(nlohmann::json::parse(lm::render(empty, lm::format::json))["families"].empty());
}

TEST_CASE("families render sorted by name, series in the order given", "[exposition]") {
    lm::snapshot_source src;
    src.add({"b", "", "", metric_type::gauge, {{{{"k", "2"}}, 2.0, not_a_number}, {{{"k", "1"}}, 1.0, not_a_number}}});
    src.add({"a", "", "", metric_type::gauge, {{{}, 0.0, not_a_number}}});
    CHECK(lm::render(src) == "# TYPE a gauge\na 0\n# TYPE b gauge\nb{k=\"2\"} 2\nb{k=\"1\"} 1\n");
}

TEST_CASE("every output kind receives the same bytes", "[exposition]") {
    const auto src = sample_source();
    for (const auto f : {lm::format::prometheus, lm::format::openmetrics, lm::format::json}) {
        const std::string expected = lm::render(src, f);
#ifdef LLMETRICS_TEST_WITH_FMT
        fmt::memory_buffer buffer;
        lm::render_to(buffer, src, f);
        CHECK(std::string_view(buffer.data(), buffer.size()) == expected);
#endif
        std::ostringstream stream;
        lm::render_to(stream, src, f);
        CHECK(stream.str() == expected);
    }
}

TEST_CASE("encoders can be driven directly, as a registry streams its families", "[exposition]") {
    const std::array<std::string_view, 2> names{"model_id", "tenant_id"};
    const std::array<std::string_view, 2> values{"gpt-4", "tenant-a"};
    const std::array<double, 3> bounds{0.1, 0.5, 1};
    const std::array<std::uint64_t, 4> counts{1, 0, 2, 1};
    std::string out;
    lm::openmetrics_encoder<std::string> e{out};
    static_assert(lm::encoder<decltype(e)>);
    static_assert(lm::encoder<lm::prometheus_text_encoder<std::ostringstream>>);
#ifdef LLMETRICS_TEST_WITH_FMT
    static_assert(lm::encoder<lm::json_encoder<fmt::memory_buffer>>);
#endif
    static_assert(lm::encoder<lm::json_encoder<std::string>>);
    e.begin_family({"llm_tokens_total", "Tokens.", "", metric_type::counter});
    e.counter({names, values}, {7, 0}, 1.5, nullptr);
    e.end_family();
    e.begin_family({"llm_inference_seconds", "Inference.", "seconds", metric_type::histogram});
    e.histogram({names, values}, bounds, counts, 3.25, not_a_number, {});
    e.end_family();
    e.finish();
    CHECK(out == R"(# TYPE llm_tokens counter
# HELP llm_tokens Tokens.
llm_tokens_total{model_id="gpt-4",tenant_id="tenant-a"} 7
llm_tokens_created{model_id="gpt-4",tenant_id="tenant-a"} 1.5
# TYPE llm_inference_seconds histogram
# UNIT llm_inference_seconds seconds
# HELP llm_inference_seconds Inference.
llm_inference_seconds_bucket{model_id="gpt-4",tenant_id="tenant-a",le="0.1"} 1
llm_inference_seconds_bucket{model_id="gpt-4",tenant_id="tenant-a",le="0.5"} 1
llm_inference_seconds_bucket{model_id="gpt-4",tenant_id="tenant-a",le="1.0"} 3
llm_inference_seconds_bucket{model_id="gpt-4",tenant_id="tenant-a",le="+Inf"} 4
llm_inference_seconds_sum{model_id="gpt-4",tenant_id="tenant-a"} 3.25
llm_inference_seconds_count{model_id="gpt-4",tenant_id="tenant-a"} 4
# EOF
)");
}

namespace {
using exemplar_requests_total = lm::counter<"ex_requests_total", "Requests.", lm::labels<"route">>;
using exemplar_latency_seconds =
    lm::histogram<"ex_latency_seconds", "Latency.", lm::labels<>, lm::buckets<0.1, 1>, lm::unit<"seconds">>;
}  // namespace

TEST_CASE("OpenMetrics writes exemplars from storage after their sample", "[exposition]") {
    lm::registry<exemplar_requests_total, exemplar_latency_seconds> r;
    r.get<exemplar_requests_total>().labels("/chat").inc(3, lm::exemplar{{{"trace_id", "a\"b\\c\nd"}}, 1700000000.5});
    r.get<exemplar_requests_total>().labels("/none").inc();
    auto& h = r.get<exemplar_latency_seconds>().labels();
    h.observe(0.05);
    h.observe(0.5, lm::exemplar{{{"trace_id", "t1"}, {"span_id", "s1"}}, 1700000001.25});
    h.observe(7, lm::exemplar{{{"trace_id", "t2"}}, 1700000002});
    const std::string text = lm::render(r, lm::format::openmetrics);
    CHECK(text.find("ex_requests_total{route=\"/chat\"} 3 # {trace_id=\"a\\\"b\\\\c\\nd\"} 3 1700000000.5\n") !=
          std::string::npos);
    CHECK(text.find("ex_requests_total{route=\"/none\"} 1\n") != std::string::npos);
    CHECK(text.find("ex_latency_seconds_bucket{le=\"0.1\"} 1\n"
                    "ex_latency_seconds_bucket{le=\"1.0\"} 2 # {trace_id=\"t1\",span_id=\"s1\"} 0.5 1700000001.25\n"
                    "ex_latency_seconds_bucket{le=\"+Inf\"} 3 # {trace_id=\"t2\"} 7 1700000002\n"
                    "ex_latency_seconds_sum 7.55\n"
                    "ex_latency_seconds_count 3\n") != std::string::npos);
    // Prometheus text 0.0.4 has no exemplars.
    CHECK(lm::render(r, lm::format::prometheus).find('#' + std::string(" {")) == std::string::npos);
}

namespace {
// A collector whose counter and histogram carry exemplars of their own.
struct exemplar_collector : lm::collector {
    void collect(std::vector<lm::family_snapshot>& out) override {
        lm::series_snapshot hits{{{"route", "/chat"}}, lm::counter_value{3, 0}, not_a_number};
        hits.exemplars.push_back({{{"trace_id", "abc"}}, 1, 1700000000.5});
        lm::series_snapshot latency{{}, lm::histogram_value{{0.5, 1}, {1, 0, 1}, 2.25}, not_a_number};
        latency.exemplars = {{{{"trace_id", "fast"}}, 0.25, not_a_number}, {}, {{{"trace_id", "slow"}}, 2, not_a_number}};
        lm::series_snapshot wrong_length{{{"k", "v"}}, lm::histogram_value{{1}, {1, 0}, 0.5}, not_a_number};
        wrong_length.exemplars = {{{{"trace_id", "dropped"}}, 0.5, not_a_number}};  // one for two buckets
        out.push_back({"collected_hits_total", "Hits.", "", metric_type::counter, {hits}});
        out.push_back({"collected_latency_seconds", "Latency.", "", metric_type::histogram, {latency, wrong_length}});
    }
};
}  // namespace

TEST_CASE("a collector's exemplars render in OpenMetrics and nowhere else", "[exposition][exemplar]") {
    lm::registry<> r;
    r.add_collector(std::make_shared<exemplar_collector>());
    const std::string om = lm::render(r, lm::format::openmetrics);
    CHECK(om.find("collected_hits_total{route=\"/chat\"} 3 # {trace_id=\"abc\"} 1 1700000000.5\n") != std::string::npos);
    CHECK(om.find("collected_latency_seconds_bucket{le=\"0.5\"} 1 # {trace_id=\"fast\"} 0.25\n") != std::string::npos);
    CHECK(om.find("collected_latency_seconds_bucket{le=\"1.0\"} 1\n") != std::string::npos);
    CHECK(om.find("collected_latency_seconds_bucket{le=\"+Inf\"} 2 # {trace_id=\"slow\"} 2\n") != std::string::npos);
    CHECK(om.find("dropped") == std::string::npos);  // not one per bucket: left out
    for (const auto f : {lm::format::prometheus, lm::format::json}) {
        const std::string text = lm::render(r, f);
        CHECK(text.find("collected_hits_total") != std::string::npos);
        CHECK(text.find("trace_id") == std::string::npos);
    }
}

TEST_CASE("the format table names every format once", "[exposition]") {
    std::vector<std::string_view> names;
    lm::format_list::for_each([&](auto entry) {
        using entry_type = decltype(entry);
        names.push_back(entry_type::name);
        CHECK(lm::to_string(entry_type::id) == entry_type::name);
        CHECK(lm::content_type(entry_type::id) == entry_type::content_type);
        static_assert(lm::encoder<typename entry_type::template encoder<std::string>>);
    });
    CHECK(names == std::vector<std::string_view>{"openmetrics", "prometheus", "prometheus_v1", "json", "protobuf"});
    CHECK(std::is_same_v<lm::format_list::fallback, lm::formats::prometheus>);
    // A value outside the table gets the fallback, as a switch's default did.
    CHECK(lm::to_string(static_cast<lm::format>(42)) == "prometheus");
}

TEST_CASE("timestamps in whole microseconds are spelled as the shortest round-trip text", "[exposition]") {
    const auto timestamp_text = [](double v) {
        std::string out;
        lm::detail::write_timestamp(out, v);
        return out;
    };
    const auto shortest = [](double v) {
        char buf[64];
        return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
    };
    std::mt19937_64 rng(20261203);
    std::uniform_int_distribution<std::uint64_t> micros(100'000'000'000'000ULL, 7'999'999'999'999'999ULL);
    for (int i = 0; i < 200'000; ++i) {
        std::uint64_t m = micros(rng);
        if (i % 10 == 0) m -= m % 1'000'000;  // whole seconds
        if (i % 100 == 0) m -= m % 100'000'000;  // round ones, e.g. 1.7e+09
        const double v = static_cast<double>(m) / 1e6;
        REQUIRE(timestamp_text(v) == shortest(v));
    }
    CHECK(timestamp_text(1733212345.0) == "1733212345");
    CHECK(timestamp_text(1.7e9) == "1.7e+09");
    CHECK(timestamp_text(1733212345.5) == "1733212345.5");
    CHECK(timestamp_text(1733212345.000001) == "1733212345.000001");
    CHECK(timestamp_text(1733212345.00001) == "1733212345.00001");
    // Outside the fast path's range or finer than a microsecond: write_double's spelling.
    for (double v : {0.0, 1.5, 12345678.25, 9e9, 1733212345.0000001, 1e300, not_a_number, infinity}) {
        std::string expected;
        lm::detail::write_double(expected, v);
        CHECK(timestamp_text(v) == expected);
    }
}

TEST_CASE("buffered sample lines equal unbuffered ones for label values of every size", "[exposition]") {
    // render_to() writes through buffered_output's reserved-room path; an encoder
    // on a plain std::string writes piece by piece: both must give the same bytes.
    lm::snapshot_source src;
    lm::family_snapshot counters{"sizes_total", "Sizes.", "", lm::metric_type::counter, {}};
    lm::family_snapshot histograms{"sizes_seconds", "Sizes.", "", lm::metric_type::histogram, {}};
    for (std::size_t n : {0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 500, 1100, 17000, 40000}) {
        for (const char* fill : {"x", "\"", "a\\b\nc"}) {
            std::string value;
            while (value.size() < n) value += fill;
            counters.series.push_back({{{"id", std::to_string(n)}, {"value", value}},
                                       lm::counter_value{n, 0.0}, 1733212345.25, {}});
            histograms.series.push_back({{{"value", value}},
                                         lm::histogram_value{{0.5, 1.0}, {1, 2, static_cast<std::uint64_t>(n)}, 2.5},
                                         1733212345.5, {}});
        }
    }
    src.add(counters);
    src.add(histograms);
    src.add({"plain_level", "", "", lm::metric_type::gauge, {{{}, 0.1 + 0.2}}});
    std::string unbuffered_text, unbuffered_om;
    lm::prometheus_text_encoder<std::string> text{unbuffered_text};
    src.visit(text);
    text.finish();
    lm::openmetrics_encoder<std::string> om{unbuffered_om};
    src.visit(om);
    om.finish();
    CHECK(lm::render(src, lm::format::prometheus) == unbuffered_text);
    CHECK(lm::render(src, lm::format::openmetrics) == unbuffered_om);
}

TEST_CASE("JSON shows native buckets; text formats the classic view", "[exposition][json][native]") {
    lm::snapshot_source src;
    lm::native_histogram_value native;
    native.zero_threshold = 0x1p-128;
    native.zero_count = 1;
    native.positive_spans = {{-5, 1}, {16, 1}};  // indices -5 and 12
    native.positive_counts = {2, 1};
    native.count = 4;  // and one NaN observation
    native.sum = 3.5;
    lm::native_histogram_value both = native;
    both.classic = histogram_value{{1}, {2, 2}, 3.5};
    both.negative_spans = {{0, 2}};
    both.negative_counts = {1, 0};
    src.add({"x_seconds", "h", "", metric_type::histogram, {{{{"a", "1"}}, native}, {{{"a", "2"}}, both}}});
    CHECK(lm::render(src, lm::format::json) ==
          "{\"families\":[{\"name\":\"x_seconds\",\"type\":\"histogram\",\"help\":\"h\",\"series\":["
          "{\"labels\":{\"a\":\"1\"},\"native\":{\"schema\":3,\"zero_threshold\":2.938735877055719e-39,"
          "\"zero_count\":1,\"positive\":[{\"index\":-5,\"count\":2},{\"index\":12,\"count\":1}],\"negative\":[]},"
          "\"sum\":3.5,\"count\":4},"
          "{\"labels\":{\"a\":\"2\"},\"buckets\":[{\"le\":\"1.0\",\"count\":2},{\"le\":\"+Inf\",\"count\":4}],"
          "\"native\":{\"schema\":3,\"zero_threshold\":2.938735877055719e-39,\"zero_count\":1,"
          "\"positive\":[{\"index\":-5,\"count\":2},{\"index\":12,\"count\":1}],"
          "\"negative\":[{\"index\":0,\"count\":1},{\"index\":1,\"count\":0}]},\"sum\":3.5,\"count\":4}]}]}\n");
    const auto doc = nlohmann::json::parse(lm::render(src, lm::format::json));
    CHECK(doc["families"][0]["series"][0]["native"]["zero_threshold"].get<double>() == 0x1p-128);
    // Text: a native-only series shows its +Inf bucket (= count), _sum and _count.
    const std::string text = lm::render(src, lm::format::prometheus);
    CHECK(text.find("x_seconds_bucket{a=\"1\",le=\"+Inf\"} 4\nx_seconds_sum{a=\"1\"} 3.5\nx_seconds_count{a=\"1\"} 4\n") !=
          std::string::npos);
    CHECK(text.find("x_seconds_bucket{a=\"2\",le=\"1.0\"} 2\n") != std::string::npos);
}

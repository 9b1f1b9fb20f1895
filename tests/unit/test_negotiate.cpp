// Content negotiation from an HTTP Accept header (exposition/negotiate.hpp).

#include <catch2/catch.hpp>

#include <llmetrics/exposition/negotiate.hpp>
#include <llmetrics/exposition/render.hpp>
#include <llmetrics/registry/registry.hpp>

#include <string>
#include <string_view>

using llmetrics::escaping_scheme;
using llmetrics::format;
using llmetrics::negotiate;
using llmetrics::negotiate_exposition;

namespace {
// The Content-Type the exposer answers a request with this Accept header.
std::string answer(std::string_view accept) { return std::string(negotiate_exposition(accept).content_type()); }

constexpr const char* om_underscores = "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores";
constexpr const char* om_utf8 = "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8";
constexpr const char* text_004 = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* proto_underscores =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=underscores";
constexpr const char* proto_utf8 =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=allow-utf-8";
}  // namespace

TEST_CASE("what real scrapers and tools send", "[negotiate]") {
    // Prometheus 2.x scrape requests.
    CHECK(negotiate("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
                    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1") == format::openmetrics);
    // Prometheus with OpenMetrics disabled, and Prometheus 3.x.
    CHECK(negotiate("text/plain;version=0.0.4;q=1,*/*;q=0.1") == format::prometheus);
    CHECK(negotiate("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
                    "application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;"
                    "escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2") == format::openmetrics);
    // curl, browsers, an empty or missing header.
    CHECK(negotiate("*/*") == format::prometheus);
    CHECK(negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8") == format::prometheus);
    CHECK(negotiate("") == format::prometheus);
    CHECK(negotiate("application/json") == format::json);
}

TEST_CASE("q-values pick the format", "[negotiate]") {
    CHECK(negotiate("text/plain;q=0.4, application/json;q=0.9") == format::json);
    CHECK(negotiate("application/json;q=0.2, application/openmetrics-text;q=0.3") == format::openmetrics);
    CHECK(negotiate("application/openmetrics-text;q=0.1, text/plain") == format::prometheus);
    CHECK(negotiate("application/json, */*;q=0.5") == format::json);
    // q=0 means "not acceptable", even when a wildcard would allow it.
    CHECK(negotiate("*/*, text/plain;q=0") == format::openmetrics);
    CHECK(negotiate("application/openmetrics-text;q=0, text/plain;q=0, application/json;q=0.001") == format::json);
    CHECK(negotiate("application/openmetrics-text;q=0") == format::prometheus);  // nothing acceptable: fallback
    CHECK(negotiate("*/*;q=0") == format::prometheus);
    // The most specific range decides, not the highest q.
    CHECK(negotiate("application/*;q=0.9, application/json;q=0.1, text/plain;q=0.5") == format::openmetrics);
}

TEST_CASE("ties prefer openmetrics, then prometheus, then json", "[negotiate]") {
    CHECK(negotiate("application/json, text/plain, application/openmetrics-text") == format::openmetrics);
    CHECK(negotiate("application/json, text/plain") == format::prometheus);
    CHECK(negotiate("application/json;q=0.5, text/plain;q=0.5") == format::prometheus);
    // An explicitly named format beats one reached through a wildcard at the same q.
    CHECK(negotiate("application/json, */*") == format::json);
    CHECK(negotiate("application/*") == format::openmetrics);
    CHECK(negotiate("text/*") == format::prometheus);
}

TEST_CASE("only the versions we write match", "[negotiate]") {
    CHECK(negotiate("application/openmetrics-text;version=0.0.1") == format::prometheus);
    CHECK(negotiate("application/openmetrics-text;version=0.0.1, application/json;q=0.1") == format::json);
    CHECK(negotiate("application/openmetrics-text; version=\"1.0.0\"") == format::openmetrics);
    CHECK(negotiate("application/openmetrics-text;version=2.0.0;q=1, text/plain;q=0.2") == format::prometheus);
    CHECK(negotiate("text/plain;version=0.0.4") == format::prometheus);
}

TEST_CASE("case, whitespace and extra parameters are tolerated", "[negotiate]") {
    CHECK(negotiate("  Application/OpenMetrics-Text ; Version=1.0.0 ; Q=0.9 ,  text/plain ; q=0.5 ") ==
          format::openmetrics);
    CHECK(negotiate("APPLICATION/JSON;charset=utf-8") == format::json);
    CHECK(negotiate("\tapplication/json\t;\tq=1\t") == format::json);
    CHECK(negotiate("application/json;foo=\"a,b;c\";q=0.8, text/plain;q=0.7") == format::json);
}

TEST_CASE("malformed parts are skipped, garbage falls back", "[negotiate]") {
    CHECK(negotiate("garbage") == format::prometheus);
    CHECK(negotiate(",,,;;;===") == format::prometheus);
    CHECK(negotiate("application/json;q=abc, text/plain;q=0.1") == format::prometheus);  // bad q: range skipped
    CHECK(negotiate("application/json;q=2, text/plain;q=0.1") == format::prometheus);    // q > 1: skipped
    CHECK(negotiate("application/json;q=nan, text/plain;q=0.1") == format::prometheus);
    CHECK(negotiate("application/json;q=, application/openmetrics-text;q=0.2") == format::openmetrics);
    CHECK(negotiate("application/json;noequals, text/plain;q=0.1") == format::prometheus);
    CHECK(negotiate("/json, application/, */json, application/json") == format::json);
    CHECK(negotiate("application/json;foo=\"unterminated, text/plain") == format::prometheus);
    CHECK(negotiate(std::string_view("application/json\0", 17)) == format::prometheus);
    CHECK(negotiate("text/html, *; q=.2, */*; q=.2") == format::prometheus);  // old Java clients
    CHECK(negotiate(std::string(100000, ',') + "application/json") == format::json);
}

// Prometheus' own headers, byte for byte: 2.42 (scrape.go's scrapeAcceptHeader and,
// with --enable-feature=native-histograms, scrapeAcceptHeaderWithProtobuf), 3.x
// (acceptHeader() over DefaultScrapeProtocols, or DefaultProtoFirstScrapeProtocols
// when native histograms or created-timestamp-zero-ingestion are on; escaping only
// on the 1.0.0 formats since 3.2, on every one in 3.0 and 3.1), and the docs' example.
TEST_CASE("Prometheus 2.42 and 3.x default Accept headers", "[negotiate]") {
    CHECK(answer("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                 "text/plain;version=0.0.4;q=0.5,*/*;q=0.1") == om_underscores);
    CHECK(answer("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,"
                 "application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;"
                 "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1") == proto_underscores);
    CHECK(answer("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
                 "application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;"
                 "q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2") == om_utf8);
    CHECK(answer("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;"
                 "q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
                 "application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;"
                 "q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1") == proto_underscores);
    // 3.0: every protocol carried the parameter, protobuf too.
    CHECK(answer("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;"
                 "escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
                 "application/openmetrics-text;version=0.0.1;escaping=allow-utf-8;q=0.4,"
                 "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;escaping=allow-utf-8;"
                 "q=0.2,*/*;q=0.1") == proto_utf8);
    // metric_name_validation_scheme: legacy asks for underscores.
    CHECK(answer("application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,"
                 "application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=underscores;"
                 "q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2") == om_underscores);
    CHECK(answer("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
                 "application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;"
                 "q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1") == om_utf8);
}

TEST_CASE("Prometheus 3 scrape_protocols lists", "[negotiate]") {
    // [PrometheusText1.0.0]: the new content type, the escaping asked for.
    CHECK(answer("text/plain;version=1.0.0;escaping=allow-utf-8;q=0.6,*/*;q=0.5") ==
          "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8");
    CHECK(answer("text/plain;version=1.0.0;escaping=dots;q=0.6,*/*;q=0.5") ==
          "text/plain; version=1.0.0; charset=utf-8; escaping=dots");
    CHECK(answer("text/plain;version=1.0.0;escaping=values") ==
          "text/plain; version=1.0.0; charset=utf-8; escaping=values");
    CHECK(answer("text/plain;version=1.0.0") == "text/plain; version=1.0.0; charset=utf-8; escaping=underscores");
    CHECK(answer("text/plain;version=1.0.0;escaping=bogus") ==
          "text/plain; version=1.0.0; charset=utf-8; escaping=underscores");  // unknown scheme: the default
    // [PrometheusText1.0.0, PrometheusText0.0.4] and the reverse.
    CHECK(answer("text/plain;version=1.0.0;escaping=allow-utf-8;q=0.6,text/plain;version=0.0.4;q=0.5,*/*;q=0.4") ==
          "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8");
    CHECK(answer("text/plain;version=0.0.4;q=0.6,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5,*/*;q=0.4") ==
          text_004);  // 0.0.4 has no escaping parameter
    // [PrometheusText0.0.4] in 3.0 style, with a parameter 0.0.4 does not have.
    CHECK(answer("text/plain;version=0.0.4;escaping=allow-utf-8;q=0.6,*/*;q=0.5") == text_004);
    // [OpenMetricsText1.0.0]
    CHECK(answer("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,*/*;q=0.5") == om_utf8);
    // [OpenMetricsText0.0.1] only: not written; */* gets 0.0.4, which Prometheus parses.
    CHECK(answer("application/openmetrics-text;version=0.0.1;q=0.6,*/*;q=0.5") == text_004);
}

TEST_CASE("protobuf is chosen where preferred, with both of its parameters", "[negotiate][protobuf]") {
    // [PrometheusProto] only.
    CHECK(answer("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,"
                 "*/*;q=0.5") == proto_underscores);
    CHECK(answer("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited") ==
          proto_underscores);
    CHECK(negotiate("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,"
                    "text/plain;version=1.0.0;q=0.1") == format::protobuf);
    CHECK(negotiate(" Application/Vnd.Google.Protobuf ; proto=io.prometheus.client.MetricFamily ; "
                    "Encoding=\"delimited\" ; q=0.9, text/plain;q=0.5") == format::protobuf);
    // Without both parameters, or with other values (client_golang's text and
    // compact-text encodings, another message), it does not match.
    CHECK(negotiate("application/vnd.google.protobuf, application/*;q=0.2") == format::openmetrics);
    CHECK(negotiate("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily") == format::prometheus);
    CHECK(negotiate("application/vnd.google.protobuf;encoding=delimited") == format::prometheus);
    CHECK(negotiate("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text") ==
          format::prometheus);
    CHECK(negotiate("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=compact-text")
          == format::prometheus);
    CHECK(negotiate("application/vnd.google.protobuf;proto=other.Message;encoding=delimited") == format::prometheus);
    // Not preferred: nothing changes. Equal q goes to every text format first.
    CHECK(negotiate("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;"
                    "q=0.5,application/openmetrics-text;version=1.0.0;q=0.6") == format::openmetrics);
    CHECK(negotiate("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,"
                    "application/json") == format::json);
    CHECK(negotiate("application/*") == format::openmetrics);
    CHECK(negotiate("*/*") == format::prometheus);
}

TEST_CASE("text/plain without a version stays 0.0.4", "[negotiate]") {
    CHECK(negotiate("text/plain") == format::prometheus);
    CHECK(negotiate("text/*") == format::prometheus);
    CHECK(negotiate("text/plain;version=1.0.0, text/plain;version=0.0.4") == format::prometheus);  // tie: table order
    CHECK(negotiate("text/plain;version=1.0.0;q=0.9, text/plain;q=0.5") == format::prometheus_v1);
    CHECK(negotiate("text/plain;version=2.0.0") == format::prometheus);  // nothing matches: fallback
    CHECK(answer("TEXT/Plain ; Version=1.0.0 ; Escaping=allow-utf-8") ==
          "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8");
    CHECK(answer("text/plain;version=\"1.0.0\";escaping=\"allow-utf-8\"") ==
          "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8");
}

namespace {
struct v1_requests : llmetrics::counter<"v1_requests_total", "Requests", llmetrics::labels<"code">> {};
}  // namespace

TEST_CASE("every answer's content type is one Prometheus 3 parses; 1.0.0 is the 0.0.4 body", "[negotiate]") {
    // Prometheus 3 fails a scrape whose Content-Type is missing or is not
    // type/subtype with `; name=value` parameters of a known media type.
    const auto parsable = [](std::string_view ct) {
        llmetrics::detail::media_range r;
        if (!llmetrics::detail::parse_media_range(ct, r)) return false;
        const std::string type = std::string(r.type) + "/" + std::string(r.subtype);
        return type == "text/plain" || type == "application/openmetrics-text" || type == "application/json" ||
               type == "application/vnd.google.protobuf";
    };
    for (const format f : {format::prometheus, format::openmetrics, format::json, format::prometheus_v1,
                           format::protobuf})
        for (const escaping_scheme e : {escaping_scheme::underscores, escaping_scheme::dots, escaping_scheme::values,
                                        escaping_scheme::allow_utf8}) {
            const std::string_view ct = llmetrics::content_type(f, e);
            INFO(ct);
            CHECK(parsable(ct));
            CHECK(ct.starts_with(llmetrics::content_type(f)));
            const bool has = f == format::openmetrics || f == format::prometheus_v1 || f == format::protobuf;
            CHECK((ct.find("; escaping=" + std::string(llmetrics::to_string(e))) != std::string_view::npos) == has);
        }
    llmetrics::registry<v1_requests> metrics;
    metrics.get<v1_requests>().labels("200").inc(3);
    const std::string v1 = llmetrics::render(metrics, format::prometheus_v1);
    CHECK(v1 == llmetrics::render(metrics, format::prometheus));
    CHECK(v1.find("v1_requests_total{code=\"200\"} 3\n") != std::string::npos);
}

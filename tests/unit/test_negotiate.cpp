// Content negotiation from an HTTP Accept header (exposition/negotiate.hpp).

#include <catch2/catch.hpp>

#include <llmetrics/exposition/negotiate.hpp>

using llmetrics::format;
using llmetrics::negotiate;

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

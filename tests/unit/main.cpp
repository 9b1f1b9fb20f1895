// The one main() of llmetrics-tests; test cases live in tests/unit/test_*.cpp.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

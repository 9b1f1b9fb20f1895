#pragma once
// Whether the unit tests run in a sanitizer build (tests/CMakeLists.txt sets
// LLMETRICS_SANITIZER there), so that load-heavy tests can scale down.
#include <cstdlib>

inline bool under_sanitizer() {
    const char* s = std::getenv("LLMETRICS_SANITIZER");
    return s && *s;
}

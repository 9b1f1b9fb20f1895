// What every consumer program checks: a registry renders through the installed
// headers (any target brings the core).
#pragma once

#include <cstdio>
#include <string>

inline bool expect_in(const std::string& text, const char* wanted, const char* who) {
    if (text.find(wanted) != std::string::npos) return true;
    std::fputs(text.c_str(), stdout);
    std::printf("%s: \"%s\" missing from the exposition\n", who, wanted);
    return false;
}

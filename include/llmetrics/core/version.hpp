#pragma once
// The library's version, and the compiler that built the including translation
// unit (header-only: that is the compiler that built the user's program).

#include <string_view>

#define LLMETRICS_VERSION_MAJOR 0
#define LLMETRICS_VERSION_MINOR 1
#define LLMETRICS_VERSION_PATCH 0

#define LLMETRICS_DETAIL_STR2(x) #x
#define LLMETRICS_DETAIL_STR(x) LLMETRICS_DETAIL_STR2(x)

#define LLMETRICS_VERSION                          \
    LLMETRICS_DETAIL_STR(LLMETRICS_VERSION_MAJOR)  \
    "." LLMETRICS_DETAIL_STR(LLMETRICS_VERSION_MINOR) \
    "." LLMETRICS_DETAIL_STR(LLMETRICS_VERSION_PATCH)

// Encoded as major * 10000 + minor * 100 + patch, for #if comparisons.
#define LLMETRICS_VERSION_NUMBER \
    (LLMETRICS_VERSION_MAJOR * 10000 + LLMETRICS_VERSION_MINOR * 100 + LLMETRICS_VERSION_PATCH)

// clang also defines __GNUC__, so it is tested first.
#if defined(__clang__)
#define LLMETRICS_COMPILER                                                  \
    "clang " LLMETRICS_DETAIL_STR(__clang_major__) "." LLMETRICS_DETAIL_STR( \
        __clang_minor__) "." LLMETRICS_DETAIL_STR(__clang_patchlevel__)
#elif defined(__GNUC__)
#define LLMETRICS_COMPILER                                                               \
    "gcc " LLMETRICS_DETAIL_STR(__GNUC__) "." LLMETRICS_DETAIL_STR(__GNUC_MINOR__) "." \
        LLMETRICS_DETAIL_STR(__GNUC_PATCHLEVEL__)
#elif defined(_MSC_VER)
#define LLMETRICS_COMPILER "msvc " LLMETRICS_DETAIL_STR(_MSC_FULL_VER)
#else
#define LLMETRICS_COMPILER "unknown"
#endif

namespace llmetrics {

inline constexpr std::string_view version_string = LLMETRICS_VERSION;
inline constexpr std::string_view compiler_string = LLMETRICS_COMPILER;

// The value of __cplusplus the including code was compiled with, e.g. "202002"
// (the macro is spelled with a trailing L, which is dropped here).
inline constexpr std::string_view cplusplus_string = [] {
    std::string_view text = LLMETRICS_DETAIL_STR(__cplusplus);
    if (!text.empty() && text.back() == 'L')
        text.remove_suffix(1);
    return text;
}();

}  // namespace llmetrics

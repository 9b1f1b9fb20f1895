#pragma once
// The `error_type` label of a failed call: the type name of the exception, as
// the tutorial's `error.constructor.name`. C++ type names are demangled
// (abi::__cxa_demangle) and shortened to the unqualified name, so
// `myapp::TimeoutError` gives "TimeoutError" and `std::runtime_error` gives
// "runtime_error"; template arguments are kept (`wrapexcept<std::bad_alloc>`).
// Names are computed once per exception type and cached, so a failure costs no
// allocation after the first of its type. A thrown value that is not of class
// type gives its type name too ("int", "char const*").

#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <typeindex>
#include <typeinfo>
#include <unordered_map>

#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#define LLMETRICS_HAS_CXXABI 1
#else
#define LLMETRICS_HAS_CXXABI 0
#endif

namespace llmetrics {

namespace detail {

// The part after the last "::" that is not inside template arguments or a
// parenthesised group such as "(anonymous namespace)".
inline std::string_view unqualified_type_name(std::string_view name) noexcept {
    int depth = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        if (c == '<' || c == '(') ++depth;
        else if ((c == '>' || c == ')') && depth > 0) --depth;
        else if (c == ':' && depth == 0 && i + 1 < name.size() && name[i + 1] == ':') start = i + 2;
    }
    return name.substr(start);
}

inline std::string demangled_type_name(const std::type_info& type) {
#if LLMETRICS_HAS_CXXABI
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                               std::free);
    if (status == 0 && out) return std::string(out.get());
#endif
    return std::string(type.name());
}

}  // namespace detail

// The short, demangled name of `type`; the view stays valid for the program's life.
inline std::string_view error_type_name(const std::type_info& type) {
    static std::mutex mutex;
    static std::unordered_map<std::type_index, std::string> names;
    std::lock_guard lock(mutex);
    auto it = names.find(std::type_index(type));
    if (it == names.end()) {
        const std::string full = detail::demangled_type_name(type);
        it = names.emplace(std::type_index(type), std::string(detail::unqualified_type_name(full))).first;
    }
    return it->second;
}

// The error_type of the exception being handled; call it inside a catch block.
// "Unknown" when no exception is being handled or the runtime cannot tell.
inline std::string_view current_error_type_name() {
#if LLMETRICS_HAS_CXXABI
    if (const std::type_info* type = abi::__cxa_current_exception_type()) return error_type_name(*type);
#else
    try {
        if (std::current_exception()) throw;
    } catch (const std::exception& e) {
        return error_type_name(typeid(e));
    } catch (...) {
    }
#endif
    return "Unknown";
}

}  // namespace llmetrics

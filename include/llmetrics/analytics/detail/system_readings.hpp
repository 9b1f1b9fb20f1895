#pragma once
// What the system sampler reads besides /proc (core/detail/proc_reader.hpp):
// the memory limit (physical RAM, or a lower cgroup limit), malloc's heap
// (glibc mallinfo2) and the CPU times (getrusage). A value that cannot be read
// is nullopt, never made up.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define LLMETRICS_HAS_MALLINFO2 1
#else
#define LLMETRICS_HAS_MALLINFO2 0
#endif

#include "../../core/detail/proc_parse.hpp"
#include "../../core/detail/proc_reader.hpp"

namespace llmetrics::detail {

// Milliseconds since this process started: system uptime minus the start time
// (field 22 of /proc/self/stat, in clock ticks since boot).
inline std::optional<double> read_process_uptime_ms(const proc_reader& proc) {
    const auto stat = proc.self_stat();
    if (!stat || !stat->starttime) return std::nullopt;
    const auto uptime_s = proc.uptime_seconds();
    if (proc.ticks_per_second() <= 0 || !uptime_s) return std::nullopt;
    const double start_s = static_cast<double>(*stat->starttime) / proc.ticks_per_second();
    return std::max(0.0, *uptime_s - start_s) * 1000.0;
}

// Physical memory, or the cgroup (v2, then v1) memory limit when it is lower.
inline std::optional<double> read_memory_limit_bytes(const proc_reader& proc) {
    std::optional<double> limit;
    const long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGESIZE);
    if (pages > 0 && page_size > 0) limit = static_cast<double>(pages) * static_cast<double>(page_size);
#if defined(__linux__)
    // A limit file holds one number, or "max" for none.
    const auto consider = [&](const std::string& path) {
        char buf[64];
        const std::ptrdiff_t len = read_file_into(path.c_str(), buf, sizeof buf);
        if (len <= 0) return;
        token_cursor cursor(std::string_view(buf, static_cast<std::size_t>(len)));
        const std::string_view value = cursor.next();
        if (value.empty() || value == "max") return;
        const auto v = parse_leading_double(value);
        if (v && *v > 0 && (!limit || *v < *limit)) limit = *v;
    };
    const auto cgroup_path = proc.self_cgroup_v2_path();
    if (cgroup_path && !cgroup_path->empty() && *cgroup_path != "/")
        consider("/sys/fs/cgroup" + *cgroup_path + "/memory.max");
    consider("/sys/fs/cgroup/memory.max");
    consider("/sys/fs/cgroup/memory/memory.limit_in_bytes");
#else
    (void)proc;
#endif
    return limit;
}

struct heap_usage {
    double used = 0;
    double total = 0;
};

inline std::optional<heap_usage> read_heap_usage() {
#if LLMETRICS_HAS_MALLINFO2
    const struct mallinfo2 mi = ::mallinfo2();
    // uordblks: in use in the arenas; hblkhd: mmapped chunks (all in use);
    // arena: held by the arenas. All zero when malloc is not glibc's (jemalloc,
    // tcmalloc, a sanitizer's): then there is nothing to report.
    if (mi.arena + mi.hblkhd == 0) return std::nullopt;
    return heap_usage{static_cast<double>(mi.uordblks + mi.hblkhd),
                      static_cast<double>(mi.arena + mi.hblkhd)};
#else
    return std::nullopt;
#endif
}

struct cpu_times {
    double user_us = 0;
    double system_us = 0;
};

inline std::optional<cpu_times> read_cpu_times() {
    rusage ru{};
    if (::getrusage(RUSAGE_SELF, &ru) != 0) return std::nullopt;
    const auto us = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) * 1e6 + static_cast<double>(tv.tv_usec);
    };
    return cpu_times{us(ru.ru_utime), us(ru.ru_stime)};
}

}  // namespace llmetrics::detail

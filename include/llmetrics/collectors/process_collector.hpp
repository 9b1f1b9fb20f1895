#pragma once
// Default process metrics, as every Prometheus client exports them (prom-client's
// collectDefaultMetrics, client_golang's process collector), read from Linux /proc:
//
//   process_cpu_user_seconds_total     counter  utime  of /proc/self/stat / clock ticks
//   process_cpu_system_seconds_total   counter  stime  of /proc/self/stat / clock ticks
//   process_cpu_seconds_total          counter  utime + stime
//   process_start_time_seconds         gauge    btime of /proc/stat + starttime / clock ticks
//   process_resident_memory_bytes      gauge    rss of /proc/self/stat * page size
//   process_virtual_memory_bytes       gauge    vsize of /proc/self/stat
//   process_heap_bytes                 gauge    VmData of /proc/self/status (as prom-client)
//   process_open_fds                   gauge    entries of /proc/self/fd
//   process_max_fds                    gauge    soft "Max open files" of /proc/self/limits
//   process_threads                    gauge    num_threads of /proc/self/stat
//   llmetrics_build_info               gauge    1, labels version, compiler, cplusplus
//
// Every name gets the prefix given to the constructor (`llm_router_` gives
// `llm_router_process_cpu_seconds_total`, like prom-client's {prefix}). A value
// that cannot be read is left out, never reported as 0. A scrape reads each file
// with read(2) into a stack buffer and parses it in place: no heap allocation
// besides the snapshot itself, no iostreams, no locale (core/detail/proc_reader.hpp,
// which the analytics system sampler reads too).
//
// The /proc root is a constructor argument so tests can point the collector at
// a fake tree (<root>/self/stat, <root>/self/status, <root>/self/limits,
// <root>/self/fd/, <root>/stat).

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/detail/proc_reader.hpp"
#include "../core/metric_type.hpp"
#include "../core/version.hpp"
#include "../registry/collector.hpp"
#include "../core/snapshot.hpp"

namespace llmetrics {

// One reading of the process, each value absent when it could not be read.
struct process_sample {
    std::optional<double> cpu_user_seconds;
    std::optional<double> cpu_system_seconds;
    std::optional<double> start_time_seconds;  // unix time
    std::optional<double> resident_memory_bytes;
    std::optional<double> virtual_memory_bytes;
    std::optional<double> heap_bytes;
    std::optional<double> open_fds;
    std::optional<double> max_fds;  // +Inf when the limit is "unlimited"
    std::optional<double> threads;
};

class process_collector final : public collector {
public:
    explicit process_collector(std::string prefix = {}, std::string proc_root = "/proc")
        : prefix_(std::move(prefix)), proc_(std::move(proc_root)) {
        for (std::size_t i = 0; i < family_count; ++i)
            names_[i] = prefix_ + std::string(specs[i].name);
    }

    const std::string& prefix() const noexcept { return prefix_; }
    const std::string& proc_root() const noexcept { return proc_.root(); }

    // Reads everything the collector exports; safe to call from several threads.
    process_sample sample() const {
        process_sample s;
        const double ticks_per_second = proc_.ticks_per_second();
        if (const auto f = proc_.self_stat()) {
            if (ticks_per_second > 0) {
                if (f->utime)
                    s.cpu_user_seconds = static_cast<double>(*f->utime) / ticks_per_second;
                if (f->stime)
                    s.cpu_system_seconds = static_cast<double>(*f->stime) / ticks_per_second;
                if (f->starttime)
                    s.start_time_seconds = start_time(*f->starttime);
            }
            if (f->threads)
                s.threads = static_cast<double>(*f->threads);
            if (f->vsize)
                s.virtual_memory_bytes = static_cast<double>(*f->vsize);
            if (f->rss_pages && proc_.page_size() > 0)
                s.resident_memory_bytes = static_cast<double>(*f->rss_pages) * proc_.page_size();
        }
        if (const auto data = proc_.self_status_bytes("VmData:"))
            s.heap_bytes = static_cast<double>(*data);
        s.max_fds = proc_.self_max_open_files();
        s.open_fds = proc_.self_open_fds();
        return s;
    }

    void collect(std::vector<family_snapshot>& out) override {
        const process_sample s = sample();
        // The CPU counters started counting when the process did.
        const double created = s.start_time_seconds.value_or(std::numeric_limits<double>::quiet_NaN());

        add_counter(out, 0, s.cpu_user_seconds, created);
        add_counter(out, 1, s.cpu_system_seconds, created);
        if (s.cpu_user_seconds && s.cpu_system_seconds)
            add_counter(out, 2, *s.cpu_user_seconds + *s.cpu_system_seconds, created);
        add_gauge(out, 3, s.start_time_seconds);
        add_gauge(out, 4, s.resident_memory_bytes);
        add_gauge(out, 5, s.virtual_memory_bytes);
        add_gauge(out, 6, s.heap_bytes);
        add_gauge(out, 7, s.open_fds);
        add_gauge(out, 8, s.max_fds);
        add_gauge(out, 9, s.threads);

        family_snapshot& info = begin(out, 10);
        series_snapshot series;
        series.labels = {{"version", std::string(version_string)},
                         {"compiler", std::string(compiler_string)},
                         {"cplusplus", std::string(cplusplus_string)}};
        series.value = 1.0;
        info.series.push_back(std::move(series));
    }

private:
    struct family_spec {
        std::string_view name;
        std::string_view help;
        metric_type type;
    };
    static constexpr std::size_t family_count = 11;
    static constexpr family_spec specs[family_count] = {
        {"process_cpu_user_seconds_total", "User CPU time spent by the process in seconds.", metric_type::counter},
        {"process_cpu_system_seconds_total", "System CPU time spent by the process in seconds.", metric_type::counter},
        {"process_cpu_seconds_total", "User plus system CPU time spent by the process in seconds.", metric_type::counter},
        {"process_start_time_seconds", "When the process started, in seconds since the Unix epoch.", metric_type::gauge},
        {"process_resident_memory_bytes", "Resident set size of the process in bytes.", metric_type::gauge},
        {"process_virtual_memory_bytes", "Virtual memory size of the process in bytes.", metric_type::gauge},
        {"process_heap_bytes", "Size of the process data segment (heap) in bytes.", metric_type::gauge},
        {"process_open_fds", "Number of file descriptors the process has open.", metric_type::gauge},
        {"process_max_fds", "Soft limit on the number of open file descriptors.", metric_type::gauge},
        {"process_threads", "Number of operating system threads in the process.", metric_type::gauge},
        {"llmetrics_build_info", "The llmetrics version and the compiler that built it; value is always 1.", metric_type::gauge},
    };

    family_snapshot& begin(std::vector<family_snapshot>& out, std::size_t i) const {
        family_snapshot& family = out.emplace_back();
        family.name = names_[i];
        family.help = std::string(specs[i].help);
        family.type = specs[i].type;
        return family;
    }

    void add_gauge(std::vector<family_snapshot>& out, std::size_t i, std::optional<double> value) const {
        if (!value)
            return;
        series_snapshot series;
        series.value = *value;
        begin(out, i).series.push_back(std::move(series));
    }

    void add_counter(std::vector<family_snapshot>& out, std::size_t i, std::optional<double> value,
                     double created) const {
        if (!value)
            return;
        series_snapshot series;
        series.value = counter_value{0, *value};
        series.created = created;
        begin(out, i).series.push_back(std::move(series));
    }

    // starttime is fixed for the life of the process, and so is the boot time,
    // so /proc/stat is read once; until it has been read successfully, retry.
    std::optional<double> start_time(std::uint64_t starttime_ticks) const {
        double boot = boot_time_.load(std::memory_order_relaxed);
        if (std::isnan(boot)) {
            const auto read = proc_.boot_time_seconds();
            if (!read)
                return std::nullopt;
            boot = static_cast<double>(*read);
            boot_time_.store(boot, std::memory_order_relaxed);
        }
        return boot + static_cast<double>(starttime_ticks) / proc_.ticks_per_second();
    }

    std::string prefix_;
    detail::proc_reader proc_;
    std::string names_[family_count];
    mutable std::atomic<double> boot_time_{std::numeric_limits<double>::quiet_NaN()};
};

}  // namespace llmetrics

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
// besides the snapshot itself, no iostreams, no locale.
//
// The /proc root is a constructor argument so tests can point the collector at
// a fake tree (<root>/self/stat, <root>/self/status, <root>/self/limits,
// <root>/self/fd/, <root>/stat).

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>
#endif

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

namespace detail {

#if defined(__linux__)

// Reads up to `cap` bytes of a file; returns the byte count, or -1 when the file
// cannot be opened or read. /proc files are generated on read, so a short read
// does not mean the end: keep reading until 0 or the buffer is full.
inline std::ptrdiff_t read_file_into(const char* path, char* buf, std::size_t cap) noexcept {
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    std::size_t len = 0;
    while (len < cap) {
        const ::ssize_t n = ::read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ::close(fd);
            return -1;
        }
        if (n == 0)
            break;
        len += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return static_cast<std::ptrdiff_t>(len);
}

#endif

// Parses a whole token as an unsigned decimal number.
inline std::optional<std::uint64_t> parse_u64(std::string_view token) noexcept {
    std::uint64_t value = 0;
    const char* end = token.data() + token.size();
    const auto [ptr, ec] = std::from_chars(token.data(), end, value);
    if (token.empty() || ec != std::errc{} || ptr != end)
        return std::nullopt;
    return value;
}

// Splits text on runs of blanks, one token per call.
class token_cursor {
public:
    explicit token_cursor(std::string_view text) noexcept : rest_(text) {}

    std::string_view next() noexcept {
        std::size_t i = 0;
        while (i < rest_.size() && (rest_[i] == ' ' || rest_[i] == '\t' || rest_[i] == '\n'))
            ++i;
        std::size_t j = i;
        while (j < rest_.size() && rest_[j] != ' ' && rest_[j] != '\t' && rest_[j] != '\n')
            ++j;
        const std::string_view token = rest_.substr(i, j - i);
        rest_.remove_prefix(j);
        return token;
    }

private:
    std::string_view rest_;
};

// The fields of /proc/<pid>/stat the collector uses, in their raw units.
struct proc_stat_fields {
    std::optional<std::uint64_t> utime;       // field 14, clock ticks
    std::optional<std::uint64_t> stime;       // field 15, clock ticks
    std::optional<std::uint64_t> threads;     // field 20
    std::optional<std::uint64_t> starttime;   // field 22, clock ticks after boot
    std::optional<std::uint64_t> vsize;       // field 23, bytes
    std::optional<std::uint64_t> rss_pages;   // field 24, pages
};

// The second field (comm) is the executable name in parentheses and may itself
// contain spaces and ')', so the numbered fields start after the LAST ')'.
inline proc_stat_fields parse_proc_stat(std::string_view text) noexcept {
    proc_stat_fields fields;
    const std::size_t close = text.rfind(')');
    if (close == std::string_view::npos)
        return fields;
    token_cursor cursor(text.substr(close + 1));
    // Field 3 (state) is the first token after ')'.
    for (int field = 3; field <= 24; ++field) {
        const std::string_view token = cursor.next();
        if (token.empty())
            break;
        switch (field) {
        case 14: fields.utime = parse_u64(token); break;
        case 15: fields.stime = parse_u64(token); break;
        case 20: fields.threads = parse_u64(token); break;
        case 22: fields.starttime = parse_u64(token); break;
        case 23: fields.vsize = parse_u64(token); break;
        case 24: fields.rss_pages = parse_u64(token); break;
        default: break;
        }
    }
    return fields;
}

// Finds a line starting with `key` (e.g. "VmData:") and returns the rest of it.
inline std::optional<std::string_view> find_line_value(std::string_view text,
                                                       std::string_view key) noexcept {
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos)
            eol = text.size();
        const std::string_view line = text.substr(pos, eol - pos);
        if (line.substr(0, key.size()) == key)
            return line.substr(key.size());
        pos = eol + 1;
    }
    return std::nullopt;
}

// "VmData:\t   1234 kB" -> 1234 * 1024.
inline std::optional<std::uint64_t> parse_status_kib(std::string_view text,
                                                     std::string_view key) noexcept {
    const auto rest = find_line_value(text, key);
    if (!rest)
        return std::nullopt;
    token_cursor cursor(*rest);
    const auto value = parse_u64(cursor.next());
    if (!value || cursor.next() != "kB")
        return std::nullopt;
    return *value * 1024u;
}

// The soft limit of "Max open files   <soft>   <hard>   files"; "unlimited" is +Inf.
inline std::optional<double> parse_limits_max_open_files(std::string_view text) noexcept {
    const auto rest = find_line_value(text, "Max open files");
    if (!rest)
        return std::nullopt;
    token_cursor cursor(*rest);
    const std::string_view soft = cursor.next();
    if (soft == "unlimited")
        return std::numeric_limits<double>::infinity();
    if (const auto value = parse_u64(soft))
        return static_cast<double>(*value);
    return std::nullopt;
}

// Scans /proc/stat for the "btime <seconds>" line in fixed-size chunks: the file
// grows with the CPU and interrupt count (tens of KB on large machines), and the
// line we want comes after the long "intr" line.
class btime_scanner {
public:
    // Feeds the next chunk; returns true once the value is complete.
    bool feed(std::string_view chunk) noexcept {
        static constexpr std::string_view pattern = "\nbtime ";
        for (const char c : chunk) {
            if (done_)
                return true;
            if (matched_ < pattern.size()) {
                if (c == pattern[matched_])
                    ++matched_;
                else
                    matched_ = (c == '\n') ? 1 : 0;
            } else if (c >= '0' && c <= '9') {
                value_ = value_ * 10 + static_cast<std::uint64_t>(c - '0');
                ++digits_;
            } else if (c == ' ' && digits_ == 0) {
                // tolerate extra spaces before the number
            } else {
                done_ = true;
            }
        }
        return done_;
    }

    // Call after the last chunk (the value may end at end of file).
    std::optional<std::uint64_t> finish() const noexcept {
        if (matched_ == 7 && digits_ > 0)
            return value_;
        return std::nullopt;
    }

private:
    std::size_t matched_ = 1;  // the file's start counts as a line start
    std::uint64_t value_ = 0;
    int digits_ = 0;
    bool done_ = false;
};

}  // namespace detail

class process_collector final : public collector {
public:
    explicit process_collector(std::string prefix = {}, std::string proc_root = "/proc")
        : prefix_(std::move(prefix)), root_(std::move(proc_root)) {
        while (root_.size() > 1 && root_.back() == '/')
            root_.pop_back();
        stat_path_ = root_ + "/self/stat";
        status_path_ = root_ + "/self/status";
        limits_path_ = root_ + "/self/limits";
        fd_path_ = root_ + "/self/fd";
        boot_stat_path_ = root_ + "/stat";
        for (std::size_t i = 0; i < family_count; ++i)
            names_[i] = prefix_ + std::string(specs[i].name);
#if defined(__linux__)
        const long ticks = ::sysconf(_SC_CLK_TCK);
        const long page = ::sysconf(_SC_PAGESIZE);
        ticks_per_second_ = ticks > 0 ? static_cast<double>(ticks) : 0.0;
        page_size_ = page > 0 ? static_cast<double>(page) : 0.0;
#endif
    }

    const std::string& prefix() const noexcept { return prefix_; }
    const std::string& proc_root() const noexcept { return root_; }

    // Reads everything the collector exports; safe to call from several threads.
    process_sample sample() const {
        process_sample s;
#if defined(__linux__)
        char buf[4096];

        const std::ptrdiff_t stat_len = detail::read_file_into(stat_path_.c_str(), buf, sizeof buf);
        if (stat_len > 0) {
            const auto f = detail::parse_proc_stat(std::string_view(buf, static_cast<std::size_t>(stat_len)));
            if (ticks_per_second_ > 0) {
                if (f.utime)
                    s.cpu_user_seconds = static_cast<double>(*f.utime) / ticks_per_second_;
                if (f.stime)
                    s.cpu_system_seconds = static_cast<double>(*f.stime) / ticks_per_second_;
                if (f.starttime)
                    s.start_time_seconds = start_time(*f.starttime);
            }
            if (f.threads)
                s.threads = static_cast<double>(*f.threads);
            if (f.vsize)
                s.virtual_memory_bytes = static_cast<double>(*f.vsize);
            if (f.rss_pages && page_size_ > 0)
                s.resident_memory_bytes = static_cast<double>(*f.rss_pages) * page_size_;
        }

        const std::ptrdiff_t status_len = detail::read_file_into(status_path_.c_str(), buf, sizeof buf);
        if (status_len > 0) {
            const std::string_view text(buf, static_cast<std::size_t>(status_len));
            if (const auto data = detail::parse_status_kib(text, "VmData:"))
                s.heap_bytes = static_cast<double>(*data);
        }

        const std::ptrdiff_t limits_len = detail::read_file_into(limits_path_.c_str(), buf, sizeof buf);
        if (limits_len > 0)
            s.max_fds = detail::parse_limits_max_open_files(
                std::string_view(buf, static_cast<std::size_t>(limits_len)));

        s.open_fds = count_open_fds(buf, sizeof buf);
#endif
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

#if defined(__linux__)
    // starttime is fixed for the life of the process, and so is the boot time,
    // so /proc/stat is read once; until it has been read successfully, retry.
    std::optional<double> start_time(std::uint64_t starttime_ticks) const {
        double boot = boot_time_.load(std::memory_order_relaxed);
        if (std::isnan(boot)) {
            const auto read = read_boot_time();
            if (!read)
                return std::nullopt;
            boot = static_cast<double>(*read);
            boot_time_.store(boot, std::memory_order_relaxed);
        }
        return boot + static_cast<double>(starttime_ticks) / ticks_per_second_;
    }

    std::optional<std::uint64_t> read_boot_time() const noexcept {
        const int fd = ::open(boot_stat_path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return std::nullopt;
        detail::btime_scanner scanner;
        char chunk[1024];
        for (;;) {
            const ::ssize_t n = ::read(fd, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0 || scanner.feed(std::string_view(chunk, static_cast<std::size_t>(n))))
                break;
        }
        ::close(fd);
        return scanner.finish();
    }

    // Counts the entries of <root>/self/fd with getdents64 into a caller buffer
    // (opendir would malloc a 32 KB buffer per scrape). In the real procfs the
    // directory lists the descriptor opened to read it, which is not counted.
    std::optional<double> count_open_fds(char* buf, std::size_t cap) const noexcept {
        const int fd = ::open(fd_path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return std::nullopt;
        bool own_fd_listed = false;
        struct ::statfs fs {};
        if (::fstatfs(fd, &fs) == 0 && fs.f_type == 0x9fa0)  // PROC_SUPER_MAGIC
            own_fd_listed = true;
        char own_name[16];
        const auto own = std::to_chars(own_name, own_name + sizeof own_name, fd);
        const std::string_view own_fd_name(own_name, static_cast<std::size_t>(own.ptr - own_name));

        // Entries are struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, name.
        constexpr std::size_t reclen_at = 16, name_at = 19;
        std::uint64_t count = 0;
        bool ok = true;
        for (;;) {
            const long n = ::syscall(SYS_getdents64, fd, buf, cap);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                ok = false;
                break;
            }
            if (n == 0)
                break;
            for (std::size_t pos = 0; pos + name_at < static_cast<std::size_t>(n);) {
                std::uint16_t reclen = 0;
                std::memcpy(&reclen, buf + pos + reclen_at, sizeof reclen);
                if (reclen == 0 || pos + reclen > static_cast<std::size_t>(n)) {
                    ok = false;
                    break;
                }
                const char* name = buf + pos + name_at;
                const std::string_view entry(name, ::strnlen(name, reclen - name_at));
                if (entry != "." && entry != ".." && !(own_fd_listed && entry == own_fd_name))
                    ++count;
                pos += reclen;
            }
            if (!ok)
                break;
        }
        ::close(fd);
        if (!ok)
            return std::nullopt;
        return static_cast<double>(count);
    }
#endif

    std::string prefix_;
    std::string root_;
    std::string stat_path_, status_path_, limits_path_, fd_path_, boot_stat_path_;
    std::string names_[family_count];
    double ticks_per_second_ = 0.0;
    double page_size_ = 0.0;
    mutable std::atomic<double> boot_time_{std::numeric_limits<double>::quiet_NaN()};
};

}  // namespace llmetrics

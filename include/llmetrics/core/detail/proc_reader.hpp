#pragma once
// The one reader of Linux /proc, shared by the process collector and the
// analytics system sampler. Each reading read(2)s its file into a stack buffer
// and parses it in place (proc_parse.hpp): no heap allocation, no iostreams, no
// locale, so a scrape can afford it. A value that cannot be read is nullopt;
// off Linux every reading is.
//
// The root is a constructor argument so tests can point the reader at a fake
// tree: <root>/self/stat, self/status, self/limits, self/fd/, self/cgroup,
// <root>/stat, <root>/uptime.

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#if defined(__linux__)
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>
#endif

#include "proc_parse.hpp"

namespace llmetrics::detail {

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

class proc_reader {
public:
    explicit proc_reader(std::string root = "/proc") : root_(std::move(root)) {
        while (root_.size() > 1 && root_.back() == '/')
            root_.pop_back();
        stat_path_ = root_ + "/self/stat";
        status_path_ = root_ + "/self/status";
        limits_path_ = root_ + "/self/limits";
        fd_path_ = root_ + "/self/fd";
        cgroup_path_ = root_ + "/self/cgroup";
        boot_stat_path_ = root_ + "/stat";
        uptime_path_ = root_ + "/uptime";
#if defined(__linux__)
        const long ticks = ::sysconf(_SC_CLK_TCK);
        const long page = ::sysconf(_SC_PAGESIZE);
        ticks_per_second_ = ticks > 0 ? static_cast<double>(ticks) : 0.0;
        page_size_ = page > 0 ? static_cast<double>(page) : 0.0;
#endif
    }

    const std::string& root() const noexcept { return root_; }
    // Units of the stat fields; 0 when sysconf does not know them.
    double ticks_per_second() const noexcept { return ticks_per_second_; }
    double page_size() const noexcept { return page_size_; }

    // <root>/self/stat; nullopt when the file cannot be read (a field that
    // cannot be parsed is nullopt inside).
    std::optional<proc_stat_fields> self_stat() const noexcept {
        return read(stat_path_, [](std::string_view text) { return parse_proc_stat(text); });
    }

    // A "<key> <n> kB" line of <root>/self/status, in bytes ("VmRSS:", "VmData:").
    std::optional<std::uint64_t> self_status_bytes(std::string_view key) const noexcept {
        return flatten(read(status_path_, [key](std::string_view text) { return parse_status_kib(text, key); }));
    }

    // The soft "Max open files" of <root>/self/limits; +Inf when unlimited.
    std::optional<double> self_max_open_files() const noexcept {
        return flatten(read(limits_path_, [](std::string_view text) { return parse_limits_max_open_files(text); }));
    }

    // The cgroup v2 path of the process ("/system.slice/app.service").
    std::optional<std::string> self_cgroup_v2_path() const {
        return flatten(read(cgroup_path_, [](std::string_view text) -> std::optional<std::string> {
            if (const auto path = parse_cgroup_v2_path(text))
                return std::string(*path);
            return std::nullopt;
        }));
    }

    // Seconds since boot, <root>/uptime.
    std::optional<double> uptime_seconds() const noexcept {
        return flatten(read(uptime_path_, [](std::string_view text) { return parse_uptime_seconds(text); }));
    }

    // The boot time in seconds since the Unix epoch ("btime" of <root>/stat).
    std::optional<std::uint64_t> boot_time_seconds() const noexcept {
#if defined(__linux__)
        const int fd = ::open(boot_stat_path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return std::nullopt;
        btime_scanner scanner;
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
#else
        return std::nullopt;
#endif
    }

    // Counts the entries of <root>/self/fd with getdents64 into a stack buffer
    // (opendir would malloc a 32 KB buffer per scrape). In the real procfs the
    // directory lists the descriptor opened to read it, which is not counted.
    std::optional<double> self_open_fds() const noexcept {
#if defined(__linux__)
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
        char buf[buffer_size];
        std::uint64_t count = 0;
        bool ok = true;
        for (;;) {
            const long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
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
#else
        return std::nullopt;
#endif
    }

private:
    // Big enough for every file read whole (stat, status, limits, cgroup, uptime).
    static constexpr std::size_t buffer_size = 4096;

    // parse(text of the file), or nullopt when the file cannot be read or is empty.
    template <class Parse>
    static auto read([[maybe_unused]] const std::string& path, [[maybe_unused]] Parse parse) noexcept(
        noexcept(parse(std::string_view{}))) -> std::optional<decltype(parse(std::string_view{}))> {
#if defined(__linux__)
        char buf[buffer_size];
        const std::ptrdiff_t len = read_file_into(path.c_str(), buf, sizeof buf);
        if (len > 0)
            return parse(std::string_view(buf, static_cast<std::size_t>(len)));
#endif
        return std::nullopt;
    }

    template <class T>
    static std::optional<T> flatten(std::optional<std::optional<T>> v) noexcept(
        std::is_nothrow_move_constructible_v<T>) {
        if (!v)
            return std::nullopt;
        return std::move(*v);
    }

    std::string root_;
    std::string stat_path_, status_path_, limits_path_, fd_path_, cgroup_path_, boot_stat_path_, uptime_path_;
    double ticks_per_second_ = 0.0;
    double page_size_ = 0.0;
};

}  // namespace llmetrics::detail

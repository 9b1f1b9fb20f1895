#include <llmetrics/collectors/process_collector.hpp>
#include <llmetrics/core/detail/proc_reader.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

namespace lm = llmetrics;
namespace fs = std::filesystem;

namespace {

std::vector<lm::family_snapshot> collect(lm::process_collector& c) {
    std::vector<lm::family_snapshot> out;
    c.collect(out);
    return out;
}

const lm::family_snapshot* find(const std::vector<lm::family_snapshot>& families, const std::string& name) {
    for (const auto& f : families)
        if (f.name == name)
            return &f;
    return nullptr;
}

// The single unlabelled value of a family (gauge or counter).
double value_of(const std::vector<lm::family_snapshot>& families, const std::string& name) {
    const auto* f = find(families, name);
    REQUIRE(f != nullptr);
    REQUIRE(f->series.size() == 1);
    const auto& v = f->series[0].value;
    if (const auto* c = std::get_if<lm::counter_value>(&v))
        return static_cast<double>(c->integral) + c->fractional;
    REQUIRE(std::holds_alternative<double>(v));
    return std::get<double>(v);
}

double now_unix() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const char* const all_names[] = {
    "process_cpu_user_seconds_total", "process_cpu_system_seconds_total", "process_cpu_seconds_total",
    "process_start_time_seconds",     "process_resident_memory_bytes",    "process_virtual_memory_bytes",
    "process_heap_bytes",             "process_open_fds",                 "process_max_fds",
    "process_threads",                "llmetrics_build_info",
};

// A temporary directory standing in for /proc, removed at scope exit.
struct fake_proc {
    fs::path root;

    fake_proc() {
        std::string pattern = (fs::temp_directory_path() / "llmetrics-proc-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        root = pattern;
        fs::create_directories(root / "self" / "fd");
    }
    ~fake_proc() {
        std::error_code ec;
        fs::remove_all(root, ec);
    }
    void write(const fs::path& relative, const std::string& text) const {
        std::ofstream out(root / relative, std::ios::binary);
        out << text;
    }
};

// A /proc/<pid>/stat line with the given comm and fields 3..52 from `fields`
// (index 0 is field 3).
std::string stat_line(const std::string& comm, std::vector<std::string> fields) {
    fields.resize(50, "0");
    std::string line = "4242 (" + comm + ")";
    for (const auto& f : fields)
        line += " " + f;
    return line + "\n";
}

std::vector<std::string> typical_fields() {
    std::vector<std::string> f(50, "0");
    auto set = [&](int field, const std::string& v) { f[static_cast<std::size_t>(field - 3)] = v; };
    set(3, "S");
    set(4, "1");
    set(14, "250");        // utime
    set(15, "125");        // stime
    set(16, "-1");         // cutime (signed; must not confuse the parser)
    set(19, "-20");        // nice
    set(20, "7");          // num_threads
    set(22, "12345");      // starttime
    set(23, "104857600");  // vsize
    set(24, "2560");       // rss pages
    return f;
}

const std::string limits_text =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max file size             unlimited            unlimited            bytes     \n"
    "Max open files            4096                 524288               files     \n"
    "Max locked memory         8388608              8388608              bytes     \n";

const std::string status_text =
    "Name:\tmy (weird) prog\nUmask:\t0022\nState:\tS (sleeping)\n"
    "VmPeak:\t  200000 kB\nVmSize:\t  102400 kB\nVmRSS:\t   10240 kB\nVmData:\t    2048 kB\n"
    "VmStk:\t     132 kB\nThreads:\t7\n";

// /proc/stat with a long intr line, so btime lies beyond the first read chunks.
std::string boot_stat_text() {
    std::string text = "cpu  100 0 50 1000 0 0 0 0 0 0\ncpu0 100 0 50 1000 0 0 0 0 0 0\nintr 123456";
    for (int i = 0; i < 3000; ++i)
        text += " 0";
    text += "\nctxt 987654\nbtime 1700000000\nprocesses 4321\nprocs_running 1\n";
    return text;
}

double ticks() { return static_cast<double>(::sysconf(_SC_CLK_TCK)); }
double page() { return static_cast<double>(::sysconf(_SC_PAGESIZE)); }

}  // namespace

TEST_CASE("process collector reads plausible values from the real /proc", "[process_collector]") {
    lm::process_collector c;
    const auto families = collect(c);
    for (const char* name : all_names)
        CHECK(find(families, name) != nullptr);
    REQUIRE(families.size() == std::size(all_names));

    CHECK(find(families, "process_cpu_seconds_total")->type == lm::metric_type::counter);
    CHECK(find(families, "process_threads")->type == lm::metric_type::gauge);
    CHECK(find(families, "process_threads")->series[0].labels.empty());

    const double user = value_of(families, "process_cpu_user_seconds_total");
    const double system = value_of(families, "process_cpu_system_seconds_total");
    CHECK(user >= 0);
    CHECK(system >= 0);
    CHECK(value_of(families, "process_cpu_seconds_total") == Approx(user + system));

    const double start = value_of(families, "process_start_time_seconds");
    CHECK(start <= now_unix() + 1);
    CHECK(start > now_unix() - 3600);
    // The CPU counters were created when the process started.
    CHECK(find(families, "process_cpu_seconds_total")->series[0].created == start);

    const double rss = value_of(families, "process_resident_memory_bytes");
    const double vsize = value_of(families, "process_virtual_memory_bytes");
    CHECK(rss > 0);
    CHECK(vsize >= rss);
    CHECK(std::fmod(rss, page()) == 0);
    CHECK(value_of(families, "process_heap_bytes") > 0);
    CHECK(value_of(families, "process_threads") >= 1);

    ::rlimit limit{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
    if (limit.rlim_cur == RLIM_INFINITY)
        CHECK(std::isinf(value_of(families, "process_max_fds")));
    else
        CHECK(value_of(families, "process_max_fds") == static_cast<double>(limit.rlim_cur));
}

TEST_CASE("process collector counts open descriptors exactly", "[process_collector]") {
    lm::process_collector c;
    // Reference count: the directory listing minus the descriptor the listing uses.
    const auto reference = [] {
        double n = 0;
        for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd"))
            ++n;
        return n - 1;
    };
    const double before = *c.sample().open_fds;
    CHECK(before == reference());

    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    const double during = *c.sample().open_fds;
    ::close(fd);
    CHECK(during == before + 1);
    CHECK(*c.sample().open_fds == before);
}

TEST_CASE("process collector sees a new thread and CPU time spent", "[process_collector]") {
    lm::process_collector c;
    const double threads_before = *c.sample().threads;

    std::promise<void> release;
    std::promise<void> started;
    std::thread worker([&, done = release.get_future()]() mutable {
        started.set_value();
        done.wait();
    });
    started.get_future().wait();
    const double threads_during = *c.sample().threads;
    release.set_value();
    worker.join();
    CHECK(threads_during >= threads_before + 1);

    // Burn CPU for several clock ticks and watch the counter move.
    const double cpu_before = *c.sample().cpu_user_seconds + *c.sample().cpu_system_seconds;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(150);
    std::atomic<std::uint64_t> spin{0};
    while (std::chrono::steady_clock::now() < until)
        spin.fetch_add(1, std::memory_order_relaxed);
    const auto after = c.sample();
    CHECK(*after.cpu_user_seconds + *after.cpu_system_seconds > cpu_before);
}

TEST_CASE("process collector applies the prefix to every family", "[process_collector]") {
    lm::process_collector c("llm_router_");
    CHECK(c.prefix() == "llm_router_");
    const auto families = collect(c);
    REQUIRE(families.size() == std::size(all_names));
    for (const char* name : all_names)
        CHECK(find(families, std::string("llm_router_") + name) != nullptr);
}

TEST_CASE("process collector exports build info", "[process_collector]") {
    lm::process_collector c;
    const auto families = collect(c);
    const auto* info = find(families, "llmetrics_build_info");
    REQUIRE(info != nullptr);
    CHECK(info->type == lm::metric_type::gauge);
    REQUIRE(info->series.size() == 1);
    CHECK(std::get<double>(info->series[0].value) == 1.0);
    const auto& labels = info->series[0].labels;
    REQUIRE(labels.size() == 3);
    CHECK(labels[0] == std::pair<std::string, std::string>{"version", LLMETRICS_VERSION});
    CHECK(labels[0].second == "0.1.0");
    CHECK(labels[1].first == "compiler");
#if defined(__clang__)
    CHECK(labels[1].second.rfind("clang ", 0) == 0);
#elif defined(__GNUC__)
    CHECK(labels[1].second.rfind("gcc ", 0) == 0);
#endif
    CHECK(labels[2] == std::pair<std::string, std::string>{"cplusplus", std::to_string(__cplusplus)});
}

TEST_CASE("process collector reads exact values from a fake /proc", "[process_collector]") {
    fake_proc proc;
    // comm with spaces, parentheses and number-like words: only the last ')' ends it.
    proc.write("self/stat", stat_line("my (weird) prog) 1 2 3 (x", typical_fields()));
    proc.write("self/status", status_text);
    proc.write("self/limits", limits_text);
    proc.write("stat", boot_stat_text());
    for (const char* name : {"0", "1", "2", "7", "12"})
        proc.write(fs::path("self/fd") / name, "");

    lm::process_collector c("llm_router_", proc.root.string() + "/");  // trailing slash tolerated
    CHECK(c.proc_root() == proc.root.string());
    const auto families = collect(c);
    REQUIRE(families.size() == std::size(all_names));

    CHECK(value_of(families, "llm_router_process_cpu_user_seconds_total") == 250 / ticks());
    CHECK(value_of(families, "llm_router_process_cpu_system_seconds_total") == 125 / ticks());
    CHECK(value_of(families, "llm_router_process_cpu_seconds_total") == Approx(375 / ticks()));
    const double start = 1700000000 + 12345 / ticks();
    CHECK(value_of(families, "llm_router_process_start_time_seconds") == start);
    CHECK(find(families, "llm_router_process_cpu_user_seconds_total")->series[0].created == start);
    CHECK(value_of(families, "llm_router_process_resident_memory_bytes") == 2560 * page());
    CHECK(value_of(families, "llm_router_process_virtual_memory_bytes") == 104857600.0);
    CHECK(value_of(families, "llm_router_process_heap_bytes") == 2048.0 * 1024);
    CHECK(value_of(families, "llm_router_process_open_fds") == 5.0);
    CHECK(value_of(families, "llm_router_process_max_fds") == 4096.0);
    CHECK(value_of(families, "llm_router_process_threads") == 7.0);
}

TEST_CASE("process collector omits what it cannot read", "[process_collector]") {
    fake_proc proc;

    SECTION("an empty tree leaves only build info") {
        fs::remove(proc.root / "self" / "fd");
        lm::process_collector c("", proc.root.string());
        const auto families = collect(c);
        REQUIRE(families.size() == 1);
        CHECK(families[0].name == "llmetrics_build_info");
        const auto s = c.sample();
        CHECK_FALSE(s.cpu_user_seconds);
        CHECK_FALSE(s.open_fds);
        CHECK_FALSE(s.max_fds);
        CHECK_FALSE(s.heap_bytes);
    }

    SECTION("only self/stat: no start time without /proc/stat, counters without created") {
        proc.write("self/stat", stat_line("prog", typical_fields()));
        lm::process_collector c("", proc.root.string());
        const auto families = collect(c);
        CHECK(find(families, "process_cpu_seconds_total") != nullptr);
        CHECK(std::isnan(find(families, "process_cpu_seconds_total")->series[0].created));
        CHECK(find(families, "process_threads") != nullptr);
        CHECK(find(families, "process_resident_memory_bytes") != nullptr);
        CHECK(find(families, "process_start_time_seconds") == nullptr);
        CHECK(find(families, "process_heap_bytes") == nullptr);
        CHECK(find(families, "process_max_fds") == nullptr);
        CHECK(value_of(families, "process_open_fds") == 0.0);  // the directory exists, empty

        // /proc/stat appearing later is picked up (the boot time is not cached as missing).
        proc.write("stat", "btime 1600000000\n");
        CHECK(value_of(collect(c), "process_start_time_seconds") == 1600000000 + 12345 / ticks());
    }

    SECTION("a stat line without ')' yields no stat-derived series") {
        proc.write("self/stat", "4242 prog S 1 2 3\n");
        proc.write("self/status", status_text);
        lm::process_collector c("", proc.root.string());
        const auto families = collect(c);
        for (const char* name : {"process_cpu_user_seconds_total", "process_cpu_seconds_total",
                                 "process_threads", "process_resident_memory_bytes",
                                 "process_virtual_memory_bytes", "process_start_time_seconds"})
            CHECK(find(families, name) == nullptr);
        CHECK(find(families, "process_heap_bytes") != nullptr);
    }

    SECTION("a truncated stat line keeps the fields before the cut") {
        auto fields = typical_fields();
        fields.resize(18);  // through field 20 (num_threads)
        std::string line = "4242 (prog)";
        for (const auto& f : fields)
            line += " " + f;
        proc.write("self/stat", line);
        lm::process_collector c("", proc.root.string());
        const auto s = c.sample();
        CHECK(s.cpu_user_seconds == 250 / ticks());
        CHECK(s.threads == 7.0);
        CHECK_FALSE(s.virtual_memory_bytes);
        CHECK_FALSE(s.resident_memory_bytes);
        CHECK_FALSE(s.start_time_seconds);
    }

    SECTION("a non-numeric field is left out, not read as 0") {
        auto fields = typical_fields();
        fields[20 - 3] = "many";
        proc.write("self/stat", stat_line("prog", fields));
        lm::process_collector c("", proc.root.string());
        const auto s = c.sample();
        CHECK_FALSE(s.threads);
        CHECK(s.cpu_user_seconds);
    }

    SECTION("an unlimited descriptor limit is +Inf; a garbled one is left out") {
        proc.write("self/limits", "Limit Soft Hard Units\nMax open files            unlimited            unlimited            files\n");
        lm::process_collector c("", proc.root.string());
        CHECK(std::isinf(*c.sample().max_fds));
        proc.write("self/limits", "Max open files  lots  lots  files\n");
        CHECK_FALSE(c.sample().max_fds);
    }

    SECTION("status without VmData, /proc/stat without btime") {
        proc.write("self/stat", stat_line("prog", typical_fields()));
        proc.write("self/status", "Name:\tprog\nVmRSS:\t 100 kB\n");
        proc.write("stat", "cpu 1 2 3\nctxt 5\n");
        lm::process_collector c("", proc.root.string());
        const auto s = c.sample();
        CHECK_FALSE(s.heap_bytes);
        CHECK_FALSE(s.start_time_seconds);
        CHECK(s.threads == 7.0);
    }
}

TEST_CASE("btime scanner finds the line across any chunk boundary", "[process_collector]") {
    const std::string text = boot_stat_text();
    for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u, 1000u, 100000u}) {
        lm::detail::btime_scanner scanner;
        for (std::size_t pos = 0; pos < text.size(); pos += chunk)
            if (scanner.feed(std::string_view(text).substr(pos, chunk)))
                break;
        CHECK(scanner.finish() == std::uint64_t{1700000000});
    }
    {
        lm::detail::btime_scanner scanner;  // first line, no trailing newline
        scanner.feed("btime 42");
        CHECK(scanner.finish() == std::uint64_t{42});
    }
    {
        lm::detail::btime_scanner scanner;  // "xbtime" is not the btime line
        scanner.feed("cpu 1\nxbtime 5\nbtimes 6\n");
        CHECK_FALSE(scanner.finish());
    }
}

TEST_CASE("the shared /proc reader reads uptime and the cgroup path", "[process_collector]") {
    CHECK(lm::detail::parse_uptime_seconds("12345.67 23456.78\n") == 12345.67);
    CHECK_FALSE(lm::detail::parse_uptime_seconds(""));
    CHECK_FALSE(lm::detail::parse_uptime_seconds("up 5"));
    // cgroup v1 lines first, the v2 line ("0::") last, as on a hybrid host.
    CHECK(lm::detail::parse_cgroup_v2_path("12:memory:/x\n0::/system.slice/app.service\n") ==
          std::optional<std::string_view>{"/system.slice/app.service"});
    CHECK_FALSE(lm::detail::parse_cgroup_v2_path("12:memory:/x\n1:name=systemd:/\n"));
    CHECK(lm::detail::parse_leading_double("9223372036854771712\n") == 9223372036854771712.0);
    CHECK_FALSE(lm::detail::parse_leading_double("max"));

    fake_proc proc;
    proc.write("uptime", "500.25 900.00\n");
    proc.write("self/cgroup", "0::/user.slice\n");
    proc.write("self/stat", stat_line("prog", typical_fields()));
    proc.write("self/status", status_text);
    const lm::detail::proc_reader reader(proc.root.string() + "//");
    CHECK(reader.root() == proc.root.string());
    CHECK(reader.uptime_seconds() == 500.25);
    CHECK(reader.self_cgroup_v2_path() == std::optional<std::string>{"/user.slice"});
    CHECK(reader.self_status_bytes("VmRSS:") == std::uint64_t{10240 * 1024});
    CHECK(reader.self_status_bytes("VmData:") == std::uint64_t{2048 * 1024});
    CHECK_FALSE(reader.self_status_bytes("VmSwap:"));
    const auto stat = reader.self_stat();
    REQUIRE(stat);
    CHECK(stat->starttime == std::uint64_t{12345});
    CHECK_FALSE(reader.self_max_open_files());  // no limits file
    CHECK_FALSE(reader.boot_time_seconds());    // no stat file
    CHECK(reader.self_open_fds() == 0.0);       // an empty fd directory

    const lm::detail::proc_reader missing(proc.root.string() + "/absent");
    CHECK_FALSE(missing.self_stat());
    CHECK_FALSE(missing.uptime_seconds());
    CHECK_FALSE(missing.self_cgroup_v2_path());
    CHECK_FALSE(missing.self_open_fds());
}

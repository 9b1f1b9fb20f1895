// Remote write (issue 13 part 3): one push of the 10k + 1k registry encoded and
// snappy-compressed (afresh, and through the cache remote_write keeps), beside the text render of the same registry in the same run
// (target: encode + compress <= text render); the CPU cost per sample sent; and
// the recording hot path with and without a push every 100 ms to a receiver in
// this process (target: unchanged within noise).
//
//   build/gcc/bin/bench_remote_write --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <snappy.h>

#include <llmetrics/serve/detail/snappy_block.hpp>
#include <llmetrics/serve/remote_write.hpp>

#include "render_fixtures.hpp"

namespace lm = llmetrics;

namespace {

// A receiver for the push rows: accepts on 127.0.0.1, reads each request whole
// (headers, then Content-Length bytes), checks the body is a valid snappy block
// and answers 200. Counts what it received.
class local_receiver {
public:
    local_receiver() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            throw std::runtime_error("bench_remote_write: cannot listen on 127.0.0.1");
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~local_receiver() {
        ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
        thread_.join();
        ::close(fd_);
    }
    local_receiver(const local_receiver&) = delete;
    local_receiver& operator=(const local_receiver&) = delete;

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/api/v1/write"; }
    std::uint64_t requests() const noexcept { return requests_.load(); }
    std::uint64_t body_bytes() const noexcept { return body_bytes_.load(); }
    std::uint64_t invalid() const noexcept { return invalid_.load(); }

private:
    void serve() {
        for (;;) {
            const int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            handle(c);
            ::close(c);
        }
    }

    void handle(int c) {
        std::string in;
        char buf[64 * 1024];
        std::size_t head_end = std::string::npos, need = 0;
        for (;;) {
            const ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) return;
            in.append(buf, static_cast<std::size_t>(n));
            if (head_end == std::string::npos) {
                head_end = in.find("\r\n\r\n");
                if (head_end == std::string::npos) continue;
                std::string head = in.substr(0, head_end);
                std::transform(head.begin(), head.end(), head.begin(), [](unsigned char ch) { return std::tolower(ch); });
                const std::size_t at = head.find("content-length:");
                need = at == std::string::npos ? 0 : std::stoull(head.substr(at + 15));
                head_end += 4;
            }
            if (in.size() - head_end >= need) break;
        }
        const std::string_view body = std::string_view(in).substr(head_end, need);
        if (!snappy::IsValidCompressedBuffer(body.data(), body.size())) invalid_.fetch_add(1);
        body_bytes_.fetch_add(body.size());
        requests_.fetch_add(1);
        constexpr std::string_view ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        (void)::send(c, ok.data(), ok.size(), MSG_NOSIGNAL);
    }

    int fd_ = -1;
    unsigned short port_ = 0;
    std::thread thread_;
    std::atomic<std::uint64_t> requests_{0}, body_bytes_{0}, invalid_{0};
};

local_receiver& receiver() {
    static local_receiver r;
    return r;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch()).count();
}

// The text (and protobuf exposition) render of the registry pushed below.
void BM_render(benchmark::State& state) { bench::render_loop(state, bench::render_registry()); }
BENCHMARK(BM_render)
    ->Arg(static_cast<int>(lm::format::prometheus))
    ->Arg(static_cast<int>(lm::format::protobuf))
    ->Unit(benchmark::kMillisecond);

// One push of the registry: the WriteRequest (with metadata, as remote_write
// sends it by default), then, when `compress` is 1, its snappy block. `cache` 1:
// through a remote_write_cache kept from one push to the next, as remote_write
// keeps it (only values and timestamps written); 0: every series encoded.
// per_sample: CPU time per float sample sent (23,000 per push, plus the
// registry's own 5); cache_bytes_per_series: the cache's memory per series.
void BM_remote_write_push_body(benchmark::State& state) {
    const auto& m = bench::render_registry();
    const bool compress = state.range(0) != 0, cached = state.range(1) != 0;
    lm::detail::byte_buffer raw, scratch;  // kept from one push to the next, as remote_write keeps them
    lm::remote_write_cache cache;
    std::string body;
    std::string_view message;
    std::uint64_t samples = 0;
    for (auto _ : state) {
        if (cached) {
            lm::remote_write_encoder e(cache, now_ms());
            m.visit(e);
            e.finish();
            samples = e.counts().samples;
            message = cache.message();
        } else {
            raw.clear();
            lm::remote_write_encoder e(raw, now_ms());
            m.visit(e);
            e.finish();
            samples = e.counts().samples;
            message = raw.view();
        }
        if (compress) body = lm::detail::snappy_compress(message, scratch);
        benchmark::DoNotOptimize(message.data());
        benchmark::DoNotOptimize(body.data());
    }
    if (samples < bench::render_samples)
        state.SkipWithError(("unexpected sample count " + std::to_string(samples)).c_str());
    state.counters["samples"] = static_cast<double>(samples);
    state.counters["raw_bytes"] = static_cast<double>(message.size());
    if (compress) state.counters["snappy_bytes"] = static_cast<double>(body.size());
    if (cached)
        state.counters["cache_bytes_per_series"] =
            static_cast<double>(cache.memory_bytes()) / static_cast<double>(cache.series());
    // Shown as seconds per sample with an SI prefix ("380ns").
    state.counters["per_sample"] = benchmark::Counter(static_cast<double>(samples),
                                                         benchmark::Counter::kIsIterationInvariantRate |
                                                             benchmark::Counter::kInvert);
}
BENCHMARK(BM_remote_write_push_body)
    ->ArgNames({"compress", "cache"})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({0, 1})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond);

// The registry's visit alone (an encoder that only reads what it is given):
// the floor under any encoder of this registry, text render included.
struct reading_encoder {
    double sink = 0;
    void begin_family(const lm::family_header&) {}
    void counter(lm::labels_view l, lm::counter_value v, double, const lm::exemplar_view*) {
        sink += static_cast<double>(v.integral + l.values.size());
    }
    void gauge(lm::labels_view, double v) { sink += v; }
    void histogram(lm::labels_view, std::span<const double>, std::span<const std::uint64_t> counts, double sum, double,
                   std::span<const lm::exemplar_view>) {
        sink += sum + static_cast<double>(counts[0]);
    }
    void native_histogram(lm::labels_view, const lm::native_histogram_view& h, std::span<const double>,
                          std::span<const std::uint64_t>, double, std::span<const lm::exemplar_view>) {
        sink += h.sum;
    }
    void end_family() {}
    void finish() {}
};
void BM_registry_visit(benchmark::State& state) {
    for (auto _ : state) {
        reading_encoder e;
        bench::render_registry().visit(e);
        benchmark::DoNotOptimize(e.sink);
    }
}
BENCHMARK(BM_registry_visit)->Unit(benchmark::kMillisecond);

// snappy alone on the pushed message, for its share of a push.
void BM_remote_write_snappy(benchmark::State& state) {
    lm::detail::byte_buffer raw, scratch;
    lm::remote_write_encoder e(raw, now_ms());
    bench::render_registry().visit(e);
    e.finish();
    std::string body;
    for (auto _ : state) {
        body = lm::detail::snappy_compress(raw.view(), scratch);
        benchmark::DoNotOptimize(body.data());
    }
    state.counters["raw_bytes"] = static_cast<double>(raw.size());
    state.counters["snappy_bytes"] = static_cast<double>(body.size());
}
BENCHMARK(BM_remote_write_snappy)->Unit(benchmark::kMillisecond);

// The hot path, on series of the pushed registry (so it stays 10k + 1k), while
// that registry is pushed every 100 ms (argument 1) or not at all (0). `pushes`:
// requests the receiver got during the timed loop (> 0 in the row with a push).
template <class Record>
void with_push(benchmark::State& state, Record record) {
    const bool push = state.range(0) != 0;
    std::unique_ptr<lm::remote_write> client;
    if (push) {
        lm::remote_write_options o;
        o.interval = std::chrono::milliseconds(100);
        o.flush_deadline = std::chrono::milliseconds(1000);
        client = std::make_unique<lm::remote_write>(receiver().url(), bench::render_registry(), o);
    }
    const std::uint64_t before = receiver().requests(), bytes_before = receiver().body_bytes();
    for (auto _ : state) record();
    const std::uint64_t pushes = receiver().requests() - before;
    const std::uint64_t bytes = receiver().body_bytes() - bytes_before;
    client.reset();
    if (receiver().invalid() != 0) state.SkipWithError("the receiver got a body that is not snappy");
    state.SetItemsProcessed(state.iterations());
    state.counters["pushes"] = static_cast<double>(pushes);
    state.counters["kb_per_push"] = pushes ? static_cast<double>(bytes) / 1024.0 / static_cast<double>(pushes) : 0.0;
}

void BM_counter_inc_push(benchmark::State& state) {
    auto& c = bench::render_registry().get<bench::requests_total>().labels("GET", "/route/0", "200", "tenant-0");
    with_push(state, [&c] { c.inc(); });
}
BENCHMARK(BM_counter_inc_push)->ArgName("push")->Arg(0)->Arg(1)->MinTime(1.0);

void BM_histogram_observe_push(benchmark::State& state) {
    auto& h = bench::render_registry().get<bench::duration_seconds>().labels("POST", "/route/0", "tenant-0");
    double v = 0.0;
    with_push(state, [&h, &v] {
        h.observe(v);
        v = v < 12.0 ? v + 0.37 : 0.0;  // walk across the buckets
    });
}
BENCHMARK(BM_histogram_observe_push)->ArgName("push")->Arg(0)->Arg(1)->MinTime(1.0);

}  // namespace

BENCHMARK_MAIN();

#pragma once
// A JSON-lines request log: one line per request, written by a background
// thread so the request path never waits for a disk.
//
//     lm::request_log log("requests.jsonl");             // or lm::request_log log(stdout);
//     metrics.add_collector(log.make_collector("llm_router_"));
//     log.log({.tenant = "tenant-a", .model = "gpt-4", .strategy = "balanced",
//              .status = "success", .duration_seconds = 1.7, .tokens = 420,
//              .cost_cents = 0.8});     // trace_id: the current trace context's, if any
//
//     {"time":"2024-05-01T12:00:00.123Z","tenant":"tenant-a","model":"gpt-4","strategy":"balanced",
//      "status":"success","duration_seconds":1.7,"tokens":420,"cost_cents":0.8,"trace_id":"4bf9..."}
//
// log() formats the line on the calling thread into a thread-local buffer and
// hands it to a bounded queue (instrument/detail/mpmc_queue.hpp: one CAS to
// claim a cell, one release store to publish it). A full queue drops the
// line and counts it; log() never blocks and never throws. Buffers are swapped,
// not copied, between the caller and the cell, so once they have grown to the
// size of a line nothing allocates. A std::jthread drains the queue every
// flush_interval (or as soon as it is stopped) into one write per batch, and
// the destructor writes whatever is still queued before it returns.
//
// make_collector() exports <prefix>request_log_lines_total (written) and
// <prefix>request_log_dropped_total (queue full, or the write failed); it
// shares the counters, so it may outlive the log.

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "../core/detail/rfc3339.hpp"
#include "../core/metric_type.hpp"
#include "../core/detail/utf8.hpp"
#include "../exposition/json.hpp"
#include "../registry/collector.hpp"
#include "../core/snapshot.hpp"
#include "detail/mpmc_queue.hpp"
#include "trace_context.hpp"

namespace llmetrics {

// One request. The strings are read during log() only.
struct request_record {
    std::chrono::system_clock::time_point time = std::chrono::system_clock::now();
    std::string_view tenant{};
    std::string_view model{};
    std::string_view strategy{};
    std::string_view status{};
    double duration_seconds = 0;
    std::uint64_t tokens = 0;
    double cost_cents = 0;
    std::string_view trace_id{};  // empty: the thread's current trace context, or null without one
};

struct request_log_options {
    std::size_t capacity = 8192;  // lines queued at most (rounded up to a power of two)
    std::chrono::milliseconds flush_interval{50};
};

namespace detail {

struct request_log_stats {
    std::atomic<std::uint64_t> written{0};
    std::atomic<std::uint64_t> dropped{0};
};

// A JSON string (quotes included); invalid UTF-8 becomes U+FFFD.
inline void append_json_string(std::string& out, std::string_view s) {
    if (is_valid_utf8(s))
        write_json_string(out, s);
    else
        write_json_string(out, sanitize_utf8(s));
}

// Shortest round-trip spelling; JSON has no NaN or infinity, so those are null.
inline void append_json_number(std::string& out, double v) {
    if (!(v == v) || v > 1.7976931348623157e308 || v < -1.7976931348623157e308) {
        out += "null";
        return;
    }
    char buf[32];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

inline void format_request_line(std::string& out, const request_record& r) {
    out += "{\"time\":\"";
    append_rfc3339_ms(out, r.time);
    out += '"';
    out += ",\"tenant\":";
    append_json_string(out, r.tenant);
    out += ",\"model\":";
    append_json_string(out, r.model);
    out += ",\"strategy\":";
    append_json_string(out, r.strategy);
    out += ",\"status\":";
    append_json_string(out, r.status);
    out += ",\"duration_seconds\":";
    append_json_number(out, r.duration_seconds);
    out += ",\"tokens\":";
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, r.tokens).ptr);
    out += ",\"cost_cents\":";
    append_json_number(out, r.cost_cents);
    out += ",\"trace_id\":";
    if (!r.trace_id.empty()) {
        append_json_string(out, r.trace_id);
    } else if (const auto& current = current_trace_context()) {
        static constexpr char hex[] = "0123456789abcdef";
        out += '"';
        for (std::uint8_t b : current->trace_id) {
            out += hex[b >> 4];
            out += hex[b & 15];
        }
        out += '"';
    } else {
        out += "null";
    }
    out += "}\n";
}

class request_log_collector final : public collector {
public:
    request_log_collector(std::shared_ptr<const request_log_stats> stats, std::string prefix)
        : stats_(std::move(stats)), prefix_(std::move(prefix)) {}

    void collect(std::vector<family_snapshot>& out) override {
        out.push_back({prefix_ + "request_log_lines_total",
                       "Request log lines written",
                       "",
                       metric_type::counter,
                       {{{}, counter_value{stats_->written.load(std::memory_order_relaxed), 0.0}}}});
        out.push_back({prefix_ + "request_log_dropped_total",
                       "Request log lines dropped (queue full or write failed)",
                       "",
                       metric_type::counter,
                       {{{}, counter_value{stats_->dropped.load(std::memory_order_relaxed), 0.0}}}});
    }

private:
    std::shared_ptr<const request_log_stats> stats_;
    std::string prefix_;
};

}  // namespace detail

class request_log {
public:
    // Appends to `file` (created if missing); throws std::system_error when it
    // cannot be opened.
    explicit request_log(const std::filesystem::path& file, request_log_options o = {})
        : request_log(open(file), true, o) {}
    // Writes to `stream` (stdout, say), which must outlive the log; not closed.
    explicit request_log(std::FILE* stream, request_log_options o = {}) : request_log(stream, false, o) {}

    request_log(const request_log&) = delete;
    request_log& operator=(const request_log&) = delete;

    // Writes every queued line, then closes the file it opened.
    ~request_log() {
        writer_.request_stop();
        writer_.join();
        if (owned_) std::fclose(stream_);
    }

    // Queues one line; false when it was dropped (queue full). Never blocks.
    bool log(const request_record& r) noexcept {
        thread_local std::string line;
        try {
            line.clear();
            detail::format_request_line(line, r);
        } catch (...) {  // out of memory: drop, like a full queue
            stats_->dropped.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        if (queue_.try_push(line)) return true;
        stats_->dropped.fetch_add(1, std::memory_order_relaxed);
        return false;
    }

    std::uint64_t written() const noexcept { return stats_->written.load(std::memory_order_relaxed); }
    std::uint64_t dropped() const noexcept { return stats_->dropped.load(std::memory_order_relaxed); }

    // A collector exporting the counters, for registry::add_collector().
    std::shared_ptr<collector> make_collector(std::string prefix = {}) const {
        return std::make_shared<detail::request_log_collector>(stats_, std::move(prefix));
    }

private:
    static std::FILE* open(const std::filesystem::path& file) {
        std::FILE* f = std::fopen(file.c_str(), "ab");
        if (!f)
            throw std::system_error(errno, std::generic_category(),
                                    std::string("llmetrics: cannot open request log ") + file.string());
        return f;
    }

    request_log(std::FILE* stream, bool owned, request_log_options o)
        : stream_(stream), owned_(owned), interval_(o.flush_interval), queue_(o.capacity ? o.capacity : 1) {
        writer_ = std::jthread([this](std::stop_token stop) { run(stop); });
    }

    void run(std::stop_token stop) {
        std::string batch, line;
        for (;;) {
            const bool stopping = stop.stop_requested();
            batch.clear();
            std::size_t lines = 0;
            while (queue_.try_pop(line)) {
                batch += line;
                ++lines;
            }
            if (lines) write(batch, lines);
            if (stopping) {
                // Producers are gone once the destructor runs; this drain was the last.
                std::fflush(stream_);
                return;
            }
            if (!lines) {
                std::unique_lock lock(mutex_);
                wake_.wait_for(lock, stop, interval_, [] { return false; });
            }
        }
    }

    void write(const std::string& batch, std::size_t lines) {
        const bool ok =
            std::fwrite(batch.data(), 1, batch.size(), stream_) == batch.size() && std::fflush(stream_) == 0;
        (ok ? stats_->written : stats_->dropped).fetch_add(lines, std::memory_order_relaxed);
    }

    std::FILE* stream_;
    bool owned_;
    std::chrono::milliseconds interval_;
    std::shared_ptr<detail::request_log_stats> stats_ = std::make_shared<detail::request_log_stats>();
    detail::mpmc_queue<std::string> queue_;
    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::jthread writer_;  // last: started after everything it uses exists, joined first
};

}  // namespace llmetrics

#pragma once
// Readiness checks (what /readyz answers): named callables, each with a timeout, run in parallel on
// threads of their own so a hung check cannot hold the caller past its timeout.
// A check passes when it returns true; false or an exception fails it (the
// exception's what() becomes the reported error). A check still running from an
// earlier call is not started twice: later calls wait for that run instead, and
// report a timeout while it hangs.
//
//     auto checks = std::make_shared<llmetrics::health_checks>();
//     checks->add("database", [&] { return db.ping(); }, std::chrono::milliseconds(500));
//     llmetrics::readiness_report r = checks->run();   // r.ok, r.to_json()
//     metrics.add_collector(checks->make_collector());  // results as metrics
//
// Exported families (each labelled check="<name>"):
//   llmetrics_health_check_up                gauge    1 when the last run passed, 0 otherwise
//   llmetrics_health_check_duration_seconds  gauge    how long the last run took (the timeout when it timed out)
//   llmetrics_health_check_runs_total        counter  runs
//   llmetrics_health_check_failures_total    counter  runs that failed or timed out

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../core/metric_type.hpp"
#include "../core/detail/utf8.hpp"
#include "../exposition/json.hpp"
#include "../registry/collector.hpp"
#include "../core/snapshot.hpp"

namespace llmetrics {

struct check_result {
    std::string name;
    bool ok = false;
    std::string error;      // empty when ok
    double seconds = 0.0;   // how long the check ran (its timeout when it timed out)
};

struct readiness_report {
    bool ok = true;
    std::vector<check_result> checks;

    // {"status":"ok"|"fail","checks":[{"name":..,"status":..,"duration_seconds":..,"error":..}]}
    std::string to_json() const {
        std::string j = R"({"status":")";
        j += ok ? "ok" : "fail";
        j += R"(","checks":[)";
        for (std::size_t i = 0; i < checks.size(); ++i) {
            const check_result& c = checks[i];
            j += i == 0 ? "{" : ",{";
            j += R"("name":)";
            // Names and errors come from user code: replace invalid UTF-8 rather than throw.
            detail::write_json_string(j, detail::sanitize_utf8(c.name));
            j += R"(,"status":")";
            j += c.ok ? "ok" : "fail";
            j += R"(","duration_seconds":)";
            detail::write_json_number(j, c.seconds);
            if (!c.ok) {
                j += R"(,"error":)";
                detail::write_json_string(j, detail::sanitize_utf8(c.error));
            }
            j += '}';
        }
        j += "]}";
        return j;
    }
};

class health_checks : public std::enable_shared_from_this<health_checks> {
public:
    using check_fn = std::function<bool()>;

    // Adds a check; a name already present is replaced.
    void add(std::string name, check_fn check, std::chrono::milliseconds timeout = std::chrono::seconds(1)) {
        if (!check) throw std::invalid_argument("llmetrics: health_checks::add needs a callable check");
        auto s = std::make_shared<state>();
        s->name = std::move(name);
        s->fn = std::move(check);
        s->timeout = timeout;
        std::lock_guard lock(mutex_);
        for (auto& existing : checks_)
            if (existing->name == s->name) {
                existing = std::move(s);
                return;
            }
        checks_.push_back(std::move(s));
    }

    bool empty() const {
        std::lock_guard lock(mutex_);
        return checks_.empty();
    }

    // Runs every check at once and waits for each up to its own timeout; returns
    // after at most the largest timeout. Safe to call from several threads.
    readiness_report run() {
        std::vector<std::shared_ptr<state>> checks;
        {
            std::lock_guard lock(mutex_);
            checks = checks_;
        }
        using clock = std::chrono::steady_clock;
        const auto start = clock::now();
        std::vector<std::uint64_t> wanted(checks.size());
        for (std::size_t i = 0; i < checks.size(); ++i) {
            state& s = *checks[i];
            std::lock_guard lock(s.mutex);
            wanted[i] = s.generation + 1;  // the run now starting, or the one in flight
            if (!s.running) {
                s.running = true;
                try {
                    std::thread(&state::execute, checks[i]).detach();
                } catch (...) {  // no thread to be had: this run reports a timeout
                    s.running = false;
                }
            }
        }
        readiness_report report;
        for (std::size_t i = 0; i < checks.size(); ++i) {
            state& s = *checks[i];
            std::unique_lock lock(s.mutex);
            const bool done = s.done.wait_until(lock, start + s.timeout, [&] { return s.generation >= wanted[i]; });
            check_result r{s.name, false, {}, 0.0};
            if (done) {
                r.ok = s.last_ok;
                r.error = s.last_error;
                r.seconds = s.last_seconds;
            } else {
                r.error = "timed out after " + std::to_string(s.timeout.count()) + " ms";
                r.seconds = std::chrono::duration<double>(s.timeout).count();
            }
            s.exported_up = r.ok;
            s.exported_seconds = r.seconds;
            ++s.runs;
            if (!r.ok) ++s.failures;
            s.has_run = true;
            report.ok = report.ok && r.ok;
            report.checks.push_back(std::move(r));
        }
        return report;
    }

    // A collector exporting the latest results (see the families above).
    std::shared_ptr<collector> make_collector() { return std::make_shared<exporter>(shared_from_this()); }

private:
    struct state {
        std::string name;
        check_fn fn;
        std::chrono::milliseconds timeout{};

        std::mutex mutex;
        std::condition_variable done;
        bool running = false;
        std::uint64_t generation = 0;  // completed runs
        bool last_ok = false;
        std::string last_error;
        double last_seconds = 0.0;
        // What the metrics show: results as reported by run(), timeouts included.
        bool has_run = false;
        bool exported_up = false;
        double exported_seconds = 0.0;
        std::uint64_t runs = 0, failures = 0;

        static void execute(std::shared_ptr<state> self) {
            const auto t0 = std::chrono::steady_clock::now();
            bool ok = false;
            std::string error;
            try {
                ok = self->fn();
                if (!ok) error = "check failed";
            } catch (const std::exception& e) {
                error = e.what();
            } catch (...) {
                error = "check threw a non-standard exception";
            }
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::lock_guard lock(self->mutex);
            self->last_ok = ok;
            self->last_error = std::move(error);
            self->last_seconds = seconds;
            ++self->generation;
            self->running = false;
            self->done.notify_all();
        }
    };

    class exporter final : public collector {
    public:
        explicit exporter(std::shared_ptr<health_checks> owner) : owner_(std::move(owner)) {}
        void collect(std::vector<family_snapshot>& out) override {
            family_snapshot up{"llmetrics_health_check_up", "Whether the last run of a readiness check passed (1) or not (0)",
                               "", metric_type::gauge, {}};
            family_snapshot seconds{"llmetrics_health_check_duration_seconds",
                                    "How long the last run of a readiness check took", "seconds", metric_type::gauge, {}};
            family_snapshot runs{"llmetrics_health_check_runs_total", "Runs of a readiness check", "",
                                 metric_type::counter, {}};
            family_snapshot failures{"llmetrics_health_check_failures_total",
                                     "Runs of a readiness check that failed or timed out", "", metric_type::counter, {}};
            std::vector<std::shared_ptr<state>> checks;
            {
                std::lock_guard lock(owner_->mutex_);
                checks = owner_->checks_;
            }
            for (const auto& s : checks) {
                std::lock_guard lock(s->mutex);
                std::vector<std::pair<std::string, std::string>> labels{{"check", s->name}};
                runs.series.push_back({labels, counter_value{s->runs, 0.0}});
                failures.series.push_back({labels, counter_value{s->failures, 0.0}});
                if (!s->has_run) continue;  // unknown until the first run: leave the gauges out
                up.series.push_back({labels, s->exported_up ? 1.0 : 0.0});
                seconds.series.push_back({std::move(labels), s->exported_seconds});
            }
            if (checks.empty()) return;
            if (!seconds.series.empty()) out.push_back(std::move(seconds));
            out.push_back(std::move(failures));
            out.push_back(std::move(runs));
            if (!up.series.empty()) out.push_back(std::move(up));
        }

    private:
        std::shared_ptr<health_checks> owner_;
    };

    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<state>> checks_;
};

}  // namespace llmetrics

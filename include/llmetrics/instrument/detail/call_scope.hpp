#pragma once
// A call in progress (monitored_router::scope). token() marks output tokens as
// they arrive, one call per chunk: the first gives the time to first token, and
// where a registry holds the GenAI client chunk families each chunk is recorded
// as it arrives. succeed(result) or fail() records the call once. Destroyed
// unfinished, it records a failure with error_type "Abandoned". cancel() (or fail() while client_disconnected is
// being handled) records a client cancellation instead, at the stage the
// stream had reached. `Recorder` is detail::call_recorder.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string_view>
#include <utility>

#include "../cancellation.hpp"
#include "../llm_router.hpp"
#include "role_table.hpp"

namespace llmetrics::detail {

template <class Recorder>
class call_scope {
public:
    using set_ref = typename Recorder::set_ref;

    call_scope(const Recorder& r, set_ref s, std::int64_t start) noexcept : rec_(&r), set_(std::move(s)), start_(start) {}
    call_scope(call_scope&& other) noexcept
        : rec_(std::exchange(other.rec_, nullptr)),
          set_(std::move(other.set_)),
          start_(other.start_),
          end_(other.end_),
          first_(other.first_),
          last_(other.last_),
          tokens_(other.tokens_),
          routing_(other.routing_) {}
    call_scope(const call_scope&) = delete;
    call_scope& operator=(const call_scope&) = delete;
    call_scope& operator=(call_scope&&) = delete;
    ~call_scope() {
        if (rec_) fail("Abandoned");
    }

    void token(std::size_t count = 1) noexcept {
        if (!rec_) return;
        const std::int64_t now = rec_->clock.now_ns();
        if constexpr (Recorder::records_chunks) {
            if (first_ < 0) rec_->template record_chunk<call_event::first_chunk>(*set_, seconds_between(start_, now));
            else rec_->template record_chunk<call_event::next_chunk>(*set_, seconds_between(last_, now));
        }
        if (first_ < 0) first_ = now;
        last_ = now;
        tokens_ += count;
    }

    // The end of the call, if it is known before the result is read (a future
    // seen ready); the first mark wins.
    void mark_end() noexcept {
        if (rec_ && end_ < 0) end_ = rec_->clock.now_ns();
    }

    // What the call reports of its routing (instrument/routing_report.hpp), when
    // its result does not say: e.g. the options' report, filled during the call.
    void report(routing_facts routing) noexcept { routing_ = routing; }

    // Records success with the token counts, cost and routing the result reports.
    template <class Result>
    void succeed(const Result& result) noexcept {
        if (routing_.empty()) routing_ = Recorder::routing_of(result);
        finish_success(read_usage(result));
    }
    void succeed() noexcept { finish_success(usage{}); }

    // Records failure; inside a catch block the exception's type names it, and
    // client_disconnected makes it a cancellation.
    void fail() noexcept {
        if (!rec_) return;
        if (handling_disconnect()) return cancel();
        try {
            const auto name = Recorder::traits::error_type();
            fail(std::string_view(name));
        } catch (...) {
            fail(std::string_view("Unknown"));
        }
    }
    void fail(std::string_view error_type) noexcept {
        if (!rec_) return;
        const Recorder& r = *std::exchange(rec_, nullptr);
        r.record_failure(*set_, seconds_to(end_or_now(r)), error_type, &routing_);
    }

    // The client went away: mid_stream once a token reached it, else before_first_token.
    void cancel() noexcept {
        if (!rec_) return;
        const Recorder& r = *std::exchange(rec_, nullptr);
        r.record_cancellation(*set_, stage_name(first_ < 0 ? cancellation_stage::before_first_token
                                                           : cancellation_stage::mid_stream));
    }

    bool done() const noexcept { return rec_ == nullptr; }
    std::uint64_t tokens() const noexcept { return tokens_; }
    double elapsed_seconds() const noexcept { return rec_ ? seconds_to(end_or_now(*rec_)) : 0.0; }

private:
    static bool handling_disconnect() noexcept {
        const std::exception_ptr current = std::current_exception();
        if (!current) return false;
        try {
            std::rethrow_exception(current);
        } catch (const client_disconnected&) {
            return true;
        } catch (...) {
        }
        return false;
    }

    std::int64_t end_or_now(const Recorder& r) const noexcept { return end_ >= 0 ? end_ : r.clock.now_ns(); }
    // Never negative (TSC readings on two CPUs may be a few ticks apart).
    static double seconds_between(std::int64_t from, std::int64_t to) noexcept {
        return static_cast<double>(to > from ? to - from : 0) * 1e-9;
    }
    double seconds_to(std::int64_t t) const noexcept { return seconds_between(start_, t); }

    void finish_success(usage u) noexcept {
        if (!rec_) return;
        const Recorder& r = *std::exchange(rec_, nullptr);
        const double seconds = seconds_to(end_or_now(r));
        if (first_ < 0) return r.record_success(*set_, seconds, u, nullptr, &routing_);
        if (!u.output_tokens) u.output_tokens = static_cast<double>(tokens_);
        stream_timing timing;
        timing.first_token_seconds = seconds_to(first_);
        if (*u.output_tokens > 1 && last_ > first_)
            timing.per_output_token_seconds = seconds_between(first_, last_) / (*u.output_tokens - 1);
        r.record_success(*set_, seconds, u, &timing, &routing_);
    }

    const Recorder* rec_;
    set_ref set_;
    std::int64_t start_;
    std::int64_t end_ = -1;
    std::int64_t first_ = -1;
    std::int64_t last_ = -1;
    std::uint64_t tokens_ = 0;
    routing_facts routing_{};
};

}  // namespace llmetrics::detail

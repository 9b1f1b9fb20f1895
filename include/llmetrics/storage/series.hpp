#pragma once
// Series handles: what `family.labels(...)` returns. A handle is a reference into
// storage that never moves, valid for the life of the registry that owns it; its
// operations are wait-free (one or two relaxed atomic operations on the calling
// thread's stripe), never lock and never allocate.
//
// Rejected input is ignored, never stored: a counter ignores negative and NaN
// increments, a histogram ignores NaN observations (a NaN would poison `_sum` for
// good). Each family counts what it ignored in llmetrics_rejected_values_total.

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>
#include <utility>

#include "../core/detail/unix_time.hpp"
#include "../core/sample.hpp"
#include "detail/cells.hpp"
#include "detail/exemplar_cell.hpp"
#include "detail/stripes.hpp"
#include "exemplar.hpp"

namespace llmetrics {

namespace detail {
// Shared by the handles of one family; only touched on rejected input.
struct rejection_tally {
    std::atomic<std::uint64_t> count{0};
    void note() noexcept { count.fetch_add(1, std::memory_order_relaxed); }
};
}  // namespace detail

template <std::size_t Stride>
class counter_series {
public:
    counter_series(detail::counter_cell* stripe0, detail::rejection_tally* rejected) noexcept
        : base_(stripe0), rejected_(rejected) {}
    counter_series(const counter_series&) = delete;
    counter_series& operator=(const counter_series&) = delete;

    void inc() noexcept { mine().integral.fetch_add(1, std::memory_order_relaxed); }

    template <std::integral T>
    void inc(T amount) noexcept {
        if constexpr (std::is_signed_v<T>) {
            if (amount < 0) return rejected_->note();
        }
        mine().integral.fetch_add(static_cast<std::uint64_t>(amount), std::memory_order_relaxed);
    }

    // Whole amounts go to the integer slot (exact); the rest to the floating one.
    template <std::floating_point T>
    void inc(T amount) noexcept {
        const double v = static_cast<double>(amount);
        if (!(v >= 0.0)) return rejected_->note();  // negative or NaN
        if (v < 18446744073709551616.0 && v == std::floor(v))
            mine().integral.fetch_add(static_cast<std::uint64_t>(v), std::memory_order_relaxed);
        else
            detail::atomic_add(mine().fractional, v);
    }

    // The same increments, each with an exemplar (storage/exemplar.hpp).
    void inc(const exemplar& e) noexcept {
        inc();
        note(e, 1.0);
    }
    template <class T>
        requires std::is_arithmetic_v<T>
    void inc(T amount, const exemplar& e) noexcept {
        if (!(static_cast<double>(amount) >= 0.0)) return rejected_->note();
        inc(amount);
        note(e, static_cast<double>(amount));
    }

    // The series' exemplar cell, or null while it never had one.
    const detail::exemplar_cell* exemplar_cells() const noexcept { return exemplars_.cells(); }

    counter_value value() const noexcept {
        counter_value out;
        for (std::size_t s = 0; s < detail::stripe_count; ++s) {
            out.integral += base_[s * Stride].integral.load(std::memory_order_relaxed);
            out.fractional += base_[s * Stride].fractional.load(std::memory_order_relaxed);
        }
        return out;
    }

    // Not linearisable with concurrent writers: used by remove() and reset().
    void clear() noexcept {
        for (std::size_t s = 0; s < detail::stripe_count; ++s) {
            base_[s * Stride].integral.store(0, std::memory_order_relaxed);
            base_[s * Stride].fractional.store(0.0, std::memory_order_relaxed);
        }
        exemplars_.clear(1);
    }

    // Expiry of a held series (storage/detail/series_map.hpp): every stripe is
    // emptied by one exchange, so a racing increment is either in what was taken
    // or still in its stripe, never lost or counted twice.
    using taken_values = counter_value;
    taken_values take_out() noexcept {
        counter_value out;
        for (std::size_t s = 0; s < detail::stripe_count; ++s) {
            out.integral += base_[s * Stride].integral.exchange(0, std::memory_order_relaxed);
            out.fractional += base_[s * Stride].fractional.exchange(0.0, std::memory_order_relaxed);
        }
        return out;
    }
    void put_back(const taken_values& v) noexcept {
        base_[0].integral.fetch_add(v.integral, std::memory_order_relaxed);
        if (v.fractional != 0.0) detail::atomic_add(base_[0].fractional, v.fractional);
    }
    void drop(taken_values&) noexcept { exemplars_.clear(1); }

private:
    detail::counter_cell& mine() const noexcept { return base_[detail::this_thread_stripe() * Stride]; }
    void note(const exemplar& e, double amount) noexcept {
        if (!exemplars_.record(0, e, amount, 1)) rejected_->note();
    }

    detail::counter_cell* base_;
    detail::rejection_tally* rejected_;
    detail::exemplar_slots exemplars_;
};

// A gauge is one value that `set` overwrites, so it is not striped.
class gauge_series {
public:
    explicit gauge_series(detail::rejection_tally* = nullptr) noexcept {}
    gauge_series(const gauge_series&) = delete;
    gauge_series& operator=(const gauge_series&) = delete;

    void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    void inc() noexcept { detail::atomic_add(value_, 1.0); }
    void inc(double v) noexcept { detail::atomic_add(value_, v); }
    void dec() noexcept { detail::atomic_add(value_, -1.0); }
    void dec(double v) noexcept { detail::atomic_add(value_, -v); }
    void add(double v) noexcept { detail::atomic_add(value_, v); }
    void sub(double v) noexcept { detail::atomic_add(value_, -v); }
    void set_to_current_time() noexcept { set(detail::unix_time_seconds()); }

    double value() const noexcept { return value_.load(std::memory_order_relaxed); }
    void clear() noexcept { set(0.0); }

    // Expiry of a held series: back to 0. Putting back restores the old value only
    // if nothing was written since (a racing set() or inc() wins over it).
    using taken_values = double;
    taken_values take_out() noexcept { return value_.exchange(0.0, std::memory_order_relaxed); }
    void put_back(taken_values v) noexcept {
        double zero = 0.0;
        value_.compare_exchange_strong(zero, v, std::memory_order_relaxed, std::memory_order_relaxed);
    }
    void drop(taken_values&) noexcept {}

private:
    std::atomic<double> value_{0.0};
};

template <std::size_t Bounds>
struct histogram_reading {
    std::array<std::uint64_t, Bounds + 1> counts{};  // per bucket, not cumulative; last is +Inf
    double sum = 0.0;
    std::uint64_t count() const noexcept {
        std::uint64_t n = 0;
        for (auto c : counts) n += c;
        return n;
    }
};

template <auto Bounds, std::size_t Stride>  // Bounds: std::array<double, N>
class histogram_series {
public:
    static constexpr std::size_t bucket_count = Bounds.size();
    using cell = detail::histogram_cell<bucket_count>;

    histogram_series(cell* stripe0, detail::rejection_tally* rejected) noexcept
        : base_(stripe0), rejected_(rejected) {}
    histogram_series(const histogram_series&) = delete;
    histogram_series& operator=(const histogram_series&) = delete;

    void observe(double v) noexcept {
        if (v != v) return rejected_->note();  // NaN
        cell& c = base_[detail::this_thread_stripe() * Stride];
        c.counts[bucket_of(v)].fetch_add(1, std::memory_order_relaxed);
        detail::atomic_add(c.sum, v);
    }

    template <class Rep, class Period>
    void observe(std::chrono::duration<Rep, Period> d) noexcept {
        observe(std::chrono::duration<double>(d).count());
    }

    // The same observation, kept as the exemplar of the bucket it falls in.
    void observe(double v, const exemplar& e) noexcept {
        if (v != v) return rejected_->note();
        observe(v);
        if (!exemplars_.record(bucket_of(v), e, v, bucket_count + 1)) rejected_->note();
    }
    template <class Rep, class Period>
    void observe(std::chrono::duration<Rep, Period> d, const exemplar& e) noexcept {
        observe(std::chrono::duration<double>(d).count(), e);
    }

    // bucket_count + 1 exemplar cells (one per bucket), or null while none was kept.
    const detail::exemplar_cell* exemplar_cells() const noexcept { return exemplars_.cells(); }

    histogram_reading<bucket_count> value() const noexcept {
        histogram_reading<bucket_count> out;
        for (std::size_t s = 0; s < detail::stripe_count; ++s) {
            const cell& c = base_[s * Stride];
            for (std::size_t b = 0; b <= bucket_count; ++b)
                out.counts[b] += c.counts[b].load(std::memory_order_relaxed);
            out.sum += c.sum.load(std::memory_order_relaxed);
        }
        return out;
    }

    void clear() noexcept {
        for (std::size_t s = 0; s < detail::stripe_count; ++s) {
            cell& c = base_[s * Stride];
            for (auto& n : c.counts) n.store(0, std::memory_order_relaxed);
            c.sum.store(0.0, std::memory_order_relaxed);
        }
        exemplars_.clear(bucket_count + 1);
    }

    // Expiry of a held series: each bucket and sum emptied by one exchange, so no
    // observation's bucket is lost or counted twice (count = sum of the buckets in
    // every reading). A racing observation may leave its bucket and take its sum
    // out, or the reverse: the sum is then off by that one value.
    using taken_values = histogram_reading<bucket_count>;
    taken_values take_out() noexcept {
        taken_values out;
        for (std::size_t s = 0; s < detail::stripe_count; ++s) {
            cell& c = base_[s * Stride];
            for (std::size_t b = 0; b <= bucket_count; ++b)
                out.counts[b] += c.counts[b].exchange(0, std::memory_order_relaxed);
            out.sum += c.sum.exchange(0.0, std::memory_order_relaxed);
        }
        return out;
    }
    void put_back(const taken_values& v) noexcept {
        for (std::size_t b = 0; b <= bucket_count; ++b)
            if (v.counts[b]) base_[0].counts[b].fetch_add(v.counts[b], std::memory_order_relaxed);
        detail::atomic_add(base_[0].sum, v.sum);
    }
    void drop(taken_values&) noexcept { exemplars_.clear(bucket_count + 1); }

    static constexpr std::span<const double> bounds() noexcept { return {Bounds.data(), Bounds.size()}; }

private:
    // First bucket whose upper bound is >= v (Prometheus buckets are "le").
    // Branch-free for small bucket lists: observed values jump between buckets.
    static std::size_t bucket_of(double v) noexcept {
        if constexpr (bucket_count <= 16) {
            return [&]<std::size_t... I>(std::index_sequence<I...>) {
                return (std::size_t{0} + ... + static_cast<std::size_t>(v > Bounds[I]));
            }(std::make_index_sequence<bucket_count>{});
        } else {
            std::size_t lo = 0, hi = bucket_count;
            while (lo < hi) {
                const std::size_t mid = (lo + hi) / 2;
                if (v > Bounds[mid]) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }
    }

    cell* base_;
    detail::rejection_tally* rejected_;
    detail::exemplar_slots exemplars_;
};

}  // namespace llmetrics

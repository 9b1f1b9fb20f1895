#pragma once
// The handle of a native histogram series (native_histogram<...>, or histogram<...>
// with native_* options: classic and native parts in one family). observe() never
// takes a mutex; observing into a bucket the series has seen before never
// allocates (storage/detail/native_cell.hpp has the design note).
//
// A native-only family counts NaN in `count` (its sum becomes NaN), as the
// specification says. A family with a classic part rejects NaN, like every
// classic histogram, so both parts always agree on count and sum: they come from
// the native part, and the classic bucket counters are separate striped counters.
// The writer increments the native part first (release) and the scrape reads the
// classic part first (acquire), so the classic +Inf bucket, native count minus the
// finite classic buckets, is never negative. A native-only series keeps its
// exemplars_per_native_series latest exemplars, each timestamped when recorded.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "detail/cells.hpp"
#include "detail/exemplar_cell.hpp"
#include "detail/native_cell.hpp"
#include "detail/stripes.hpp"
#include "exemplar.hpp"
#include "series.hpp"

namespace llmetrics {

inline constexpr std::size_t exemplars_per_native_series = 4;

template <class F, std::size_t Stride>
class native_histogram_series {
public:
    static constexpr bool has_classic = F::classic;
    static constexpr std::size_t bucket_count = F::bounds.size();  // classic part; 0 when none
    static constexpr std::size_t exemplar_cells_count = has_classic ? bucket_count + 1 : exemplars_per_native_series;
    using cell = detail::histogram_cell<bucket_count>;

    static constexpr detail::native_limits limits{F::native_schema, F::native_max_buckets, F::native_zero_threshold,
                                                  F::native_max_zero_threshold, F::native_min_reset_seconds};

    native_histogram_series(cell* stripe0, detail::rejection_tally* rejected, std::atomic<std::size_t>* bytes)
        : classic_(stripe0), rejected_(rejected), native_(limits, bytes) {
        if constexpr (has_classic)
            native_.on_reset([](void* self) { static_cast<native_histogram_series*>(self)->clear_classic(); }, this);
    }
    native_histogram_series(const native_histogram_series&) = delete;
    native_histogram_series& operator=(const native_histogram_series&) = delete;

    void observe(double v) noexcept {
        if constexpr (has_classic) {
            if (v != v) return rejected_->note();
            native_.observe(v);
            classic_[detail::this_thread_stripe() * Stride].counts[classic_bucket(v)].fetch_add(
                1, std::memory_order_release);
        } else {
            native_.observe(v);
        }
    }
    template <class Rep, class Period>
    void observe(std::chrono::duration<Rep, Period> d) noexcept {
        observe(std::chrono::duration<double>(d).count());
    }

    void observe(double v, const exemplar& e) noexcept {
        if (has_classic && v != v) return rejected_->note();
        observe(v);
        std::size_t at = 0;
        if constexpr (has_classic) at = classic_bucket(v);
        else at = next_exemplar_.fetch_add(1, std::memory_order_relaxed) % exemplars_per_native_series;
        if (!exemplars_.record(at, e, v, exemplar_cells_count)) rejected_->note();
    }
    template <class Rep, class Period>
    void observe(std::chrono::duration<Rep, Period> d, const exemplar& e) noexcept {
        observe(std::chrono::duration<double>(d).count(), e);
    }

    // exemplar_cells_count cells, or null while none was kept.
    const detail::exemplar_cell* exemplar_cells() const noexcept { return exemplars_.cells(); }

    // The classic counts (per bucket, +Inf last; empty without a classic part) and
    // the native reading, consistent with each other.
    void read(std::array<std::uint64_t, has_classic ? bucket_count + 1 : 0>& classic,
              detail::native_reading& native) const {
        if constexpr (has_classic) {
            classic.fill(0);
            for (std::size_t s = 0; s < detail::stripe_count; ++s)
                for (std::size_t b = 0; b < bucket_count; ++b)
                    classic[b] += classic_[s * Stride].counts[b].load(std::memory_order_acquire);
        }
        native_.read(native);
        if constexpr (has_classic) {
            std::uint64_t finite = 0;
            for (std::size_t b = 0; b < bucket_count; ++b) finite += classic[b];
            classic[bucket_count] = native.count >= finite ? native.count - finite : 0;
        }
    }

    bool has_data() const { return native_.has_data(); }
    // Observations recorded since the last reset (NaN included); only grows until one.
    std::uint64_t observations() const { return native_.observations(); }
    // Unix seconds of the last reset (limit strategy or clear()); 0 when none.
    double reset_time() const noexcept { return native_.reset_time(); }
    std::size_t native_bytes() const noexcept { return native_.bytes(); }
    // Whether threads owning a stripe record with no locked instruction (Linux
    // membarrier: storage/detail/asymmetric_fence.hpp); fixed when the series is made.
    bool native_owners_fenced() const noexcept { return native_.fenced(); }

    void clear() noexcept {
        native_.clear();  // zeroes the classic part too (the reset hook)
        exemplars_.clear(exemplar_cells_count);
    }

    // Expiry of a held series (storage/detail/series_map.hpp; the native part:
    // native_cell::take_out). The classic part is taken first, each counter by one
    // exchange (acquire, pairing with the writer's release): an observation whose
    // classic half is taken has its native half in the blocks taken after it, and
    // one whose native half is in the new blocks leaves its classic half. Settled:
    // no taken native half still has its classic half to come.
    struct taken_values {
        std::array<std::uint64_t, has_classic ? bucket_count + 1 : 0> classic{};
        detail::native_cell::taken_blocks native;
        bool settled() const noexcept {
            std::uint64_t n = 0;
            for (std::uint64_t c : classic) n += c;
            return !has_classic || n == native.observations;
        }
    };
    taken_values take_out() {
        taken_values t;
        if constexpr (has_classic)
            for (std::size_t s = 0; s < detail::stripe_count; ++s)
                for (std::size_t b = 0; b <= bucket_count; ++b)
                    t.classic[b] += classic_[s * Stride].counts[b].exchange(0, std::memory_order_acquire);
        native_.take_out(t.native);
        return t;
    }
    void put_back(taken_values& t) noexcept {
        native_.put_back(t.native);
        if constexpr (has_classic)
            for (std::size_t b = 0; b <= bucket_count; ++b)
                if (t.classic[b]) classic_[0].counts[b].fetch_add(t.classic[b], std::memory_order_release);
    }
    void drop(taken_values& t) noexcept {
        native_.drop(t.native);
        exemplars_.clear(exemplar_cells_count);
    }

    static constexpr std::span<const double> bounds() noexcept { return {F::bounds.data(), F::bounds.size()}; }

private:
    // A racing writer whose native half went to a dropped block may still land its
    // classic half after this: read() clamps the +Inf bucket at zero for that.
    void clear_classic() noexcept {
        for (std::size_t s = 0; s < detail::stripe_count; ++s)
            for (auto& n : classic_[s * Stride].counts) n.store(0, std::memory_order_relaxed);
    }

    // First classic bucket whose upper bound is >= v (+Inf last).
    static std::size_t classic_bucket(double v) noexcept {
        std::size_t lo = 0, hi = bucket_count;
        while (lo < hi) {
            const std::size_t mid = (lo + hi) / 2;
            if (v > F::bounds[mid]) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    cell* classic_;
    detail::rejection_tally* rejected_;
    detail::native_cell native_;
    detail::exemplar_slots exemplars_;
    std::atomic<std::uint32_t> next_exemplar_{0};
};

}  // namespace llmetrics

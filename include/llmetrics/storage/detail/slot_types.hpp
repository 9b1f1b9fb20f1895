#pragma once
// The series type of each metric type, and how a family's series map constructs
// them: counters and histograms over striped cells from a pool, gauges alone.

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

#include "../../core/metric_type.hpp"
#include "../native_series.hpp"
#include "../series.hpp"
#include "cells.hpp"
#include "stripes.hpp"

namespace llmetrics::detail {

constexpr std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

// Striped cells for counters and histograms. The change mark (what an expiring
// family compares between sweeps, series_map.hpp): a counter's summed stripes, a
// histogram's count; both only grow, so an unchanged mark means no write.
template <class Slot, class Cell, std::size_t Stride>
struct striped_slot_factory {
    cell_pool<Cell, Stride> pool;
    rejection_tally* rejected = nullptr;

    void construct(Slot* first, std::size_t n) {
        Cell* base = pool.allocate(n);
        for (std::size_t i = 0; i < n; ++i) new (first + i) Slot(base + i, rejected);
    }
    std::size_t bytes() const noexcept { return pool.bytes(); }
    static std::uint64_t change_mark(const Slot& s) noexcept { return taken_mark(s.value()); }
    // The same for the values take_out() returned; taken_count: its whole increments
    // or observations (what expiry_taken_out() adds up).
    template <class V>
    static std::uint64_t taken_mark(const V& v) noexcept {
        if constexpr (requires { v.integral; }) return v.integral + std::bit_cast<std::uint64_t>(v.fractional);
        else return v.count();
    }
    template <class V>
    static std::uint64_t taken_count(const V& v) noexcept {
        if constexpr (requires { v.integral; }) return v.integral;
        else return v.count();
    }
};

// A gauge's mark is its value: setting the value it has is not seen as a write.
struct gauge_slot_factory {
    rejection_tally* rejected = nullptr;
    void construct(gauge_series* first, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) new (first + i) gauge_series(rejected);
    }
    std::size_t bytes() const noexcept { return 0; }
    static std::uint64_t change_mark(const gauge_series& s) noexcept { return taken_mark(s.value()); }
    static std::uint64_t taken_mark(double v) noexcept { return std::bit_cast<std::uint64_t>(v); }
    static std::uint64_t taken_count(double) noexcept { return 0; }
};

// Native histogram series: the classic part (if any) from a pool, the native
// blocks on the heap, counted in `native_bytes`.
template <class Slot, class Cell, std::size_t Stride, bool Classic>
struct native_slot_factory {
    cell_pool<Cell, Stride> pool;
    rejection_tally* rejected = nullptr;
    std::unique_ptr<std::atomic<std::size_t>> native_bytes = std::make_unique<std::atomic<std::size_t>>(0);

    void construct(Slot* first, std::size_t n) {
        Cell* base = Classic ? pool.allocate(n) : nullptr;
        for (std::size_t i = 0; i < n; ++i)
            new (first + i) Slot(Classic ? base + i : nullptr, rejected, native_bytes.get());
    }
    std::size_t bytes() const noexcept {
        return (Classic ? pool.bytes() : 0) + native_bytes->load(std::memory_order_relaxed);
    }
    // Doubled, so what was taken while a classic half was still to come never
    // matches what a sweep saw: it is put back.
    static std::uint64_t change_mark(const Slot& s) { return 2 * s.observations(); }
    static std::uint64_t taken_mark(const typename Slot::taken_values& t) noexcept {
        return 2 * t.native.observations + (t.settled() ? 0 : 1);
    }
    static std::uint64_t taken_count(const typename Slot::taken_values& t) noexcept { return t.native.observations; }
};

template <class F>
concept native_family = requires { F::native; } && F::native;

template <class F, std::size_t Stride, metric_type = F::type>
struct slot_types;
template <class F, std::size_t Stride>
struct slot_types<F, Stride, metric_type::counter> {
    using slot = counter_series<Stride>;
    using factory = striped_slot_factory<slot, counter_cell, Stride>;
};
template <class F, std::size_t Stride>
struct slot_types<F, Stride, metric_type::gauge> {
    using slot = gauge_series;
    using factory = gauge_slot_factory;
};
template <class F, std::size_t Stride>
struct slot_types<F, Stride, metric_type::histogram> {
    using slot = histogram_series<F::bounds, Stride>;
    using factory = striped_slot_factory<slot, histogram_cell<F::bounds.size()>, Stride>;
};
template <native_family F, std::size_t Stride>
struct slot_types<F, Stride, metric_type::histogram> {
    using slot = native_histogram_series<F, Stride>;
    using factory = native_slot_factory<slot, histogram_cell<F::bounds.size()>, Stride, F::classic>;
};

}  // namespace llmetrics::detail

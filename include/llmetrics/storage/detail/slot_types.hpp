#pragma once
// The series type of each metric type, and how a family's series map constructs
// them: counters and histograms over striped cells from a pool, gauges alone.

#include <cstddef>
#include <new>

#include "../../core/metric_type.hpp"
#include "../series.hpp"
#include "cells.hpp"
#include "stripes.hpp"

namespace llmetrics::detail {

constexpr std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

// Striped cells for counters and histograms.
template <class Slot, class Cell, std::size_t Stride>
struct striped_slot_factory {
    cell_pool<Cell, Stride> pool;
    rejection_tally* rejected = nullptr;

    void construct(Slot* first, std::size_t n) {
        Cell* base = pool.allocate(n);
        for (std::size_t i = 0; i < n; ++i) new (first + i) Slot(base + i, rejected);
    }
    std::size_t bytes() const noexcept { return pool.bytes(); }
};

struct gauge_slot_factory {
    rejection_tally* rejected = nullptr;
    void construct(gauge_series* first, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) new (first + i) gauge_series(rejected);
    }
    std::size_t bytes() const noexcept { return 0; }
};

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

}  // namespace llmetrics::detail

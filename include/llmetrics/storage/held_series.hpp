#pragma once
// `held_series<S>`: what `labels(...)` returns for a family with series_ttl<S>.
// It forwards to the series (inc, set, observe, value, ...) and holds it: while a
// held_series exists its series' storage is never given to another label set, so
// a handle kept across an expiry still writes to its own label set, which comes
// back from zero, as a new series, with the next write (the expiry took its
// values out: detail/series_map.hpp). Copies hold too; the last one to go lets
// the storage be reused once the series expired.
//
// Holding costs one atomic add when the handle is made and one when it goes;
// writes through it cost what writes through `S&` cost. Keep one for the hot
// path: `auto tenant = fam.labels("t1");` (`auto&` does not compile: it is a value).

#include <atomic>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

namespace llmetrics {

template <class Series>
class held_series {
public:
    using series_type = Series;

    // `holders` was already counted up for this handle (storage/detail/series_map.hpp).
    held_series(Series& s, std::atomic<std::uint32_t>& holders) noexcept : series_(&s), holders_(&holders) {}
    held_series(const held_series& o) noexcept : series_(o.series_), holders_(o.holders_) {
        // The count is not zero (o holds it), so the storage cannot be retired meanwhile.
        holders_->fetch_add(1, std::memory_order_relaxed);
    }
    held_series(held_series&& o) noexcept
        : series_(o.series_), holders_(std::exchange(o.holders_, nullptr)) {}
    held_series& operator=(held_series o) noexcept {
        std::swap(series_, o.series_);
        std::swap(holders_, o.holders_);
        return *this;
    }
    // Release: this handle's writes happen before whoever retires the storage zeroes it.
    ~held_series() {
        if (holders_) holders_->fetch_sub(1, std::memory_order_release);
    }

    Series& series() const noexcept { return *series_; }
    Series* operator->() const noexcept { return series_; }

    template <class... A>
        requires requires(Series& s, A&&... a) { s.inc(std::forward<A>(a)...); }
    void inc(A&&... a) const noexcept {
        series_->inc(std::forward<A>(a)...);
    }
    template <class... A>
        requires requires(Series& s, A&&... a) { s.dec(std::forward<A>(a)...); }
    void dec(A&&... a) const noexcept {
        series_->dec(std::forward<A>(a)...);
    }
    template <class... A>
        requires requires(Series& s, A&&... a) { s.add(std::forward<A>(a)...); }
    void add(A&&... a) const noexcept {
        series_->add(std::forward<A>(a)...);
    }
    template <class... A>
        requires requires(Series& s, A&&... a) { s.sub(std::forward<A>(a)...); }
    void sub(A&&... a) const noexcept {
        series_->sub(std::forward<A>(a)...);
    }
    template <class... A>
        requires requires(Series& s, A&&... a) { s.set(std::forward<A>(a)...); }
    void set(A&&... a) const noexcept {
        series_->set(std::forward<A>(a)...);
    }
    void set_to_current_time() const noexcept
        requires requires(Series& s) { s.set_to_current_time(); }
    {
        series_->set_to_current_time();
    }
    template <class... A>
        requires requires(Series& s, A&&... a) { s.observe(std::forward<A>(a)...); }
    void observe(A&&... a) const noexcept {
        series_->observe(std::forward<A>(a)...);
    }
    auto value() const noexcept
        requires requires(const Series& s) { s.value(); }
    {
        return series_->value();
    }

private:
    Series* series_;
    std::atomic<std::uint32_t>* holders_;
};

namespace detail {

template <class T>
inline constexpr bool is_held_series = false;
template <class S>
inline constexpr bool is_held_series<held_series<S>> = true;

// The series behind what labels(...) returned, held or not: code written for
// both kinds of family (the instrumentation) writes through this.
template <class S>
    requires(!is_held_series<std::remove_cv_t<S>>)
S& series_of(S& s) noexcept {
    return s;
}
template <class S>
S& series_of(const held_series<S>& h) noexcept {
    return h.series();
}

}  // namespace detail
}  // namespace llmetrics

#pragma once
// `family<F>`: the storage of one family descriptor F (core/family.hpp): its
// series by label set, the handles `labels(...)` returns, and how it streams
// itself to an encoder. With series_ttl<S>, labels(...) returns a held_series
// (storage/held_series.hpp) and unwritten series expire (detail/series_map.hpp).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../core/clock.hpp"
#include "../core/encoder.hpp"
#include "../core/family.hpp"
#include "../core/labels.hpp"
#include "../core/sample.hpp"
#include "detail/cells.hpp"
#include "detail/exemplar_cell.hpp"
#include "detail/series_map.hpp"
#include "detail/slot_types.hpp"
#include "detail/stripes.hpp"
#include "held_series.hpp"
#include "native_series.hpp"
#include "series.hpp"

namespace llmetrics {

namespace detail {

template <class A>
struct is_named_label : std::false_type {};
template <fixed_string N>
struct is_named_label<label<N>> : std::true_type {};

template <class A>
struct is_static_value : std::false_type {};
template <fixed_string V>
struct is_static_value<static_value<V>> : std::true_type {};

template <class A>
concept label_argument = std::is_convertible_v<const A&, std::string_view> || is_static_value<A>::value;

template <class A>
std::string_view label_argument_view(const A& a) noexcept {
    if constexpr (is_static_value<A>::value) return A::view;
    else return std::string_view(a);
}

// 0 when the descriptor has no series_ttl<S> (or is not built on family_base).
template <class F>
constexpr std::int64_t series_ttl_seconds_of() {
    if constexpr (requires { F::series_ttl_seconds; }) return F::series_ttl_seconds;
    else return 0;
}

}  // namespace detail

template <detail::family_descriptor F>
class family {
    using layout = typename F::layout;
    static constexpr std::size_t label_count = layout::size;
    static constexpr std::size_t free_count = layout::dynamic_count;
    static constexpr std::size_t combinations = layout::combinations;
    static constexpr std::size_t stride = detail::round_up(combinations, 32);
    using types = detail::slot_types<F, stride>;

public:
    using descriptor = F;
    using series_type = typename types::slot;
    // Whether series expire (series_ttl<S>); labels(...) then returns held_series.
    static constexpr bool expiring = detail::series_ttl_seconds_of<F>() > 0;
    using handle_type = std::conditional_t<expiring, held_series<series_type>, series_type&>;

    family() : series_(F::max_series, make_factory(&rejected_), detail::series_ttl_seconds_of<F>()) {
        if constexpr (free_count == 0 && !expiring) fixed_ = series_.find_or_create({});
    }
    family(const family&) = delete;
    family& operator=(const family&) = delete;

    // The series for one label set: values positionally in declared order (strings
    // or lm::value<"...">), or all by name with lm::label<"name">{value}. The
    // reference stays valid for the family's life; keep it for the hot path.
    // With series_ttl<S>: a held_series, which keeps its label set's storage
    // while it exists (keep it by value: `auto h = fam.labels(...)`).
    template <class... A>
    handle_type labels(const A&... args) {
        const auto [values, closed_ok] = resolve(args...);
        if constexpr (expiring) return held_for(values, closed_ok);
        else return series_for(values, closed_ok);
    }

    // Removes a label set from exposition and zeroes it. Handles to it stay valid:
    // the series comes back (from zero) when labels(...) asks for it again or when
    // a handle kept from before writes to it (a gauge: sets it to non-zero), so
    // cached handles never write into the void. With value sets, every combination
    // sharing the free-form values goes. Returns whether it existed. With
    // series_ttl<S> it does what expiry does: hides the label set and zeroes it,
    // its storage reused at once when no held_series holds it.
    template <class... A>
    bool remove(const A&... args) {
        const auto [values, closed_ok] = resolve(args...);
        if (!closed_ok) return false;
        const auto free = free_values(values);
        return series_.remove(free);
    }

    // Removes every series (as remove() does for each); handles stay valid.
    void reset() { series_.clear(); }

    // With series_ttl<S>: hides the series whose value has not changed for S
    // seconds of the family's clock and retires those nobody holds; returns how
    // many it hid. Every scrape does the same first.
    std::size_t expire_series() {
        if constexpr (expiring) return series_.sweep();
        else return 0;
    }
    // The registry's scrape sweeps every family before it reads the self-metrics,
    // so llmetrics_series_expired_total counts what that same scrape leaves out.
    void sweep_before_scrape() const {
        if constexpr (expiring) series_.sweep();
    }
    // Where expiry reads the time (steady_clock by default); set it before other
    // threads use the family. Tests and simulations hand in a manual_clock.
    void set_time_source(time_source clock) noexcept {
        if constexpr (expiring) series_.set_time_source(clock);
    }
    // Series hidden by expiry so far.
    std::uint64_t expired() const noexcept { return series_.expired(); }
    // What hiding took out of series a held_series kept (they restart from zero):
    // whole counter increments, histogram observations; 0 for gauges.
    std::uint64_t taken_out_by_expiry() const noexcept { return series_.taken_out(); }

    // Label sets in use (removed ones included, up to max_series; with
    // series_ttl<S>, hidden ones while a handle holds them).
    std::size_t size() const noexcept { return series_.size(); }
    // Label sets that went to the overflow series because the bound was reached
    // or a value was outside its value_set.
    std::uint64_t dropped() const noexcept { return series_.dropped() + bad_values_.count.load(std::memory_order_relaxed); }
    // Increments and observations ignored (negative, NaN).
    std::uint64_t rejected() const noexcept { return rejected_.count.load(std::memory_order_relaxed); }
    // Heap bytes held by this family's series.
    std::size_t memory_bytes() const noexcept { return series_.bytes(); }

    template <encoder E>
    void visit(E& e, std::string_view name) const {
        visit_shown(e, name, true);
    }
    // The same for a scrape that has just called sweep_before_scrape(): no second
    // pass over the expiry marks.
    template <encoder E>
    void visit_after_sweep(E& e, std::string_view name) const {
        visit_shown(e, name, false);
    }

private:
    template <encoder E>
    void visit_shown(E& e, std::string_view name, bool sweep_first) const {
        e.begin_family({name, F::help, F::unit, F::type});
        std::array<std::string_view, label_count> values;
        const labels_view view{std::span<const std::string_view>(F::label_names::names), values};
        auto one = [&](const node_type& n) {
            const double created = n.created.load(std::memory_order_relaxed);
            if (n.overflow) {
                values.fill(overflow_label_value);
                emit(e, view, n.slots()[0], created);
                return;
            }
            for (std::size_t combo = 0; combo < combinations; ++combo) {
                std::size_t free = 0;
                for (std::size_t pos = 0; pos < label_count; ++pos) {
                    if (layout::closed_sizes[pos] == 0) values[pos] = n.value(free++);
                    else values[pos] = layout::closed_value(pos, combo / radix[pos] % layout::closed_sizes[pos]);
                }
                emit(e, view, n.slots()[combo], created);
            }
        };
        if constexpr (expiring) {
            series_.visit_shown(one, sweep_first);
        } else {
            series_.for_each([&](const node_type& n) {
                if (n.live.load(std::memory_order_acquire) || has_data(n)) one(n);
            });
        }
        e.end_family();
    }

    using map_type = detail::series_map<series_type, free_count, combinations, typename types::factory, expiring>;
    using node_type = typename map_type::node;

    static constexpr std::array<std::size_t, label_count> radix = [] {
        std::array<std::size_t, label_count> out{};
        std::size_t r = 1;
        for (std::size_t pos = 0; pos < label_count; ++pos) {
            out[pos] = r;
            if (layout::closed_sizes[pos]) r *= layout::closed_sizes[pos];
        }
        return out;
    }();

    static typename types::factory make_factory(detail::rejection_tally* rejected) {
        typename types::factory f{};
        f.rejected = rejected;
        return f;
    }

    struct resolved {
        std::array<std::string_view, label_count> values;
        bool closed_ok;
    };

    template <class... A>
    static resolved resolve(const A&... args) {
        constexpr bool all_named = (detail::is_named_label<A>::value && ...) && sizeof...(A) > 0;
        constexpr bool any_named = (detail::is_named_label<A>::value || ...);
        static_assert(all_named || !any_named,
                      "llmetrics: labels(...) takes either all values by position or all as "
                      "lm::label<\"name\">{value}, not a mix");
        static_assert(sizeof...(A) >= label_count,
                      "llmetrics: too few label values in labels(...); pass one value per label "
                      "declared in labels<...>, in declared order");
        static_assert(sizeof...(A) <= label_count,
                      "llmetrics: too many label values in labels(...); pass one value per label "
                      "declared in labels<...>, in declared order");
        resolved out{};
        if constexpr (all_named) {
            static_assert(names_match<A...>(),
                          "llmetrics: lm::label<\"name\"> names must be exactly the declared label "
                          "names, each once");
            ((out.values[F::label_names::index_of(A::name)] = args.value), ...);
        } else {
            static_assert((detail::label_argument<A> && ...),
                          "llmetrics: a label value must be a string (convertible to "
                          "std::string_view) or lm::value<\"...\">");
            // A named bool: GCC would otherwise print the whole call with F spelled out.
            constexpr bool values_in_sets =
                static_values_allowed<A...>(std::make_index_sequence<sizeof...(A)>{});
            static_assert(values_in_sets,
                          "llmetrics: lm::value<\"...\"> is not in the value_set declared for that "
                          "label");
            std::size_t i = 0;
            ((out.values[i++] = detail::label_argument_view(args)), ...);
        }
        out.closed_ok = true;
        if constexpr (layout::closed_count > 0)
            for (std::size_t pos = 0; pos < label_count; ++pos)
                if (layout::closed_sizes[pos] && layout::closed_index(pos, out.values[pos]) == layout::closed_sizes[pos])
                    out.closed_ok = false;
        return out;
    }

    template <class... A>
    static constexpr bool names_match() {
        if constexpr (sizeof...(A) != label_count) {
            return true;  // the count checks above report it
        } else {
            constexpr std::array<std::string_view, sizeof...(A)> given{A::name...};
            for (std::size_t i = 0; i < label_count; ++i) {
                std::size_t seen = 0;
                for (std::string_view g : given) seen += g == F::label_names::names[i];
                if (seen != 1) return false;
            }
            return true;
        }
    }

    template <class... A, std::size_t... I>
    static constexpr bool static_values_allowed(std::index_sequence<I...>) {
        return (static_value_allowed<I, A>() && ...);
    }
    template <std::size_t Pos, class A>
    static constexpr bool static_value_allowed() {
        if constexpr (!detail::is_static_value<A>::value || Pos >= label_count) return true;
        else if constexpr (layout::closed_sizes[Pos] == 0) return true;
        else return layout::closed_index(Pos, A::view) < layout::closed_sizes[Pos];
    }

    static std::array<std::string_view, free_count> free_values(const std::array<std::string_view, label_count>& values) {
        if constexpr (layout::closed_count == 0) return values;
        std::array<std::string_view, free_count> out{};
        std::size_t free = 0;
        for (std::size_t pos = 0; pos < label_count; ++pos)
            if (layout::closed_sizes[pos] == 0) out[free++] = values[pos];
        return out;
    }

    series_type& series_for(const std::array<std::string_view, label_count>& values, bool closed_ok) {
        if constexpr (layout::closed_count > 0) {
            if (!closed_ok) [[unlikely]] {
                bad_values_.note();
                return series_.overflow_node()->slots()[0];
            }
        }
        node_type* n;
        if constexpr (free_count == 0) {
            n = fixed_;
            if (!n->live.load(std::memory_order_acquire)) [[unlikely]] n = series_.find_or_create({});
        } else if constexpr (layout::closed_count == 0) {
            n = series_.find_or_create(values);
        } else {
            n = series_.find_or_create(free_values(values));
        }
        if (n->overflow) return n->slots()[0];
        return n->slots()[combo_of(values)];
    }

    // The same for an expiring family: the map counted a holder for us.
    held_series<series_type> held_for(const std::array<std::string_view, label_count>& values, bool closed_ok) {
        if constexpr (layout::closed_count > 0) {
            if (!closed_ok) [[unlikely]] {
                bad_values_.note();
                return hold(series_.overflow_node(), 0);
            }
        }
        node_type* n;
        if constexpr (layout::closed_count == 0) n = series_.find_or_create(values);
        else n = series_.find_or_create(free_values(values));
        return hold(n, n->overflow ? 0 : combo_of(values));
    }
    static held_series<series_type> hold(node_type* n, std::size_t slot) noexcept {
        return {n->slots()[slot], n->expiry.holders};
    }

    static std::size_t combo_of([[maybe_unused]] const std::array<std::string_view, label_count>& values) noexcept {
        std::size_t combo = 0;
        if constexpr (combinations > 1)
            for (std::size_t pos = 0; pos < label_count; ++pos)
                if (layout::closed_sizes[pos]) combo += layout::closed_index(pos, values[pos]) * radix[pos];
        return combo;
    }

    // Whether a removed node was written through a handle kept from before.
    static bool has_data(const node_type& n) noexcept {
        for (std::size_t i = 0; i < (n.overflow ? 1 : combinations); ++i) {
            const series_type& s = n.slots()[i];
            if constexpr (F::type == metric_type::counter) {
                const counter_value v = s.value();
                if (v.integral != 0 || v.fractional != 0.0) return true;
            } else if constexpr (F::type == metric_type::gauge) {
                if (s.value() != 0.0) return true;
            } else if constexpr (detail::native_family<F>) {
                if (s.has_data()) return true;
            } else {
                if (s.value().count() != 0) return true;
            }
        }
        return false;
    }

    // Exemplars are read only for series that ever had one (their cells exist);
    // the encoder decides whether to write them.
    template <class E>
    static void emit(E& e, const labels_view& view, const series_type& s, double created) {
        if constexpr (F::type == metric_type::counter) {
            detail::exemplar_reading reading;
            exemplar_view ex;
            const exemplar_view* given = nullptr;
            if (const auto* cell = s.exemplar_cells(); cell && reading.load(*cell)) {
                ex = reading.view();
                given = &ex;
            }
            e.counter(view, s.value(), created, given);
        } else if constexpr (F::type == metric_type::gauge) {
            e.gauge(view, s.value());
        } else if constexpr (detail::native_family<F>) {
            emit_native(e, view, s, created);
        } else {
            const auto reading = s.value();
            const std::span<const std::uint64_t> counts(reading.counts);
            constexpr std::size_t cells = series_type::bucket_count + 1;
            if (const auto* cell = s.exemplar_cells()) {
                std::array<detail::exemplar_reading, cells> readings;
                std::array<exemplar_view, cells> views{};
                for (std::size_t i = 0; i < cells; ++i)
                    if (readings[i].load(cell[i])) views[i] = readings[i].view();
                e.histogram(view, series_type::bounds(), counts, reading.sum, created,
                            std::span<const exemplar_view>(views));
            } else {
                e.histogram(view, series_type::bounds(), counts, reading.sum, created, {});
            }
        }
    }

    // The native reading goes into a buffer kept per thread, so a scrape allocates
    // only while it grows. The start timestamp moves with a reset.
    template <class E>
    static void emit_native(E& e, const labels_view& view, const series_type& s, double created) {
        thread_local detail::native_reading native;
        std::array<std::uint64_t, series_type::has_classic ? series_type::bucket_count + 1 : 0> classic{};
        s.read(classic, native);
        created = std::max(created, s.reset_time());
        const std::span<const std::uint64_t> counts(classic);
        constexpr std::size_t cells = series_type::exemplar_cells_count;
        std::array<detail::exemplar_reading, cells> readings;
        std::array<exemplar_view, cells> views{};
        std::size_t kept = 0;
        if (const auto* cell = s.exemplar_cells()) {
            for (std::size_t i = 0; i < cells; ++i) {
                if (!readings[i].load(cell[i])) continue;
                // Per classic bucket (positions matter); native-only: just those present.
                views[series_type::has_classic ? i : kept++] = readings[i].view();
            }
            if (series_type::has_classic) kept = cells;
        }
        e.native_histogram(view, native.view(), series_type::bounds(), counts, created,
                           std::span<const exemplar_view>(views.data(), kept));
    }

    detail::rejection_tally rejected_;
    detail::rejection_tally bad_values_;
    mutable map_type series_;  // mutable: a scrape of an expiring family sweeps it
    node_type* fixed_ = nullptr;
};

}  // namespace llmetrics

#pragma once
// The vocabulary of monitored_router's role table (instrument/detail/router_roles.hpp):
// one row per family the decorator records, saying on which event it records,
// what amount, and which fact of the call fills each label:
//
//     role_row<catalog::model_inference_total, call_event::success, count_one,
//              from<"model_id", &call_facts::model>, from<"strategy", &call_facts::strategy>,
//              fixed<"status", "success">, from<"tenant_id", &call_facts::tenant_id>>
//
// A row names the labels of its family in the family's declared order; a label
// the family does not declare, a missing one or two swapped ones fail to compile
// with an `llmetrics:` message. A registry records the rows whose family it
// holds (registry/holds.hpp: the family itself or one playing its role) and
// skips the others at compile time.

#include <atomic>
#include <cstddef>
#include <optional>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../../core/fixed_string.hpp"
#include "../../core/labels.hpp"
#include "../../core/metric_type.hpp"
#include "../../registry/holds.hpp"
#include "../../storage/family_store.hpp"
#include "../llm_router.hpp"
#include "../trace_context.hpp"

namespace llmetrics::detail {

// Timing of a streamed call, from its first and last output tokens.
struct stream_timing {
    double first_token_seconds = 0.0;
    std::optional<double> per_output_token_seconds;
};

// What is known of one call when it is recorded. Label values are views of the
// cached label set (or of the model's registration) and live as long as the record.
struct call_facts {
    std::string_view model{}, strategy{}, tenant_id{}, provider{}, operation{};
    std::string_view error_type{};      // failures
    std::string_view format{}, loader{};  // model registrations
    std::string_view stage{};             // cancellations (cancellation.hpp's stage names)
    double seconds = 0.0;
    const usage* use = nullptr;              // successes
    const stream_timing* timing = nullptr;  // streamed successes
    const routing_facts* routing = nullptr;  // successes and failures whose router reports them
};

// start: a call begins (in-flight gauges); success, failure and cancellation (the
// client went away) end it; unstarted_cancellation is a client that went away
// before its call started. first_chunk and next_chunk fire as a streamed call's
// chunks arrive (seconds: from the start to the first chunk, then from the
// previous chunk to this one).
enum class call_event {
    success, failure, load, load_failure, start, cancellation, unstarted_cancellation, first_chunk, next_chunk
};

// Model loads happen outside calls: they have no label set (and no cached handles).
constexpr bool event_has_label_set(call_event e) noexcept {
    return e != call_event::load && e != call_event::load_failure;
}

// Facts that stay the same for every call of one cached label set: a row whose
// labels are all of these (or fixed) keeps its series handle in the cache.
constexpr bool is_label_set_fact(std::string_view call_facts::*fact) noexcept {
    return fact == &call_facts::model || fact == &call_facts::strategy || fact == &call_facts::tenant_id ||
           fact == &call_facts::provider || fact == &call_facts::operation;
}

// A label filled from a fact of the call.
template <fixed_string Label, std::string_view call_facts::*Fact>
struct from {
    static constexpr std::string_view label = Label.view();
    static constexpr bool per_label_set = is_label_set_fact(Fact);
    static constexpr bool reads(std::string_view call_facts::*fact) noexcept { return fact == Fact; }
    static std::string_view value(const call_facts& c) noexcept { return c.*Fact; }
};

// A label with one value for the row (checked against the label's value_set).
template <fixed_string Label, fixed_string Value>
struct fixed {
    static constexpr std::string_view label = Label.view();
    static constexpr bool per_label_set = true;
    static constexpr bool reads(std::string_view call_facts::*) noexcept { return false; }
    static constexpr static_value<Value> value(const call_facts&) noexcept { return {}; }
};

// Like fixed, but a registry whose family closes the label without this value
// skips the row: catalog::gateway::tokens_total adds token types to the
// streaming tokens_total, whose role it plays, and either may be held.
template <fixed_string Label, fixed_string Value>
struct fixed_if_declared : fixed<Label, Value> {
    template <class F>
    static constexpr bool accepted_by() noexcept {
        constexpr std::size_t pos = F::label_names::index_of(Label.view());
        if constexpr (pos >= F::layout::size) return true;  // check_row_labels reports it
        else return F::layout::closed_sizes[pos] == 0 ||
                    F::layout::closed_index(pos, Value.view()) < F::layout::closed_sizes[pos];
    }
};

template <class Fill, class F>
constexpr bool fill_accepted_by() noexcept {
    if constexpr (requires { Fill::template accepted_by<F>(); }) return Fill::template accepted_by<F>();
    else return true;
}

template <class Registry, class Role, class... Fills>
constexpr bool row_recorded_by() noexcept {
    if constexpr (!registry_has_role_v<Registry, Role>) return false;
    else return (fill_accepted_by<Fills, registry_role_t<Registry, Role>>() && ...);
}

// Amounts. count_one adds 1 (an integer increment); the others are absent when
// the call did not report what they read, and the row then records nothing.
struct count_one {};
struct call_seconds {
    static std::optional<double> of(const call_facts& c) noexcept { return c.seconds; }
};
struct total_tokens {  // the tutorial records 0 when the result reports no tokens
    static std::optional<double> of(const call_facts& c) noexcept { return c.use->total().value_or(0.0); }
};
struct cost_cents {
    static std::optional<double> of(const call_facts& c) noexcept {
        if (c.use->cost) return *c.use->cost * 100.0;
        return std::nullopt;
    }
};
struct input_tokens {
    static std::optional<double> of(const call_facts& c) noexcept { return c.use->input_tokens; }
};
struct output_tokens {
    static std::optional<double> of(const call_facts& c) noexcept { return c.use->output_tokens; }
};
struct cached_input_tokens {
    static std::optional<double> of(const call_facts& c) noexcept { return c.use->cached_input_tokens; }
};
struct reasoning_output_tokens {
    static std::optional<double> of(const call_facts& c) noexcept { return c.use->reasoning_output_tokens; }
};
struct cache_write_input_tokens {
    static std::optional<double> of(const call_facts& c) noexcept { return c.use->cache_write_input_tokens; }
};
struct overhead_seconds {
    static std::optional<double> of(const call_facts& c) noexcept {
        if (c.routing) return c.routing->overhead_seconds;
        return std::nullopt;
    }
};
// Gauges: added when the call starts, taken away when it ends.
struct add_one {
    static constexpr double delta = 1.0;
};
struct take_one {
    static constexpr double delta = -1.0;
};
struct first_token_seconds {
    static std::optional<double> of(const call_facts& c) noexcept {
        if (c.timing) return c.timing->first_token_seconds;
        return std::nullopt;
    }
};
struct per_output_token_seconds {
    static std::optional<double> of(const call_facts& c) noexcept {
        if (c.timing) return c.timing->per_output_token_seconds;
        return std::nullopt;
    }
};

enum class row_mismatch { none, unknown_label, label_count, label_order };

template <class Labels, class... Fills>
constexpr row_mismatch check_row_labels() {
    constexpr std::string_view given[] = {Fills::label..., {}};
    for (std::size_t i = 0; i < sizeof...(Fills); ++i)
        if (Labels::index_of(given[i]) == Labels::size) return row_mismatch::unknown_label;
    if (sizeof...(Fills) != Labels::size) return row_mismatch::label_count;
    for (std::size_t i = 0; i < sizeof...(Fills); ++i)
        if (Labels::index_of(given[i]) != i) return row_mismatch::label_order;
    return row_mismatch::none;
}

// A series handle resolved on first use and kept for the label set. For a family
// with series_ttl<S> it also keeps a held_series, so the storage it points to
// stays this label set's while the label cache keeps the set (the series may
// still expire from the exposition and come back when written).
template <class F>
class lazy_series {
public:
    using series_type = typename family<F>::series_type;

    template <class Registry, class... A>
    series_type& get(Registry& metrics, const A&... values) {
        series_type* s = ptr_.load(std::memory_order_acquire);
        if (!s) [[unlikely]] {
            if constexpr (family<F>::expiring) {
                auto held = metrics.template get<F>().labels(values...);
                // Racing threads hold the same storage (each lookup happens while a
                // hold exists or before any); the one whose store lands keeps its hold.
                series_type* mine = &held.series();
                series_type* expected = nullptr;
                if (!ptr_.compare_exchange_strong(expected, mine, std::memory_order_acq_rel)) return *expected;
                hold_.emplace(std::move(held));
                return *mine;
            } else {
                s = &metrics.template get<F>().labels(values...);
                ptr_.store(s, std::memory_order_release);  // a racing thread stores the same handle
            }
        }
        return *s;
    }

private:
    struct no_hold {};
    std::atomic<series_type*> ptr_{nullptr};
    [[no_unique_address]] std::conditional_t<family<F>::expiring,
                                             std::optional<typename family<F>::handle_type>, no_hold> hold_{};
};

struct no_series {};

template <class Role, call_event Event, class Amount, class... Fills>
struct role_row {
    using role = Role;
    static constexpr call_event event = Event;

    static constexpr row_mismatch mismatch = check_row_labels<typename Role::label_names, Fills...>();
    static_assert(mismatch != row_mismatch::unknown_label,
                  "llmetrics: a role_row fills a label its family does not declare; use the names of the "
                  "family's labels<...>");
    static_assert(mismatch != row_mismatch::label_count,
                  "llmetrics: a role_row must fill every label of its family exactly once");
    static_assert(mismatch != row_mismatch::label_order,
                  "llmetrics: a role_row lists its labels in another order than the family declares them; "
                  "list them in the order of the family's labels<...>");

    // Calls of one label set share the row's series: its handle is cached.
    static constexpr bool cached = event_has_label_set(Event) && (Fills::per_label_set && ...);
    static constexpr bool reads(std::string_view call_facts::*fact) noexcept { return (Fills::reads(fact) || ...); }

    template <class Registry>
    static constexpr bool recorded_by = row_recorded_by<Registry, Role, Fills...>();

    // The cached handle of this row in Registry, or nothing.
    template <class Registry>
    using handle = std::conditional_t<cached && recorded_by<Registry>,
                                      lazy_series<registry_role_t<Registry, Role>>, no_series>;

    template <class Registry, class Handle, class Exemplar>
    static void record(Registry& metrics, Handle& h, const call_facts& c, Exemplar ex) {
        using F = registry_role_t<Registry, Role>;
        // A reference, or a held_series (series_ttl families) living to the end of
        // the statement that uses it.
        auto series = [&]() -> decltype(auto) {
            if constexpr (cached) return h.get(metrics, Fills::value(c)...);
            else return metrics.template get<F>().labels(Fills::value(c)...);
        };
        if constexpr (std::is_same_v<Amount, count_one>) {
            inc_traced(series_of(series()), ex);
        } else if constexpr (std::is_same_v<Amount, add_one> || std::is_same_v<Amount, take_one>) {
            static_assert(F::type == metric_type::gauge, "llmetrics: add_one and take_one rows need a gauge family");
            series_of(series()).add(Amount::delta);
        } else if (const std::optional<double> amount = Amount::of(c)) {
            if constexpr (F::type == metric_type::counter) inc_traced(series_of(series()), *amount, ex);
            else observe_traced(series_of(series()), *amount, ex);
        }
    }
};

template <class... Rows>
struct role_table {
    // The cached handles of one label set in Registry, one per row.
    template <class Registry>
    using handles = std::tuple<typename Rows::template handle<Registry>...>;

    template <class Registry>
    static constexpr bool records_anything = (Rows::template recorded_by<Registry> || ...);

    // Whether Registry records a row of Event.
    template <call_event Event, class Registry>
    static constexpr bool records_event = ((Rows::event == Event && Rows::template recorded_by<Registry>) || ...);

    // Whether a row recorded by Registry reads `fact`.
    template <class Registry>
    static constexpr bool reads(std::string_view call_facts::*fact) noexcept {
        return ((Rows::template recorded_by<Registry> && Rows::reads(fact)) || ...);
    }

    // Records every row of `Event` that Registry holds: a fold over the table.
    // `h` may be null when no row of Event is cached.
    template <call_event Event, class Registry, class Exemplar>
    static void record(Registry& metrics, handles<Registry>* h, const call_facts& c, Exemplar ex) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (record_row<Event, Rows, I>(metrics, h, c, ex), ...);
        }(std::index_sequence_for<Rows...>{});
    }

private:
    template <call_event Event, class Row, std::size_t I, class Registry, class Exemplar>
    static void record_row(Registry& metrics, handles<Registry>* h, const call_facts& c, Exemplar ex) {
        if constexpr (Row::event == Event && Row::template recorded_by<Registry>) {
            if constexpr (Row::cached) {
                Row::record(metrics, std::get<I>(*h), c, ex);
            } else {
                no_series none;
                Row::record(metrics, none, c, ex);
            }
        }
    }
};

}  // namespace llmetrics::detail

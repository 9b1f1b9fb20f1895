#pragma once
// `registry<F...>`: a compile-time set of families (stored in a Boost.Hana tuple,
// so `get<F>()` is an index known when compiling), plus collectors registered at
// run time that contribute families at scrape time. An optional first argument
// `prefix<"llm_router_">` prefixes every family name; the joined names are
// checked like any name.
//
//     lm::registry<lm::prefix<"llm_router_">, requests_total, latency_seconds> metrics;
//     metrics.get<requests_total>().labels("GET").inc();
//     metrics.add_collector(std::make_shared<lm::process_collector>("llm_router_"));
//     std::string body = lm::render(metrics, lm::format::openmetrics);
//
// Exposition order: families sorted by full name, each family's series in the
// order they were first created. A collector family whose name is already taken
// (by a declared family or an earlier collector) is left out, and a collector that
// throws contributes nothing to that scrape; both are counted in
// llmetrics_collector_errors_total.

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/at.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/tuple.hpp>

#include "../core/family.hpp"  // first, so a family error has a short include chain
#include "../core/clock.hpp"
#include "../core/detail/name_rules.hpp"
#include "../core/encoder.hpp"
#include "../core/fixed_string.hpp"
#include "../core/snapshot.hpp"
#include "../storage/family_store.hpp"
#include "collector.hpp"
#include "detail/emit_snapshot.hpp"

namespace llmetrics {

template <fixed_string Prefix>
struct prefix {
    static constexpr auto value = Prefix;
};

namespace detail {

template <class T>
struct is_prefix : std::false_type {};
template <fixed_string P>
struct is_prefix<prefix<P>> : std::true_type {};

template <fixed_string Prefix, class F>
inline constexpr auto joined_name = Prefix + F::name_string;

template <class F, class... Fs>
constexpr std::size_t index_of_family() {
    constexpr std::array<bool, sizeof...(Fs)> same{std::is_same_v<F, Fs>...};
    for (std::size_t i = 0; i < sizeof...(Fs); ++i)
        if (same[i]) return i;
    return sizeof...(Fs);
}

template <std::size_t N>
constexpr bool all_distinct(const std::array<std::string_view, N>& names) {
    for (std::size_t i = 0; i < N; ++i)
        for (std::size_t j = i + 1; j < N; ++j)
            if (names[i] == names[j]) return false;
    return true;
}

template <fixed_string Prefix, class... Fs>
class registry_base {
public:
    static constexpr std::size_t family_count = sizeof...(Fs);
    static constexpr std::array<std::string_view, family_count> names{joined_name<Prefix, Fs>.view()...};

    static_assert((family_descriptor<Fs> && ...),
                  "llmetrics: registry<...> takes family types (counter<...>, gauge<...>, "
                  "histogram<...>), optionally after one prefix<\"...\">");
    static_assert((!is_prefix<Fs>::value && ...),
                  "llmetrics: prefix<\"...\"> must be the first argument of registry<...>, and only one");
    static_assert(Prefix.size() == 0 || is_valid_metric_name(Prefix.view()),
                  "llmetrics: a registry prefix must match [a-zA-Z_:][a-zA-Z0-9_:]*");
    static_assert((is_valid_metric_name(joined_name<Prefix, Fs>.view()) && ...),
                  "llmetrics: a prefixed family name is not a valid metric name");
    static_assert(all_distinct(names),
                  "llmetrics: two families in one registry have the same name; rename one or "
                  "drop the duplicate");

    registry_base() = default;
    registry_base(const registry_base&) = delete;
    registry_base& operator=(const registry_base&) = delete;

    template <class F>
    family<F>& get() noexcept {
        constexpr std::size_t i = index_of_family<F, Fs...>();
        static_assert(i < family_count,
                      "llmetrics: this registry does not hold that family; add it to registry<...>");
        if constexpr (i < family_count) return boost::hana::at_c<i>(families_);
    }
    template <class F>
    const family<F>& get() const noexcept {
        return const_cast<registry_base*>(this)->template get<F>();
    }

    template <class F>
    static constexpr std::string_view name_of() noexcept {
        static_assert(index_of_family<F, Fs...>() < family_count,
                      "llmetrics: this registry does not hold that family; add it to registry<...>");
        return joined_name<Prefix, F>.view();
    }
    static constexpr std::string_view prefix() noexcept { return Prefix.view(); }

    void add_collector(std::shared_ptr<collector> c) {
        if (!c) return;
        std::lock_guard lock(collectors_mutex_);
        collectors_.push_back(std::move(c));
    }
    void remove_collector(const collector* c) {
        std::lock_guard lock(collectors_mutex_);
        std::erase_if(collectors_, [&](const auto& p) { return p.get() == c; });
    }

    // Sweeps every family with series_ttl<S> (a scrape does it per family too);
    // returns how many series it hid. Call it where no scrape comes, or to expire
    // on a schedule of your own.
    std::size_t expire_series() {
        std::size_t hidden = 0;
        boost::hana::for_each(families_, [&](auto& fam) { hidden += fam.expire_series(); });
        return hidden;
    }
    // The clock expiry reads in every family with series_ttl<S> (steady_clock by
    // default); set it before other threads use the registry.
    void set_time_source(time_source clock) noexcept {
        boost::hana::for_each(families_, [&](auto& fam) { fam.set_time_source(clock); });
    }

    // Calls f(family<F>&) for each declared family, in declaration order.
    template <class Fn>
    void for_each_family(Fn&& fn) {
        boost::hana::for_each(families_, [&](auto& fam) { fn(fam); });
    }

    template <encoder E>
    void visit(E& e) const {
        std::vector<family_snapshot> gathered = collect_runtime();
        drop_taken_names(gathered);
        if constexpr ((family<Fs>::expiring || ...))
            boost::hana::for_each(families_, [](const auto& fam) { fam.sweep_before_scrape(); });
        append_self_metrics(gathered);

        struct entry {
            std::string_view name;
            std::size_t declared;  // index into families_, or family_count
            const family_snapshot* snapshot;
        };
        std::vector<entry> order;
        order.reserve(family_count + gathered.size());
        for (std::size_t i = 0; i < family_count; ++i) order.push_back({names[i], i, nullptr});
        for (const family_snapshot& s : gathered) order.push_back({s.name, family_count, &s});
        std::sort(order.begin(), order.end(), [](const entry& a, const entry& b) { return a.name < b.name; });

        static constexpr auto emitters = emitter_table<E>(std::make_index_sequence<family_count>{});
        for (const entry& en : order) {
            if (en.snapshot) detail::emit_snapshot(e, *en.snapshot);
            else emitters[en.declared](*this, e);
        }
    }

private:
    template <class E, std::size_t... I>
    static constexpr auto emitter_table(std::index_sequence<I...>) {
        using emit_fn = void (*)(const registry_base&, E&);
        return std::array<emit_fn, sizeof...(I)>{+[](const registry_base& r, E& e) {
            // visit() swept the expiring families first (sweep_before_scrape).
            boost::hana::at_c<I>(r.families_).visit_after_sweep(e, names[I]);
        }...};
    }

    std::vector<family_snapshot> collect_runtime() const {
        std::vector<std::shared_ptr<collector>> collectors;
        {
            std::lock_guard lock(collectors_mutex_);
            collectors = collectors_;
        }
        std::vector<family_snapshot> out;
        for (const auto& c : collectors) {
            const std::size_t before = out.size();
            try {
                c->collect(out);
            } catch (...) {
                out.resize(before);
                collector_errors_.fetch_add(1, std::memory_order_relaxed);
            }
        }
        return out;
    }

    // Keeps the first family of each name; declared families always win.
    void drop_taken_names(std::vector<family_snapshot>& gathered) const {
        std::vector<std::string_view> taken(names.begin(), names.end());
        std::vector<family_snapshot> kept;
        kept.reserve(gathered.size());
        for (family_snapshot& s : gathered) {
            if (std::find(taken.begin(), taken.end(), s.name) != taken.end()) {
                collector_errors_.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            kept.push_back(std::move(s));
            taken.push_back(kept.back().name);
        }
        gathered = std::move(kept);
    }

    void append_self_metrics(std::vector<family_snapshot>& out) const {
        if constexpr (family_count > 0) {
            family_snapshot dropped{"llmetrics_series_dropped_total",
                                    "Label sets that did not get a series of their own (cardinality "
                                    "bound reached, or a value outside its value_set)",
                                    "", metric_type::counter, {}};
            family_snapshot rejected{"llmetrics_rejected_values_total",
                                     "Increments and observations ignored (negative or NaN)", "",
                                     metric_type::counter, {}};
            std::size_t i = 0;
            boost::hana::for_each(families_, [&](const auto& fam) {
                const std::string name(names[i++]);
                dropped.series.push_back({{{"family", name}}, counter_value{fam.dropped(), 0.0}});
                rejected.series.push_back({{{"family", name}}, counter_value{fam.rejected(), 0.0}});
            });
            out.push_back(std::move(dropped));
            out.push_back(std::move(rejected));
        }
        if constexpr ((family<Fs>::expiring || ...)) {
            family_snapshot expired{"llmetrics_series_expired_total",
                                    "Series hidden because their value did not change for the family's "
                                    "series_ttl",
                                    "", metric_type::counter, {}};
            std::size_t i = 0;
            boost::hana::for_each(families_, [&](const auto& fam) {
                const std::string_view name = names[i++];
                if constexpr (std::remove_cvref_t<decltype(fam)>::expiring)
                    expired.series.push_back({{{"family", std::string(name)}}, counter_value{fam.expired(), 0.0}});
            });
            out.push_back(std::move(expired));
        }
        out.push_back({"llmetrics_collector_errors_total",
                       "Collector families left out of a scrape (name taken, or the collector threw)",
                       "",
                       metric_type::counter,
                       {{{}, counter_value{collector_errors_.load(std::memory_order_relaxed), 0.0}}}});
    }

    boost::hana::tuple<family<Fs>...> families_;
    mutable std::mutex collectors_mutex_;
    std::vector<std::shared_ptr<collector>> collectors_;
    mutable std::atomic<std::uint64_t> collector_errors_{0};
};

}  // namespace detail

namespace detail {

// Whether F is a family whose declaration passed its checks; non-families pass
// here and are reported by registry_base.
template <class F>
struct family_ok : std::true_type {};
template <class F>
    requires requires { F::llmetrics_error; }
struct family_ok<F> : std::bool_constant<F::llmetrics_error == family_error::none> {};

// Stands in for registry_base when a family failed its checks, so the family's
// own message is the only error.
struct invalid_registry {};

// `sizeof(Fs)` instantiates each family right in registry's base clause (one
// note away from the user); a failed family then selects invalid_registry.
template <fixed_string P, bool Complete, class... Fs>
using registry_base_for = std::conditional_t<Complete && (family_ok<Fs>::value && ...),
                                             registry_base<P, Fs...>, invalid_registry>;

}  // namespace detail

template <class... Ts>
class registry
    : public detail::registry_base_for<fixed_string<0>{""}, ((sizeof(Ts) > 0) && ...), Ts...> {};

template <fixed_string P, class... Fs>
class registry<prefix<P>, Fs...> : public detail::registry_base_for<P, ((sizeof(Fs) > 0) && ...), Fs...> {};

}  // namespace llmetrics

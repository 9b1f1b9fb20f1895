#pragma once
// Rendering a source of families in one of the exposition formats.
//
// A source is anything with
//     template <encoder E> void visit(E& e) const;
// that calls e.begin_family(...), the sample calls and e.end_family() for each
// family, in the order they are to appear (registries sort by name). visit()
// does not call e.finish(); render_to() does, once, after visit() returns.
// The strings a family_header and a labels_view point to must stay valid until
// the matching end_family().
//
//     std::string body = llmetrics::render(metrics, llmetrics::format::openmetrics);
//     fmt::memory_buffer buf;
//     llmetrics::render_to(buf, metrics, llmetrics::negotiate(accept));

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "../core/encoder.hpp"
#include "../core/snapshot.hpp"
#include "../registry/detail/emit_snapshot.hpp"
#include "detail/buffered_output.hpp"
#include "format.hpp"
#include "json.hpp"
#include "openmetrics.hpp"
#include "output.hpp"
#include "prometheus_text.hpp"
#include "protobuf.hpp"

namespace llmetrics {

namespace detail {
template <class Source, class Encoder>
concept visits = requires(const Source& s, Encoder& e) { s.visit(e); };

template <class Source, class... Formats>
constexpr bool visits_all(format_table<Formats...>*) {
    return (visits<Source, typename Formats::template encoder<std::string>> && ...);
}
}  // namespace detail

// Visits the encoder of every format in the table.
template <class Source>
concept metrics_source = detail::visits_all<Source>(static_cast<format_list*>(nullptr));

// Families taken from collectors (or built by hand, e.g. in tests): rendered
// sorted by family name, each family's series in the order given.
class snapshot_source {
public:
    snapshot_source() = default;
    explicit snapshot_source(std::vector<family_snapshot> families) : families_(std::move(families)) {}

    void add(family_snapshot family) { families_.push_back(std::move(family)); }
    std::vector<family_snapshot>& families() noexcept { return families_; }
    const std::vector<family_snapshot>& families() const noexcept { return families_; }

    template <encoder E>
    void visit(E& e) const {
        std::vector<const family_snapshot*> sorted;
        sorted.reserve(families_.size());
        for (const family_snapshot& f : families_) sorted.push_back(&f);
        std::stable_sort(sorted.begin(), sorted.end(),
                         [](const family_snapshot* a, const family_snapshot* b) { return a->name < b->name; });
        for (const family_snapshot* f : sorted) detail::emit_snapshot(e, *f);
    }

private:
    std::vector<family_snapshot> families_;
};

template <class Source, text_output Out>
void render_to(Out& out, const Source& source, format f) {
    static_assert(metrics_source<Source>,
                  "llmetrics: render() needs a source with `template <llmetrics::encoder E> void visit(E&) const`: "
                  "pass a registry or a llmetrics::snapshot_source");
    if constexpr (metrics_source<Source>) {
        using buffered = detail::buffered_output<Out>;
        buffered sink{out};
        const auto run = [&](auto&& e) {
            source.visit(e);
            e.finish();
        };
        format_list::with(f, [&](auto entry) {
            run(typename decltype(entry)::template encoder<buffered>{sink});
        });
    }
}

template <class Source>
std::string render(const Source& source, format f = format::prometheus) {
    std::string out;
    render_to(out, source, f);
    return out;
}

}  // namespace llmetrics

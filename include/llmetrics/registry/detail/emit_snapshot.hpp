#pragma once
// Feeds one collector snapshot to an encoder (begin_family .. end_family), its
// exemplars included.

#include <cstddef>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "../../core/encoder.hpp"
#include "../../core/snapshot.hpp"

namespace llmetrics::detail {

template <encoder E>
void emit_snapshot(E& e, const family_snapshot& family) {
    e.begin_family({family.name, family.help, family.unit, family.type});
    std::vector<std::string_view> names, values;
    std::vector<std::string_view> exemplar_text;  // names, then values, of each exemplar in turn
    std::vector<exemplar_view> exemplars;
    for (const series_snapshot& s : family.series) {
        names.clear();
        values.clear();
        for (const auto& [name, value] : s.labels) {
            names.push_back(name);
            values.push_back(value);
        }
        const labels_view labels{names, values};

        // Reserved up front: the views point into exemplar_text.
        std::size_t text = 0;
        for (const exemplar_snapshot& x : s.exemplars) text += 2 * x.labels.size();
        exemplar_text.clear();
        exemplar_text.reserve(text);
        exemplars.clear();
        for (const exemplar_snapshot& x : s.exemplars) {
            const std::size_t at = exemplar_text.size(), n = x.labels.size();
            for (const auto& label : x.labels) exemplar_text.push_back(label.first);
            for (const auto& label : x.labels) exemplar_text.push_back(label.second);
            exemplars.push_back({std::span<const std::string_view>(exemplar_text.data() + at, n),
                                 std::span<const std::string_view>(exemplar_text.data() + at + n, n), x.value,
                                 x.timestamp});
        }

        if (const auto* c = std::get_if<counter_value>(&s.value)) {
            const exemplar_view* x = !exemplars.empty() && exemplars[0].present() ? &exemplars[0] : nullptr;
            e.counter(labels, *c, s.created, x);
        } else if (const auto* g = std::get_if<double>(&s.value)) {
            e.gauge(labels, *g);
        } else if (const auto* h = std::get_if<histogram_value>(&s.value)) {
            // One per bucket or none: a list of another length is left out.
            std::span<const exemplar_view> per_bucket;
            if (exemplars.size() == h->bounds.size() + 1) per_bucket = exemplars;
            e.histogram(labels, h->bounds, h->counts, h->sum, s.created, per_bucket);
        } else if (const auto* n = std::get_if<native_histogram_value>(&s.value)) {
            std::span<const exemplar_view> given = exemplars;
            if (!n->classic.counts.empty() && exemplars.size() != n->classic.bounds.size() + 1) given = {};
            e.native_histogram(labels, n->view(), n->classic.bounds, n->classic.counts, s.created, given);
        }
    }
    e.end_family();
}

}  // namespace llmetrics::detail

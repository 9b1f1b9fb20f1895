#pragma once
// The order of a series' labels in remote write: sorted by name (byte order),
// the series' own label before an external one of the same name, with a slot
// for `__name__` and, for a classic bucket, one for `le` (their values change
// from sample to sample). The order depends only on the label names, so it is
// kept from one series to the next while the names stay the same (all series
// of a family, usually): sorting per series cost more than encoding it.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmetrics::detail {

class remote_write_label_order {
public:
    enum class kind : unsigned char { name, own, le, external };
    struct entry {
        kind what;
        std::uint32_t index;  // into the series' labels (own) or the external labels
    };

    // `external`: (name, value) pairs, kept by reference; those with an empty
    // name or value are never sent.
    explicit remote_write_label_order(std::span<const std::pair<std::string, std::string>> external)
        : external_(external) {}

    std::string_view name_of(const entry& e, std::span<const std::string_view> own) const noexcept {
        switch (e.what) {
            case kind::name: return "__name__";
            case kind::le: return "le";
            case kind::own: return own[e.index];
            case kind::external: break;
        }
        return external_[e.index].first;
    }

    // The entries in the order they go out. Entries of one name are adjacent,
    // the one to send first: the caller skips empty values and repeated names.
    std::span<const entry> order(std::span<const std::string_view> names, bool le) {
        cached& c = cache_[le ? 1 : 0];
        if (!c.valid || !same_names(c, names)) rebuild(c, names, le);
        return c.order;
    }

private:
    struct cached {
        bool valid = false;
        std::string names;                  // the names it was built for, concatenated
        std::vector<std::uint32_t> sizes;
        std::vector<entry> order;
    };

    static bool same_names(const cached& c, std::span<const std::string_view> names) noexcept {
        if (c.sizes.size() != names.size()) return false;
        std::size_t at = 0;
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (names[i] != std::string_view(c.names).substr(at, c.sizes[i])) return false;
            at += c.sizes[i];
        }
        return true;
    }

    void rebuild(cached& c, std::span<const std::string_view> names, bool le) {
        c.valid = true;
        c.names.clear();
        c.sizes.clear();
        for (const std::string_view n : names) {
            c.names.append(n);
            c.sizes.push_back(static_cast<std::uint32_t>(n.size()));
        }
        // Pushed in the order that wins a tie, then stably sorted by name.
        c.order.clear();
        c.order.push_back({kind::name, 0});
        for (std::size_t i = 0; i < names.size(); ++i) c.order.push_back({kind::own, static_cast<std::uint32_t>(i)});
        if (le) c.order.push_back({kind::le, 0});
        for (std::size_t i = 0; i < external_.size(); ++i)
            if (!external_[i].first.empty() && !external_[i].second.empty())
                c.order.push_back({kind::external, static_cast<std::uint32_t>(i)});
        for (std::size_t i = 1; i < c.order.size(); ++i)  // insertion sort: stable, few entries
            for (std::size_t j = i; j > 0 && name_of(c.order[j], names) < name_of(c.order[j - 1], names); --j)
                std::swap(c.order[j], c.order[j - 1]);
    }

    std::span<const std::pair<std::string, std::string>> external_;
    cached cache_[2];  // without and with the `le` slot
};

}  // namespace llmetrics::detail

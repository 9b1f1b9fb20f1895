// libFuzzer target: Pushgateway grouping-key encoding. Whatever the job and label
// values, the path either is refused (std::invalid_argument) or decodes back to
// exactly the values given: plain segments are URL-unreserved characters only,
// and @base64 segments are URL-safe base64 of the value.

#include <llmetrics/serve/detail/base64.hpp>
#include <llmetrics/serve/pushgateway.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    for (;;) {
        const std::size_t at = s.find(sep);
        out.push_back(s.substr(0, at));
        if (at == std::string_view::npos) return out;
        s.remove_prefix(at + 1);
    }
}

std::string decode(std::string_view name, std::string_view segment) {
    if (!name.ends_with("@base64")) {
        for (const char c : segment)
            if (!llmetrics::detail::is_url_unreserved(c)) std::abort();
        if (segment.empty() || segment == "." || segment == "..") std::abort();
        return std::string(segment);
    }
    if (segment == "=") return {};
    const auto v = llmetrics::detail::base64_decode(segment, llmetrics::detail::base64_alphabet::url_safe);
    if (!v) std::abort();
    return *v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Input: job \0 name1 \0 value1 \0 name2 \0 value2 ...
    const std::vector<std::string_view> parts = split(std::string_view(reinterpret_cast<const char*>(data), size), '\0');
    const std::string job(parts[0]);
    llmetrics::grouping_labels grouping;
    for (std::size_t i = 1; i + 1 < parts.size(); i += 2) grouping.emplace_back(parts[i], parts[i + 1]);

    std::string path;
    try {
        path = llmetrics::detail::grouping_path(job, grouping);
    } catch (const std::invalid_argument&) {
        return 0;
    }
    if (!path.starts_with("/metrics/")) std::abort();
    const std::vector<std::string_view> segments = split(std::string_view(path).substr(9), '/');
    if (segments.size() != 2 * (grouping.size() + 1)) std::abort();
    if (segments[0] != "job" && segments[0] != "job@base64") std::abort();
    if (decode(segments[0], segments[1]) != job) std::abort();
    for (std::size_t i = 0; i < grouping.size(); ++i) {
        const std::string_view name = segments[2 + 2 * i];
        const std::string_view bare = name.ends_with("@base64") ? name.substr(0, name.size() - 7) : name;
        if (bare != grouping[i].first) std::abort();
        if (decode(name, segments[3 + 2 * i]) != grouping[i].second) std::abort();
    }
    // And base64 itself: decoding arbitrary bytes never crashes; re-encoding what
    // decoded gives back a canonical spelling that decodes to the same bytes.
    for (const auto alphabet : {llmetrics::detail::base64_alphabet::standard, llmetrics::detail::base64_alphabet::url_safe}) {
        const auto decoded = llmetrics::detail::base64_decode(job, alphabet);
        if (decoded && llmetrics::detail::base64_decode(llmetrics::detail::base64_encode(*decoded, alphabet), alphabet) != decoded)
            std::abort();
    }
    return 0;
}

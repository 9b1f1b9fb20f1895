#pragma once
// What the unit tests read back from a Prometheus text exposition.

#include <optional>
#include <string>
#include <string_view>

// The value of the sample line "series value" ("name{labels}" as rendered), or
// nullopt when no line starts with it.
inline std::optional<double> sample(const std::string& text, std::string_view series) {
    std::size_t pos = 0;
    while ((pos = text.find(series, pos)) != std::string::npos) {
        const std::size_t after = pos + series.size();
        if ((pos == 0 || text[pos - 1] == '\n') && after < text.size() && text[after] == ' ')
            return std::stod(text.substr(after + 1, text.find('\n', after) - after - 1));
        pos = after;
    }
    return std::nullopt;
}

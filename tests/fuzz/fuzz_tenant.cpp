// libFuzzer target: an X-Tenant-ID header value (any bytes) as a label value, the
// way the demo service records it, rendered in every format. Escaping and UTF-8
// repair must keep the exposition's shape whatever the value: the same number of
// lines as with a plain tenant, valid UTF-8 throughout, and JSON that parses.

#include <llmetrics/llmetrics.hpp>
#include <llmetrics/core/detail/utf8.hpp>
#include <llmetrics/exposition/render.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

namespace lm = llmetrics;
using requests_total = lm::counter<"http_requests_total", "Requests", lm::labels<"method", "tenant_id">>;
using latency_seconds = lm::histogram<"latency_seconds", "Latency", lm::labels<"tenant_id">, lm::buckets<0.1, 1>>;

std::string render_with(std::string_view tenant, lm::format f) {
    lm::registry<requests_total, latency_seconds> metrics;
    metrics.get<requests_total>().labels("POST", tenant).inc();
    metrics.get<latency_seconds>().labels(tenant).observe(0.5);
    return lm::render(metrics, f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view tenant(reinterpret_cast<const char*>(data), size);
    for (const lm::format f : {lm::format::prometheus, lm::format::openmetrics}) {
        const std::string got = render_with(tenant, f);
        const std::string plain = render_with("tenant-a", f);
        if (std::count(got.begin(), got.end(), '\n') != std::count(plain.begin(), plain.end(), '\n')) std::abort();
        if (!lm::detail::is_valid_utf8(got)) std::abort();
    }
    const std::string json = render_with(tenant, lm::format::json);
    if (nlohmann::json::parse(json, nullptr, false).is_discarded()) std::abort();
    return 0;
}

// libFuzzer target: the header parsers of the exposer that see untrusted bytes
// (Accept, Accept-Encoding, Authorization). None may crash, hang or throw.

#include <llmetrics/exposition/negotiate.hpp>
#include <llmetrics/serve/auth.hpp>
#include <llmetrics/serve/detail/gzip.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const llmetrics::exposition_choice c = llmetrics::negotiate_exposition(text);
    const llmetrics::format f = c.fmt;
    if (f != llmetrics::format::prometheus && f != llmetrics::format::openmetrics && f != llmetrics::format::json &&
        f != llmetrics::format::prometheus_v1)
        std::abort();
    if (c.content_type().empty() || f != llmetrics::negotiate(text)) std::abort();
    (void)llmetrics::detail::accepts_gzip(text);

    static const llmetrics::http_auth bearer = llmetrics::http_auth::bearer("fuzz-token");
    static const llmetrics::http_auth basic = llmetrics::http_auth::basic("user", "pass");
    const bool b = bearer.check(text);
    if (b && text.find("fuzz-token") == std::string_view::npos) std::abort();  // only the token opens
    (void)basic.check(text);
    return 0;
}

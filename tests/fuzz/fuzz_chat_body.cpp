// libFuzzer target: the chat completion body llmetrics-demo's service parses
// (apps/llmetrics-demo/chat_request.hpp). Any bytes: no crash, no exception, and an accepted
// body has what the parser promises (non-empty model, max_tokens in range).

#include "../../apps/llmetrics-demo/chat_request.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    llmetrics_demo::chat_request chat;
    const std::string error =
        llmetrics_demo::parse_chat_request(std::string_view(reinterpret_cast<const char*>(data), size), chat);
    if (error.empty() && (chat.model.empty() || chat.max_tokens > 1'000'000)) std::abort();
    return 0;
}

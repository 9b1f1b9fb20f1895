#pragma once
// The body of an OpenAI-style `POST /v1/chat/completions`, as llmetrics-demo's
// service mode reads it (shared with tests/fuzz/fuzz_chat_body.cpp):
//
//   {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}],
//    "max_tokens": 100, "stream": false}
//
// `model` (non-empty string) and `messages` (non-empty array of objects with a
// string `role` and a string or null `content`) are required; `max_tokens`
// (integer 1..1000000) and `stream` (boolean) are optional; other members are
// ignored, as OpenAI-compatible servers do. Anything else is refused with a
// message saying what is wrong. Never throws.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace llmetrics_demo {

struct chat_request {
    std::string model;
    std::string prompt;  // the messages' contents, one per line
    std::uint64_t max_tokens = 0;  // 0: not given
    bool stream = false;
};

// Empty on success; otherwise what is wrong with the body.
inline std::string parse_chat_request(std::string_view body, chat_request& out) {
    const nlohmann::json j = nlohmann::json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return "the body is not valid JSON";
    if (!j.is_object()) return "the body must be a JSON object";

    const auto model = j.find("model");
    if (model == j.end() || !model->is_string() || model->get_ref<const std::string&>().empty())
        return "'model' must be a non-empty string";
    out.model = model->get<std::string>();

    const auto messages = j.find("messages");
    if (messages == j.end() || !messages->is_array() || messages->empty())
        return "'messages' must be a non-empty array";
    out.prompt.clear();
    for (const auto& m : *messages) {
        if (!m.is_object()) return "each message must be an object";
        const auto role = m.find("role");
        if (role == m.end() || !role->is_string()) return "each message needs a string 'role'";
        const auto content = m.find("content");
        if (content == m.end() || !(content->is_string() || content->is_null()))
            return "each message needs a 'content' string (or null)";
        if (content->is_string()) {
            if (!out.prompt.empty()) out.prompt += '\n';
            out.prompt += content->get_ref<const std::string&>();
        }
    }

    out.max_tokens = 0;
    if (const auto max_tokens = j.find("max_tokens"); max_tokens != j.end() && !max_tokens->is_null()) {
        if (!max_tokens->is_number_integer()) return "'max_tokens' must be an integer";
        const auto v = max_tokens->get<std::int64_t>();
        if (v < 1 || v > 1'000'000) return "'max_tokens' must be between 1 and 1000000";
        out.max_tokens = static_cast<std::uint64_t>(v);
    }
    out.stream = false;
    if (const auto stream = j.find("stream"); stream != j.end() && !stream->is_null()) {
        if (!stream->is_boolean()) return "'stream' must be a boolean";
        out.stream = stream->get<bool>();
    }
    return {};
}

}  // namespace llmetrics_demo

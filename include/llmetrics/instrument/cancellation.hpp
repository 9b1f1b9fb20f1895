#pragma once
// A client that goes away before its answer is complete: the stage it left at,
// and the exception a router (or its chunk callback) throws to stop the work.
// monitored_router counts such a call in catalog::streaming::client_cancellations_total
// instead of as an error:
//   - process_stream's chunk callback returns false (the client is gone): the
//     router should stop producing; whatever it returns, the call is a cancellation;
//   - the router or the callback throws client_disconnected (rethrown unchanged);
//   - record_cancellation(options, cancellation_stage::queued) for a request whose
//     client left before the call started.
// The stage is mid_stream once a chunk reached the client, before_first_token
// otherwise.

#include <stdexcept>
#include <string_view>

namespace llmetrics {

enum class cancellation_stage { queued, before_first_token, mid_stream };

// The `stage` label's value.
constexpr std::string_view stage_name(cancellation_stage s) noexcept {
    switch (s) {
    case cancellation_stage::queued: return "queued";
    case cancellation_stage::before_first_token: return "before_first_token";
    case cancellation_stage::mid_stream: return "mid_stream";
    }
    return "mid_stream";
}

struct client_disconnected : std::runtime_error {
    client_disconnected() : std::runtime_error("the client disconnected") {}
    using std::runtime_error::runtime_error;
};

}  // namespace llmetrics

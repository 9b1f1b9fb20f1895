#pragma once
// The label values monitored_router uses when a call's options leave one empty
// (the tutorial's defaults); change them with monitored_router::set_defaults().

#include <string>

namespace llmetrics {

struct label_defaults {
    std::string model = "default";
    std::string strategy = "balanced";
    std::string tenant_id = "unknown";
    std::string provider = "unknown";  // gen_ai_provider_name
    std::string operation = "chat";    // gen_ai_operation_name
};

}  // namespace llmetrics

// expect-error: llmetrics: a registry given to monitored_router holds none of the families it records
#include <string_view>
#include <llmetrics/instrument/monitored_router.hpp>
namespace lm = llmetrics;
struct a_router {
    lm::inference_result process(std::string_view, const lm::request_options&) { return {}; }
    void register_model(const lm::model_config&) {}
};
using restarts_total = lm::counter<"restarts_total", "Restarts">;
int main() {
    a_router engine;
    lm::registry<restarts_total> metrics;
    lm::monitored_router router{engine, metrics};
    (void)router;
}

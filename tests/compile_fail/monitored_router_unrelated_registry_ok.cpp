// expect: compiles
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
    lm::registry<restarts_total, lm::catalog::errors_total> metrics;  // holds one family the decorator records
    lm::monitored_router router{engine, metrics};
    (void)router;
}

// expect-error: llmetrics: the wrapped type does not model llmetrics::llm_router
#include <string_view>
#include <llmetrics/instrument/monitored_router.hpp>
namespace lm = llmetrics;
struct not_a_router {
    int generate(std::string_view) { return 0; }  // no process(prompt, options), no register_model(config)
};
int main() {
    not_a_router engine;
    lm::catalog_registry metrics;
    lm::monitored_router router{engine, metrics};
    (void)router;
}

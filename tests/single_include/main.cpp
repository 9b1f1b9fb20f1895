// Built against single_include/ only: proves the amalgamated header stands alone.
#include <llmetrics.hpp>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace {

// A runtime collector is part of the public API; implement one to make sure the
// interface is complete in the single header.
struct constant_collector final : llmetrics::collector {
    void collect(std::vector<llmetrics::family_snapshot>& out) override { out.emplace_back(); }
};

static_assert(llmetrics::text_output<std::string>);

}  // namespace

int main() {
    using namespace std::string_view_literals;
    constant_collector c;
    std::vector<llmetrics::family_snapshot> families;
    c.collect(families);
    if (families.size() != 1 ||
        llmetrics::to_string(llmetrics::metric_type::histogram) != "histogram"sv) {
        std::puts("single header: unexpected result");
        return 1;
    }
    std::puts("single header OK");
    return 0;
}

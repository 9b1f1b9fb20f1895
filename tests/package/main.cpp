// Consumer of an installed llmetrics: builds with nothing but find_package().
#include <llmetrics/llmetrics.hpp>

#include <cstdio>
#include <string_view>

int main() {
    using namespace std::string_view_literals;
    if (llmetrics::to_string(llmetrics::metric_type::counter) != "counter"sv) {
        std::puts("unexpected metric type name");
        return 1;
    }
    std::puts("llmetrics package OK");
    return 0;
}

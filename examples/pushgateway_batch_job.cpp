// A batch job that is not scraped: it records what it did and pushes the
// registry to a Prometheus Pushgateway when it ends. push() (HTTP PUT) replaces
// the whole group <url>/metrics/job/<job>{/<label>/<value>}; push_add() (POST)
// only the families sent; remove() deletes the group. A failure throws
// pushgateway_error with the HTTP status (0: no answer).
//
//     pushgateway_batch_job http://127.0.0.1:9091
#include <cstdio>
#include <string>

#include <llmetrics/serve.hpp>

namespace lm = llmetrics;

struct records_total : lm::counter<"import_records_total", "Records read", lm::labels<"outcome">> {};
struct batch_seconds : lm::gauge<"import_duration_seconds", "How long the last run took"> {};

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s PUSHGATEWAY_URL\n", argv[0]);
        return 2;
    }
    lm::registry<records_total, batch_seconds> metrics;
    metrics.get<records_total>().labels("imported").inc(1250);  // the job's work, summed up
    metrics.get<records_total>().labels("rejected").inc(3);
    metrics.get<batch_seconds>().labels().set(12.5);

    lm::pushgateway gateway{argv[1], "nightly_import", {{"instance", "db-7"}}};
    std::printf("PUT <url>%s\n", gateway.path().c_str());
    const std::string body = lm::render(metrics, lm::format::prometheus);  // what push() sends
    for (std::size_t pos = 0, end; pos < body.size(); pos = end + 1) {
        end = body.find('\n', pos);
        if (body.compare(pos, 7, "import_") == 0) std::printf("  %s\n", body.substr(pos, end - pos).c_str());
    }
    try {
        gateway.push(metrics);
        std::printf("push: ok\n");
        gateway.remove();  // a real job would leave its group for Prometheus to scrape
        std::printf("remove: ok\n");
    } catch (const lm::pushgateway_error& e) {
        std::printf("push failed: status %u: %s\n", e.status(), e.what());
        return 1;
    }
}

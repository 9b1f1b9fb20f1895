// storage/detail/stripes.hpp on its own: which stripe a thread writes, whatever
// threads came and went before it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

#include <llmetrics/storage/detail/stripes.hpp>

namespace lmd = llmetrics::detail;

namespace {

std::size_t stripe_of_new_thread() {
    std::size_t s = lmd::stripe_count;
    std::thread([&] { s = lmd::this_thread_stripe(); }).join();
    return s;
}

std::array<unsigned, lmd::stripe_count> holders() {
    std::array<unsigned, lmd::stripe_count> out{};
    for (std::size_t i = 0; i < lmd::stripe_count; ++i) out[i] = lmd::stripe_holders[i].load();
    return out;
}

unsigned holders_total() {
    unsigned n = 0;
    for (unsigned h : holders()) n += h;
    return n;
}

unsigned spread(const std::array<unsigned, lmd::stripe_count>& a) {
    const auto [lo, hi] = std::minmax_element(a.begin(), a.end());
    return *hi - *lo;
}

}  // namespace

TEST_CASE("a live thread and a new one get different stripes after any history", "[stripes]") {
    const std::size_t mine = lmd::this_thread_stripe();
    REQUIRE(mine < lmd::stripe_count);
    const unsigned before = holders_total();
    // The round-robin hand-out this replaced failed for every history of k threads
    // with k + 1 a multiple of the stripe count.
    for (int k = 0; k < 3 * static_cast<int>(lmd::stripe_count); ++k) {
        INFO("short-lived threads before: " << k);
        for (int i = 0; i < k; ++i) (void)stripe_of_new_thread();
        const auto counts = holders();
        const unsigned fewest = *std::min_element(counts.begin(), counts.end());
        std::size_t other = lmd::stripe_count;
        std::atomic<bool> claimed{false}, done{false};
        std::thread t([&] {
            other = lmd::this_thread_stripe();
            claimed = true;
            while (!done) std::this_thread::yield();
        });
        while (!claimed) std::this_thread::yield();
        REQUIRE(other < lmd::stripe_count);
        CHECK(counts[other] == fewest);  // the emptiest stripe
        // Only this thread holds a stripe in a test binary at rest, so the new
        // thread gets another one.
        if (lmd::stripe_count > 1 && fewest < counts[mine]) CHECK(other != mine);
        if (lmd::stripe_count > 1) CHECK(fewest < counts[mine]);
        CHECK(holders_total() == before + 1);
        done = true;
        t.join();
        CHECK(holders_total() == before);  // released at thread exit
    }
    CHECK(lmd::this_thread_stripe() == mine);  // a thread keeps its stripe
}

TEST_CASE("live threads spread over the stripes, at most one more per stripe than another", "[stripes]") {
    const unsigned before = holders_total();
    const unsigned spread_before = spread(holders());
    const std::size_t threads = 2 * lmd::stripe_count + 1;
    std::vector<std::size_t> got(threads, lmd::stripe_count);
    std::atomic<std::size_t> ready{0};
    std::atomic<bool> done{false};
    std::vector<std::thread> pool;
    for (std::size_t i = 0; i < threads; ++i)
        pool.emplace_back([&, i] {
            got[i] = lmd::this_thread_stripe();
            ++ready;
            while (!done) std::this_thread::yield();
        });
    while (ready < threads) std::this_thread::yield();
    for (std::size_t s : got) REQUIRE(s < lmd::stripe_count);
    // Each claim takes an emptiest stripe, so claims never widen the spread past one.
    CHECK(spread(holders()) <= std::max(1u, spread_before));
    CHECK(holders_total() == before + threads);
    done = true;
    for (auto& t : pool) t.join();
    CHECK(holders_total() == before);
}

TEST_CASE("owned stripes: one live thread each, the rest share one stripe, all given back at exit", "[stripes]") {
    const auto owned = [] {
        std::size_t n = 0;
        for (const auto& o : lmd::stripe_owned) n += o.load() ? 1 : 0;
        return n;
    };
    const std::size_t before = owned();  // this thread may own one already
    const std::size_t threads = lmd::stripe_count + 2;
    std::vector<std::size_t> got(threads, 0);
    std::vector<char> kept(threads, 0);  // Catch's macros are for the main thread only
    std::atomic<std::size_t> ready{0};
    std::atomic<bool> done{false};
    std::vector<std::thread> pool;
    for (std::size_t i = 0; i < threads; ++i)
        pool.emplace_back([&, i] {
            got[i] = lmd::this_thread_owned_stripe();
            kept[i] = lmd::this_thread_owned_stripe() == got[i];
            ++ready;
            while (!done) std::this_thread::yield();
        });
    while (ready < threads) std::this_thread::yield();
    for (char k : kept) CHECK(k);  // a thread keeps its stripe
    std::vector<std::size_t> seen;
    std::size_t shared = 0;
    for (std::size_t s : got) {
        if (s == lmd::shared_stripe) {
            ++shared;
            continue;
        }
        REQUIRE(s < lmd::stripe_count);
        CHECK(std::find(seen.begin(), seen.end(), s) == seen.end());  // never two live owners
        seen.push_back(s);
    }
    CHECK(seen.size() == lmd::stripe_count - before);  // every free stripe was taken
    CHECK(shared == threads - seen.size());
    CHECK(owned() == lmd::stripe_count);
    done = true;
    for (auto& t : pool) t.join();
    CHECK(owned() == before);  // given back at exit
    // A new thread gets one of them again.
    std::size_t again = lmd::shared_stripe;
    std::thread([&] { again = lmd::this_thread_owned_stripe(); }).join();
    CHECK((before == lmd::stripe_count || again < lmd::stripe_count));
}

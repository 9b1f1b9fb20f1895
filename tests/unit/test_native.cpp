// Native histograms: the bucket math against an exact integer reference, the
// series (counts, zero bucket, signs, infinities, NaN), the bucket-limit strategy,
// classic + native agreement, and writers racing a scraper through layout changes.
#include <catch2/catch.hpp>

#include "under_sanitizer.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <llmetrics/llmetrics.hpp>

namespace lm = llmetrics;
namespace lmd = llmetrics::detail;

namespace {

// --- an exact reference, written without frexp or the table -----------------------
// Unsigned big integers, only what the reference needs: multiply and bit length.
using big = std::vector<std::uint32_t>;  // little-endian limbs

big big_of(std::uint64_t v) { return {static_cast<std::uint32_t>(v), static_cast<std::uint32_t>(v >> 32)}; }

big big_mul(const big& a, const big& b) {
    big out(a.size() + b.size(), 0);
    for (std::size_t i = 0; i < a.size(); ++i) {
        std::uint64_t carry = 0;
        for (std::size_t j = 0; j < b.size(); ++j) {
            const std::uint64_t t = std::uint64_t{a[i]} * b[j] + out[i + j] + carry;
            out[i + j] = static_cast<std::uint32_t>(t);
            carry = t >> 32;
        }
        out[i + b.size()] += static_cast<std::uint32_t>(carry);
    }
    while (out.size() > 1 && out.back() == 0) out.pop_back();
    return out;
}

long long bit_length(const big& a) {
    for (std::size_t i = a.size(); i-- > 0;)
        if (a[i]) return static_cast<long long>(i) * 32 + (32 - __builtin_clz(a[i]));
    return 0;
}

// x^(2^k) by k squarings.
big power_of_power(std::uint64_t x, int k) {
    big p = big_of(x);
    for (int i = 0; i < k; ++i) p = big_mul(p, p);
    return p;
}

long long floor_div(long long a, long long b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// The smallest i with a <= 2^(i / 2^s), for finite a > 0: with a = M * 2^E (M odd),
// a^(2^s) = M^(2^s) * 2^(E * 2^s), and the index is the ceiling of its log2.
std::int32_t reference_index(double a, int schema) {
    std::uint64_t bits;
    std::memcpy(&bits, &a, 8);
    const int biased = static_cast<int>(bits >> 52);
    std::uint64_t m = bits & ((std::uint64_t{1} << 52) - 1);
    long long e;
    if (biased == 0) {
        e = -1074;  // subnormal: m * 2^-1074
    } else {
        m |= std::uint64_t{1} << 52;
        e = biased - 1075;
    }
    while ((m & 1) == 0) {
        m >>= 1;
        ++e;
    }
    if (schema > 0) {
        const long long per = 1LL << schema;
        const long long log_ceil = m == 1 ? 0 : bit_length(power_of_power(m, schema));
        return static_cast<std::int32_t>(e * per + log_ceil);
    }
    const long long i0 = e + (m == 1 ? 0 : bit_length(big_of(m)));
    return static_cast<std::int32_t>(-floor_div(-i0, 1LL << -schema));
}

double random_double(std::mt19937_64& rng) {
    const std::uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
}

// --- reading a series ---------------------------------------------------------------
// Makes the cells created in its scope use the given owner mode: the asymmetric
// fence (membarrier) or the pin every system has (storage/detail/asymmetric_fence.hpp).
struct owner_mode {
    explicit owner_mode(bool fenced) { lmd::asymmetric_fence_override.store(fenced ? 1 : 0); }
    ~owner_mode() { lmd::asymmetric_fence_override.store(-1); }
    owner_mode(const owner_mode&) = delete;
    owner_mode& operator=(const owner_mode&) = delete;
};

struct buckets_by_index {
    int schema = 0;
    double zero_threshold = 0;
    std::uint64_t zero = 0, count = 0;
    double sum = 0;
    std::map<std::int32_t, std::uint64_t> pos, neg;
};

void expand(std::span<const lm::native_bucket_span> spans, std::span<const std::uint64_t> counts,
            std::map<std::int32_t, std::uint64_t>& out) {
    std::int32_t at = 0;
    std::size_t c = 0;
    for (std::size_t s = 0; s < spans.size(); ++s) {
        at += spans[s].offset;
        for (std::uint32_t k = 0; k < spans[s].length; ++k, ++at, ++c)
            if (counts[c]) out[at] += counts[c];
    }
    REQUIRE(c == counts.size());
}

template <class S>
buckets_by_index read(const S& s) {
    lmd::native_reading r;
    std::array<std::uint64_t, S::has_classic ? S::bucket_count + 1 : 0> classic{};
    s.read(classic, r);
    buckets_by_index out;
    out.schema = r.schema;
    out.zero_threshold = r.zero_threshold;
    out.zero = r.zero_count;
    out.count = r.count;
    out.sum = r.sum;
    expand(r.positive_spans, r.positive_counts, out.pos);
    expand(r.negative_spans, r.negative_counts, out.neg);
    return out;
}

std::uint64_t total(const std::map<std::int32_t, std::uint64_t>& m) {
    std::uint64_t n = 0;
    for (const auto& [i, c] : m) n += c;
    return n;
}

// Captures what a family hands the encoder.
struct capture_encoder {
    double created = 0;
    std::vector<lm::exemplar_view> exemplars;
    std::vector<std::uint64_t> classic;
    std::uint64_t count = 0;
    int schema = 0;
    void begin_family(const lm::family_header&) {}
    void counter(lm::labels_view, lm::counter_value, double, const lm::exemplar_view*) {}
    void gauge(lm::labels_view, double) {}
    void histogram(lm::labels_view, std::span<const double>, std::span<const std::uint64_t>, double, double,
                   std::span<const lm::exemplar_view>) {}
    void native_histogram(lm::labels_view, const lm::native_histogram_view& v, std::span<const double>,
                          std::span<const std::uint64_t> counts, double c, std::span<const lm::exemplar_view> xs) {
        created = c;
        count = v.count;
        schema = v.schema;
        classic.assign(counts.begin(), counts.end());
        exemplars.assign(xs.begin(), xs.end());
    }
    void end_family() {}
    void finish() {}
};

}  // namespace

TEST_CASE("native: every per-octave bound is the correctly rounded 2^(j/256)/2", "[native]") {
    // d = D * 2^-53 is correctly rounded iff x = 2^(j/256)/2 lies strictly between the
    // midpoints (2D -+ 1) * 2^-54, i.e. (2D-1)^256 < 2^(j + 53*256) < (2D+1)^256;
    // (2D +- 1) is odd, so neither side is a power of two and bit lengths decide.
    CHECK(lmd::native_octave_bounds[0] == 0.5);
    for (int j = 1; j < 256; ++j) {
        const double d = lmd::native_octave_bounds[static_cast<std::size_t>(j)];
        REQUIRE(d > 0.5);
        REQUIRE(d < 1.0);
        const auto D = static_cast<std::uint64_t>(std::ldexp(d, 53));
        const long long k = j + 53LL * 256;
        INFO("j = " << j);
        CHECK(bit_length(power_of_power(2 * D + 1, 8)) - 1 >= k);  // above 2^k
        CHECK(bit_length(power_of_power(2 * D - 1, 8)) <= k);      // below 2^k
        // Rounded up iff D^256 > 2^(j + 52*256) (never equal: D is no power of two).
        const bool up = bit_length(power_of_power(D, 8)) - 1 >= j + 52LL * 256;
        CHECK(((lmd::native_bounds_rounded_up[static_cast<std::size_t>(j) / 64] >> (j % 64)) & 1) == (up ? 1u : 0u));
    }
}

TEST_CASE("native: bucket index equals the exact reference (fuzz, all schemas)", "[native]") {
    std::mt19937_64 rng(20260311);
    std::vector<double> values{1.0, 2.0, 0.5, 3.0, 0.75, std::numeric_limits<double>::max(),
                               std::numeric_limits<double>::min(), std::numeric_limits<double>::denorm_min(),
                               std::nextafter(1.0, 2.0), std::nextafter(1.0, 0.0), std::ldexp(1.0, -1074),
                               std::ldexp(1.0, 1023), std::ldexp(1.0, -1022) * 0.75, 1e-300, 1e300};
    const int n = under_sanitizer() ? 300 : 1500;
    for (int k = 0; k < n; ++k) {
        double v = random_double(rng);
        int ex = 0;
        const double f = std::frexp(v, &ex);
        if (k % 3 == 0 && std::isfinite(f) && f != 0)  // any mantissa at any scale, subnormals included
            v = std::ldexp(f, static_cast<int>(rng() % 2200) - 1100);
        values.push_back(v);
    }
    for (int schema = lmd::native_min_schema; schema <= lmd::native_max_schema; ++schema) {
        for (double v : values) {
            const double a = std::abs(v);
            if (!(a > 0) || std::isinf(a)) continue;  // NaN and zero never get an index
            INFO("schema " << schema << " value " << a);
            REQUIRE(lmd::native_bucket_index(a, schema) == reference_index(a, schema));
        }
        // +Inf goes to the bucket with the largest index, that of DBL_MAX.
        CHECK(lmd::native_bucket_index(std::numeric_limits<double>::infinity(), schema) ==
              reference_index(std::numeric_limits<double>::max(), schema));
    }
}

TEST_CASE("native: bucket bounds bracket the value; halving maps indices like the reference", "[native]") {
    std::mt19937_64 rng(7);
    for (int k = 0; k < 3000; ++k) {
        const double a = std::ldexp(0.5 + static_cast<double>(rng() >> 12) * 0x1p-53, static_cast<int>(rng() % 1800) - 900);
        for (int schema = lmd::native_min_schema; schema <= lmd::native_max_schema; ++schema) {
            const std::int32_t i = lmd::native_bucket_index(a, schema);
            INFO("schema " << schema << " value " << a << " index " << i);
            REQUIRE(lmd::native_bucket_upper(i - 1, schema) < a);
            REQUIRE(a <= lmd::native_bucket_upper(i, schema));
            if (schema > lmd::native_min_schema)
                REQUIRE(lmd::native_halve_index(i) == lmd::native_bucket_index(a, schema - 1));
        }
    }
    // Floor semantics on negative indices: buckets -1 and -2 at schema 1 are one at schema 0.
    CHECK(lmd::native_halve_index(-1) == 0);
    CHECK(lmd::native_halve_index(-2) == -1);
    CHECK(lmd::native_halve_index(-3) == -1);
}

TEST_CASE("native: options reach the descriptor", "[native]") {
    struct h : lm::native_histogram<"h_seconds", "h", lm::labels<>, lm::native_schema<-2>, lm::native_max_buckets<40>,
                                    lm::native_zero_threshold<"0.001">, lm::native_max_zero_threshold_exp2<-3>,
                                    lm::native_min_reset<60>> {};
    STATIC_REQUIRE(h::native);
    STATIC_REQUIRE(!h::classic);
    STATIC_REQUIRE(h::native_schema == -2);
    STATIC_REQUIRE(h::native_max_buckets == 40);
    STATIC_REQUIRE(h::native_zero_threshold == 0.001);
    STATIC_REQUIRE(h::native_max_zero_threshold == 0.125);
    STATIC_REQUIRE(h::native_min_reset_seconds == 60);
    struct d : lm::native_histogram<"d_seconds", "h"> {};
    STATIC_REQUIRE(d::native_schema == 3);
    STATIC_REQUIRE(d::native_max_buckets == 160);
    STATIC_REQUIRE(d::native_zero_threshold == 0x1p-128);
    STATIC_REQUIRE(d::native_max_zero_threshold == 0x1p-128);
    STATIC_REQUIRE(d::native_min_reset_seconds == 0);
    struct c : lm::histogram<"c_seconds", "h", lm::labels<>, lm::buckets<1, 2>> {};
    STATIC_REQUIRE(!c::native);
}

TEST_CASE("native: exact counts and sum per schema, zero bucket, signs, infinities and NaN", "[native]") {
    struct s3 : lm::native_histogram<"s3_seconds", "h", lm::labels<>> {};
    struct s0 : lm::native_histogram<"s0_seconds", "h", lm::labels<>, lm::native_schema<0>> {};
    struct sm2 : lm::native_histogram<"sm2_seconds", "h", lm::labels<>, lm::native_schema<-2>,
                                      lm::native_zero_threshold<"0.001">, lm::native_max_buckets<1000>> {};
    lm::registry<s3, s0, sm2> r;

    auto& a = r.get<s3>().labels();
    for (double v : {1.0, 2.0, 1.5, 1.5, -1.5, 0.0}) a.observe(v);
    auto ra = read(a);
    CHECK(ra.schema == 3);
    CHECK(ra.pos == std::map<std::int32_t, std::uint64_t>{{0, 1}, {5, 2}, {8, 1}});  // 1.5 in (2^(4/8), 2^(5/8)]
    CHECK(ra.neg == std::map<std::int32_t, std::uint64_t>{{5, 1}});
    CHECK(ra.zero == 1);
    CHECK(ra.count == 6);
    CHECK(ra.sum == 4.5);

    auto& b = r.get<s0>().labels();
    for (double v : {0.75, 3.0, 4.0, 5.0, std::ldexp(1.0, -1074)}) b.observe(v);
    auto rb = read(b);
    CHECK(rb.pos == std::map<std::int32_t, std::uint64_t>{{0, 1}, {2, 2}, {3, 1}});
    CHECK(rb.zero == 1);  // the smallest subnormal is below the default 2^-128
    CHECK(rb.count == 5);

    auto& c = r.get<sm2>().labels();
    c.observe(0.001);  // <= threshold: zero bucket
    c.observe(-0.0005);
    c.observe(std::numeric_limits<double>::infinity());
    c.observe(-std::numeric_limits<double>::infinity());
    c.observe(20.0);  // 2^4 < 20 <= 2^8: bucket 2 at schema -2
    auto rc = read(c);
    CHECK(rc.zero == 2);
    CHECK(rc.zero_threshold == 0.001);
    CHECK(rc.pos == std::map<std::int32_t, std::uint64_t>{{2, 1}, {256, 1}});  // +Inf: the bucket of DBL_MAX
    CHECK(rc.neg == std::map<std::int32_t, std::uint64_t>{{256, 1}});
    CHECK(rc.count == 5);
    c.observe(std::nan(""));
    rc = read(c);
    CHECK(rc.count == 6);  // NaN: in count, in no bucket
    CHECK(rc.zero + total(rc.pos) + total(rc.neg) == 5);
    CHECK(std::isnan(rc.sum));
}

TEST_CASE("native: over the bucket limit the resolution halves and the output shows the schema", "[native]") {
    struct h : lm::native_histogram<"h_seconds", "h", lm::labels<>, lm::native_max_buckets<4>> {};
    lm::registry<h> r;
    auto& s = r.get<h>().labels();
    s.observe(1.0);  // index 0 at schema 3
    s.observe(2.0);  // index 8: span 9 > 4; schema 2 (0, 4): 5 > 4; schema 1 (0, 2): fits
    auto got = read(s);
    CHECK(got.schema == 1);
    CHECK(got.pos == std::map<std::int32_t, std::uint64_t>{{0, 1}, {2, 1}});
    s.observe(1.2);  // new observations land at schema 1
    got = read(s);
    CHECK(got.pos == std::map<std::int32_t, std::uint64_t>{{0, 1}, {1, 1}, {2, 1}});
    CHECK(got.count == 3);
    capture_encoder e;
    r.get<h>().visit(e, "h_seconds");
    CHECK(e.schema == 1);
    CHECK(e.count == 3);
}

TEST_CASE("native: over the bucket limit the zero bucket widens up to its maximum", "[native]") {
    struct h : lm::native_histogram<"h_seconds", "h", lm::labels<>, lm::native_max_buckets<2>,
                                    lm::native_max_zero_threshold<1>> {};
    lm::registry<h> r;
    auto& s = r.get<h>().labels();
    s.observe(1.0);
    s.observe(0.9);
    s.observe(4.0);  // indices 0 and 16: the bucket nearest zero (upper bound 1) joins the zero bucket
    auto got = read(s);
    CHECK(got.schema == 3);
    CHECK(got.zero_threshold == 1.0);
    CHECK(got.zero == 2);
    CHECK(got.pos == std::map<std::int32_t, std::uint64_t>{{16, 1}});
    s.observe(0.5);  // now under the threshold
    s.observe(64.0);  // index 48: widening to 2^2 would pass the maximum, so the schema halves
    got = read(s);
    CHECK(got.zero == 3);
    CHECK(got.zero_threshold == 1.0);
    CHECK(got.schema < 3);
    CHECK(got.count == 5);
    CHECK(total(got.pos) == 2);
}

TEST_CASE("native: over the bucket limit after native_min_reset the series resets and its start moves", "[native]") {
    struct h : lm::native_histogram<"h_seconds", "h", lm::labels<>, lm::native_max_buckets<2>, lm::native_min_reset<1>> {};
    lm::registry<h> r;
    auto& s = r.get<h>().labels();
    s.observe(1.0);
    s.observe(1.0);
    s.observe(4.0);  // too soon for a reset: the schema halves instead
    CHECK(read(s).schema < 3);
    capture_encoder before;
    r.get<h>().visit(before, "h_seconds");
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    s.observe(1000.0);  // past the limit again, a second later: reset
    const auto got = read(s);
    CHECK(got.schema == 3);
    CHECK(got.count == 1);
    CHECK(got.pos.size() == 1);
    capture_encoder after;
    r.get<h>().visit(after, "h_seconds");
    CHECK(after.created > before.created + 0.9);
}

TEST_CASE("native: classic and native parts of one family agree on count and sum", "[native]") {
    struct h : lm::histogram<"h_seconds", "h", lm::labels<"k">, lm::buckets<0.1, 1, 10>, lm::native_schema<2>> {};
    lm::registry<h> r;
    auto& s = r.get<h>().labels("a");
    for (double v : {0.05, 0.5, 0.5, 5.0, 50.0, 500.0}) s.observe(v);
    s.observe(std::nan(""));  // rejected by both parts
    capture_encoder e;
    r.get<h>().visit(e, "h_seconds");
    CHECK(e.classic == std::vector<std::uint64_t>{1, 2, 1, 2});
    CHECK(e.count == 6);
    const auto got = read(s);
    CHECK(got.sum == Approx(556.05));
    CHECK(r.get<h>().rejected() == 1);
    // Exemplars: one per classic bucket.
    s.observe(0.7, lm::exemplar{{{"trace_id", "t1"}}});
    r.get<h>().visit(e, "h_seconds");
    REQUIRE(e.exemplars.size() == 4);
    CHECK(e.exemplars[1].present());
    CHECK_FALSE(e.exemplars[0].present());
    // remove() zeroes both parts.
    r.get<h>().remove("a");
    r.get<h>().labels("a").observe(2.0);
    r.get<h>().visit(e, "h_seconds");
    CHECK(e.classic == std::vector<std::uint64_t>{0, 0, 1, 0});
    CHECK(e.count == 1);
}

TEST_CASE("native: a native-only series keeps its latest exemplars, timestamped", "[native]") {
    struct h : lm::native_histogram<"h_seconds", "h"> {};
    lm::registry<h> r;
    auto& s = r.get<h>().labels();
    for (int i = 0; i < 6; ++i) s.observe(0.1 * (i + 1), lm::exemplar{{{"trace_id", std::to_string(i)}}});
    capture_encoder e;
    r.get<h>().visit(e, "h_seconds");
    REQUIRE(e.exemplars.size() == lm::exemplars_per_native_series);
    for (const auto& x : e.exemplars) {
        CHECK(x.present());
        CHECK(x.timestamp > 1.6e9);
        CHECK(x.value > 0.25);  // the two oldest were replaced
    }
    const std::string text = lm::render(r, lm::format::prometheus);
    CHECK(text.find("h_seconds_count 6") != std::string::npos);
}

TEST_CASE("native: writers racing a scraper through layout changes stay consistent", "[native]") {
    struct h : lm::native_histogram<"h_seconds", "h", lm::labels<>, lm::native_max_buckets<24>,
                                    lm::native_max_zero_threshold<"0.001">> {};
    // Where the kernel has no membarrier, the second run is the pin again.
    const bool fenced = GENERATE(false, true) && lmd::asymmetric_fence_registered();
    const owner_mode mode(fenced);
    INFO("owners fenced: " << fenced);
    lm::registry<h> r;
    auto& s = r.get<h>().labels();
    REQUIRE(s.native_owners_fenced() == fenced);
    const int threads = 4;
    const int per_thread = under_sanitizer() ? 20000 : 200000;
    std::atomic<int> running{threads};
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t) {
        writers.emplace_back([&, t] {
            std::mt19937_64 rng(static_cast<std::uint64_t>(t) + 1);
            std::uniform_real_distribution<double> exponent(-14, 14);
            for (int i = 0; i < per_thread; ++i) {
                // Widening spread over time: the span keeps growing, forcing changes.
                const double v = std::exp2(exponent(rng) * (0.2 + 0.8 * i / per_thread));
                s.observe(i % 5 == 0 ? -v : v);
            }
            running.fetch_sub(1);
        });
    }
    buckets_by_index last;
    int scrapes = 0, layout_changes = 0;
    const auto check_scrape = [&] {
        const buckets_by_index now = read(s);
        REQUIRE(now.count == now.zero + total(now.pos) + total(now.neg));
        REQUIRE(now.count >= last.count);
        REQUIRE(now.zero >= last.zero);
        REQUIRE(now.schema <= last.schema);
        if (now.schema != last.schema || now.zero_threshold != last.zero_threshold) ++layout_changes;
        // Every earlier bucket, mapped to the current layout, holds at most what it holds now.
        for (const auto* side : {&last.pos, &last.neg}) {
            std::map<std::int32_t, std::uint64_t> mapped;
            for (const auto& [i, c] : *side) {
                if (lmd::native_bucket_upper(i, last.schema) <= now.zero_threshold) continue;
                const int d = last.schema - now.schema;
                mapped[static_cast<std::int32_t>((static_cast<std::int64_t>(i) + (1LL << d) - 1) >> d)] += c;
            }
            const auto& cur = side == &last.pos ? now.pos : now.neg;
            for (const auto& [i, c] : mapped) {
                const auto it = cur.find(i);
                REQUIRE((it != cur.end() && it->second >= c));
            }
        }
        last = now;
        ++scrapes;
    };
    last.schema = 3;
    while (running.load() > 0) check_scrape();
    for (auto& w : writers) w.join();
    check_scrape();
    CHECK(last.count == static_cast<std::uint64_t>(threads) * per_thread);
    CHECK(last.pos.size() + last.neg.size() <= 24);
    CHECK(layout_changes >= 1);
    INFO("scrapes " << scrapes << ", layout changes seen " << layout_changes);
    CHECK(scrapes > 1);
}

TEST_CASE("native: owned and shared stripes, threads in waves past the stripe count, lose nothing", "[native]") {
    // More live writers than owned stripes, so some share the extra stripe (RMWs)
    // while owners use plain stores; short-lived waves hand owned stripes over at
    // exit. Values are exact in binary, so sums are exact: the result must equal a
    // serial reference bucket for bucket.
    struct h : lm::native_histogram<"h_seconds", "h", lm::labels<>> {};
    // Where the kernel has no membarrier, the second run is the pin again.
    const bool fenced = GENERATE(false, true) && lmd::asymmetric_fence_registered();
    const owner_mode mode(fenced);
    INFO("owners fenced: " << fenced);
    lm::registry<h> r, reference;
    auto& s = r.get<h>().labels();
    REQUIRE(s.native_owners_fenced() == fenced);
    auto& ref = reference.get<h>().labels();
    const int writers_per_wave = 2 * static_cast<int>(lmd::stripe_count) + 1;
    const int waves = 3;
    const int per_thread = under_sanitizer() ? 3000 : 30000;
    const auto value = [](int t, int i) {
        // 2^-4 ... 2^4 positive, 1 ... 8 negative: within the bucket limit, so the
        // layout does not depend on the order of arrival; sums stay exact.
        const double m = 1.0 + (i % 64) / 64.0;
        return i % 7 == 0 ? -std::ldexp(m, i % 3) : (i % 11 == 0 ? 0.0 : std::ldexp(m, (t + i) % 8 - 4));
    };
    std::atomic<int> running{0};
    buckets_by_index last;
    for (int w = 0; w < waves; ++w) {
        running = writers_per_wave;
        std::vector<std::thread> writers;
        for (int t = 0; t < writers_per_wave; ++t)
            writers.emplace_back([&, t] {
                for (int i = 0; i < per_thread; ++i) s.observe(value(w * writers_per_wave + t, i));
                running.fetch_sub(1);
            });
        while (running.load() > 0) {
            const buckets_by_index now = read(s);
            REQUIRE(now.count == now.zero + total(now.pos) + total(now.neg));
            REQUIRE(now.count >= last.count);
            for (const auto& [i, c] : last.pos) {  // no bucket goes backwards
                const auto it = now.pos.find(i);
                REQUIRE((it != now.pos.end() && it->second >= c));
            }
            last = now;
        }
        for (auto& t : writers) t.join();
        for (int t = 0; t < writers_per_wave; ++t)
            for (int i = 0; i < per_thread; ++i) ref.observe(value(w * writers_per_wave + t, i));
    }
    const buckets_by_index got = read(s), want = read(ref);
    CHECK(got.count == static_cast<std::uint64_t>(waves) * writers_per_wave * per_thread);
    CHECK(got.count == want.count);
    CHECK(got.zero == want.zero);
    CHECK(got.sum == want.sum);
    CHECK(got.schema == want.schema);
    CHECK(got.pos == want.pos);
    CHECK(got.neg == want.neg);
}

TEST_CASE("native: bucket index at and beside every bound of every schema, in any octave", "[native]") {
    // The slice table counts bounds below a mantissa slice and one comparison adds
    // the one inside it: the values next to each bound are where that can go wrong.
    for (int schema = 1; schema <= lmd::native_max_schema; ++schema)
        for (int j = 0; j < (1 << schema); ++j)
            for (const int e : {-1040, -1022, -3, 0, 1, 7, 1023}) {
                const double bound = std::ldexp(lmd::native_octave_bound(schema, j), e);
                for (const double a : {std::nextafter(bound, 0.0), bound, std::nextafter(bound, 4.0 * bound)}) {
                    if (!(a > 0) || std::isinf(a)) continue;
                    INFO("schema " << schema << " bound " << j << " octave " << e << " value " << a);
                    REQUIRE(lmd::native_bucket_index(a, schema) == reference_index(a, schema));
                }
            }
}

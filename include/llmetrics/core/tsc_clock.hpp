#pragma once
// Durations from the time stamp counter: rdtsc costs about a third of
// steady_clock::now() on the VMs we measure on (10 ns against 27 ns), and
// monitored_router reads the clock twice per call.
//
//     const llmetrics::tsc_calibration& tsc = llmetrics::tsc_calibration::get();
//     if (tsc.usable()) router.set_time_source(tsc.source());
//     std::puts(tsc.reason());                        // why it is or is not used
//
// `tsc_calibration::get()` calibrates once per process (about 12 ms, the first
// time only) against steady_clock; `default_duration_source()` is the TSC where
// it is safe and steady_clock otherwise, and is what monitored_router starts with.
//
// When the TSC is used: x86-64 only; the CPU says its TSC is invariant (CPUID
// leaf 0x80000007, EDX bit 8: same rate in every P-, C- and T-state); on Linux the
// kernel itself keeps time with it (clocksource `tsc`, so it checked that the CPUs'
// counters are in sync); and two calibrations, one across a busy wait and one
// across a sleep, give the same rate within 0.1%. The last check matters on VMs:
// flags and clocksource can say "invariant" while the counter runs at another
// rate when the vCPU halts. A counter that fails any check leaves steady_clock in
// place. Set LLMETRICS_TSC=0 in the environment to never use it.
//
// A thread moving between CPUs mid-call reads two synchronised counters, so the
// duration stays right; readings a few ticks apart give 0, never a negative
// duration (time_source::seconds_since clamps).

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "clock.hpp"
#include "detail/tsc_read.hpp"

#if LLMETRICS_HAS_TSC
#include <cpuid.h>
#endif

namespace llmetrics {

class tsc_calibration {
public:
    // The process-wide calibration, made on first use.
    static const tsc_calibration& get() {
        static const tsc_calibration calibration = calibrate();
        return calibration;
    }

    bool usable() const noexcept { return usable_; }
    // Why the TSC is used or not, for logs.
    const char* reason() const noexcept { return reason_; }
    // Counter ticks per nanosecond (the TSC rate in GHz); 0 when not measured.
    double ticks_per_ns() const noexcept { return scale_.ns_per_tick > 0 ? 1.0 / scale_.ns_per_tick : 0.0; }

    // A time_source reading the TSC; steady_clock's when not usable. Refers to
    // this calibration, which lives as long as the process when it comes from get().
    time_source source() const noexcept {
        if (!usable_) return {};
        return time_source(&detail::tsc_now_ns, &scale_);
    }

private:
    tsc_calibration() = default;

    static constexpr std::int64_t window_ns = 6'000'000;  // per calibration; 1e-5 of it is one clock read

    static std::int64_t steady_ns() noexcept {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }

    static tsc_calibration rejected(const char* why) {
        tsc_calibration c;
        c.reason_ = why;
        return c;
    }

    // Ticks per nanosecond across `wait` (a busy wait or a sleep).
    template <class Wait>
    static double measure_rate(Wait wait) noexcept {
        (void)steady_ns();  // the process's first clock read can take microseconds (vDSO page faults)
        (void)detail::read_tsc();
        const std::int64_t ns0 = steady_ns();
        const std::uint64_t t0 = detail::read_tsc();
        wait(ns0);
        (void)steady_ns();  // warm again after a sleep: a cold read would end the window late
        const std::uint64_t t1 = detail::read_tsc();
        const std::int64_t ns1 = steady_ns();
        return ns1 > ns0 ? static_cast<double>(t1 - t0) / static_cast<double>(ns1 - ns0) : 0.0;
    }

    static bool kernel_uses_tsc() noexcept {
        std::FILE* f = std::fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
        if (!f) return false;
        char name[32] = {};
        const bool read = std::fgets(name, sizeof name, f) != nullptr;
        std::fclose(f);
        return read && std::strncmp(name, "tsc", 3) == 0 && (name[3] == '\n' || name[3] == '\0');
    }

    static tsc_calibration calibrate() {
        if (const char* env = std::getenv("LLMETRICS_TSC"); env && std::strcmp(env, "0") == 0)
            return rejected("steady_clock: LLMETRICS_TSC=0");
#if LLMETRICS_HAS_TSC
        unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
        if (!__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) || eax < 0x80000007u)
            return rejected("steady_clock: the CPU does not report whether its TSC is invariant");
        __get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx);
        if (!(edx & (1u << 8))) return rejected("steady_clock: the TSC is not invariant");
        if (!kernel_uses_tsc()) return rejected("steady_clock: the kernel does not keep time with the TSC");

        const double spun = measure_rate([](std::int64_t from) noexcept {
            while (steady_ns() - from < window_ns) {
            }
        });
        const double slept = measure_rate([](std::int64_t) { std::this_thread::sleep_for(std::chrono::nanoseconds(window_ns)); });
        if (!(spun > 0.05 && spun < 20.0))  // 50 MHz .. 20 GHz
            return rejected("steady_clock: the TSC rate is implausible");
        const double ratio = slept / spun;
        if (!(ratio > 0.999 && ratio < 1.001))
            return rejected("steady_clock: the TSC rate differs between busy and idle time");

        tsc_calibration c;
        c.usable_ = true;
        c.reason_ = "tsc: invariant, the kernel's clocksource, calibrated against steady_clock";
        c.scale_.ns_per_tick = 2.0 / (spun + slept);
        c.scale_.ns0 = steady_ns();
        c.scale_.tick0 = detail::read_tsc();
        return c;
#else
        return rejected("steady_clock: no TSC on this architecture");
#endif
    }

    detail::tsc_scale scale_;
    bool usable_ = false;
    const char* reason_ = "";
};

// The clock monitored_router measures durations with unless told otherwise.
inline time_source default_duration_source() { return tsc_calibration::get().source(); }

}  // namespace llmetrics

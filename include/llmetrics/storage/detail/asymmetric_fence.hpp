#pragma once
// An asymmetric fence: a free "light" side for a hot writer and an expensive
// "heavy" side for a rare reader of the writer's flag (Dekker's store-then-load,
// as RCU and folly's asymmetric barriers do it). The heavy side is Linux's
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED): every running thread of the
// process executes a full memory barrier before it returns, and a thread not
// running gets one from its context switch. So, for a writer that stores F then
// loads G, separated by light(), and a changer that stores G, calls heavy() and
// then loads F: either the changer's load sees F, or the writer's load sees G.
//
// Where membarrier is missing (not Linux, an old kernel, a seccomp filter that
// refuses it) available() is false and callers keep a locked instruction on
// their hot path. `LLMETRICS_MEMBARRIER=0` turns it off too.

#include <atomic>
#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace llmetrics::detail {

// Tests set it to 0 or 1 to choose a mode for cells made afterwards; -1: the system's.
inline std::atomic<int> asymmetric_fence_override{-1};

inline bool asymmetric_fence_registered() noexcept {
#if defined(__linux__) && defined(__NR_membarrier)
    static const bool registered = [] {
        if (const char* env = std::getenv("LLMETRICS_MEMBARRIER"); env && std::strcmp(env, "0") == 0) return false;
        const long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
        if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) return false;
        return syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
    }();
    return registered;
#else
    return false;
#endif
}

// Whether heavy() can be used; read once by each user and kept, so one user never
// mixes the two modes.
inline bool asymmetric_fence_available() noexcept {
    const int forced = asymmetric_fence_override.load(std::memory_order_relaxed);
    if (forced == 0) return false;
    return asymmetric_fence_registered();  // forced == 1 still needs the kernel
}

// The writer's side: only the compiler may not reorder across it.
inline void asymmetric_fence_light() noexcept { std::atomic_signal_fence(std::memory_order_seq_cst); }

// The changer's side (only when available() said true).
inline void asymmetric_fence_heavy() noexcept {
#if defined(__linux__) && defined(__NR_membarrier)
    std::atomic_thread_fence(std::memory_order_seq_cst);
    syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

}  // namespace llmetrics::detail

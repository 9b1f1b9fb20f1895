#pragma once
// Counts heap allocations by replacing the global operator new/delete. Include
// it in exactly one file of a program (the replacements are not inline).
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace llmetrics_test {
inline std::atomic<long> allocations{0};
}  // namespace llmetrics_test

// Every replaceable form but the aligned ones (which keep their own matching
// pair). None is inlined: GCC 12 would otherwise pair an inlined malloc with a
// delete, or a new with an inlined free, and warn (-Wmismatched-new-delete).
[[gnu::noinline]] void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    llmetrics_test::allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n ? n : 1);
}
[[gnu::noinline]] void* operator new(std::size_t n) {
    if (void* p = operator new(n, std::nothrow)) return p;
    throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new[](std::size_t n) { return operator new(n); }
[[gnu::noinline]] void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return operator new(n, std::nothrow); }
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

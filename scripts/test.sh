#!/usr/bin/env bash
# The test command: installs the dependencies, then builds and tests llmetrics
# four ways. Exits non-zero if any configuration fails to configure, build or pass.
#
#   gcc    g++-12,     -O2 -DNDEBUG, -Wall -Wextra -Wpedantic -Werror: tests, examples,
#                      benchmarks (benchmarks are built, not run)
#   clang  clang++-14, -O0 (assertions on), same warnings -Werror: tests, examples
#          (Clang's warnings do not depend on the optimiser, and -O0 halves its build)
#   asan   g++-12, -O1, AddressSanitizer + UndefinedBehaviorSanitizer, no recovery
#   tsan   g++-12, -O1, ThreadSanitizer
#
# gcc runs every CTest test. clang leaves out the compiler-independent per-header,
# single-header and package checks (labels headers, single_include, package) but
# runs the compile-fail tests, so both compilers' messages are checked. The
# sanitizer builds run the unit and integration tests only (label `static` left
# out) and build the examples, which some integration tests run. Their warnings
# are on but not errors (GCC's -Wtsan, for one, fires on every atomic_thread_fence).
#
#   bash scripts/test.sh              all four
#   bash scripts/test.sh gcc tsan     a subset
# Environment: LLMETRICS_JOBS (default 2) for both the build and CTest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh

jobs=${LLMETRICS_JOBS:-2}
configs=("$@")
((${#configs[@]})) || configs=(gcc clang asan tsan)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

# GCC 12's ThreadSanitizer cannot cope with the high mmap randomisation of recent
# kernels ("unexpected memory mapping"); running without ASLR avoids it.
no_aslr=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
    no_aslr=(setarch "$(uname -m)" -R)
fi

sanitizer_common=(-DCMAKE_BUILD_TYPE= -DLLMETRICS_BUILD_EXAMPLES=ON -DLLMETRICS_BUILD_BENCHMARKS=OFF
                  -DLLMETRICS_WERROR=OFF)

declare -A summary
failed=0

run_config() {
    local name=$1
    local dir=build/$name
    local cmake_args=() ctest_args=() wrap=()
    case $name in
    gcc)
        cmake_args=(-DCMAKE_CXX_COMPILER=g++-12 -DCMAKE_BUILD_TYPE=Release
                    "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" -DLLMETRICS_WERROR=ON
                    -DLLMETRICS_BUILD_EXAMPLES=ON -DLLMETRICS_BUILD_BENCHMARKS=ON) ;;
    clang)
        cmake_args=(-DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE= "-DCMAKE_CXX_FLAGS=-O0"
                    -DLLMETRICS_WERROR=ON -DLLMETRICS_BUILD_EXAMPLES=ON -DLLMETRICS_BUILD_BENCHMARKS=OFF)
        ctest_args=(-LE 'headers|single_include|package') ;;
    asan)
        cmake_args=(-DCMAKE_CXX_COMPILER=g++-12 "${sanitizer_common[@]}"
                    "-DCMAKE_CXX_FLAGS=-O1 -g1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all")
        ctest_args=(-LE static) ;;
    tsan)
        cmake_args=(-DCMAKE_CXX_COMPILER=g++-12 "${sanitizer_common[@]}"
                    "-DCMAKE_CXX_FLAGS=-O1 -g1 -fno-omit-frame-pointer -fsanitize=thread")
        ctest_args=(-LE static)
        wrap=("${no_aslr[@]}") ;;  # the build runs the test binary too (test discovery)
    *)
        echo "unknown configuration '$name' (gcc, clang, asan, tsan)" >&2
        return 2 ;;
    esac

    echo
    echo "=== [$name] configure, build, test in $dir"
    cmake -S . -B "$dir" -DLLMETRICS_BUILD_TESTS=ON "${cmake_args[@]}" || return 1

    # Keep going past a broken target and run the tests anyway: one CI run then
    # shows everything that is wrong, not just the first file that fails to build.
    local keep_going=() status=0
    case $(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$dir/CMakeCache.txt") in
    "Unix Makefiles") keep_going=(-- -k) ;;
    Ninja) keep_going=(-- -k 0) ;;
    esac
    if ! ${wrap[@]+"${wrap[@]}"} cmake --build "$dir" -j "$jobs" ${keep_going[@]+"${keep_going[@]}"}; then
        echo "=== [$name] BUILD FAILED (running the tests that could be built)"
        status=1
    fi
    (cd "$dir" && ${wrap[@]+"${wrap[@]}"} ctest -j "$jobs" --output-on-failure --no-tests=error \
        ${ctest_args[@]+"${ctest_args[@]}"}) || status=1
    return $status
}

total_start=$SECONDS
for name in "${configs[@]}"; do
    start=$SECONDS
    if run_config "$name"; then
        summary[$name]="passed"
    else
        summary[$name]="FAILED"
        failed=1
    fi
    summary[$name]+=" ($((SECONDS - start)) s)"
done

echo
echo "=== llmetrics test summary"
for name in "${configs[@]}"; do
    printf '  %-6s %s\n' "$name" "${summary[$name]}"
done
echo "  total  $((SECONDS - total_start)) s"
if ((failed)); then
    echo "FAILED"
    exit 1
fi
echo "all configurations passed"

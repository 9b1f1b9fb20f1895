#!/usr/bin/env bash
# The test command: installs the dependencies, then builds and tests llmetrics
# three ways. Exits non-zero if any configuration fails to configure, build or pass.
#
#   gcc         g++-12, -O2 -DNDEBUG, -Wall -Wextra -Wpedantic -Werror: tests, examples,
#               benchmarks (built, not run); every CTest test
#   clang-asan  clang++-14, -O1, AddressSanitizer + UndefinedBehaviorSanitizer (no
#               recovery, leaks detected), same warnings -Werror: tests, examples,
#               fuzz targets; every test but the compiler-independent per-header,
#               single-header and package checks. The compile-fail tests run here
#               too, so both compilers' messages are checked.
#   tsan        g++-12, -O1, ThreadSanitizer: tests and examples; unit and
#               integration tests (label `static` left out). Warnings are not errors
#               here (GCC's -Wtsan fires on every atomic_thread_fence).
#
# In both sanitizer builds the unit-test binary and the examples are compiled at
# -O0 (LLMETRICS_UNIT_COMPILE_OPTIONS): half the compile time, and the sanitizers
# check -O0 code just as well; the programs the integration tests load keep -O1.
#
# One Clang build serves both the second compiler's warnings and the ASan/UBSan
# run: a separate sanitizer build doubled the CI time for no extra coverage.
#
#   bash scripts/test.sh                  all three
#   bash scripts/test.sh gcc tsan         a subset
# Environment: LLMETRICS_JOBS (default 2) for both the build and CTest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh

jobs=${LLMETRICS_JOBS:-2}
configs=("$@")
((${#configs[@]})) || configs=(gcc clang-asan tsan)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

# GCC 12's ThreadSanitizer cannot cope with the high mmap randomisation of recent
# kernels ("unexpected memory mapping"); running without ASLR avoids it.
no_aslr=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
    no_aslr=(setarch "$(uname -m)" -R)
fi

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
    clang-asan)
        cmake_args=(-DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=
                    "-DCMAKE_CXX_FLAGS=-O1 -g1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
                    -DLLMETRICS_WERROR=ON -DLLMETRICS_BUILD_EXAMPLES=ON -DLLMETRICS_BUILD_BENCHMARKS=OFF
                    -DLLMETRICS_UNIT_COMPILE_OPTIONS=-O0)
        ctest_args=(-LE 'headers|single_include|package') ;;
    tsan)
        cmake_args=(-DCMAKE_CXX_COMPILER=g++-12 -DCMAKE_BUILD_TYPE= -DLLMETRICS_WERROR=OFF
                    -DLLMETRICS_BUILD_EXAMPLES=ON -DLLMETRICS_BUILD_BENCHMARKS=OFF
                    "-DCMAKE_CXX_FLAGS=-O1 -g1 -fno-omit-frame-pointer -fsanitize=thread"
                    -DLLMETRICS_UNIT_COMPILE_OPTIONS=-O0)
        ctest_args=(-LE static)
        wrap=("${no_aslr[@]}") ;;  # the build runs the test binary too (test discovery)
    *)
        echo "unknown configuration '$name' (gcc, clang-asan, tsan)" >&2
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
    printf '  %-10s %s\n' "$name" "${summary[$name]}"
done
echo "  total      $((SECONDS - total_start)) s"
if ((failed)); then
    echo "FAILED"
    exit 1
fi
echo "all configurations passed"

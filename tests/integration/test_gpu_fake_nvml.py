#!/usr/bin/python3
"""The GPU collector against a fake NVML.

A small libnvidia-ml stand-in is compiled here with the C++ compiler into a temp
directory (CMake builds no shared libraries for tests), and programs/gpu_probe
loads it by path through llmetrics::gpu_collector. The probe's Prometheus text
is parsed with python3-prometheus-client and compared exactly with what the
fake reports; `promtool check metrics` must accept it, and the OpenMetrics
rendering must parse too. Also checked: a device query the fake does not
support leaves that series out; a device whose handle cannot be had is
skipped; nvmlInit_v2 failing or a missing symbol means no families and no
error exit; every successful nvmlInit_v2 is matched by one nvmlShutdown.

Usage: /usr/bin/python3 test_gpu_fake_nvml.py --bin-dir <build>/bin
Set CXX to choose the compiler for the fake library (default g++-12, g++, c++).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from prometheus_client.parser import text_string_to_metric_families as parse_prometheus
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics

from support import check, exit_status


# Device 0 answers everything; device 1 has no temperature or power sensor and
# a name that needs escaping; device 2 is counted but its handle fails (a GPU
# that fell off the bus). FAKE_NVML_INIT_RC makes nvmlInit_v2 fail;
# FAKE_NVML_LOG names a file that records init and shutdown calls.
FAKE_NVML = r"""
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {
struct device { const char* name; const char* uuid; unsigned gpu, mem; unsigned long long total, used;
                int temp; int milliwatts; };  // temp/milliwatts < 0: not supported
const device devices[] = {
    {"NVIDIA H100 80GB HBM3", "GPU-11111111-2222-3333-4444-555555555555", 42, 17,
     85899345920ULL, 1073741824ULL, 55, 123456},
    {"Fake \"GPU\" \\ two", "GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", 0, 0,
     17179869184ULL, 0ULL, -1, -1},
};
const int NVML_SUCCESS = 0, NVML_ERROR_INVALID_ARGUMENT = 2, NVML_ERROR_NOT_SUPPORTED = 3,
          NVML_ERROR_INSUFFICIENT_SIZE = 7, NVML_ERROR_GPU_IS_LOST = 15;

void log_call(const char* what) {
    if (const char* path = std::getenv("FAKE_NVML_LOG")) {
        if (FILE* f = std::fopen(path, "a")) { std::fprintf(f, "%s\n", what); std::fclose(f); }
    }
}
const device* get(const void* handle) {
    for (const device& d : devices)
        if (handle == &d) return &d;
    return nullptr;
}
int copy(const char* text, char* out, unsigned length) {
    if (std::strlen(text) + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
    std::strcpy(out, text);
    return NVML_SUCCESS;
}
}  // namespace

struct mem { unsigned long long total, free, used; };
struct util { unsigned gpu, memory; };

extern "C" {
int nvmlInit_v2() {
    const char* rc = std::getenv("FAKE_NVML_INIT_RC");
    const int result = rc ? std::atoi(rc) : 0;
    log_call(result == 0 ? "init" : "init-failed");
    return result;
}
int nvmlShutdown() { log_call("shutdown"); return NVML_SUCCESS; }
int nvmlDeviceGetCount_v2(unsigned* count) { *count = 3; return NVML_SUCCESS; }
int nvmlDeviceGetHandleByIndex_v2(unsigned index, const void** handle) {
    if (index >= 3) return NVML_ERROR_INVALID_ARGUMENT;
    if (index == 2) return NVML_ERROR_GPU_IS_LOST;
    *handle = &devices[index];
    return NVML_SUCCESS;
}
int nvmlDeviceGetUUID(const void* h, char* out, unsigned length) {
    const device* d = get(h); return d ? copy(d->uuid, out, length) : NVML_ERROR_INVALID_ARGUMENT;
}
int nvmlDeviceGetName(const void* h, char* out, unsigned length) {
    const device* d = get(h); return d ? copy(d->name, out, length) : NVML_ERROR_INVALID_ARGUMENT;
}
int nvmlDeviceGetUtilizationRates(const void* h, util* u) {
    const device* d = get(h); if (!d) return NVML_ERROR_INVALID_ARGUMENT;
    u->gpu = d->gpu; u->memory = d->mem; return NVML_SUCCESS;
}
int nvmlDeviceGetMemoryInfo(const void* h, mem* m) {
    const device* d = get(h); if (!d) return NVML_ERROR_INVALID_ARGUMENT;
    m->total = d->total; m->used = d->used; m->free = d->total - d->used; return NVML_SUCCESS;
}
int nvmlDeviceGetTemperature(const void* h, int sensor, unsigned* t) {
    const device* d = get(h); if (!d || sensor != 0) return NVML_ERROR_INVALID_ARGUMENT;
    if (d->temp < 0) return NVML_ERROR_NOT_SUPPORTED;
    *t = static_cast<unsigned>(d->temp); return NVML_SUCCESS;
}
#ifndef FAKE_NVML_NO_POWER
int nvmlDeviceGetPowerUsage(const void* h, unsigned* mw) {
    const device* d = get(h); if (!d) return NVML_ERROR_INVALID_ARGUMENT;
    if (d->milliwatts < 0) return NVML_ERROR_NOT_SUPPORTED;
    *mw = static_cast<unsigned>(d->milliwatts); return NVML_SUCCESS;
}
#endif
}
"""

UUID0 = "GPU-11111111-2222-3333-4444-555555555555"
UUID1 = "GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"

# (family without prefix) -> {(gpu, uuid): value}; absent keys must be absent.
EXPECTED = {
    "gpu_utilization_ratio": {("0", UUID0): 0.42, ("1", UUID1): 0.0},
    "gpu_memory_utilization_ratio": {("0", UUID0): 0.17, ("1", UUID1): 0.0},
    "gpu_memory_used_bytes": {("0", UUID0): 1073741824.0, ("1", UUID1): 0.0},
    "gpu_memory_total_bytes": {("0", UUID0): 85899345920.0, ("1", UUID1): 17179869184.0},
    "gpu_temperature_celsius": {("0", UUID0): 55.0},
    "gpu_power_watts": {("0", UUID0): 123.456},
}
NAMES = {("0", UUID0): "NVIDIA H100 80GB HBM3", ("1", UUID1): 'Fake "GPU" \\ two'}


def find_compiler():
    for candidate in [os.environ.get("CXX"), "g++-12", "g++", "c++", "clang++-14", "clang++"]:
        if candidate and shutil.which(candidate):
            return candidate
    return None


def build_fake(compiler, directory, name, extra=()):
    source = os.path.join(directory, "fake_nvml.cpp")
    with open(source, "w") as f:
        f.write(FAKE_NVML)
    library = os.path.join(directory, name)
    subprocess.run([compiler, "-shared", "-fPIC", "-O1", "-o", library, source, *extra], check=True)
    return library


def probe(bin_dir, library, *args, env=None):
    result = subprocess.run([os.path.join(bin_dir, "gpu_probe"), library, *args],
                            capture_output=True, text=True, env=env, timeout=60)
    check(result.returncode == 0, f"gpu_probe {library} exited {result.returncode}: {result.stderr}")
    return result.stdout, result.stderr


def check_families(text, prefix):
    families = {f.name: f for f in parse_prometheus(text)}
    expected_names = {prefix + n for n in EXPECTED} | {prefix + "gpu_info"}
    check(set(families) == expected_names, f"families {sorted(families)} != {sorted(expected_names)}")
    for short, series in EXPECTED.items():
        family = families.get(prefix + short)
        if not check(family is not None, f"missing family {prefix + short}"):
            continue
        check(family.type == "gauge", f"{family.name} has type {family.type}")
        got = {}
        for sample in family.samples:
            check(list(sample.labels) == ["gpu", "uuid"], f"{family.name} labels {list(sample.labels)}")
            got[(sample.labels.get("gpu"), sample.labels.get("uuid"))] = sample.value
        check(got == series, f"{family.name}: got {got}, expected {series}")
    info = families.get(prefix + "gpu_info")
    if check(info is not None, "missing gpu_info"):
        got = {(s.labels["gpu"], s.labels["uuid"]): (s.labels.get("name"), s.value) for s in info.samples}
        want = {k: (v, 1.0) for k, v in NAMES.items()}
        check(got == want, f"gpu_info: got {got}, expected {want}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    args = parser.parse_args()

    compiler = find_compiler()
    if compiler is None:
        print("no C++ compiler found to build the fake NVML", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory(prefix="llmetrics-fake-nvml-") as tmp:
        library = build_fake(compiler, tmp, "libnvidia-ml.so.1")
        log = os.path.join(tmp, "calls.log")
        env = dict(os.environ, FAKE_NVML_LOG=log)

        # 1. Everything the fake reports, unprefixed and prefixed.
        for prefix in ["", "llm_router_"]:
            text, status = probe(args.bin_dir, library, *([prefix] if prefix else []), env=env)
            check("available=1 devices=3" in status, f"status line: {status!r}")
            check_families(text, prefix)
            if shutil.which("promtool"):
                lint = subprocess.run(["promtool", "check", "metrics"], input=text,
                                      capture_output=True, text=True)
                check(lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(),
                      f"promtool check metrics: {lint.stdout}{lint.stderr}")

        # 2. The same families through the OpenMetrics parser.
        text, _ = probe(args.bin_dir, library, "--openmetrics", env=env)
        try:
            names = {f.name for f in parse_openmetrics(text)}
            check(names == set(EXPECTED) | {"gpu_info"}, f"OpenMetrics families {sorted(names)}")
        except Exception as e:  # noqa: BLE001 - report any parser complaint
            check(False, f"OpenMetrics parser rejected the output: {e}\n{text}")

        # 3. Init and shutdown are paired.
        with open(log) as f:
            calls = f.read().split()
        check(calls == ["init", "shutdown"] * 3, f"NVML calls: {calls}")

        # 4. nvmlInit_v2 failing: unavailable, no families, exit 0, no shutdown.
        os.remove(log)
        text, status = probe(args.bin_dir, library, env=dict(env, FAKE_NVML_INIT_RC="9"))
        check(text == "", f"families despite failed init: {text!r}")
        check("available=0" in status and "nvmlInit_v2 failed with NVML error 9" in status,
              f"status after failed init: {status!r}")
        with open(log) as f:
            calls = f.read().split()
        check(calls == ["init-failed"], f"NVML calls after failed init: {calls}")

        # 5. A library lacking one of the symbols: unavailable, never initialised.
        os.remove(log)
        partial = build_fake(compiler, tmp, "libpartial-nvml.so", ["-DFAKE_NVML_NO_POWER"])
        text, status = probe(args.bin_dir, partial, env=env)
        check(text == "", f"families from a partial NVML: {text!r}")
        check("available=0" in status and "nvmlDeviceGetPowerUsage" in status,
              f"status with a missing symbol: {status!r}")
        check(not os.path.exists(log), "a partial NVML was initialised")

        # 6. No library at all.
        text, status = probe(args.bin_dir, os.path.join(tmp, "libnvidia-ml-absent.so.1"), env=env)
        check(text == "" and "available=0" in status, f"absent library: {text!r} {status!r}")

    return exit_status("test_gpu_fake_nvml: ok")


if __name__ == "__main__":
    sys.exit(main())

#pragma once
// The subset of NVML's C API (nvml.h) that gpu_collector calls, declared here so
// that no NVIDIA header is needed to build: the library is loaded with dlopen.

namespace llmetrics::detail::nvml {

// Layouts and signatures are NVML's stable C ABI.
using return_t = int;  // nvmlReturn_t; NVML_SUCCESS is 0
inline constexpr return_t success = 0;
struct device_st;
using device_t = device_st*;  // nvmlDevice_t
struct utilization_t {  // nvmlUtilization_t, percent
    unsigned int gpu;
    unsigned int memory;
};
struct memory_t {  // nvmlMemory_t, bytes
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
};
inline constexpr int temperature_gpu = 0;       // NVML_TEMPERATURE_GPU
inline constexpr unsigned int uuid_size = 96;   // NVML_DEVICE_UUID_V2_BUFFER_SIZE
inline constexpr unsigned int name_size = 96;   // NVML_DEVICE_NAME_V2_BUFFER_SIZE

extern "C" {
using init_fn = return_t (*)();
using shutdown_fn = return_t (*)();
using get_count_fn = return_t (*)(unsigned int*);
using get_handle_fn = return_t (*)(unsigned int, device_t*);
using get_string_fn = return_t (*)(device_t, char*, unsigned int);  // UUID, name
using get_utilization_fn = return_t (*)(device_t, utilization_t*);
using get_memory_fn = return_t (*)(device_t, memory_t*);
using get_temperature_fn = return_t (*)(device_t, int, unsigned int*);
using get_power_fn = return_t (*)(device_t, unsigned int*);  // milliwatts
}

}  // namespace llmetrics::detail::nvml

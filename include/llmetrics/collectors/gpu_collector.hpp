#pragma once
// NVIDIA GPU metrics through NVML, loaded with dlopen at run time: no build-time
// dependency on the CUDA toolkit or the driver. When the library is missing or
// nvmlInit fails (no driver, no device, a container without the GPU mounted),
// the collector is simply unavailable and contributes no families.
//
// Gauges, one series per device, labels gpu (index) and uuid, prefix prepended:
//   gpu_info                          1, with the device name as an extra label
//   gpu_utilization_ratio             fraction of the last sample period a kernel ran (0..1)
//   gpu_memory_utilization_ratio      fraction of that period device memory was read or written
//   gpu_memory_used_bytes
//   gpu_memory_total_bytes
//   gpu_temperature_celsius           GPU die temperature
//   gpu_power_watts                   board power draw
// A query a device does not support (power on some boards, for instance) leaves
// that series out. Devices are enumerated on every scrape; NVML is thread-safe.
//
// The library name is a constructor argument: a path loads a specific file
// (tests use it for a fake NVML and for the absent-library path).

#include <dlfcn.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/metric_type.hpp"
#include "../registry/collector.hpp"
#include "../core/snapshot.hpp"
#include "detail/nvml_api.hpp"

namespace llmetrics {

class gpu_collector final : public collector {
public:
    explicit gpu_collector(std::string prefix = {}, std::string library = "libnvidia-ml.so.1")
        : prefix_(std::move(prefix)) {
        load(library.c_str());
    }

    gpu_collector(const gpu_collector&) = delete;
    gpu_collector& operator=(const gpu_collector&) = delete;

    ~gpu_collector() override {
        if (available_)
            shutdown_();
        if (handle_)
            ::dlclose(handle_);
    }

    // Whether NVML was loaded and initialised; when false, collect() adds nothing.
    bool available() const noexcept { return available_; }

    // Why NVML is unavailable ("" when it is available), for logs and the probe.
    const std::string& error() const noexcept { return error_; }

    // Number of devices NVML reports now (0 when unavailable).
    unsigned int device_count() const noexcept {
        unsigned int count = 0;
        if (!available_ || get_count_(&count) != detail::nvml::success)
            return 0;
        return count;
    }

    void collect(std::vector<family_snapshot>& out) override {
        const unsigned int count = device_count();
        if (count == 0)
            return;

        family_snapshot families[family_count];
        for (std::size_t i = 0; i < family_count; ++i) {
            families[i].name = prefix_ + std::string(specs[i].name);
            families[i].help = std::string(specs[i].help);
            families[i].type = metric_type::gauge;
        }

        for (unsigned int index = 0; index < count; ++index) {
            detail::nvml::device_t device = nullptr;
            if (get_handle_(index, &device) != detail::nvml::success)
                continue;
            char uuid[detail::nvml::uuid_size] = {};
            if (get_uuid_(device, uuid, sizeof uuid) != detail::nvml::success)
                uuid[0] = '\0';  // keep the device; its uuid label is then empty
            const std::string gpu = std::to_string(index);

            const auto add = [&](std::size_t family, double value) {
                series_snapshot series;
                series.labels = {{"gpu", gpu}, {"uuid", terminated(uuid, sizeof uuid)}};
                series.value = value;
                families[family].series.push_back(std::move(series));
            };

            char name[detail::nvml::name_size] = {};
            if (get_name_(device, name, sizeof name) == detail::nvml::success) {
                add(0, 1.0);
                families[0].series.back().labels.emplace_back("name", terminated(name, sizeof name));
            }
            detail::nvml::utilization_t util{};
            if (get_utilization_(device, &util) == detail::nvml::success) {
                add(1, util.gpu / 100.0);
                add(2, util.memory / 100.0);
            }
            detail::nvml::memory_t memory{};
            if (get_memory_(device, &memory) == detail::nvml::success) {
                add(3, static_cast<double>(memory.used));
                add(4, static_cast<double>(memory.total));
            }
            unsigned int celsius = 0;
            if (get_temperature_(device, detail::nvml::temperature_gpu, &celsius) == detail::nvml::success)
                add(5, static_cast<double>(celsius));
            unsigned int milliwatts = 0;
            if (get_power_(device, &milliwatts) == detail::nvml::success)
                add(6, milliwatts / 1000.0);
        }

        for (family_snapshot& family : families)
            if (!family.series.empty())
                out.push_back(std::move(family));
    }

private:
    struct family_spec {
        std::string_view name;
        std::string_view help;
    };
    static constexpr std::size_t family_count = 7;
    static constexpr family_spec specs[family_count] = {
        {"gpu_info", "NVIDIA GPU present, with its name; value is always 1."},
        {"gpu_utilization_ratio", "Fraction of the last sample period during which a kernel ran on the GPU."},
        {"gpu_memory_utilization_ratio", "Fraction of the last sample period during which GPU memory was read or written."},
        {"gpu_memory_used_bytes", "GPU memory in use, in bytes."},
        {"gpu_memory_total_bytes", "Total GPU memory, in bytes."},
        {"gpu_temperature_celsius", "GPU temperature in degrees Celsius."},
        {"gpu_power_watts", "GPU board power draw in watts."},
    };

    // NVML writes NUL-terminated strings; stay within the buffer regardless.
    static std::string terminated(const char* text, std::size_t cap) {
        return std::string(text, ::strnlen(text, cap));
    }

    template <class Fn>
    bool bind(Fn& fn, const char* symbol) {
        void* address = ::dlsym(handle_, symbol);
        if (!address) {
            error_ = std::string("NVML symbol not found: ") + symbol;
            return false;
        }
        // POSIX guarantees a data pointer from dlsym can hold a function's address.
        static_assert(sizeof(Fn) == sizeof(void*),
                      "llmetrics: gpu_collector needs function pointers as wide as void* (POSIX dlsym); "
                      "leave the GPU collector out on this platform");
        std::memcpy(&fn, &address, sizeof fn);
        return true;
    }

    void load(const char* library) {
        handle_ = ::dlopen(library, RTLD_NOW | RTLD_LOCAL);
        if (!handle_) {
            const char* why = ::dlerror();
            error_ = why ? why : "dlopen failed";
            return;
        }
        detail::nvml::init_fn init = nullptr;
        const bool bound = bind(init, "nvmlInit_v2") && bind(shutdown_, "nvmlShutdown") &&
                           bind(get_count_, "nvmlDeviceGetCount_v2") &&
                           bind(get_handle_, "nvmlDeviceGetHandleByIndex_v2") &&
                           bind(get_uuid_, "nvmlDeviceGetUUID") && bind(get_name_, "nvmlDeviceGetName") &&
                           bind(get_utilization_, "nvmlDeviceGetUtilizationRates") &&
                           bind(get_memory_, "nvmlDeviceGetMemoryInfo") &&
                           bind(get_temperature_, "nvmlDeviceGetTemperature") &&
                           bind(get_power_, "nvmlDeviceGetPowerUsage");
        if (!bound) {
            ::dlclose(handle_);
            handle_ = nullptr;
            return;
        }
        const detail::nvml::return_t rc = init();
        if (rc != detail::nvml::success) {
            error_ = "nvmlInit_v2 failed with NVML error " + std::to_string(rc);
            ::dlclose(handle_);
            handle_ = nullptr;
            return;
        }
        available_ = true;
    }

    std::string prefix_;
    std::string error_;
    void* handle_ = nullptr;
    bool available_ = false;
    detail::nvml::shutdown_fn shutdown_ = nullptr;
    detail::nvml::get_count_fn get_count_ = nullptr;
    detail::nvml::get_handle_fn get_handle_ = nullptr;
    detail::nvml::get_string_fn get_uuid_ = nullptr;
    detail::nvml::get_string_fn get_name_ = nullptr;
    detail::nvml::get_utilization_fn get_utilization_ = nullptr;
    detail::nvml::get_memory_fn get_memory_ = nullptr;
    detail::nvml::get_temperature_fn get_temperature_ = nullptr;
    detail::nvml::get_power_fn get_power_ = nullptr;
};

}  // namespace llmetrics

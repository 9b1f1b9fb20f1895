#pragma once
// Where a series keeps its exemplars (storage/exemplar.hpp says what they are):
// a seqlock cell per exemplar, allocated on first use, and the reading that
// decodes one for an encoder.

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <new>
#include <span>
#include <string_view>

#include "../../core/detail/name_rules.hpp"
#include "../../core/detail/unix_time.hpp"
#include "../../core/detail/utf8.hpp"
#include "../../core/sample.hpp"
#include "../exemplar.hpp"

namespace llmetrics::detail {


inline constexpr std::size_t exemplar_words = (max_exemplar_bytes + 1 + 7) / 8;

// Encodes labels as [n][len name len value]... ; false when over a limit.
inline bool encode_exemplar(std::initializer_list<exemplar_label> labels, std::array<char, exemplar_words * 8>& out,
                            std::size_t& size) noexcept {
    if (labels.size() == 0 || labels.size() > max_exemplar_labels) return false;
    std::size_t code_points = 0;
    std::size_t at = 1;
    out[0] = static_cast<char>(labels.size());
    for (const exemplar_label& l : labels) {
        if (!is_valid_label_name(l.name) || !is_valid_utf8(l.value)) return false;
        for (std::string_view s : {l.name, l.value}) {
            for (char c : s) code_points += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
            if (s.size() > 255 || at + 1 + s.size() > out.size()) return false;
            out[at++] = static_cast<char>(s.size());
            std::memcpy(out.data() + at, s.data(), s.size());
            at += s.size();
        }
    }
    if (code_points > max_exemplar_code_points || at > max_exemplar_bytes + 1) return false;
    size = at;
    return true;
}

class exemplar_cell {
public:
    // Wait-free: returns false (drops the exemplar) if another writer is busy.
    bool store(const std::array<char, exemplar_words * 8>& encoded, std::size_t size, double value,
               double timestamp) noexcept {
        std::uint32_t s = seq_.load(std::memory_order_relaxed);
        if ((s & 1) || !seq_.compare_exchange_strong(s, s + 1, std::memory_order_acquire, std::memory_order_relaxed))
            return false;
        for (std::size_t w = 0; w < (size + 7) / 8; ++w) {
            std::uint64_t word = 0;
            std::memcpy(&word, encoded.data() + w * 8, std::min<std::size_t>(8, size - w * 8));
            words_[w].store(word, std::memory_order_relaxed);
        }
        value_.store(value, std::memory_order_relaxed);
        timestamp_.store(timestamp, std::memory_order_relaxed);
        seq_.store(s + 2, std::memory_order_release);
        return true;
    }

    // Copies the exemplar out; false when none was stored or a writer kept it busy.
    bool load(std::array<char, exemplar_words * 8>& bytes, double& value, double& timestamp) const noexcept {
        for (int attempt = 0; attempt < 8; ++attempt) {
            const std::uint32_t before = seq_.load(std::memory_order_acquire);
            if (before == 0) return false;
            if (before & 1) continue;
            for (std::size_t w = 0; w < exemplar_words; ++w) {
                const std::uint64_t word = words_[w].load(std::memory_order_relaxed);
                std::memcpy(bytes.data() + w * 8, &word, 8);
            }
            value = value_.load(std::memory_order_relaxed);
            timestamp = timestamp_.load(std::memory_order_relaxed);
            // A release read-modify-write keeps the loads above before the re-check
            // (instead of a fence, which ThreadSanitizer does not model).
            if (seq_.fetch_add(0, std::memory_order_acq_rel) == before) return true;
        }
        return false;
    }

    void clear() noexcept {
        std::uint32_t s = seq_.load(std::memory_order_relaxed);
        if (s & 1) return;
        seq_.compare_exchange_strong(s, 0, std::memory_order_relaxed);
    }

private:
    mutable std::atomic<std::uint32_t> seq_{0};  // 0 = empty; odd = being written
    std::array<std::atomic<std::uint64_t>, exemplar_words> words_{};
    std::atomic<double> value_{0.0};
    std::atomic<double> timestamp_{0.0};
};

// The exemplars of one series: one cell, or one per histogram bucket.
class exemplar_slots {
public:
    bool record(std::size_t cell, const exemplar& e, double value, std::size_t cells) noexcept {
        std::array<char, exemplar_words * 8> encoded{};
        std::size_t size = 0;
        if (!encode_exemplar(e.labels, encoded, size)) return false;
        double ts = e.timestamp;
        if (ts != ts) ts = unix_time_seconds();
        exemplar_cell* block = cells_.load(std::memory_order_acquire);
        if (!block) [[unlikely]] {
            auto fresh = std::unique_ptr<exemplar_cell[]>(new (std::nothrow) exemplar_cell[cells]);
            if (!fresh) return false;
            exemplar_cell* expected = nullptr;
            if (cells_.compare_exchange_strong(expected, fresh.get(), std::memory_order_acq_rel))
                block = fresh.release();
            else
                block = expected;
        }
        block[cell].store(encoded, size, value, ts);
        return true;
    }

    const exemplar_cell* cells() const noexcept { return cells_.load(std::memory_order_acquire); }

    void clear(std::size_t cells) noexcept {
        if (exemplar_cell* block = cells_.load(std::memory_order_acquire))
            for (std::size_t i = 0; i < cells; ++i) block[i].clear();
    }

    ~exemplar_slots() { delete[] cells_.load(std::memory_order_relaxed); }

private:
    std::atomic<exemplar_cell*> cells_{nullptr};
};

// A decoded exemplar, owning its bytes; view() is valid while it lives.
class exemplar_reading {
public:
    bool load(const exemplar_cell& cell) noexcept {
        count_ = 0;
        if (!cell.load(bytes_, value_, timestamp_)) return false;
        const std::size_t n = static_cast<unsigned char>(bytes_[0]);
        std::size_t at = 1;
        for (std::size_t i = 0; i < n && i < max_exemplar_labels; ++i) {
            const auto take = [&](std::string_view& out) {
                const std::size_t len = static_cast<unsigned char>(bytes_[at++]);
                out = std::string_view(bytes_.data() + at, len);
                at += len;
            };
            take(names_[i]);
            take(values_[i]);
            ++count_;
        }
        return count_ != 0;
    }
    exemplar_view view() const noexcept {
        return {std::span<const std::string_view>(names_.data(), count_),
                std::span<const std::string_view>(values_.data(), count_), value_, timestamp_};
    }

private:
    std::array<char, exemplar_words * 8> bytes_{};
    std::array<std::string_view, max_exemplar_labels> names_{};
    std::array<std::string_view, max_exemplar_labels> values_{};
    std::size_t count_ = 0;
    double value_ = 0.0;
    double timestamp_ = 0.0;
};

}  // namespace llmetrics::detail

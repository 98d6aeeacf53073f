// Raw storage for the ledger's big arrays (internal): hash-index slots and record chunks.
//
// Record chunks are plain malloc: they are written once, in order. Transparent huge pages were
// measured for them and made the growing workload slower on this machine (the kernel zeroes each
// 2 MiB page at its first fault). The hash-index slots are probed at random, so they get huge pages
// where the kernel allows (ZeroedArray).
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace tapstack::ledger::internal {

// Uninitialised memory for `bytes` bytes; throws std::bad_alloc.
inline void* AllocateLarge(std::size_t bytes) {
  void* p = std::malloc(bytes == 0 ? 1 : bytes);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

struct LargeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// Zero-filled memory for a randomly probed array (the hash-index slots). Large arrays come from an
// anonymous mapping, which the kernel zero-fills lazily (no memset pass over hundreds of MB), with
// MADV_HUGEPAGE so random probes miss the TLB less. Throws std::bad_alloc.
class ZeroedArray {
 public:
  ZeroedArray() = default;
  explicit ZeroedArray(std::size_t bytes) : bytes_(bytes) {
    if (bytes_ < kMapBytesMin) {
      data_ = std::calloc(1, bytes_ == 0 ? 1 : bytes_);
      if (data_ == nullptr) throw std::bad_alloc();
      return;
    }
    data_ = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (data_ == MAP_FAILED) {
      data_ = nullptr;
      throw std::bad_alloc();
    }
    (void)::madvise(data_, bytes_, MADV_HUGEPAGE);  // advisory: fine if refused
  }
  ~ZeroedArray() { Release(); }
  ZeroedArray(ZeroedArray&& other) noexcept : data_(other.data_), bytes_(other.bytes_) {
    other.data_ = nullptr;
  }
  ZeroedArray& operator=(ZeroedArray&& other) noexcept {
    if (this != &other) {
      Release();
      data_ = other.data_;
      bytes_ = other.bytes_;
      other.data_ = nullptr;
    }
    return *this;
  }
  ZeroedArray(const ZeroedArray&) = delete;
  ZeroedArray& operator=(const ZeroedArray&) = delete;

  void* data() const { return data_; }

 private:
  static constexpr std::size_t kMapBytesMin = 2 * 1024 * 1024;

  void Release() {
    if (data_ == nullptr) return;
    if (bytes_ < kMapBytesMin) {
      std::free(data_);
    } else {
      ::munmap(data_, bytes_);
    }
    data_ = nullptr;
  }

  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace tapstack::ledger::internal

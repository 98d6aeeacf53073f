// ChunkedVector<T>: a growable array in fixed chunks (internal).
//
// Growing never moves existing elements (no 2x copy of gigabytes of transfers, no reallocation
// stall in the committer), and element addresses stay valid until the element is popped. Chunks
// are plain uninitialised allocations. T must be trivially destructible.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

#include "ledger/internal/large_allocation.h"

namespace tapstack::ledger::internal {

template <typename T, std::size_t kChunkElements = 65536>
class ChunkedVector {
  static_assert((kChunkElements & (kChunkElements - 1)) == 0, "chunk size must be a power of 2");
  static_assert(std::is_trivially_destructible_v<T>);

 public:
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  T& operator[](std::size_t i) { return Chunk(i / kChunkElements)[i % kChunkElements]; }
  const T& operator[](std::size_t i) const { return Chunk(i / kChunkElements)[i % kChunkElements]; }
  T& back() { return (*this)[size_ - 1]; }

  void push_back(const T& value) {
    if (size_ == chunks_.size() * kChunkElements) {
      chunks_.emplace_back(AllocateLarge(kChunkElements * sizeof(T)));
    }
    T* slot = &Chunk(size_ / kChunkElements)[size_ % kChunkElements];
    ::new (static_cast<void*>(slot)) T(value);
    ++size_;
  }

  void pop_back() { --size_; }

  // Frees every chunk.
  void clear() {
    chunks_.clear();
    size_ = 0;
  }

  // Keeps the chunks for reuse (StoreLedger resets its state machine every request).
  void clear_keep_memory() { size_ = 0; }

 private:
  T* Chunk(std::size_t c) const { return std::launder(static_cast<T*>(chunks_[c].get())); }

  std::vector<std::unique_ptr<void, LargeDeleter>> chunks_;
  std::size_t size_ = 0;
};

}  // namespace tapstack::ledger::internal

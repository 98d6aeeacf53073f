// IdTable: an open-addressing hash index from Id128 to a dense record index (internal).
//
// The records themselves live in a ChunkedVector owned by the caller; a slot holds only the record
// index and the low 32 bits of the id's hash (8 bytes): those bits give the slot's home (so growing
// never reads the records) and filter key compares; the key is read back from the record through
// `key_at` only when they match. Linear probing, load factor ≤ 1/2, backward-shift deletion (no
// tombstones), at most 2^31 entries. The hash is keyed with a per-table random seed, so ids chosen
// by an adversary cannot force collisions they could predict. Prefetch() lets the caller overlap
// the cache misses of a batch's look-ups. Not thread-safe; the ledger's single writer owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>

#include "ledger/internal/large_allocation.h"
#include "ledger/types.h"

namespace tapstack::ledger::internal {

class IdTable {
 public:
  static constexpr std::uint32_t kNotFound = ~std::uint32_t{0};

  IdTable() {
    std::random_device device;
    seed_low_ = (std::uint64_t{device()} << 32) | device();
    seed_high_ = (std::uint64_t{device()} << 32) | device();
    Allocate(kInitialSlots);
  }

  std::size_t size() const { return size_; }

  void Clear() {
    if (slot_count_ != kInitialSlots) {
      Allocate(kInitialSlots);
    } else {
      std::memset(storage_.data(), 0, slot_count_ * sizeof(Slot));
    }
    size_ = 0;
  }

  // Starts loading the cache line `id` would be found in.
  void Prefetch(Id128 id) const { __builtin_prefetch(&slots_[Hash(id) & mask_]); }

  // The record index stored for `id`, or kNotFound. key_at(index) returns the record's id.
  template <typename KeyAt>
  std::uint32_t Find(Id128 id, const KeyAt& key_at) const {
    const std::uint32_t hash = Hash(id);
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.index_plus_one == 0) return kNotFound;
      if (slot.hash == hash && key_at(slot.index_plus_one - 1) == id)
        return slot.index_plus_one - 1;
    }
  }

  // Adds `id` → `index`; `id` must not be present.
  void Insert(Id128 id, std::uint32_t index) {
    if ((size_ + 1) * 2 > slot_count_) Grow();
    Place(Slot{index + 1, Hash(id)});
    ++size_;
  }

  // Removes `id`, which must be present.
  template <typename KeyAt>
  void Erase(Id128 id, const KeyAt& key_at) {
    const std::uint32_t hash = Hash(id);
    std::size_t i = hash & mask_;
    for (;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.index_plus_one == 0) return;  // not present: nothing to do
      if (slot.hash == hash && key_at(slot.index_plus_one - 1) == id) break;
    }
    // Backward-shift deletion: move later members of the probe run into the hole when their home
    // slot does not lie cyclically in (hole, j].
    std::size_t hole = i;
    for (std::size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      const Slot slot = slots_[j];
      if (slot.index_plus_one == 0) break;
      const std::size_t home = slot.hash & mask_;
      const bool home_in_range =
          hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (!home_in_range) {
        slots_[hole] = slot;
        hole = j;
      }
    }
    slots_[hole] = Slot{0, 0};
    --size_;
  }

 private:
  static constexpr std::size_t kInitialSlots = 64;

  // Trivial (an implicit-lifetime type), so zeroed raw memory is an array of empty slots.
  struct Slot {
    std::uint32_t index_plus_one;  // 0 = empty
    std::uint32_t hash;            // low 32 bits of Hash(id)
  };

  // Two rounds of 64x64→128 multiply-fold (the mixing step of wyhash), keyed by the seeds.
  std::uint32_t Hash(Id128 id) const {
    __extension__ typedef unsigned __int128 U128;
    U128 m = static_cast<U128>(id.low ^ seed_low_) * (id.high ^ seed_high_ ^ 0x9E3779B97F4A7C15ull);
    const std::uint64_t h = static_cast<std::uint64_t>(m) ^ static_cast<std::uint64_t>(m >> 64);
    m = static_cast<U128>(h ^ seed_high_) * 0xBF58476D1CE4E5B9ull;
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(m) ^
                                      static_cast<std::uint64_t>(m >> 64));
  }

  void Allocate(std::size_t slot_count) {
    storage_ = ZeroedArray(slot_count * sizeof(Slot));
    slots_ = static_cast<Slot*>(storage_.data());
    slot_count_ = slot_count;
    mask_ = slot_count - 1;
  }

  void Place(Slot slot) {
    std::size_t i = slot.hash & mask_;
    while (slots_[i].index_plus_one != 0) i = (i + 1) & mask_;
    slots_[i] = slot;
  }

  void Grow() {
    const ZeroedArray old_storage = std::move(storage_);
    const Slot* old = static_cast<const Slot*>(old_storage.data());
    const std::size_t old_count = slot_count_;
    Allocate(old_count * 2);
    for (std::size_t i = 0; i < old_count; ++i) {
      if (old[i].index_plus_one != 0) Place(old[i]);
    }
  }

  ZeroedArray storage_;
  Slot* slots_ = nullptr;
  std::size_t slot_count_ = 0;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
  std::uint64_t seed_low_ = 0;
  std::uint64_t seed_high_ = 0;
};

}  // namespace tapstack::ledger::internal

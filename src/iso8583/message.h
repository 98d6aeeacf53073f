// Message: one ISO 8583 message as MTI plus data elements 2..128, independent of wire profile.
//
// Values are stored as the field's logical content: digits for n, text for an/ans, '=' separated
// digits for z, sign + digits for x+n, raw bytes for b (DE52, DE55, DE64, DE128). Fixed-length
// fields keep their padding as received so that unpack then pack is byte-exact.
// All values live in one arena string, so a Message reused across unpacks does not allocate.
// Not thread-safe; copyable.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "iso8583/field_spec.h"

namespace tapstack::iso8583 {

class Message {
 public:
  Message() = default;
  explicit Message(std::string_view mti) { set_mti(mti); }

  std::string_view mti() const { return {mti_.data(), 4}; }
  // The MTI is validated at pack time (4 digits); any 4 characters can be stored.
  void set_mti(std::string_view mti);

  bool Has(int field) const;
  // The value of `field`, or nullopt when absent (or out of 2..128).
  std::optional<std::string_view> Get(int field) const;
  // Sets `field` (2..128; others are ignored and return false). The value is checked at pack time.
  bool Set(int field, std::string_view value);
  void Clear(int field);
  // Removes every field and the MTI; keeps the arena's capacity.
  void Reset();
  // Pre-sizes the value arena (the unpacker reserves the message size once).
  void Reserve(std::size_t bytes) { arena_.reserve(bytes); }

  // Present fields in ascending order: for (int f = m.NextField(1); f != 0; f = m.NextField(f)).
  // Returns 0 after the last.
  int NextField(int after) const;
  bool HasSecondaryFields() const;

  // When set, pack emits a secondary bitmap even if no field 65-128 is present (unpack sets it
  // when the received message had one, e.g. from npm iso_8583, which always sends it).
  bool force_secondary_bitmap() const { return force_secondary_bitmap_; }
  void set_force_secondary_bitmap(bool on) { force_secondary_bitmap_ = on; }

  friend bool operator==(const Message& a, const Message& b);

 private:
  struct Slot {
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
    bool present = false;
  };

  std::array<char, 4> mti_{'0', '0', '0', '0'};
  std::array<Slot, kFieldNumberMax + 1> slots_{};
  // Bit (f - 1) of the 128-bit set is field f's presence: iteration finds the next field with one
  // count-trailing-zeros instead of scanning slots.
  std::array<std::uint64_t, 2> present_bits_{};
  std::string arena_;
  bool force_secondary_bitmap_ = false;
};

}  // namespace tapstack::iso8583

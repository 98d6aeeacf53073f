#include "iso8583/message.h"

#include <bit>

namespace tapstack::iso8583 {

void Message::set_mti(std::string_view mti) {
  mti_.fill('?');
  for (std::size_t i = 0; i < 4 && i < mti.size(); ++i) mti_[i] = mti[i];
  if (mti.size() != 4) mti_[3] = '?';  // a wrong length can never pack
}

bool Message::Has(int field) const {
  return field >= 2 && field <= kFieldNumberMax && slots_[static_cast<std::size_t>(field)].present;
}

std::optional<std::string_view> Message::Get(int field) const {
  if (!Has(field)) return std::nullopt;
  const Slot& s = slots_[static_cast<std::size_t>(field)];
  return std::string_view(arena_).substr(s.offset, s.length);
}

bool Message::Set(int field, std::string_view value) {
  if (field < 2 || field > kFieldNumberMax) return false;
  Slot& s = slots_[static_cast<std::size_t>(field)];
  s.offset = static_cast<std::uint32_t>(arena_.size());
  s.length = static_cast<std::uint32_t>(value.size());
  s.present = true;
  present_bits_[static_cast<std::size_t>((field - 1) / 64)] |= std::uint64_t{1} << ((field - 1) % 64);
  arena_.append(value);
  return true;
}

void Message::Clear(int field) {
  if (field < 2 || field > kFieldNumberMax) return;
  slots_[static_cast<std::size_t>(field)] = Slot{};
  present_bits_[static_cast<std::size_t>((field - 1) / 64)] &= ~(std::uint64_t{1} << ((field - 1) % 64));
}

void Message::Reset() {
  mti_ = {'0', '0', '0', '0'};
  slots_.fill(Slot{});
  present_bits_ = {};
  arena_.clear();
  force_secondary_bitmap_ = false;
}

int Message::NextField(int after) const {
  // Bit index of field f is f - 1; look at bits from index `after` (field after + 1) upwards.
  for (int index = after; index < kFieldNumberMax; index = (index / 64 + 1) * 64) {
    const std::uint64_t word = present_bits_[static_cast<std::size_t>(index / 64)] >> (index % 64);
    if (word != 0) return index + std::countr_zero(word) + 1;
  }
  return 0;
}

bool Message::HasSecondaryFields() const { return NextField(64) != 0; }

bool operator==(const Message& a, const Message& b) {
  if (a.mti() != b.mti()) return false;
  for (int f = 2; f <= kFieldNumberMax; ++f) {
    if (a.Get(f) != b.Get(f)) return false;
  }
  return true;
}

}  // namespace tapstack::iso8583

// ISO 8583 unpack under arbitrary bytes, for every profile. The first byte picks the profile.
// Properties: no crash; a message that unpacks packs again, and that packing unpacks to an equal
// message and re-packs to the same bytes (byte-exact except hex letter case, which the hex
// profile accepts in either case on input).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "iso8583/codec.h"

using tapstack::iso8583::Message;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const tapstack::iso8583::Profile* profiles[] = {&tapstack::iso8583::AsciiProfile(),
                                                  &tapstack::iso8583::AsciiHexBitmapProfile(),
                                                  &tapstack::iso8583::BcdProfile()};
  const auto& profile = *profiles[data[0] % 3];
  tapstack::ByteView wire(data + 1, size - 1);
  Message message;
  if (!tapstack::iso8583::Unpack(wire, profile, message).ok()) return 0;
  std::string packed;
  if (!tapstack::iso8583::Pack(message, profile, packed).ok()) std::abort();
  if (profile.id != tapstack::iso8583::ProfileId::kAsciiHexBitmap &&
      packed != std::string(reinterpret_cast<const char*>(wire.data()), wire.size())) {
    std::abort();
  }
  Message again;
  if (!tapstack::iso8583::Unpack(tapstack::AsBytes(packed), profile, again).ok()) std::abort();
  if (!(again == message)) std::abort();
  std::string repacked;
  if (!tapstack::iso8583::Pack(again, profile, repacked).ok() || repacked != packed) std::abort();
  return 0;
}

#include "iso8583/compact_message.h"

namespace tapstack::iso8583 {

std::string CompactMessage(const Message& m) {
  std::string out(m.mti());
  out += static_cast<char>(m.force_secondary_bitmap() ? 1 : 0);
  for (int f = m.NextField(1); f != 0; f = m.NextField(f)) {
    const std::string_view value = *m.Get(f);
    out += static_cast<char>(f);
    out += static_cast<char>((value.size() >> 8) & 0xFF);
    out += static_cast<char>(value.size() & 0xFF);
    out += value;
  }
  return out;
}

Message ExpandMessage(std::string_view compact) {
  if (compact.size() < 5) return Message(compact.substr(0, 4));
  Message m(compact.substr(0, 4));
  m.set_force_secondary_bitmap((static_cast<unsigned char>(compact[4]) & 1) != 0);
  std::size_t at = 5;
  while (at + 3 <= compact.size()) {
    const int field = static_cast<unsigned char>(compact[at]);
    const std::size_t length =
        (static_cast<std::size_t>(static_cast<unsigned char>(compact[at + 1])) << 8) |
        static_cast<unsigned char>(compact[at + 2]);
    if (at + 3 + length > compact.size()) break;
    m.Set(field, compact.substr(at + 3, length));
    at += 3 + length;
  }
  return m;
}

}  // namespace tapstack::iso8583

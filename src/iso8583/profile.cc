#include "iso8583/profile.h"

#include <string>

namespace tapstack::iso8583 {

namespace {
constexpr Profile kAscii{ProfileId::kAscii, "ascii", false, false, false, false};
constexpr Profile kAsciiHex{ProfileId::kAsciiHexBitmap, "ascii-hexbitmap", false, true, false, true};
constexpr Profile kBcd{ProfileId::kBcd, "bcd", true, false, true, false};
}  // namespace

const Profile& AsciiProfile() { return kAscii; }
const Profile& AsciiHexBitmapProfile() { return kAsciiHex; }
const Profile& BcdProfile() { return kBcd; }

Result<const Profile*> ProfileByName(std::string_view name) {
  for (const Profile* p : {&kAscii, &kAsciiHex, &kBcd}) {
    if (p->name == name) return p;
  }
  return InvalidArgument("unknown ISO 8583 profile '" + std::string(name) +
                         "'; expected ascii, ascii-hexbitmap or bcd");
}

}  // namespace tapstack::iso8583

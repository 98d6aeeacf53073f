// Fuzz target for src/qr: arbitrary bytes as an MPM payload, as CPM base64 text and as raw CPM
// TLV (MPM also with its CRC recomputed). Properties: decoding never crashes; the JSON view always
// dumps; a payload that decodes as valid re-encodes to itself byte for byte (MPM: with the CRC
// digits upper-cased), directly and through the JSON view.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "qr/cpm.h"
#include "qr/crc16.h"
#include "qr/mpm.h"
#include "qr/qr_json.h"
#include "qr/wallet_code.h"

namespace {

using namespace tapstack::qr;

void Check(bool condition) {
  if (!condition) std::abort();
}

std::string UpperCrc(std::string_view payload) {
  std::string out(payload);
  for (std::size_t i = out.size() >= 4 ? out.size() - 4 : 0; i < out.size(); ++i) {
    if (out[i] >= 'a' && out[i] <= 'f') out[i] = static_cast<char>(out[i] - 'a' + 'A');
  }
  return out;
}

void FuzzMpm(std::string_view text) {
  const MpmDecoded decoded = DecodeMpm(text);
  if (!decoded.valid()) {
    MpmEncodeOptions lenient;
    lenient.validate = false;
    (void)EncodeMpm(decoded.objects, lenient);  // must not crash on partial trees
    return;
  }
  auto encoded = EncodeMpm(decoded.objects);
  Check(encoded.ok());
  Check(*encoded == UpperCrc(text));
}

// Mutations almost always break the CRC, which would hide everything behind one error; a copy
// with the CRC recomputed lets the fuzzer reach valid structures and test their round trip.
std::string WithFixedCrc(std::string_view text) {
  std::string out(text);
  if (out.size() >= 8 && out.compare(out.size() - 8, 4, "6304") == 0) {
    out.replace(out.size() - 4, 4,
                FormatCrc16(Crc16CcittFalse(std::string_view(out).substr(0, out.size() - 4))));
  }
  return out;
}

void FuzzCpm(std::string_view text, tapstack::ByteView bytes) {
  const CpmDecoded from_base64 = DecodeCpm(text);
  if (from_base64.valid()) {
    auto encoded = EncodeCpm(from_base64.objects);
    Check(encoded.ok());
    Check(*encoded == text);
  }
  const CpmDecoded raw = DecodeCpmBytes(bytes);
  if (raw.valid()) {
    auto encoded = EncodeCpmBytes(raw.objects);
    Check(encoded.ok());
    Check(std::equal(encoded->begin(), encoded->end(), bytes.begin(), bytes.end()));
  } else {
    CpmEncodeOptions lenient;
    lenient.validate = false;
    (void)EncodeCpmBytes(raw.objects, lenient);
  }
}

void FuzzJson(std::string_view text) {
  const nlohmann::json view = DecodeToJson(text);
  (void)view.dump();  // throws on invalid UTF-8; every string must have been sanitised
  if (view.at("valid").get<bool>()) {
    auto encoded = EncodeFromJson(view);
    Check(encoded.ok());
    Check(*encoded == (DetectQrMode(text) == QrMode::kMpm ? UpperCrc(text) : std::string(text)));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  FuzzMpm(text);
  FuzzMpm(WithFixedCrc(text));
  FuzzCpm(text, tapstack::ByteView(data, size));
  FuzzJson(text);
  (void)ParseWalletCode(text);
  return 0;
}

// Fuzz target for the secure element's APDU interface (device/secure_element.h), the parser a
// phone exposes to any terminal it is held against. The input is a session: a sequence of C-APDUs,
// each prefixed by one length byte, sent to one device holding one token (master-key mode, the
// CVN-MC-20 test IMK from tests/vectors/emv_crypto.json). Invariants: every answer ends in a
// status word (at least 2 bytes) and nothing crashes, whatever the order or content.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <unistd.h>

#include "core/bytes.h"
#include "core/hex.h"
#include "crypto/device_key_wrap.h"
#include "device/secure_element.h"
#include "device/token_credentials.h"
#include "emv/card_keys.h"
#include "emv/cryptogram_profile.h"

namespace {

using tapstack::Bytes;
using tapstack::ByteView;
namespace device = tapstack::device;

void Require(bool condition) {
  if (!condition) std::abort();
}

// One device for the whole run (opening one per input would measure SQLite, not the parser).
device::SecureElement& Device() {
  static std::unique_ptr<device::SecureElement> se = [] {
    const auto dir = std::filesystem::temp_directory_path() / ("tapstack-fuzz-se-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    device::SecureElementOptions options;
    options.data_dir = dir;
    options.device_id = "fuzz-phone";
    auto opened = device::SecureElement::Open(options);
    Require(opened.ok());
    auto imk = tapstack::HexDecode("0123456789ABCDEFFEDCBA9876543210");
    const auto& profile = *tapstack::emv::FindCryptogramProfile(device::kSupportedProfile);
    device::TokenCredentials c;
    c.token_id = "tok-fuzz";
    c.token_number = "5413330089600010";
    c.expiry_yymm = "2812";
    c.psn = "01";
    c.profile_name = std::string(device::kSupportedProfile);
    c.mode = device::KeyMode::kMasterKey;
    auto mk = tapstack::emv::DeriveCardMasterKey(profile, tapstack::crypto::SecretBytes(ByteView(*imk)),
                                                 c.token_number, c.psn);
    Require(mk.ok());
    c.icc_master_key = std::move(mk).value();
    auto plain = device::EncodeTokenCredentials(c, false);
    Require(plain.ok());
    auto blob = tapstack::crypto::WrapForDevice((*opened)->public_key(), (*opened)->device_id(), c.token_id, *plain);
    Require(blob.ok());
    Require((*opened)->InstallToken(c.token_id, *blob).ok());
    return std::move(*opened);
  }();
  return *se;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  device::SecureElement& se = Device();
  std::size_t at = 0;
  while (at < size) {
    const std::size_t length = data[at++];
    const std::size_t take = length < size - at ? length : size - at;
    // An odd length byte arms the biometric gate first, so GENERATE AC paths past CDCVM are reached.
    if ((length & 1) != 0) se.BiometricVerified();
    const Bytes answer = se.Transmit(ByteView(data + at, take));
    Require(answer.size() >= 2);
    at += take;
  }
  return 0;
}

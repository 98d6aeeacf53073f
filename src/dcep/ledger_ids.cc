#include "dcep/ledger_ids.h"

#include <string>

#include "crypto/hash.h"
#include "crypto/mac.h"

namespace tapstack::dcep {

namespace {

ledger::Id128 FromDigest(ByteView digest) {
  ledger::Id128 id;
  for (int i = 0; i < 8; ++i) id.high = (id.high << 8) | digest[static_cast<std::size_t>(i)];
  for (int i = 8; i < 16; ++i) id.low = (id.low << 8) | digest[static_cast<std::size_t>(i)];
  // 0 and all-ones are refused by the ledger; a digest that hits them (probability 2^-127) moves.
  if (id.is_zero()) id.low = 1;
  if (id.is_max()) id.low -= 1;
  return id;
}

}  // namespace

Result<IdDeriver> IdDeriver::Create(crypto::SecretBytes key) {
  if (key.size() < kIdKeyBytesMin) {
    return InvalidArgument("id key: expected at least " + std::to_string(kIdKeyBytesMin) +
                           " bytes");
  }
  return IdDeriver(std::move(key));
}

Result<ledger::Id128> IdDeriver::Derive(std::string_view purpose, std::string_view part1,
                                        std::string_view part2) const {
  std::string message;
  message.reserve(purpose.size() + part1.size() + part2.size() + 2);
  message.append(purpose).push_back('\0');
  message.append(part1).push_back('\0');
  message.append(part2);
  TS_ASSIGN_OR_RETURN(const Bytes mac, crypto::HmacSha256(key_, AsBytes(message)));
  return FromDigest(mac);
}

Result<ledger::Id128> RequestDigest(std::string_view canonical_request) {
  TS_ASSIGN_OR_RETURN(const Bytes digest, crypto::Sha256(AsBytes(canonical_request)));
  return FromDigest(digest);
}

crypto::SecretBytes DemoDcepIdKey(std::string_view role) {
  Result<Bytes> master = crypto::Sha256(AsBytes(kDemoDcepMaster));
  if (!master.ok()) return {};
  Result<Bytes> key = crypto::HmacSha256(crypto::SecretBytes(std::move(*master)), AsBytes(role));
  if (!key.ok()) return {};
  return crypto::SecretBytes(std::move(*key));
}

Bytes IdToBytes(ledger::Id128 id) {
  Bytes out(16);
  for (int i = 0; i < 8; ++i) {
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(id.high >> (56 - 8 * i));
    out[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(id.low >> (56 - 8 * i));
  }
  return out;
}

Result<ledger::Id128> IdFromBytes(ByteView bytes) {
  if (bytes.size() != 16) return Corruption("id: expected 16 bytes");
  ledger::Id128 id;
  for (int i = 0; i < 8; ++i) id.high = (id.high << 8) | bytes[static_cast<std::size_t>(i)];
  for (int i = 8; i < 16; ++i) id.low = (id.low << 8) | bytes[static_cast<std::size_t>(i)];
  return id;
}

}  // namespace tapstack::dcep

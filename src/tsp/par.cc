#include "tsp/par.h"

#include "crypto/mac.h"

namespace tapstack::tsp {

namespace {

constexpr std::string_view kParDomain = "tapstack-par-v1";
// RFC 4648 §6 Base32 alphabet: upper-case letters and 2-7, all valid in an an29 PAR.
constexpr std::string_view kBase32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

bool IsUpperAlnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

}  // namespace

bool IsWellFormedPar(std::string_view par) {
  if (par.size() != kParChars) return false;
  for (char c : par) {
    if (!IsUpperAlnum(c)) return false;
  }
  return true;
}

Result<ParGenerator> ParGenerator::Create(std::string bin_controller_id,
                                          crypto::SecretBytes par_key) {
  if (bin_controller_id.size() != kParBinControllerIdChars) {
    return InvalidArgument("bin_controller_id must be 4 characters");
  }
  for (char c : bin_controller_id) {
    if (!IsUpperAlnum(c)) return InvalidArgument("bin_controller_id must be A-Z and 0-9");
  }
  if (par_key.size() != kParKeyBytes) {
    return InvalidArgument("par_key must be 32 bytes; got " + std::to_string(par_key.size()));
  }
  return ParGenerator(std::move(bin_controller_id), std::move(par_key));
}

Result<std::string> ParGenerator::ForPan(const Pan& pan) const {
  Bytes input(kParDomain.begin(), kParDomain.end());
  input.push_back(0x00);
  input.insert(input.end(), pan.reveal().begin(), pan.reveal().end());
  Result<Bytes> mac = crypto::HmacSha256(par_key_, input);
  SecureWipe(input.data(), input.size());
  if (!mac.ok()) return mac.status().WithContext("PAR");
  std::string par = bin_controller_id_;
  // Take 5 bits at a time, most significant first, from the MAC's first 16 bytes.
  const std::size_t chars = kParChars - kParBinControllerIdChars;
  for (std::size_t i = 0; i < chars; ++i) {
    const std::size_t bit = i * 5;
    const unsigned two_bytes = (static_cast<unsigned>((*mac)[bit / 8]) << 8) | (*mac)[bit / 8 + 1];
    par += kBase32Alphabet[(two_bytes >> (11 - bit % 8)) & 0x1F];
  }
  return par;
}

}  // namespace tapstack::tsp

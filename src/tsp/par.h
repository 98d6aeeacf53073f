// Payment Account Reference (PAR): links a PAN and all its tokens without being a payment
// credential (EMVCo PAR; EMV tag 9F24, format an29; emv-and-tokenization.md §2).
//
// Format (EMVCo): 29 upper-case alphanumerics = a 4-character BIN Controller Identifier registered
// with EMVCo + 25 characters unique within that controller.
//
// Construction here (tapstack's choice; EMVCo leaves the 25 characters to the BIN controller):
//   mac = HMAC-SHA-256(par_key, "tapstack-par-v1" ‖ 0x00 ‖ PAN digits as ASCII)
//   PAR = bin_controller_id ‖ Base32(mac)[0..25)     (RFC 4648 alphabet A-Z 2-7, no padding)
// 25 Base32 characters carry the first 125 bits of the MAC: deterministic per PAN (every token of
// one PAN shares it), not reversible without par_key, collisions negligible (birthday bound 2^62).
// par_key is separate from the vault's fingerprint key: the PAR leaves the TSP (to acquirers and
// merchants), the fingerprint never does, and the two must not be correlatable. par_key must live
// as long as the PARs (a PAR is stable for the account's life), so it is never rotated; a PAN
// re-issue keeps the stored PAR (TokenVault::UpdatePan).
//
// Thread-safe (immutable after Create).
#pragma once

#include <string>
#include <string_view>

#include "core/pan.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"

namespace tapstack::tsp {

inline constexpr std::size_t kParChars = 29;
inline constexpr std::size_t kParBinControllerIdChars = 4;
inline constexpr std::size_t kParKeyBytes = 32;

// True when `par` is 29 characters of A-Z and 0-9.
bool IsWellFormedPar(std::string_view par);

class ParGenerator {
 public:
  // Errors (kInvalidArgument): bin_controller_id not 4 characters of A-Z/0-9; par_key not 32
  // bytes.
  static Result<ParGenerator> Create(std::string bin_controller_id, crypto::SecretBytes par_key);

  // The PAR of `pan`. Errors: kCryptoFailure if the HMAC fails.
  Result<std::string> ForPan(const Pan& pan) const;

  const std::string& bin_controller_id() const { return bin_controller_id_; }

 private:
  ParGenerator(std::string id, crypto::SecretBytes key)
      : bin_controller_id_(std::move(id)), par_key_(std::move(key)) {}

  std::string bin_controller_id_;
  crypto::SecretBytes par_key_;
};

}  // namespace tapstack::tsp

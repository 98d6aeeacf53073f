// RevocationRegistry: the network's list of revoked hardware wallets, merged across operators
// (digital-currency.md §5.1: revocation lists reach devices at their next sync, and an offline
// payee refuses a revoked payer whichever operator certified it).
//
// Each operator revokes its own devices (a double spend, a frozen lost device) in its own
// certificate authority and publishes them here; the central bank's root authority keeps the
// registry (RootAuthority implements it). Every operator caches the entries of the others and
// puts the merged list in the sync acknowledgements it signs (OperatorAuthority::IssueSyncAck),
// so a device of operator B learns at its next sync that a device of operator A is revoked.
//
// Entries are named (issuer id, device id): device ids are unique per operator only. The registry
// numbers entries in the order it first records them (network_version 1, 2, ...); publishing the
// same (issuer, device) again is a no-op that keeps the first entry.
//
// Thread-safety: implementations must allow calls from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace tapstack::dcep {

// Entries one Since() call returns at most (an operator catching up calls again).
inline constexpr std::size_t kRegistryPageEntriesMax = 1000;

struct NetworkRevocation {
  std::string issuer_id;  // the operator that certified (and revoked) the device
  std::string device_id;
  std::uint64_t serial = 0;          // the device's newest certificate at revocation
  std::string reason;                // kRevocationReasonDoubleSpend, kRevocationReasonFrozen, ...
  std::int64_t not_after_unix_s = 0;  // of that certificate: after it, no payee accepts the device
  std::int64_t revoked_unix_ms = 0;
  std::uint32_t network_version = 0;  // set by the registry
};

class RevocationRegistry {
 public:
  virtual ~RevocationRegistry() = default;

  // Records `entry` (network_version ignored) unless (issuer, device) is already recorded.
  // Durable before it returns. Errors: kInvalidArgument (ids, reason empty), store errors
  // (transient: publish again).
  virtual Status Publish(const NetworkRevocation& entry) = 0;

  // The entries with network_version > `after_version`, oldest first, at most `limit`
  // (1..kRegistryPageEntriesMax). Errors: kInvalidArgument (limit), store errors.
  virtual Result<std::vector<NetworkRevocation>> Since(std::uint32_t after_version,
                                                       std::size_t limit) = 0;
};

}  // namespace tapstack::dcep

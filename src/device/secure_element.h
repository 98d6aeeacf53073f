// SecureElement: the emulated device's secure element. Terminals reach it only through
// Transmit() (C-APDU bytes in, R-APDU bytes out; device/apdu_host.h); the wallet on the same
// device reaches it through the host-side calls below (biometric result, token installation,
// HCE key status), never through APDUs.
//
// State lives in one SQLite file per device (device/device_store.h): the P-256 key-agreement key
// generated at the first Open (its private half never leaves this object or that file), the
// tokens with their ATC and keys. Reopening the same data dir and device id continues where the
// device stopped: the ATC never repeats.
//
// Key delivery: the TSP wraps a token's credentials (device/token_credentials.h) for this device
// only with crypto::WrapForDevice(public_key(), device_id(), token_id, ...). InstallToken refuses
// a blob made for another device or token, or changed in transit (kCryptoFailure).
//
// Thread-safe: one mutex serialises every call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/status.h"
#include "crypto/key_agreement.h"
#include "device/apdu_host.h"
#include "device/cdcvm_gate.h"
#include "device/device_store.h"
#include "device/payment_applet.h"

namespace tapstack::device {

// HCE: "replenish needed" once fewer than this many single-use keys remain.
inline constexpr std::size_t kHceReplenishThresholdKeys = 3;

struct SecureElementOptions {
  std::filesystem::path data_dir;  // the device's file is <data_dir>/<device_id>/...
  std::string device_id;           // 1-64 of a-z 0-9 - _
  const Clock* clock = nullptr;    // default: SystemClock::Instance()
  std::int64_t cdcvm_window_ms = kCdcvmWindowMs;
  std::size_t hce_replenish_threshold_keys = kHceReplenishThresholdKeys;
};

class SecureElement {
 public:
  // Opens (creating on first use) the device. Errors: a bad device id (kInvalidArgument); store
  // errors; a stored key or token that does not load (kCorruption).
  static Result<std::unique_ptr<SecureElement>> Open(SecureElementOptions options);

  const std::string& device_id() const { return options_.device_id; }
  // The device's key-agreement public key, 04 || X || Y, for the TSP's WrapForDevice.
  const Bytes& public_key() const { return public_key_; }

  // The contactless interface: one C-APDU in, one R-APDU (data || SW1 SW2) out. Never fails.
  Bytes Transmit(ByteView command_apdu);

  // The wallet reports a passed biometric check: arms CDCVM for the next transaction within
  // the window (device/cdcvm_gate.h).
  void BiometricVerified();

  // Installs a token from a blob wrapped for this device and `token_id`. Errors:
  // kCryptoFailure (another device's or token's blob, or tampered); kInvalidArgument (malformed
  // credentials, an unsupported profile, token id mismatch); kAlreadyExists (token installed);
  // store errors.
  Status InstallToken(std::string_view token_id, ByteView wrapped_credentials);

  // Adds an HCE key batch (token_credentials.h "replenishment") wrapped for this device and token.
  // Errors: as InstallToken; kNotFound for an unknown token; kFailedPrecondition for a
  // master-key token.
  Status ReplenishLimitedUseKeys(std::string_view token_id, ByteView wrapped_batch);

  // HCE single-use keys left for `token_id` (0 for master-key tokens). Errors: kNotFound.
  Result<std::size_t> LimitedUseKeysRemaining(std::string_view token_id);
  // True when an HCE token has fewer than hce_replenish_threshold_keys keys left.
  Result<bool> ReplenishNeeded(std::string_view token_id);

  // The last ATC `token_id` used, as stored. Errors: kNotFound.
  Result<std::uint16_t> Atc(std::string_view token_id);
  std::vector<std::string> TokenIds() const;
  // The AID of `token_id`'s payment applet. Errors: kNotFound.
  Result<Bytes> TokenAid(std::string_view token_id) const;

 private:
  SecureElement(SecureElementOptions options, const Clock& clock,
                std::unique_ptr<DeviceStore> store, crypto::EcdhPrivateKey key, Bytes public_key)
      : options_(std::move(options)),
        store_(std::move(store)),
        key_(std::move(key)),
        public_key_(std::move(public_key)),
        gate_(clock, options_.cdcvm_window_ms) {}

  Status AddApplet(StoredToken token);
  PaymentApplet* FindToken(std::string_view token_id) const;

  mutable std::mutex mu_;
  SecureElementOptions options_;
  std::unique_ptr<DeviceStore> store_;
  crypto::EcdhPrivateKey key_;
  Bytes public_key_;
  CdcvmGate gate_;
  ApduHost host_;
  std::vector<PaymentApplet*> payment_applets_;  // owned by host_
};

}  // namespace tapstack::device

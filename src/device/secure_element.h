// SecureElement: the emulated device's secure element. Terminals reach it only through
// Transmit() (C-APDU bytes in, R-APDU bytes out; device/apdu_host.h); the wallet on the same
// device reaches it through the host-side calls below (biometric result, token installation,
// HCE key status), never through APDUs.
//
// State lives in one SQLite file per device (device/device_store.h): the P-256 key-agreement key
// generated at the first Open (its private half never leaves this object or that file), the
// tokens with their ATC and keys, the transit cards with their balance, counters, log, CAPP
// record, blocked flag and the express choice. Reopening the same data dir and device id
// continues where the device stopped: the ATC never repeats, a purse keeps its balance.
//
// Transit cards (device/transit_applet.h): every card answers the same T-Union AID, so the host
// holds one router for that AID. A terminal's SELECT of it over Transmit() reaches the express
// card only (6A82 when there is no transit card), with no biometric (express mode); the AID is not
// in the PPSE. The wallet reaches any card with TransmitToTransitCard(), a separate logical
// channel (like OMAPI). One card has one transaction session: when the terminal selects a card
// the wallet's session on it ends, and when the wallet addresses a card the terminal's session on
// it ends (its next command gets 6985). Neither half-completes a debit or credit.
//
// Digital-currency wallet (device/dcep_applet.h): at most one, installed on demand by the wallet
// (InstallDcepWallet, or InstallDcepApplet then GENERATE KEY PAIR over APDUs). A terminal or
// another watch reaches it over Transmit() by SELECT of its AID (it is not in the PPSE), with no
// biometric (express, like transit); the wallet reaches it with TransmitToDcepWallet(), a
// separate channel. As for transit cards, one session: addressing it on one channel ends the
// session on the other (its next command gets 6985). Chained commands (CLA 90) sent over
// Transmit() while the wallet is selected go to it directly, since the APDU host knows only the
// classes 00, 80 and 84.
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
#include "core/random_source.h"
#include "core/status.h"
#include "crypto/key_agreement.h"
#include "device/apdu_host.h"
#include "device/cdcvm_gate.h"
#include "device/dcep_applet.h"
#include "device/device_store.h"
#include "device/payment_applet.h"
#include "device/transit_applet.h"

namespace tapstack::device {

// HCE: "replenish needed" once fewer than this many single-use keys remain.
inline constexpr std::size_t kHceReplenishThresholdKeys = 3;
// Most transit cards one device holds (wallets show a handful of cities).
inline constexpr std::size_t kTransitCardsMax = 16;

struct SecureElementOptions {
  std::filesystem::path data_dir;  // the device's file is <data_dir>/<device_id>/...
  std::string device_id;           // 1-64 of a-z 0-9 - _
  const Clock* clock = nullptr;    // default: SystemClock::Instance()
  std::int64_t cdcvm_window_ms = kCdcvmWindowMs;
  std::size_t hce_replenish_threshold_keys = kHceReplenishThresholdKeys;
  // Card randoms and challenges of the transit purses; nullptr: crypto::Csprng. Tests inject a
  // fixed source. Must outlive the SecureElement.
  RandomSource* transit_random = nullptr;
  // Payee nonces of the digital-currency wallet; nullptr: crypto::Csprng. Must outlive the
  // SecureElement.
  RandomSource* dcep_random = nullptr;
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

  // Installs a transit card from a personalisation (device/transit_card_profile.h) wrapped for
  // this device with token id = `card_id`. The first card installed becomes the express card.
  // Errors: kCryptoFailure (another device's or card's blob, or tampered); kInvalidArgument (a
  // profile that does not decode, another card id inside); kAlreadyExists (card installed);
  // kOutOfRange (already kTransitCardsMax cards); store errors. On error nothing is installed.
  Status InstallTransitCard(std::string_view card_id, ByteView wrapped_profile);
  // Deletes a card and its state; when it was the express card, the next remaining card (install
  // order) becomes express. Errors: kNotFound; store errors.
  Status RemoveTransitCard(std::string_view card_id);
  // The installed transit cards, in install order.
  std::vector<std::string> TransitCardIds() const;
  // Makes `card_id` the express card (persisted); a terminal session on the previous one ends.
  // Errors: kNotFound; store errors.
  Status SetExpressTransitCard(std::string_view card_id);
  // Errors: kNotFound when no transit card is installed.
  Result<std::string> ExpressTransitCard() const;
  // The wallet's own channel to one card: one C-APDU in, one R-APDU out, never fails. The first
  // command after the wallet switched cards (or after a terminal used this card) selects the card
  // implicitly; an explicit SELECT of the T-Union AID re-selects it. Unknown `card_id`: 6A82.
  Bytes TransmitToTransitCard(std::string_view card_id, ByteView command_apdu);

  // Installs the digital-currency applet, unpersonalised (GENERATE KEY PAIR comes over APDUs).
  // Errors: kAlreadyExists (one is installed); store errors.
  Status InstallDcepApplet();
  // Installs (if needed) and personalises the wallet: generates the device key pair of `scheme`
  // and stores the root public key; returns the device public key raw, for the operator's
  // device certificate. Errors: kAlreadyExists (already personalised); kInvalidArgument (a root
  // key that is not a valid key); store errors.
  Result<Bytes> InstallDcepWallet(crypto::SignatureScheme scheme,
                                  const crypto::PublicKey& root_public_key);
  bool HasDcepWallet() const;
  // The wallet's own channel to the applet: one C-APDU in, one R-APDU out, never fails.
  // The first command after the terminal used the applet selects it implicitly. No wallet: 6A82.
  Bytes TransmitToDcepWallet(ByteView command_apdu);

 private:
  class ExpressTransitRouter;
  class DcepRouter;
  // Which channel has a session with the digital-currency applet.
  struct DcepChannels {
    DcepApplet* applet = nullptr;
    bool terminal = false;  // selected through Transmit()
    bool wallet = false;    // addressed through TransmitToDcepWallet()
  };
  // Which transit card each channel has a session with (nullptr: none).
  struct TransitChannels {
    TransitPurseApplet* express = nullptr;
    TransitPurseApplet* terminal = nullptr;  // selected through Transmit()
    TransitPurseApplet* wallet = nullptr;    // selected through TransmitToTransitCard()
  };

  SecureElement(SecureElementOptions options, const Clock& clock,
                std::unique_ptr<DeviceStore> store, crypto::EcdhPrivateKey key, Bytes public_key)
      : options_(std::move(options)),
        store_(std::move(store)),
        key_(std::move(key)),
        public_key_(std::move(public_key)),
        gate_(clock, options_.cdcvm_window_ms) {}

  Status AddApplet(StoredToken token);
  PaymentApplet* FindToken(std::string_view token_id) const;
  Status AddTransitApplet(StoredTransitCard card);
  Status LoadDcepApplet();
  Status InstallDcepAppletLocked();
  TransitPurseApplet* FindTransitCard(std::string_view card_id) const;
  // Ends the terminal's session when it is on `card` (or on any card when `card` is nullptr).
  void EndTerminalTransitSession(TransitPurseApplet* card);

  mutable std::mutex mu_;
  SecureElementOptions options_;
  std::unique_ptr<DeviceStore> store_;
  crypto::EcdhPrivateKey key_;
  Bytes public_key_;
  CdcvmGate gate_;
  ApduHost host_;
  std::vector<PaymentApplet*> payment_applets_;  // owned by host_
  std::vector<std::unique_ptr<TransitPurseApplet>> transit_cards_;  // install order
  TransitChannels transit_channels_;
  std::unique_ptr<DcepApplet> dcep_;
  DcepChannels dcep_channels_;
};

}  // namespace tapstack::device

// A watch with a digital-currency hardware wallet for the network-level dcep tests: its own
// secure element (a directory), the wallet app's channel and the NFC field, personalised through
// an operator's HardwareWallets.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "dcep/certificate_authority.h"
#include "dcep/hardware_wallets.h"
#include "dcep_test_util.h"
#include "device/dcep_wallet_client.h"
#include "device/secure_element.h"

namespace tapstack::dcep::testing {

struct Watch {
  std::unique_ptr<device::SecureElement> se;
  std::unique_ptr<device::DcepWalletClient> app;    // the wallet app's channel
  std::unique_ptr<device::DcepWalletClient> field;  // the NFC field (offline payments)
  std::string id;
  std::string op;  // the operator that certified it
};

// Opens watch `id` with its secure element under `dir`. With a `wallet`, installs an SM2 hardware
// wallet (the root key `root` pre-installed) and has `wallets` (operator `op`) certify it for
// that wallet; without one, the watch is only opened (a clone, or a watch reopened).
inline Watch OpenWatch(const std::filesystem::path& dir, const std::string& id,
                       const std::string& op, HardwareWallets& wallets, const std::string& wallet,
                       const RootAuthority& root) {
  Watch w;
  w.id = id;
  w.op = op;
  device::SecureElementOptions options;
  options.data_dir = dir;
  options.device_id = id;
  w.se = Must(device::SecureElement::Open(options));
  // The clients hold the secure element, not the Watch (which moves).
  device::SecureElement* raw = w.se.get();
  w.app = std::make_unique<device::DcepWalletClient>(
      [raw](ByteView apdu) { return raw->TransmitToDcepWallet(apdu); });
  w.field = std::make_unique<device::DcepWalletClient>(
      [raw](ByteView apdu) { return raw->Transmit(apdu); });
  if (!wallet.empty()) {
    const Bytes key =
        Must(raw->InstallDcepWallet(crypto::SignatureScheme::kSm2Sm3, root.public_key()));
    const Bytes chain = Must(wallets.CertifyDevice(wallet, id, crypto::SignatureScheme::kSm2Sm3, key));
    EXPECT_TRUE(w.app->PutCertificates(chain).ok());
  }
  return w;
}

// READ LOG, upload to `wallets`, then SYNC the watch with the acknowledgement.
inline UploadResult UploadWatch(HardwareWallets& wallets, Watch& w) {
  const Bytes log = Must(w.app->ReadLog());
  UploadResult result = Must(wallets.Upload(w.id, log));
  EXPECT_TRUE(w.app->Sync(result.sync_ack).ok());
  return result;
}

}  // namespace tapstack::dcep::testing

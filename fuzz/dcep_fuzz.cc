// Fuzz target for the digital-currency wire formats and the hardware-wallet applet
// (dcep_wire/, device/dcep_applet.h). The first input byte picks one:
//   0  ParseCertificate, and VerifyChain when it parses
//   1  ParsePaymentRequest
//   2  ParseOfflineTransfer, ParseCertificateChain, ParseTransferWithChain
//   3  ParseLoadOrder
//   4  ParseSyncAck
//   5  ParseLogRecords
//   6  the applet on a personalised, loaded SM2 wallet: the rest is one command's data, sent
//      chained (emv::TransmitChained) under the INS given by the second byte, over the field
//   7  the applet: a session of raw C-APDUs, each prefixed by a length byte; the high bit of the
//      length byte sends it over the wallet's channel instead of the field
// Invariants: every APDU answer ends in a status word, and nothing crashes.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "core/bytes.h"
#include "crypto/signature.h"
#include "dcep_wire/certificate.h"
#include "dcep_wire/load_order.h"
#include "dcep_wire/log_record.h"
#include "dcep_wire/offline_transfer.h"
#include "dcep_wire/payment_request.h"
#include "dcep_wire/sync_ack.h"
#include "device/dcep_applet.h"
#include "device/secure_element.h"
#include "emv/apdu_chaining.h"

namespace {

using tapstack::Bytes;
using tapstack::ByteView;
namespace wire = tapstack::dcep_wire;
namespace device = tapstack::device;
namespace crypto = tapstack::crypto;

void Require(bool condition) {
  if (!condition) std::abort();
}

// One personalised watch with a balance, and its root key, for the whole run.
struct World {
  std::unique_ptr<device::SecureElement> watch;
  crypto::PrivateKey root = *crypto::PrivateKey::Generate(crypto::SignatureScheme::kSm2Sm3);
};

World& TheWorld() {
  static World world = [] {
    World w;
    const auto dir = std::filesystem::temp_directory_path() /
                     ("tapstack-fuzz-dcep-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    device::SecureElementOptions options;
    options.data_dir = dir;
    options.device_id = "fuzz-watch";
    auto se = device::SecureElement::Open(options);
    Require(se.ok());
    const auto scheme = crypto::SignatureScheme::kSm2Sm3;
    auto public_key = (*se)->InstallDcepWallet(scheme, w.root.public_key());
    Require(public_key.ok());
    auto operator_key = crypto::PrivateKey::Generate(scheme);
    Require(operator_key.ok());
    wire::CertificateBody op;
    op.serial = 1;
    op.issuer_id = "pboc";
    op.subject_id = "icbc";
    op.role = wire::CertificateRole::kOperator;
    op.scheme = scheme;
    op.public_key = *operator_key->public_key().ToRaw();
    op.not_after_unix_s = 4'000'000'000;
    wire::CertificateBody dev = op;
    dev.serial = 2;
    dev.issuer_id = "icbc";
    dev.subject_id = "fuzz-watch";
    dev.role = wire::CertificateRole::kDevice;
    dev.public_key = *public_key;
    dev.offline_balance_max_fen = 1'000'000;
    dev.offline_payment_max_fen = 100'000;
    dev.offline_payments_before_sync_max = 1000;
    dev.offline_value_before_sync_max_fen = 1'000'000;
    wire::CertificateChain chain;
    chain.operator_cert = *wire::ParseCertificate(*wire::IssueCertificate(op, w.root));
    chain.device = *wire::ParseCertificate(*wire::IssueCertificate(dev, *operator_key));
    auto send = [&](std::uint8_t ins, const Bytes& data) {
      tapstack::emv::CommandApdu c{0x80, ins, 0, 0, data, std::uint16_t{256}};
      auto r = tapstack::emv::TransmitChained(
          [&](ByteView apdu) { return (*se)->TransmitToDcepWallet(apdu); }, c);
      Require(r.ok() && r->sw.IsSuccess());
    };
    send(device::kDcepInsPutCertificates, *wire::EncodeCertificateChain(chain));
    wire::LoadOrderBody load{"fuzz-watch", 1, 500'000, 156, 1};
    send(device::kDcepInsLoad, *wire::IssueLoadOrder(load, *operator_key));
    w.watch = std::move(*se);
    return w;
  }();
  return world;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const ByteView input(data + 1, size - 1);
  switch (data[0] % 8) {
    case 0: {
      auto cert = wire::ParseCertificate(input);
      if (cert.ok()) (void)wire::VerifyChain(TheWorld().root.public_key(), *cert, *cert, 0);
      break;
    }
    case 1:
      (void)wire::ParsePaymentRequest(input);
      break;
    case 2:
      (void)wire::ParseOfflineTransfer(input);
      (void)wire::ParseCertificateChain(input);
      (void)wire::ParseTransferWithChain(input);
      break;
    case 3:
      (void)wire::ParseLoadOrder(input);
      break;
    case 4:
      (void)wire::ParseSyncAck(input);
      break;
    case 5:
      (void)wire::ParseLogRecords(input);
      break;
    case 6: {
      if (input.empty()) break;
      device::SecureElement& watch = *TheWorld().watch;
      const Bytes select = {0x00, 0xA4, 0x04, 0x00, 0x09, 0xD1, 0x56, 0x00, 0x00,
                            0x01, 0x45, 0x43, 0x4E, 0x59, 0x00};
      Require(watch.Transmit(select).size() >= 2);
      tapstack::emv::CommandApdu c{0x80, input[0], 0, 0, Bytes(input.begin() + 1, input.end()),
                                   std::uint16_t{256}};
      (void)tapstack::emv::TransmitChained(
          [&](ByteView apdu) {
            Bytes answer = watch.Transmit(apdu);
            Require(answer.size() >= 2);
            return answer;
          },
          c);
      break;
    }
    case 7: {
      device::SecureElement& watch = *TheWorld().watch;
      std::size_t at = 0;
      while (at < input.size()) {
        const std::uint8_t length_byte = input[at++];
        const std::size_t length = length_byte & 0x7F;
        const std::size_t take = length < input.size() - at ? length : input.size() - at;
        const ByteView apdu = input.subspan(at, take);
        const Bytes answer = (length_byte & 0x80) != 0 ? watch.TransmitToDcepWallet(apdu)
                                                        : watch.Transmit(apdu);
        Require(answer.size() >= 2);
        at += take;
      }
      break;
    }
  }
  return 0;
}

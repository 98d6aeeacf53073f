#include "device/dcep_wallet_client.h"

#include "emv/apdu.h"
#include "emv/apdu_chaining.h"
#include "core/hex.h"
#include "dcep_wire/log_record.h"
#include "emv/status_word.h"

namespace tapstack::device {

namespace {

// What the applet's refusal means to the caller (device/dcep_applet.h lists the words).
Status Refusal(emv::StatusWord sw, std::uint8_t ins) {
  std::string message = emv::DescribeStatusWord(sw) + " (INS " + HexEncode(Bytes{ins}) + ")";
  switch (sw.value()) {
    case 0x6A82:
      return Unavailable(message + ": no digital-currency wallet on this device");
    case 0x9401:
    case 0x6A84:
    case 0x6985:
    case 0x6283:
      return FailedPrecondition(message);
    case 0x6982:
      return CryptoFailure(message);
    default:
      return InvalidArgument(message);
  }
}

Bytes Be(std::uint64_t value, std::size_t bytes) {
  Bytes out(bytes);
  for (std::size_t i = 0; i < bytes; ++i) out[bytes - 1 - i] = static_cast<std::uint8_t>(value >> (8 * i));
  return out;
}

}  // namespace

Result<emv::ResponseApdu> DcepWalletClient::Exchange(std::uint8_t ins, std::uint8_t p2,
                                                     ByteView data, bool expect_data) {
  emv::CommandApdu command{.cla = kDcepCla, .ins = ins, .p1 = 0x00, .p2 = p2,
                           .data = Bytes(data.begin(), data.end()), .le = std::nullopt};
  if (expect_data) command.le = static_cast<std::uint16_t>(emv::kShortLeMax);
  return emv::TransmitChained(transmit_, command);
}

Result<Bytes> DcepWalletClient::Command(std::uint8_t ins, std::uint8_t p2, ByteView data,
                                        bool expect_data) {
  TS_ASSIGN_OR_RETURN(emv::ResponseApdu answer, Exchange(ins, p2, data, expect_data));
  if (!answer.sw.IsSuccess()) return Refusal(answer.sw, ins);
  return std::move(answer.data);
}

Status DcepWalletClient::Select() {
  emv::CommandApdu select{.cla = 0x00, .ins = 0xA4, .p1 = 0x04, .p2 = 0x00,
                          .data = Bytes(std::begin(kDcepAid), std::end(kDcepAid)), .le = 256};
  TS_ASSIGN_OR_RETURN(emv::ResponseApdu answer, emv::TransmitChained(transmit_, select));
  if (!answer.sw.IsSuccess()) return Refusal(answer.sw, 0xA4);
  return Status::Ok();
}

Result<DcepPurseStatus> DcepWalletClient::PurseStatus() {
  TS_ASSIGN_OR_RETURN(Bytes data, Command(kDcepInsGetData, kDcepDataPurseStatus, {}, true));
  return ParseDcepPurseStatus(data);
}

Result<Bytes> DcepWalletClient::DeviceCertificate() {
  return Command(kDcepInsGetData, kDcepDataDeviceCertificate, {}, true);
}

Result<Bytes> DcepWalletClient::PublicKey() {
  return Command(kDcepInsGetData, kDcepDataPublicKey, {}, true);
}

Status DcepWalletClient::PutCertificates(ByteView chain_e4) {
  return Command(kDcepInsPutCertificates, 0x00, chain_e4, false).status();
}

Result<std::int64_t> DcepWalletClient::Load(ByteView load_order_e5) {
  TS_ASSIGN_OR_RETURN(Bytes data, Command(kDcepInsLoad, 0x00, load_order_e5, true));
  if (data.size() != 8) return InvalidArgument("LOAD answered " + std::to_string(data.size()) + " bytes, expected 8");
  std::uint64_t balance = 0;
  for (std::uint8_t b : data) balance = (balance << 8) | b;
  return static_cast<std::int64_t>(balance);
}

Result<Bytes> DcepWalletClient::CreatePaymentRequest(std::int64_t amount_fen,
                                                     std::uint16_t currency) {
  if (amount_fen <= 0) return InvalidArgument("amount_fen: expected a positive amount");
  const Bytes data = Concat({Bytes{0x9F, 0x02, 0x08}, Be(static_cast<std::uint64_t>(amount_fen), 8),
                             Bytes{0x5F, 0x2A, 0x02}, Be(currency, 2)});
  return Command(kDcepInsCreatePaymentRequest, 0x00, data, true);
}

Result<Bytes> DcepWalletClient::Pay(ByteView request_e1) {
  return Command(kDcepInsPay, 0x00, request_e1, true);
}

Status DcepWalletClient::Receive(ByteView transfer_with_chain) {
  return Command(kDcepInsReceive, 0x00, transfer_with_chain, false).status();
}

Result<Bytes> DcepWalletClient::ReadLog(std::uint32_t from_sequence) {
  Bytes all;
  std::uint32_t next = from_sequence;
  for (;;) {
    const Bytes c8 = Concat({Bytes{0xC8, 0x04}, Be(next, 4)});
    TS_ASSIGN_OR_RETURN(emv::ResponseApdu page, Exchange(kDcepInsReadLog, 0x00, c8, true));
    // 6A88: no record at or after `next`: the log has been read to its end.
    if (page.sw == emv::kSwReferencedDataNotFound) return all;
    if (!page.sw.IsSuccess()) return Refusal(page.sw, kDcepInsReadLog);
    TS_ASSIGN_OR_RETURN(std::vector<dcep_wire::LogRecord> records,
                        dcep_wire::ParseLogRecords(page.data));
    if (records.empty()) return all;
    // A well-behaved applet answers increasing sequences from `next` on; anything else (a
    // tampered device) must not make the host loop.
    if (records.front().sequence < next || records.back().sequence == UINT32_MAX ||
        all.size() + page.data.size() > kDcepLogReadBytesMax) {
      return InvalidArgument("READ LOG: records out of order or too many, from sequence " +
                             std::to_string(records.front().sequence));
    }
    all.insert(all.end(), page.data.begin(), page.data.end());
    next = records.back().sequence + 1;
  }
}

Status DcepWalletClient::Sync(ByteView sync_ack_e7) {
  return Command(kDcepInsSync, 0x00, sync_ack_e7, false).status();
}

Result<Bytes> PayOffline(DcepWalletClient& payer, DcepWalletClient& payee, std::int64_t amount_fen) {
  TS_RETURN_IF_ERROR(payee.Select());
  TS_RETURN_IF_ERROR(payer.Select());
  TS_ASSIGN_OR_RETURN(Bytes request, payee.CreatePaymentRequest(amount_fen));
  TS_ASSIGN_OR_RETURN(Bytes transfer, payer.Pay(request));
  TS_RETURN_IF_ERROR(payee.Receive(transfer));
  return transfer;
}

}  // namespace tapstack::device

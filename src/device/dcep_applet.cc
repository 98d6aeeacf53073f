#include "device/dcep_applet.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "core/hex.h"
#include "crypto/csprng.h"
#include "dcep_wire/limits.h"
#include "dcep_wire/load_order.h"
#include "dcep_wire/log_record.h"
#include "dcep_wire/offline_transfer.h"
#include "dcep_wire/payment_request.h"
#include "dcep_wire/scheme.h"
#include "dcep_wire/sync_ack.h"
#include "device/apdu_host.h"
#include "emv/tlv.h"

namespace tapstack::device {

namespace {

using emv::CommandApdu;
using emv::ResponseApdu;

constexpr emv::TlvTag kTagScheme = 0x80;
constexpr emv::TlvTag kTagPublicPoint = 0x86;
constexpr emv::TlvTag kTagAmount = 0x9F02;
constexpr emv::TlvTag kTagCurrency = 0x5F2A;
constexpr emv::TlvTag kTagTime = 0x9A;
constexpr emv::TlvTag kTagLogSequence = 0xC8;
constexpr std::uint8_t kDirectionSent = 0x01;
constexpr std::uint8_t kDirectionReceived = 0x02;

ResponseApdu Sw(emv::StatusWord sw) { return ResponseApdu{{}, sw}; }
ResponseApdu Ok(Bytes data) { return ResponseApdu{std::move(data), emv::kSwSuccess}; }

RandomSource& DefaultRandom() {
  static crypto::Csprng csprng;
  return csprng;
}

// Chain errors: revoked -> 6283; anything else that makes the chain unusable -> 6982.
emv::StatusWord ChainSw(const Status& status) {
  if (status.code() == ErrorCode::kFailedPrecondition) return kSwDcepBlocked;
  if (status.code() == ErrorCode::kInvalidArgument) return emv::kSwWrongData;
  return emv::kSwSecurityStatusNotSatisfied;
}

bool P1P2Zero(const CommandApdu& c) { return c.p1 == 0x00 && c.p2 == 0x00; }

// a + b for non-negative fen amounts; nullopt on overflow.
std::optional<std::int64_t> AddFen(std::int64_t a, std::int64_t b) {
  if (b > std::numeric_limits<std::int64_t>::max() - a) return std::nullopt;
  return a + b;
}

// The top-level primitive objects of a small command body (9F02 | 5F2A | 9A; 80 | 86; C8).
struct SimpleFields {
  emv::TlvTree tree;
  const emv::TlvNode* Find(emv::TlvTag tag) const { return tree.FindRoot(tag); }
};

bool DecodeSimple(ByteView data, SimpleFields& out) {
  emv::TlvDecodeOptions options;
  options.allow_padding = false;
  if (!emv::DecodeTlvInto(data, out.tree, options).ok()) return false;
  for (const emv::TlvNode& node : out.tree.roots()) {
    if (node.constructed) return false;
  }
  return true;
}

}  // namespace

Result<DcepPurseStatus> ParseDcepPurseStatus(ByteView data) {
  if (data.size() != kDcepPurseStatusBytes) {
    return InvalidArgument("purse status: expected 22 bytes, got " + std::to_string(data.size()));
  }
  DcepPurseStatus s;
  s.balance_fen = static_cast<std::int64_t>(BytesToUint(data.subspan(0, 8)));
  s.counter = static_cast<std::uint32_t>(BytesToUint(data.subspan(8, 4)));
  s.payments_since_sync = static_cast<std::uint16_t>(BytesToUint(data.subspan(12, 2)));
  s.value_since_sync_fen = static_cast<std::int64_t>(BytesToUint(data.subspan(14, 8)));
  return s;
}

Result<std::unique_ptr<DcepApplet>> DcepApplet::Create(StoredDcepWallet wallet, DeviceStore& store,
                                                       DcepAppletOptions options) {
  std::unique_ptr<DcepApplet> applet(
      new DcepApplet(store, options.random != nullptr ? *options.random : DefaultRandom()));
  Status adopted = applet->Adopt(std::move(wallet));
  if (!adopted.ok()) return Corruption("stored digital-currency wallet: " + adopted.message());
  return applet;
}

Status DcepApplet::Adopt(StoredDcepWallet wallet) {
  if (wallet.keys.has_value()) {
    TS_ASSIGN_OR_RETURN(crypto::PrivateKey key,
                        crypto::PrivateKey::FromPkcs8Der(wallet.keys->private_key_pkcs8.reveal()));
    if (key.scheme() != wallet.keys->scheme) return Corruption("device key scheme mismatch");
    TS_ASSIGN_OR_RETURN(public_key_raw_, key.public_key().ToRaw());
    TS_ASSIGN_OR_RETURN(crypto::PublicKey root,
                        crypto::PublicKey::FromRaw(wallet.keys->root_scheme,
                                                   wallet.keys->root_public_key));
    key_ = std::move(key);
    root_key_ = std::move(root);
  }
  if (!wallet.state.device_certificate.empty()) {
    dcep_wire::CertificateChain parsed;
    TS_ASSIGN_OR_RETURN(parsed.device, dcep_wire::ParseCertificate(wallet.state.device_certificate));
    TS_ASSIGN_OR_RETURN(parsed.operator_cert,
                        dcep_wire::ParseCertificate(wallet.state.operator_certificate));
    TS_ASSIGN_OR_RETURN(crypto::PublicKey operator_key, parsed.operator_cert.PublicKey());
    TS_ASSIGN_OR_RETURN(Bytes encoded, dcep_wire::EncodeCertificateChain(parsed));
    chain_ = Chain{std::move(parsed.device), std::move(parsed.operator_cert),
                   std::move(operator_key), std::move(encoded)};
  }
  state_ = std::move(wallet.state);
  return Status::Ok();
}

Result<Bytes> DcepApplet::GenerateKeyPair(crypto::SignatureScheme scheme,
                                          crypto::SignatureScheme root_scheme,
                                          ByteView root_public_key_raw) {
  if (key_.has_value()) return FailedPrecondition("digital-currency wallet already personalised");
  Result<crypto::PublicKey> root = crypto::PublicKey::FromRaw(root_scheme, root_public_key_raw);
  if (!root.ok()) return root.status().WithContext("root public key");
  TS_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::Generate(scheme));
  TS_ASSIGN_OR_RETURN(crypto::SecretBytes pkcs8, key.ToPkcs8Der());
  TS_ASSIGN_OR_RETURN(Bytes public_raw, key.public_key().ToRaw());
  DcepKeys keys;
  keys.scheme = scheme;
  keys.private_key_pkcs8 = std::move(pkcs8);
  keys.root_scheme = root_scheme;
  keys.root_public_key.assign(root_public_key_raw.begin(), root_public_key_raw.end());
  TS_RETURN_IF_ERROR(store_.PersonaliseDcepWallet(keys));
  key_ = std::move(key);
  root_key_ = std::move(root).value();
  public_key_raw_ = public_raw;
  return public_raw;
}

ResponseApdu DcepApplet::Select() {
  Deselect();
  // FCI (ISO/IEC 7816-4 5.3.3): 6F { 84 DF name }.
  Bytes body;
  (void)emv::AppendTlv(body, 0x84, kDcepAid);
  Bytes fci;
  (void)emv::AppendTlv(fci, 0x6F, body);
  return Ok(std::move(fci));
}

void DcepApplet::Deselect() {
  assembler_.Reset();
  spooler_.Reset();
}

ResponseApdu DcepApplet::Process(const CommandApdu& command) {
  if (emv::ResponseSpooler::IsGetResponse(command)) {
    if (assembler_.in_chain()) {
      assembler_.Reset();
      return Sw(emv::kSwLastCommandOfChainExpected);
    }
    return spooler_.Next(command);
  }
  spooler_.Reset();  // a new command drops an answer nobody fetched
  if ((command.cla & ~emv::kClaChainingBit) != kDcepCla) {
    assembler_.Reset();
    return Sw(emv::kSwClaNotSupported);
  }
  emv::ChainAssembler::Outcome outcome = assembler_.Accept(command);
  if (!outcome.complete.has_value()) return Sw(outcome.sw);
  ResponseApdu response = Dispatch(*outcome.complete);
  return spooler_.Start(std::move(response.data), response.sw);
}

ResponseApdu DcepApplet::Dispatch(const CommandApdu& command) {
  switch (command.ins) {
    case kDcepInsGetData:
      return GetData(command);
    case kDcepInsGenerateKeyPair:
      return GenerateKeyPairCommand(command);
    case kDcepInsPutCertificates:
      return PutCertificates(command);
    case kDcepInsLoad:
      return Load(command);
    case kDcepInsCreatePaymentRequest:
      return CreatePaymentRequest(command);
    case kDcepInsPay:
      return Pay(command);
    case kDcepInsReceive:
      return Receive(command);
    case kDcepInsReadLog:
      return ReadLog(command);
    case kDcepInsSync:
      return Sync(command);
    default:
      return Sw(emv::kSwInsNotSupported);
  }
}

bool DcepApplet::Commit(DcepWalletState next, const DcepLogEntry* append,
                        std::uint32_t prune_through) {
  if (!store_.UpdateDcepWallet(state_, next, append, prune_through).ok()) return false;
  state_ = std::move(next);
  return true;
}

Result<bool> DcepApplet::UnsyncedExpired(std::int64_t request_time_unix_s) {
  TS_ASSIGN_OR_RETURN(const std::vector<DcepLogEntry> oldest, store_.LoadDcepLog(0, 1));
  if (oldest.empty()) return false;
  TS_ASSIGN_OR_RETURN(const dcep_wire::OfflineTransfer transfer,
                      dcep_wire::ParseOfflineTransfer(oldest.front().transfer));
  // Time 0: the payee had no time at all (never synced, no host clock): nothing to measure by;
  // the payments and value caps before a sync still bound such a device.
  if (transfer.body.time_unix_s == 0) return false;
  const std::int64_t now = std::max(request_time_unix_s, NowUnixSeconds());
  return now - transfer.body.time_unix_s >
         std::int64_t{chain_->device.body.offline_unsynced_max_age_s};
}

bool DcepApplet::IsRevoked(const dcep_wire::Certificate& cert) const {
  const auto& keys = state_.revoked_devices;
  return std::find(keys.begin(), keys.end(),
                   RevokedDeviceKey(cert.body.issuer_id, cert.body.subject_id)) != keys.end();
}

ResponseApdu DcepApplet::GetData(const CommandApdu& command) const {
  if (command.p1 != 0x00) return Sw(emv::kSwIncorrectP1P2);
  switch (command.p2) {
    case kDcepDataDeviceCertificate:
      if (!chain_.has_value()) return Sw(emv::kSwReferencedDataNotFound);
      return Ok(chain_->device.encoded);
    case kDcepDataPurseStatus: {
      Bytes out = UintToBytes(static_cast<std::uint64_t>(state_.balance_fen), 8);
      const Bytes counter = UintToBytes(state_.counter, 4);
      const Bytes payments = UintToBytes(state_.payments_since_sync, 2);
      const Bytes value = UintToBytes(static_cast<std::uint64_t>(state_.value_since_sync_fen), 8);
      return Ok(Concat({out, counter, payments, value}));
    }
    case kDcepDataPublicKey:
      if (!key_.has_value()) return Sw(emv::kSwReferencedDataNotFound);
      return Ok(public_key_raw_);
    case kDcepDataLastLogSequence:
      return Ok(UintToBytes(state_.log_sequence, 4));
    default:
      return Sw(emv::kSwReferencedDataNotFound);
  }
}

ResponseApdu DcepApplet::GenerateKeyPairCommand(const CommandApdu& command) {
  if (command.p1 != 0x00) return Sw(emv::kSwIncorrectP1P2);
  Result<crypto::SignatureScheme> scheme = dcep_wire::SchemeFromByte(command.p2);
  if (!scheme.ok()) return Sw(emv::kSwIncorrectP1P2);
  if (key_.has_value()) return Sw(emv::kSwConditionsNotSatisfied);
  SimpleFields fields;
  if (!DecodeSimple(command.data, fields)) return Sw(emv::kSwWrongData);
  const emv::TlvNode* root_scheme = fields.Find(kTagScheme);
  const emv::TlvNode* root_key = fields.Find(kTagPublicPoint);
  if (root_scheme == nullptr || root_key == nullptr || root_scheme->value.size() != 1) {
    return Sw(emv::kSwWrongData);
  }
  Result<crypto::SignatureScheme> parsed_root = dcep_wire::SchemeFromByte(root_scheme->value[0]);
  if (!parsed_root.ok()) return Sw(emv::kSwWrongData);
  Result<Bytes> public_key = GenerateKeyPair(*scheme, *parsed_root, root_key->value);
  if (!public_key.ok()) {
    return Sw(public_key.status().code() == ErrorCode::kInvalidArgument ? emv::kSwWrongData
                                                                        : kSwMemoryFailure);
  }
  return Ok(std::move(public_key).value());
}

ResponseApdu DcepApplet::PutCertificates(const CommandApdu& command) {
  if (!P1P2Zero(command)) return Sw(emv::kSwIncorrectP1P2);
  if (!key_.has_value()) return Sw(emv::kSwConditionsNotSatisfied);
  if (state_.blocked) return Sw(kSwDcepBlocked);
  Result<dcep_wire::CertificateChain> chain = dcep_wire::ParseCertificateChain(command.data);
  if (!chain.ok()) return Sw(emv::kSwWrongData);
  Status verified =
      dcep_wire::VerifyChain(*root_key_, chain->operator_cert, chain->device, NowUnixSeconds(),
                             [this](const dcep_wire::Certificate& c) { return IsRevoked(c); });
  if (!verified.ok()) return Sw(ChainSw(verified));
  // The certificate must be for this key, and a renewal must keep the device's identity.
  if (chain->device.body.scheme != key_->scheme() || chain->device.body.public_key != public_key_raw_) {
    return Sw(emv::kSwSecurityStatusNotSatisfied);
  }
  if (chain_.has_value() && chain_->device.body.subject_id != chain->device.body.subject_id) {
    return Sw(emv::kSwConditionsNotSatisfied);
  }
  Result<crypto::PublicKey> operator_key = chain->operator_cert.PublicKey();
  Result<Bytes> encoded = dcep_wire::EncodeCertificateChain(*chain);
  if (!operator_key.ok() || !encoded.ok()) return Sw(emv::kSwSecurityStatusNotSatisfied);
  DcepWalletState next = state_;
  next.device_certificate = chain->device.encoded;
  next.operator_certificate = chain->operator_cert.encoded;
  if (!Commit(std::move(next))) return Sw(kSwMemoryFailure);
  chain_ = Chain{std::move(chain->device), std::move(chain->operator_cert),
                 std::move(operator_key).value(), std::move(encoded).value()};
  return Ok({});
}

ResponseApdu DcepApplet::Load(const CommandApdu& command) {
  if (!P1P2Zero(command)) return Sw(emv::kSwIncorrectP1P2);
  if (!chain_.has_value()) return Sw(emv::kSwConditionsNotSatisfied);
  if (state_.blocked) return Sw(kSwDcepBlocked);
  Result<dcep_wire::LoadOrder> order = dcep_wire::ParseLoadOrder(command.data);
  if (!order.ok()) return Sw(emv::kSwWrongData);
  const dcep_wire::LoadOrderBody& b = order->body;
  if (b.device_id != chain_->device.body.subject_id ||
      b.currency_numeric != dcep_wire::kCnyCurrencyNumeric) {
    return Sw(emv::kSwWrongData);
  }
  if (b.operator_certificate_serial != chain_->operator_cert.body.serial ||
      !dcep_wire::VerifyLoadOrder(*order, chain_->operator_key).ok()) {
    return Sw(emv::kSwSecurityStatusNotSatisfied);
  }
  const Bytes balance_now = UintToBytes(static_cast<std::uint64_t>(state_.balance_fen), 8);
  // A retry of the order already applied (its answer was lost): same answer, no second credit.
  if (b.load_sequence == state_.load_sequence && order->signed_body == state_.last_load_order) {
    return Ok(balance_now);
  }
  if (state_.load_sequence == std::numeric_limits<std::uint32_t>::max() ||
      b.load_sequence != state_.load_sequence + 1) {
    return Sw(emv::kSwConditionsNotSatisfied);
  }
  const std::optional<std::int64_t> balance = AddFen(state_.balance_fen, b.amount_fen);
  if (!balance.has_value() || *balance > chain_->device.body.offline_balance_max_fen) {
    return Sw(kSwDcepOfflineCapReached);
  }
  DcepWalletState next = state_;
  next.balance_fen = *balance;
  next.load_sequence = b.load_sequence;
  next.last_load_order = order->signed_body;
  if (!Commit(std::move(next))) return Sw(kSwMemoryFailure);
  return Ok(UintToBytes(static_cast<std::uint64_t>(state_.balance_fen), 8));
}

ResponseApdu DcepApplet::CreatePaymentRequest(const CommandApdu& command) {
  if (!P1P2Zero(command)) return Sw(emv::kSwIncorrectP1P2);
  if (!chain_.has_value()) return Sw(emv::kSwConditionsNotSatisfied);
  if (state_.blocked) return Sw(kSwDcepBlocked);
  SimpleFields fields;
  if (!DecodeSimple(command.data, fields)) return Sw(emv::kSwWrongData);
  const emv::TlvNode* amount = fields.Find(kTagAmount);
  const emv::TlvNode* currency = fields.Find(kTagCurrency);
  const emv::TlvNode* time = fields.Find(kTagTime);
  if (amount == nullptr || currency == nullptr || amount->value.size() != dcep_wire::kAmountBytes ||
      currency->value.size() != dcep_wire::kCurrencyBytes ||
      (time != nullptr && time->value.size() != dcep_wire::kUnixTimeBytes)) {
    return Sw(emv::kSwWrongData);
  }
  const std::uint64_t amount_fen = BytesToUint(amount->value);
  if (amount_fen == 0 || amount_fen > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
      BytesToUint(currency->value) != dcep_wire::kCnyCurrencyNumeric) {
    return Sw(emv::kSwWrongData);
  }
  const std::optional<std::int64_t> after =
      AddFen(state_.balance_fen, static_cast<std::int64_t>(amount_fen));
  if (!after.has_value() || *after > chain_->device.body.offline_balance_max_fen) {
    return Sw(kSwDcepOfflineCapReached);
  }
  dcep_wire::PaymentRequest request;
  request.amount_fen = static_cast<std::int64_t>(amount_fen);
  request.currency_numeric = dcep_wire::kCnyCurrencyNumeric;
  request.payee_nonce.resize(dcep_wire::kNonceBytes);
  if (!random_.Fill(request.payee_nonce).ok()) return Sw(emv::kSwNoPreciseDiagnosis);
  const std::uint64_t host_time = time != nullptr ? BytesToUint(time->value) : 0;
  request.time_unix_s =
      host_time > 0 && host_time <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
          ? static_cast<std::int64_t>(host_time)
          : NowUnixSeconds();
  Result<bool> expired = UnsyncedExpired(request.time_unix_s);
  if (!expired.ok()) return Sw(kSwMemoryFailure);
  if (*expired) return Sw(kSwDcepOfflineCapReached);
  request.payee_device = chain_->device;
  request.payee_operator = chain_->operator_cert;
  Result<Bytes> encoded = dcep_wire::EncodePaymentRequest(request);
  if (!encoded.ok()) return Sw(emv::kSwNoPreciseDiagnosis);
  DcepWalletState next = state_;
  next.pending = DcepPendingRequest{request.payee_nonce, request.amount_fen,
                                    request.currency_numeric};
  if (!Commit(std::move(next))) return Sw(kSwMemoryFailure);
  return Ok(std::move(encoded).value());
}

ResponseApdu DcepApplet::Pay(const CommandApdu& command) {
  if (!P1P2Zero(command)) return Sw(emv::kSwIncorrectP1P2);
  if (!chain_.has_value()) return Sw(emv::kSwConditionsNotSatisfied);
  if (state_.blocked) return Sw(kSwDcepBlocked);
  Result<dcep_wire::PaymentRequest> request = dcep_wire::ParsePaymentRequest(command.data);
  if (!request.ok() || request->currency_numeric != dcep_wire::kCnyCurrencyNumeric ||
      request->payee_device.body.subject_id == chain_->device.body.subject_id) {
    return Sw(emv::kSwWrongData);
  }
  Status payee = dcep_wire::VerifyChain(
      *root_key_, request->payee_operator, request->payee_device, NowUnixSeconds(),
      [this](const dcep_wire::Certificate& c) { return IsRevoked(c); });
  if (!payee.ok()) return Sw(ChainSw(payee));
  // Caps from the own device certificate (digital-currency.md 5.1), then the balance.
  const dcep_wire::CertificateBody& caps = chain_->device.body;
  const std::int64_t amount = request->amount_fen;
  const std::optional<std::int64_t> value_after = AddFen(state_.value_since_sync_fen, amount);
  if (amount > caps.offline_payment_max_fen ||
      state_.payments_since_sync >= caps.offline_payments_before_sync_max ||
      !value_after.has_value() || *value_after > caps.offline_value_before_sync_max_fen) {
    return Sw(kSwDcepOfflineCapReached);
  }
  Result<bool> expired = UnsyncedExpired(request->time_unix_s);
  if (!expired.ok()) return Sw(kSwMemoryFailure);
  if (*expired) return Sw(kSwDcepOfflineCapReached);
  if (amount > state_.balance_fen) return Sw(kSwDcepInsufficientBalance);
  Result<std::size_t> logged = store_.CountDcepLog();
  if (!logged.ok()) return Sw(kSwMemoryFailure);
  if (*logged >= kDcepLogRecordsMax) return Sw(kSwDcepOfflineCapReached);
  if (state_.counter == std::numeric_limits<std::uint32_t>::max() ||
      state_.log_sequence == std::numeric_limits<std::uint32_t>::max()) {
    return Sw(emv::kSwConditionsNotSatisfied);
  }
  dcep_wire::OfflineTransferBody body;
  body.payer_device_id = chain_->device.body.subject_id;
  body.payer_counter = state_.counter + 1;
  body.payee_device_id = request->payee_device.body.subject_id;
  body.payee_nonce = request->payee_nonce;
  body.amount_fen = amount;
  body.currency_numeric = dcep_wire::kCnyCurrencyNumeric;
  body.time_unix_s = request->time_unix_s;
  body.payer_certificate_serial = chain_->device.body.serial;
  // Signed before the commit, released only after it: a failed write leaves no usable signature
  // behind and the counter unused.
  Result<Bytes> transfer = dcep_wire::SignOfflineTransfer(body, *key_);
  if (!transfer.ok()) return Sw(emv::kSwNoPreciseDiagnosis);
  DcepWalletState next = state_;
  next.balance_fen -= amount;
  next.counter = body.payer_counter;
  next.payments_since_sync = static_cast<std::uint16_t>(state_.payments_since_sync + 1);
  next.value_since_sync_fen = *value_after;
  next.log_sequence = state_.log_sequence + 1;
  const DcepLogEntry entry{next.log_sequence, kDirectionSent, body.payer_device_id,
                           body.payer_counter, amount, *transfer, chain_->encoded};
  if (!Commit(std::move(next), &entry)) return Sw(kSwMemoryFailure);
  return Ok(Concat({*transfer, chain_->encoded}));
}

ResponseApdu DcepApplet::Receive(const CommandApdu& command) {
  if (!P1P2Zero(command)) return Sw(emv::kSwIncorrectP1P2);
  if (!chain_.has_value()) return Sw(emv::kSwConditionsNotSatisfied);
  if (state_.blocked) return Sw(kSwDcepBlocked);
  if (!state_.pending.has_value()) return Sw(emv::kSwConditionsNotSatisfied);
  Result<dcep_wire::TransferWithChain> received = dcep_wire::ParseTransferWithChain(command.data);
  if (!received.ok()) return Sw(emv::kSwWrongData);
  const dcep_wire::OfflineTransferBody& b = received->transfer.body;
  Result<bool> seen = store_.DcepTransferReceived(b.payer_device_id, b.payer_counter);
  if (!seen.ok()) return Sw(kSwMemoryFailure);
  if (*seen) return Sw(emv::kSwConditionsNotSatisfied);
  const DcepPendingRequest& pending = *state_.pending;
  if (b.payee_device_id != chain_->device.body.subject_id || b.payee_nonce != pending.nonce ||
      b.amount_fen != pending.amount_fen || b.currency_numeric != pending.currency_numeric) {
    return Sw(emv::kSwWrongData);
  }
  Status verified = dcep_wire::VerifyOfflineTransferFromRoot(
      received->transfer, received->chain, *root_key_, NowUnixSeconds(),
      [this](const dcep_wire::Certificate& c) { return IsRevoked(c); });
  if (!verified.ok()) return Sw(ChainSw(verified));
  const std::optional<std::int64_t> balance = AddFen(state_.balance_fen, b.amount_fen);
  if (!balance.has_value() || *balance > chain_->device.body.offline_balance_max_fen) {
    return Sw(kSwDcepOfflineCapReached);
  }
  Result<std::size_t> logged = store_.CountDcepLog();
  if (!logged.ok()) return Sw(kSwMemoryFailure);
  if (*logged >= kDcepLogRecordsMax) return Sw(kSwDcepOfflineCapReached);
  if (state_.log_sequence == std::numeric_limits<std::uint32_t>::max()) {
    return Sw(emv::kSwConditionsNotSatisfied);
  }
  Result<Bytes> chain = dcep_wire::EncodeCertificateChain(received->chain);
  if (!chain.ok()) return Sw(emv::kSwWrongData);
  DcepWalletState next = state_;
  next.balance_fen = *balance;
  next.pending.reset();
  next.log_sequence = state_.log_sequence + 1;
  const DcepLogEntry entry{next.log_sequence, kDirectionReceived, b.payer_device_id,
                           b.payer_counter, b.amount_fen, received->transfer.encoded, *chain};
  if (!Commit(std::move(next), &entry)) return Sw(kSwMemoryFailure);
  return Ok({});
}

ResponseApdu DcepApplet::ReadLog(const CommandApdu& command) {
  std::uint32_t from = static_cast<std::uint32_t>((command.p1 << 8) | command.p2);
  if (!command.data.empty()) {
    SimpleFields fields;
    if (!DecodeSimple(command.data, fields)) return Sw(emv::kSwWrongData);
    const emv::TlvNode* sequence = fields.Find(kTagLogSequence);
    if (sequence == nullptr || sequence->value.size() != dcep_wire::kSequenceBytes) {
      return Sw(emv::kSwWrongData);
    }
    from = static_cast<std::uint32_t>(BytesToUint(sequence->value));
  }
  Result<std::vector<DcepLogEntry>> entries = store_.LoadDcepLog(from, kDcepReadLogRecordsMax);
  if (!entries.ok()) return Sw(kSwMemoryFailure);
  if (entries->empty()) return Sw(emv::kSwReferencedDataNotFound);
  Bytes out;
  for (const DcepLogEntry& e : *entries) {
    Result<Bytes> record = dcep_wire::EncodeLogRecord(
        e.sequence, static_cast<dcep_wire::LogDirection>(e.direction), e.transfer, e.chain);
    if (!record.ok()) return Sw(emv::kSwNoPreciseDiagnosis);
    out.insert(out.end(), record->begin(), record->end());
  }
  return Ok(std::move(out));
}

ResponseApdu DcepApplet::Sync(const CommandApdu& command) {
  if (!P1P2Zero(command)) return Sw(emv::kSwIncorrectP1P2);
  if (!chain_.has_value()) return Sw(emv::kSwConditionsNotSatisfied);
  Result<dcep_wire::SyncAck> ack = dcep_wire::ParseSyncAck(command.data);
  if (!ack.ok()) return Sw(emv::kSwWrongData);
  if (!dcep_wire::VerifySyncAck(*ack, chain_->operator_key).ok()) {
    return Sw(emv::kSwSecurityStatusNotSatisfied);
  }
  const dcep_wire::SyncAckBody& b = ack->body;
  const std::string& self = chain_->device.body.subject_id;
  if (b.device_id != self || b.log_sequence_acknowledged > state_.log_sequence ||
      b.revocation_list_version < state_.revocation_list_version) {
    return Sw(emv::kSwWrongData);
  }
  // What is still unacknowledged after this sync counts toward the caps again.
  Result<std::vector<DcepLogEntry>> left =
      store_.LoadDcepLog(b.log_sequence_acknowledged + 1, kDcepLogRecordsMax);
  if (!left.ok()) return Sw(kSwMemoryFailure);
  DcepWalletState next = state_;
  next.payments_since_sync = 0;
  next.value_since_sync_fen = 0;
  for (const DcepLogEntry& e : *left) {
    if (e.direction != kDirectionSent) continue;
    ++next.payments_since_sync;
    next.value_since_sync_fen += e.amount_fen;
  }
  next.last_operator_time_unix_s = std::max(state_.last_operator_time_unix_s, b.operator_time_unix_s);
  next.revocation_list_version = b.revocation_list_version;
  next.revoked_devices.clear();
  for (const dcep_wire::RevokedDevice& d : b.revoked) {
    next.revoked_devices.push_back(RevokedDeviceKey(d.issuer_id, d.device_id));
  }
  const std::string& issuer = chain_->device.body.issuer_id;
  if (std::find(b.revoked.begin(), b.revoked.end(), dcep_wire::RevokedDevice{issuer, self}) !=
      b.revoked.end()) {
    next.blocked = true;
  }
  if (!Commit(std::move(next), nullptr, b.log_sequence_acknowledged)) return Sw(kSwMemoryFailure);
  return Ok({});
}

}  // namespace tapstack::device

// HandsetHost's hardware wallet (device/dcep_applet.h in the handset's element): what the wallet
// app does with the operator's JSON API (dcep/dcep_http.h) and the applet's APDUs
// (device/dcep_wallet_client.h), and the offline payment between two handsets held side by side.
#include <utility>

#include "core/hex.h"
#include "crypto/signature.h"
#include "device/dcep_wallet_client.h"
#include "handset/api_client.h"
#include "handset/handset_host.h"

namespace tapstack::handset {

using nlohmann::json;

namespace {

constexpr crypto::SignatureScheme kDeviceScheme = crypto::SignatureScheme::kSm2Sm3;

// The wallet app's channel to the applet (not the contactless field).
device::DcepWalletClient AppChannel(device::SecureElement* se) {
  return device::DcepWalletClient([se](ByteView apdu) { return se->TransmitToDcepWallet(apdu); });
}

// The contactless field: what the other device reaches when both are held together.
device::DcepWalletClient FieldChannel(device::SecureElement* se) {
  return device::DcepWalletClient([se](ByteView apdu) { return se->Transmit(apdu); });
}

std::string OperatorPath(const std::string& op, const std::string& rest) {
  return "/v1/dcep/operators/" + op + rest;
}

}  // namespace

Status HandsetHost::BindDcep(Handset& h, const std::string& operator_id,
                             const std::string& wallet_id) {
  std::lock_guard lock(mu_);
  TS_RETURN_IF_ERROR(store_
                         ->Execute("UPDATE handsets SET dcep_operator = ?, dcep_wallet = ? "
                                   "WHERE handset_id = ?",
                                   {store::Value::Text(operator_id), store::Value::Text(wallet_id),
                                    store::Value::Text(h.info.handset_id)})
                         .status());
  h.dcep_operator = operator_id;
  h.dcep_wallet = wallet_id;
  return Status::Ok();
}

Result<json> HandsetHost::OpenDcepWallet(std::string_view handset_id, std::string_view operator_id,
                                         std::string_view wallet_id) {
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Handset> h, Find(handset_id));
  std::lock_guard field(h->field_mu);
  if (!h->dcep_wallet.empty()) {
    return AlreadyExists("handset: its hardware wallet belongs to wallet " + h->dcep_wallet +
                         " at " + h->dcep_operator);
  }
  const std::string op(operator_id);
  const std::string wallet(wallet_id);
  // The operator must know the wallet before the element makes a key it would never certify.
  TS_RETURN_IF_ERROR(
      CallApi(options_.api, "GET", OperatorPath(op, "/wallets/" + wallet), nullptr).status());
  TS_ASSIGN_OR_RETURN(json root, CallApi(options_.api, "GET", "/v1/dcep/root-key", nullptr));
  TS_ASSIGN_OR_RETURN(Bytes root_raw, HexDecode(root.value("public_key", "")));
  TS_ASSIGN_OR_RETURN(crypto::PublicKey root_key,
                      crypto::PublicKey::FromRaw(kDeviceScheme, root_raw));
  device::SecureElement* se = h->se.get();
  device::DcepWalletClient app = AppChannel(se);
  Bytes public_key;
  if (se->HasDcepWallet()) {
    // Personalised before, but the certificate never arrived (a crash, an operator refusal): the
    // same key pair is certified now.
    TS_RETURN_IF_ERROR(app.Select());
    TS_ASSIGN_OR_RETURN(public_key, app.PublicKey());
  } else {
    TS_ASSIGN_OR_RETURN(public_key, se->InstallDcepWallet(kDeviceScheme, root_key));
  }
  TS_ASSIGN_OR_RETURN(
      json certified,
      CallApi(options_.api, "POST", OperatorPath(op, "/wallets/" + wallet + "/devices"),
              {{"device_id", h->info.handset_id},
               {"scheme", crypto::SignatureSchemeName(kDeviceScheme)},
               {"public_key", HexEncode(public_key)}}));
  TS_ASSIGN_OR_RETURN(Bytes chain, HexDecode(certified.value("chain", "")));
  TS_RETURN_IF_ERROR(app.Select());
  TS_RETURN_IF_ERROR(app.PutCertificates(chain));
  TS_RETURN_IF_ERROR(BindDcep(*h, op, wallet));
  return DcepStatus(handset_id);
}

Result<json> HandsetHost::DcepStatus(std::string_view handset_id) {
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Handset> h, Find(handset_id));
  std::lock_guard field(h->field_mu);
  if (h->dcep_wallet.empty()) return NotFound("handset: no hardware wallet (personalise it first)");
  device::DcepWalletClient app = AppChannel(h->se.get());
  TS_RETURN_IF_ERROR(app.Select());
  TS_ASSIGN_OR_RETURN(device::DcepPurseStatus status, app.PurseStatus());
  return json{{"operator", h->dcep_operator},
              {"wallet_id", h->dcep_wallet},
              {"balance_fen", status.balance_fen},
              {"counter", status.counter},
              {"payments_since_sync", status.payments_since_sync},
              {"value_since_sync_fen", status.value_since_sync_fen}};
}

Result<json> HandsetHost::LoadDcep(std::string_view handset_id, std::int64_t amount_fen,
                                   std::string_view idempotency_key) {
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Handset> h, Find(handset_id));
  std::lock_guard field(h->field_mu);
  if (h->dcep_wallet.empty()) return NotFound("handset: no hardware wallet (personalise it first)");
  if (idempotency_key.empty()) return InvalidArgument("Idempotency-Key: header required");
  // The operator funds the purse once per key and signs the same order again on a retry; the
  // applet answers the last order again with its balance, without crediting it twice.
  TS_ASSIGN_OR_RETURN(
      json loaded,
      CallApi(options_.api, "POST",
              OperatorPath(h->dcep_operator, "/wallets/" + h->dcep_wallet + "/devices/" +
                                                 h->info.handset_id + "/loads"),
              {{"amount_fen", amount_fen}}, "",
              h->info.handset_id + "-" + std::string(idempotency_key)));
  TS_ASSIGN_OR_RETURN(Bytes order, HexDecode(loaded.value("load_order", "")));
  device::DcepWalletClient app = AppChannel(h->se.get());
  TS_RETURN_IF_ERROR(app.Select());
  TS_RETURN_IF_ERROR(app.Load(order).status());
  return DcepStatus(handset_id);
}

Result<json> HandsetHost::PayDcepOffline(std::string_view payer_handset_id,
                                         std::string_view payee_handset_id,
                                         std::int64_t amount_fen) {
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Handset> payer, Find(payer_handset_id));
  Result<std::shared_ptr<Handset>> payee = Find(payee_handset_id);
  if (!payee.ok()) return NotFound("payee_handset_id: no such handset");
  if (payer == *payee) return InvalidArgument("payee_handset_id: a device cannot pay itself");
  // The two devices held together: both busy for the whole exchange (scoped_lock orders the two
  // locks, so two payments in opposite directions cannot deadlock). Their bindings are read under
  // the locks: a concurrent personalisation writes them under the same.
  std::scoped_lock fields(payer->field_mu, (*payee)->field_mu);
  if (payer->dcep_wallet.empty()) return FailedPrecondition("handset: the payer has no hardware wallet");
  if ((*payee)->dcep_wallet.empty()) {
    return FailedPrecondition("payee_handset_id: the payee has no hardware wallet");
  }
  device::DcepWalletClient payer_field = FieldChannel(payer->se.get());
  device::DcepWalletClient payee_field = FieldChannel((*payee)->se.get());
  TS_ASSIGN_OR_RETURN(Bytes transfer, device::PayOffline(payer_field, payee_field, amount_fen));
  TS_ASSIGN_OR_RETURN(json payer_status, DcepStatus(payer_handset_id));
  TS_ASSIGN_OR_RETURN(json payee_status, DcepStatus(payee_handset_id));
  return json{{"amount_fen", amount_fen},
              {"transfer_bytes", transfer.size()},
              {"payer", std::move(payer_status)},
              {"payee", std::move(payee_status)}};
}

Result<json> HandsetHost::SyncDcep(std::string_view handset_id) {
  TS_ASSIGN_OR_RETURN(std::shared_ptr<Handset> h, Find(handset_id));
  std::lock_guard field(h->field_mu);
  if (h->dcep_wallet.empty()) return NotFound("handset: no hardware wallet (personalise it first)");
  device::DcepWalletClient app = AppChannel(h->se.get());
  TS_RETURN_IF_ERROR(app.Select());
  TS_ASSIGN_OR_RETURN(Bytes log, app.ReadLog());
  TS_ASSIGN_OR_RETURN(
      json uploaded,
      CallApi(options_.api, "POST",
              OperatorPath(h->dcep_operator, "/devices/" + h->info.handset_id + "/uploads"),
              {{"log", HexEncode(log)}}));
  TS_ASSIGN_OR_RETURN(Bytes ack, HexDecode(uploaded.value("sync_ack", "")));
  TS_RETURN_IF_ERROR(app.Select());
  TS_RETURN_IF_ERROR(app.Sync(ack));
  TS_ASSIGN_OR_RETURN(json status, DcepStatus(handset_id));
  return json{{"records", uploaded.value("records", json::array())}, {"status", std::move(status)}};
}

}  // namespace tapstack::handset

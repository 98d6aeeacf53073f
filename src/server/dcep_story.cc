#include "server/dcep_story.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <system_error>

#include "dcep/contract_book.h"
#include "dcep/dcep_network.h"
#include "dcep/qr_payments.h"
#include "dcep/tiers.h"
#include "device/dcep_wallet_client.h"
#include "device/secure_element.h"
#include "qr/mpm.h"

namespace tapstack::server {

namespace {

using dcep::Operator;

constexpr std::int64_t kDayMillis = 86'400'000;

// "¥1,234.56" for narration.
std::string Yuan(std::int64_t fen) {
  const std::string sign = fen < 0 ? "-" : "";
  if (fen < 0) fen = -fen;
  std::string whole = std::to_string(fen / 100);
  for (int i = static_cast<int>(whole.size()) - 3; i > 0; i -= 3) whole.insert(static_cast<std::size_t>(i), ",");
  const std::int64_t cents = fen % 100;
  return sign + "CNY " + whole + "." + (cents < 10 ? "0" : "") + std::to_string(cents);
}

// A watch: its secure element, the wallet app's channel to the hardware wallet and the
// contactless field another watch reaches it through.
struct Watch {
  std::string id;
  std::filesystem::path dir;
  std::unique_ptr<device::SecureElement> se;
  std::unique_ptr<device::DcepWalletClient> app;
  std::unique_ptr<device::DcepWalletClient> field;

  Status Open() {
    device::SecureElementOptions options;
    options.data_dir = dir;
    options.device_id = id;
    TS_ASSIGN_OR_RETURN(se, device::SecureElement::Open(options));
    device::SecureElement* raw = se.get();
    app = std::make_unique<device::DcepWalletClient>(
        [raw](ByteView apdu) { return raw->TransmitToDcepWallet(apdu); });
    field = std::make_unique<device::DcepWalletClient>([raw](ByteView apdu) { return raw->Transmit(apdu); });
    return Status::Ok();
  }
  void Close() {
    field.reset();
    app.reset();
    se.reset();
  }
  Result<std::int64_t> Balance() {
    TS_ASSIGN_OR_RETURN(const device::DcepPurseStatus status, app->PurseStatus());
    return status.balance_fen;
  }
};

class Story {
 public:
  Story(const DcepStoryOptions& options, dcep::DcepNetwork& network)
      : options_(options), network_(network) {}

  Result<DcepStoryReport> Run() {
    TS_ASSIGN_OR_RETURN(icbc_, network_.operator_of("icbc"));
    TS_ASSIGN_OR_RETURN(boc_, network_.operator_of("boc"));
    TS_ASSIGN_OR_RETURN(watches_, network_.hardware_wallets("icbc"));
    TS_RETURN_IF_ERROR(Issue());
    TS_RETURN_IF_ERROR(OpenWallets());
    TS_RETURN_IF_ERROR(PayOnline());
    TS_RETURN_IF_ERROR(PayByQr());
    TS_RETURN_IF_ERROR(LoadWatches());
    TS_RETURN_IF_ERROR(PayOffline());
    TS_RETURN_IF_ERROR(Sync());
    TS_RETURN_IF_ERROR(CatchClone());
    TS_RETURN_IF_ERROR(PrepaidLessons());
    TS_RETURN_IF_ERROR(Audit());
    return report_;
  }

 private:
  template <typename... Parts>
  void Say(const Parts&... parts) {
    if (options_.out == nullptr) return;
    ((*options_.out) << ... << parts) << "\n";
  }

  Status Issue() {
    Say("1. The central bank issues e-CNY to the operators against their CNY reserves");
    TS_RETURN_IF_ERROR(icbc_->RequestIssuance(100'000'000, "story-issue-icbc").status());
    TS_RETURN_IF_ERROR(boc_->RequestIssuance(20'000'000, "story-issue-boc").status());
    TS_ASSIGN_OR_RETURN(const dcep::CentralBankAudit cb, network_.central_bank().Audit());
    report_.issued_fen = cb.issued_fen;
    Say("   ICBC ", Yuan(100'000'000), ", BOC ", Yuan(20'000'000), "; issued in total ",
        Yuan(cb.issued_fen));
    return Status::Ok();
  }

  Result<std::string> Wallet(Operator& op, dcep::TierEvidence evidence, std::int64_t exchange_fen,
                             const std::string& who) {
    TS_ASSIGN_OR_RETURN(const dcep::WalletInfo w, op.OpenWallet(evidence, "story-open-" + who));
    if (exchange_fen > 0) {
      TS_RETURN_IF_ERROR(op.Exchange(w.wallet_id, exchange_fen, false, "story-exchange-" + who).status());
    }
    Say("   ", who, ": wallet ", w.wallet_id, " at ", op.id(), ", tier ", w.tier, " (",
        w.limits.opened_with, ")",
        exchange_fen > 0 ? ", exchanged " + Yuan(exchange_fen) + " from bank deposits" : std::string());
    return w.wallet_id;
  }

  Status OpenWallets() {
    Say("2. Users open wallets and exchange bank deposits into e-CNY");
    TS_ASSIGN_OR_RETURN(li_lei_, Wallet(*icbc_, {.phone = "+8613800138001", .name = "李雷",
                                                 .id_number = "110101199001011234",
                                                 .bank_account = "6222020200000001",
                                                 .in_person = false},
                                        2'000'000, "Li Lei"));
    TS_ASSIGN_OR_RETURN(han_meimei_, Wallet(*icbc_, {.phone = "+8613800138002", .name = "韩梅梅",
                                                     .id_number = "110101199202021234",
                                                     .bank_account = "", .in_person = false},
                                            0, "Han Meimei"));
    TS_ASSIGN_OR_RETURN(zhang_wei_, Wallet(*icbc_, {.phone = "+8613800138003", .name = "",
                                                    .id_number = "", .bank_account = "",
                                                    .in_person = false},
                                           0, "Zhang Wei"));
    TS_ASSIGN_OR_RETURN(wang_fang_, Wallet(*boc_, {.phone = "+8613900139004", .name = "王芳",
                                                   .id_number = "510101198803031234",
                                                   .bank_account = "6217000000000004",
                                                   .in_person = false},
                                           1'000'000, "Wang Fang"));
    TS_ASSIGN_OR_RETURN(const dcep::CounterpartyView seen, icbc_->ViewForCounterparty(zhang_wei_));
    Say("   a merchant paid by Zhang Wei (tier 4) sees only: wallet ", seen.wallet_id,
        seen.name ? ", name " + *seen.name : std::string(", no name"),
        seen.phone ? ", phone " + *seen.phone : std::string(", no phone"));
    return Status::Ok();
  }

  Status PayOnline() {
    Say("3. Online payments");
    TS_ASSIGN_OR_RETURN(const dcep::Entry coffee,
                        icbc_->Pay({.payer_wallet = li_lei_, .payee_operator = "", .payee_wallet = "",
                                    .merchant_id = "m-beijing-coffee", .amount_fen = 3'800,
                                    .idempotency_key = "story-coffee", .merchant_order_id = ""}));
    Say("   Li Lei → Beijing coffee shop (same operator) ", Yuan(coffee.amount_fen), ": ", coffee.status);
    TS_ASSIGN_OR_RETURN(const dcep::Entry grocer,
                        icbc_->Pay({.payer_wallet = li_lei_, .payee_operator = "", .payee_wallet = "",
                                    .merchant_id = "m-shenzhen-grocer", .amount_fen = 12'000,
                                    .idempotency_key = "story-grocer", .merchant_order_id = ""}));
    Say("   Li Lei → Shenzhen grocer at CCB (settled at the central bank) ", Yuan(grocer.amount_fen),
        ": ", grocer.status);
    TS_ASSIGN_OR_RETURN(const dcep::Entry again,
                        icbc_->Pay({.payer_wallet = li_lei_, .payee_operator = "", .payee_wallet = "",
                                    .merchant_id = "m-shenzhen-grocer", .amount_fen = 12'000,
                                    .idempotency_key = "story-grocer", .merchant_order_id = ""}));
    if (!again.replayed || again.entry_id != grocer.entry_id) {
      return Internal("story: a retried payment was not answered with its first outcome");
    }
    Say("   the same payment retried with its idempotency key: the first outcome again, no second charge");
    return Status::Ok();
  }

  Status PayByQr() {
    Say("4. Paying merchants by scanning their QR codes (EMVCo merchant-presented, MACed by the "
        "merchant's operator)");
    TS_ASSIGN_OR_RETURN(dcep::MerchantQrKeys keys, dcep::MerchantQrKeys::Demo(network_.config()));
    const dcep::QrPayments qr(&network_.config(), std::move(keys));
    const dcep::MerchantQrRequest bill{.merchant_id = "m-beijing-coffee", .amount_fen = 2'600,
                                       .order_id = "T12-0042", .expires_in_s = 0,
                                       .city = "Beijing"};
    TS_ASSIGN_OR_RETURN(const dcep::IssuedMerchantQr issued, qr.Issue("icbc", bill));
    Say("   the coffee shop's till shows a dynamic code for order ", bill.order_id, ", ",
        Yuan(bill.amount_fen), ", valid ", dcep::kDynamicQrValiditySecondsDefault, " s: ",
        issued.payload.substr(0, 48), "...");
    TS_ASSIGN_OR_RETURN(const dcep::QrPaymentResult paid,
                        qr.Pay(*icbc_, {.payer_wallet = li_lei_, .payload = issued.payload,
                                        .amount_fen = 0, .idempotency_key = "story-qr-scan-1"}));
    Say("   Li Lei scans it and pays ", Yuan(paid.entry.amount_fen), ": ", paid.entry.status);
    TS_ASSIGN_OR_RETURN(const dcep::QrPaymentResult again,
                        qr.Pay(*icbc_, {.payer_wallet = li_lei_, .payload = issued.payload,
                                        .amount_fen = 0, .idempotency_key = "story-qr-scan-2"}));
    if (!again.entry.replayed || again.entry.entry_id != paid.entry.entry_id) {
      return Internal("story: an order paid twice by QR was charged twice");
    }
    Say("   he scans it again by mistake: the order is already paid, the first outcome comes back");
    // Another customer scans the same till: the merchant's operator pays each order once.
    const Result<dcep::QrPaymentResult> second_payer =
        qr.Pay(*icbc_, {.payer_wallet = han_meimei_, .payload = issued.payload, .amount_fen = 0,
                        .idempotency_key = "story-qr-other"});
    if (second_payer.status().code() != ErrorCode::kAlreadyExists) {
      return Internal("story: a second wallet paid an order already paid: " +
                      second_payer.status().ToString());
    }
    Say("   Han Meimei scans the same code: refused, ", second_payer.status().message());
    // Someone edits the amount to 0.26 yuan and recomputes the CRC: only the MAC can tell.
    qr::MpmDecoded decoded = qr::DecodeMpm(issued.payload);
    for (qr::MpmObject& object : decoded.objects) {
      if (object.id == "54") object.value = "0.26";
    }
    TS_ASSIGN_OR_RETURN(const std::string tampered, qr::EncodeMpm(decoded.objects));
    const Result<dcep::QrPaymentResult> refused =
        qr.Pay(*icbc_, {.payer_wallet = li_lei_, .payload = tampered, .amount_fen = 0,
                        .idempotency_key = "story-qr-tampered"});
    if (refused.status().code() != ErrorCode::kCryptoFailure) {
      return Internal("story: a QR code with an edited amount was not refused");
    }
    Say("   the same code with its amount edited to ", Yuan(26), " (CRC recomputed): refused (",
        refused.status().message(), ")");
    const dcep::MerchantQrRequest sticker{.merchant_id = "m-beijing-coffee", .amount_fen = 0,
                                          .order_id = "", .expires_in_s = 0, .city = "Beijing"};
    TS_ASSIGN_OR_RETURN(const dcep::IssuedMerchantQr printed, qr.Issue("icbc", sticker));
    TS_ASSIGN_OR_RETURN(const dcep::QrPaymentResult other,
                        qr.Pay(*boc_, {.payer_wallet = wang_fang_, .payload = printed.payload,
                                       .amount_fen = 1'500,
                                       .idempotency_key = "story-qr-sticker"}));
    Say("   Wang Fang (BOC) scans the shop's printed static code and types ", Yuan(1'500), ": ",
        other.entry.status, " (settled between BOC and ICBC at the central bank)");
    return Status::Ok();
  }

  Status Certify(Watch& watch, const std::string& wallet) {
    TS_ASSIGN_OR_RETURN(const Bytes public_key,
                        watch.se->InstallDcepWallet(crypto::SignatureScheme::kSm2Sm3,
                                                    network_.root_authority().public_key()));
    TS_ASSIGN_OR_RETURN(const Bytes chain,
                        watches_->CertifyDevice(wallet, watch.id, crypto::SignatureScheme::kSm2Sm3,
                                                public_key));
    return watch.app->PutCertificates(chain);
  }

  Status LoadWatches() {
    Say("5. Two watches get hardware wallets (SM2 keys generated inside their secure elements)");
    for (Watch* w : {&lilei_watch_, &hanmeimei_watch_, &zhangwei_watch_}) {
      w->dir = options_.data_dir / "watches";
      TS_RETURN_IF_ERROR(w->Open());
    }
    TS_RETURN_IF_ERROR(Certify(lilei_watch_, li_lei_));
    TS_RETURN_IF_ERROR(Certify(hanmeimei_watch_, han_meimei_));
    TS_RETURN_IF_ERROR(Certify(zhangwei_watch_, zhang_wei_));
    TS_ASSIGN_OR_RETURN(const Bytes order, watches_->Load(li_lei_, lilei_watch_.id, 50'000, "story-load"));
    TS_ASSIGN_OR_RETURN(const std::int64_t balance, lilei_watch_.app->Load(order));
    Say("   Li Lei loads ", Yuan(50'000), " from his wallet onto his watch: the watch holds ", Yuan(balance));
    return Status::Ok();
  }

  Status PayOffline() {
    Say("6. The watches pay each other with both offline (APDUs between the two secure elements)");
    TS_ASSIGN_OR_RETURN(const Bytes transfer,
                        device::PayOffline(*lilei_watch_.field, *hanmeimei_watch_.field, 12'500));
    TS_ASSIGN_OR_RETURN(const std::int64_t a, lilei_watch_.Balance());
    TS_ASSIGN_OR_RETURN(const std::int64_t b, hanmeimei_watch_.Balance());
    Say("   Li Lei's watch → Han Meimei's watch ", Yuan(12'500), " (signed transfer of ",
        transfer.size(), " bytes with its certificate chain): watches now hold ", Yuan(a), " and ",
        Yuan(b));
    return Status::Ok();
  }

  // Uploads `watch`'s log and applies the acknowledgement; returns the upload's outcome counts.
  Result<dcep::UploadResult> Upload(Watch& watch) {
    TS_ASSIGN_OR_RETURN(const Bytes log, watch.app->ReadLog());
    TS_ASSIGN_OR_RETURN(dcep::UploadResult result, watches_->Upload(watch.id, log));
    for (const dcep::UploadedRecord& r : result.records) {
      if (r.outcome == dcep::RecordOutcome::kSettled) ++report_.offline_settled;
      if (r.outcome == dcep::RecordOutcome::kDuplicate) ++report_.offline_duplicates;
    }
    TS_RETURN_IF_ERROR(watch.app->Sync(result.sync_ack));
    return result;
  }

  static std::string Outcomes(const dcep::UploadResult& result) {
    std::string s;
    for (const dcep::UploadedRecord& r : result.records) {
      if (!s.empty()) s += ", ";
      s += std::string(dcep::RecordOutcomeName(r.outcome));
    }
    return s.empty() ? "nothing new" : s;
  }

  Status Sync() {
    Say("7. They come online and sync, in either order");
    TS_ASSIGN_OR_RETURN(const dcep::UploadResult first, Upload(hanmeimei_watch_));
    Say("   Han Meimei's watch uploads first: ", Outcomes(first));
    TS_ASSIGN_OR_RETURN(const dcep::UploadResult second, Upload(lilei_watch_));
    Say("   Li Lei's watch uploads the same transfer: ", Outcomes(second));
    TS_ASSIGN_OR_RETURN(const std::int64_t a, icbc_->OfflinePurseBalance(lilei_watch_.id));
    TS_ASSIGN_OR_RETURN(const std::int64_t b, icbc_->OfflinePurseBalance(hanmeimei_watch_.id));
    Say("   the operator's ledger now agrees with the watches: ", Yuan(a), " and ", Yuan(b));
    return Status::Ok();
  }

  Status CatchClone() {
    Say("8. A cloned watch spends the same value twice");
    // The clone: a copy of the watch's secure-element state (what breaking the chip would give).
    lilei_watch_.Close();
    Watch clone{.id = lilei_watch_.id, .dir = options_.data_dir / "clone", .se = nullptr,
                .app = nullptr, .field = nullptr};
    std::error_code ec;
    std::filesystem::create_directories(clone.dir, ec);
    std::filesystem::copy(lilei_watch_.dir / lilei_watch_.id, clone.dir / clone.id,
                          std::filesystem::copy_options::recursive, ec);
    if (ec) return IoError("story: copying the watch: " + ec.message());
    TS_RETURN_IF_ERROR(lilei_watch_.Open());
    TS_RETURN_IF_ERROR(clone.Open());
    TS_RETURN_IF_ERROR(device::PayOffline(*lilei_watch_.field, *hanmeimei_watch_.field, 2'000).status());
    TS_RETURN_IF_ERROR(device::PayOffline(*clone.field, *zhangwei_watch_.field, 3'000).status());
    Say("   the watch pays Han Meimei ", Yuan(2'000), "; its clone pays Zhang Wei ", Yuan(3'000),
        ", both under the same counter — each payee's watch accepted it offline");
    TS_ASSIGN_OR_RETURN(const dcep::UploadResult honest, Upload(hanmeimei_watch_));
    TS_ASSIGN_OR_RETURN(const dcep::UploadResult cloned, Upload(zhangwei_watch_));
    Say("   uploads: Han Meimei's watch ", Outcomes(honest), "; Zhang Wei's watch ", Outcomes(cloned));
    TS_ASSIGN_OR_RETURN(const dcep::DeviceSettlementState state,
                        watches_->settlement().Device(lilei_watch_.id));
    TS_ASSIGN_OR_RETURN(const bool revoked, watches_->authority().IsRevoked(lilei_watch_.id));
    report_.clone_caught = state.state == dcep::DeviceState::kBlocked && revoked;
    if (!report_.clone_caught) return Internal("story: the double spend was not caught");
    Say("   the operator sees one counter with two different transfers: ", lilei_watch_.id, " is ",
        dcep::DeviceStateName(state.state), " and its certificate revoked (", state.reason, ")");
    // Zhang Wei's watch synced after the revocation: it now refuses the clone offline.
    const Result<Bytes> refused = device::PayOffline(*clone.field, *zhangwei_watch_.field, 1'000);
    report_.clone_refused_offline = !refused.ok();
    if (refused.ok()) return Internal("story: a revoked watch was paid offline");
    Say("   the clone tries Zhang Wei's watch again, offline: refused (", refused.status().message(), ")");
    clone.Close();
    TS_ASSIGN_OR_RETURN(report_.payer_watch_fen, lilei_watch_.Balance());
    TS_ASSIGN_OR_RETURN(report_.payee_watch_fen, hanmeimei_watch_.Balance());
    return Status::Ok();
  }

  Status PrepaidLessons() {
    Say("9. A prepaid class package: 10 lessons locked in a contract, released lesson by lesson");
    const std::string school = dcep::MerchantWalletId("boc", "m-chengdu-school");
    const nlohmann::json terms = {
        {"template", "prepaid_service"}, {"payer_wallet", wang_fang_},
        {"merchant_id", "m-chengdu-school"}, {"amount_fen", 300'000}, {"units", 10},
        {"unit_name", "lesson"}, {"expires_unix_ms", now_ms_ + 180 * kDayMillis}};
    dcep::ContractBook& book = boc_->contracts();
    TS_ASSIGN_OR_RETURN(const dcep::ContractOutcome created, book.Create(terms.dump(), "story-class"));
    const std::string id = created.contract.contract_id;
    Say("   Wang Fang locks ", Yuan(300'000), " for 10 lessons at the Chengdu school: contract ", id);
    TS_ASSIGN_OR_RETURN(const dcep::ContractOutcome l1, book.Deliver(id, school, 1, "story-lesson-1"));
    TS_ASSIGN_OR_RETURN(const dcep::ContractOutcome l23, book.Deliver(id, school, 2, "story-lesson-2-3"));
    report_.lessons_released_fen = l1.entry.amount_fen + l23.entry.amount_fen;
    Say("   lesson 1 releases ", Yuan(l1.entry.amount_fen), ", lessons 2-3 release ",
        Yuan(l23.entry.amount_fen), " to the school");
    TS_ASSIGN_OR_RETURN(const dcep::ContractOutcome cancelled, book.Cancel(id, wang_fang_, "story-cancel"));
    report_.lessons_refunded_fen = cancelled.entry.amount_fen;
    Say("   Wang Fang cancels: the 7 undelivered lessons, ", Yuan(cancelled.entry.amount_fen),
        ", go back to her wallet (contract ", cancelled.contract.state, ")");
    return Status::Ok();
  }

  Status Audit() {
    Say("10. The audit");
    TS_ASSIGN_OR_RETURN(const dcep::NetworkAudit audit, network_.AuditNetwork());
    std::int64_t held = 0;
    for (const auto& [id, a] : audit.operators) held += a.position_fen;
    TS_ASSIGN_OR_RETURN(const dcep::WalletInfo li, icbc_->Wallet(li_lei_));
    report_.payer_wallet_fen = li.balance_fen;
    report_.audit_ok = held == audit.central_bank.issued_fen;
    if (!report_.audit_ok) return Internal("story: issued != held");
    Say("   issued ", Yuan(audit.central_bank.issued_fen), " = held by the operators ", Yuan(held),
        " (wallets, watch purses, contracts, float); every operator's ledger balances");
    return Status::Ok();
  }

  const DcepStoryOptions& options_;
  dcep::DcepNetwork& network_;
  Operator* icbc_ = nullptr;
  Operator* boc_ = nullptr;
  dcep::HardwareWallets* watches_ = nullptr;
  std::string li_lei_, han_meimei_, zhang_wei_, wang_fang_;
  Watch lilei_watch_{.id = "watch-lilei", .dir = {}, .se = nullptr, .app = nullptr, .field = nullptr};
  Watch hanmeimei_watch_{.id = "watch-hanmeimei", .dir = {}, .se = nullptr, .app = nullptr, .field = nullptr};
  Watch zhangwei_watch_{.id = "watch-zhangwei", .dir = {}, .se = nullptr, .app = nullptr, .field = nullptr};
  std::int64_t now_ms_ = SystemClock::Instance().NowUnixMillis();
  DcepStoryReport report_;
};

}  // namespace

Result<DcepStoryReport> RunDcepStory(const DcepStoryOptions& options) {
  std::error_code ec;
  if (std::filesystem::exists(options.data_dir, ec) && !std::filesystem::is_empty(options.data_dir, ec)) {
    return FailedPrecondition("data_dir: " + options.data_dir.string() +
                              " is not empty; the story starts from nothing");
  }
  TS_ASSIGN_OR_RETURN(const std::filesystem::path config_path, dcep::DefaultDcepConfigPath());
  TS_ASSIGN_OR_RETURN(dcep::DcepConfig config, dcep::LoadDcepConfig(config_path));
  dcep::DcepNetworkOptions network_options;
  network_options.data_dir = options.data_dir / "network";
  network_options.config = std::move(config);
  network_options.operator_ids = {"icbc", "ccb", "boc"};
  TS_ASSIGN_OR_RETURN(auto network, dcep::DcepNetwork::Open(std::move(network_options)));
  Story story(options, *network);
  TS_ASSIGN_OR_RETURN(DcepStoryReport report, story.Run());
  TS_RETURN_IF_ERROR(network->Close());
  return report;
}

}  // namespace tapstack::server

#include "sim/dcep_part.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/random_source.h"
#include "dcep/contract_book.h"
#include "dcep/dcep_network.h"
#include "dcep/hardware_wallets.h"
#include "dcep/tiers.h"
#include "device/dcep_wallet_client.h"
#include "device/secure_element.h"
#include "sim/disk_fault.h"
#include "store/fault_vfs.h"
#include "store/sqlite_store.h"

namespace tapstack::sim {
namespace {

constexpr std::int64_t kFloatFen = 10'000'000;  // issued to each operator before anything
constexpr std::int64_t kWalletFen = 200'000;    // exchanged into each watch owner's wallet
constexpr std::int64_t kLoadFen = 30'000;       // loaded into each watch's purse
constexpr std::int64_t kPaymentMinFen = 100;
constexpr std::int64_t kPaymentMaxFen = 4'000;
constexpr int kStepsPerPaymentMax = 8;  // the drive loop's bound
constexpr int kHealRounds = 3;          // uploads by every watch, then re-drives
constexpr std::int64_t kCorruptionFen = 100;
constexpr std::size_t kHistoryPageRows = 7;  // small: the check pages through the cursors
constexpr std::int64_t kContractMinFen = 500;
constexpr std::int64_t kContractMaxFen = 5'000;
// Some contracts expire before they are closed (a run's steps are 1-120 simulated seconds apart).
constexpr std::int64_t kContractLifeMinMs = 60'000;       // 1 minute
constexpr std::int64_t kContractLifeMaxMs = 30 * 60'000;  // 30 minutes
constexpr char kContractOperator[] = "icbc";
// Merchants of the seed config at the two operators the part opens: (merchant, operator).
constexpr std::array<std::array<const char*, 2>, 2> kMerchants = {
    {{"m-beijing-coffee", "icbc"}, {"m-shenzhen-grocer", "ccb"}}};
constexpr char kClonedId[] = "watch-a";
// What a seed's failing disk may sit under: an operator's wallets and journal, its offline
// settlement records (DcepNetworkOptions names the roles), or every ledger log of the network
// (the central bank's and the operators': whichever writes first after the fault is armed).
constexpr char kLedgersDisk[] = "ledgers";
constexpr const char* kDiskRoles[] = {"dcep_icbc", "dcep_ccb", "dcep_offline_icbc", "dcep_offline_ccb", kLedgersDisk};
// Each ledger's log grows in chunks of this many zero bytes; a run writes far less, and the
// default (64 MiB, three ledgers) would be most of a run's time.
constexpr std::uint64_t kLedgerPreallocateBytes = 256 * 1024;

struct WatchSpec {
  const char* id;
  const char* op;
  const char* phone;
};
const std::vector<WatchSpec>& WatchSpecs() {
  static const std::vector<WatchSpec> specs = {{"watch-a", "icbc", "+8613800000101"},
                                               {"watch-b", "ccb", "+8613900000102"},
                                               {"watch-c", "icbc", "+8613800000103"}};
  return specs;
}

// An online payment between two watch owners' wallets, as its client (the wallet app) knows it.
struct OnlinePayment {
  std::string key;  // the idempotency key: every retry sends the same order under it
  std::string payer_wallet;
  std::string payer_op;
  std::string payee_wallet;  // empty when a merchant is paid
  std::string payee_op;
  std::string merchant_id;  // a merchant's order (a dynamic QR code), paid at most once
  std::string order_id;
  std::int64_t amount = 0;
  enum class Known { kNothing, kPosted, kRefused } known = Known::kNothing;
  std::string entry_id;  // when kPosted
  bool first_payment = false;  // kPosted and its entry is not another payment's (an order paid again)
  std::string last_answer;
};

// An escrow contract between the two owners at icbc (a contract stays within one operator): the
// payer locks, then either confirms (all to the payee) or the payee cancels (all back), unless it
// expires first (the operator refunds it). Each call under its own idempotency key.
struct SimContract {
  std::string create_key;
  std::string close_key;  // set when the closing call is first sent
  std::string payer_wallet;
  std::string payee_wallet;
  std::int64_t amount = 0;
  std::int64_t expires_ms = 0;
  bool confirm = false;  // the closing call: confirm by the payer, else cancel by the payee
  enum class Known { kNothing, kPosted, kRefused };
  Known created = Known::kNothing;
  Known closed = Known::kNothing;  // meaningful once close_key is set
  std::string contract_id;         // when created is kPosted
  std::string last_answer;
};

// Answers after which the client cannot tell whether the payment moved money: it retries later
// under the same key. kInternal too: a broken operator may answer it until it is reopened.
bool OutcomeUnknown(const Status& s) {
  return s.code() == ErrorCode::kUnavailable || s.code() == ErrorCode::kIoError ||
         s.code() == ErrorCode::kInternal;
}

struct Watch {
  std::string id;
  std::string op;
  std::string wallet;
  std::string label;  // the id, "(clone)" added for the clone
  bool clone = false;
  std::unique_ptr<SeededRandom> random;  // payee nonces
  std::unique_ptr<device::SecureElement> se;
  std::unique_ptr<device::DcepWalletClient> app;    // the wallet app's channel
  std::unique_ptr<device::DcepWalletClient> field;  // NFC, offline payments
  bool paid = false;                                // made at least one payment
  // A payment from watch-a (either copy) was offered to it while a clone exists: its purse at
  // the operator may differ from the watch (see Check).
  bool dealt_with_cloned_payer = false;
};

// The interbank link between the operators: while faulty, the seed loses credit requests or
// their answers (the payee's operator credited, the payer's never hears it).
class LossyPeers final : public dcep::InterbankPeers {
 public:
  explicit LossyPeers(SimWorld& world) : world_(world) {}
  dcep::InterbankPeers* target = nullptr;  // null while the network (re)opens
  bool faulty = false;

  Result<dcep::CreditResult> CreditIncoming(const dcep::IncomingCredit& credit) override {
    // An operator re-drives its pending credits as it opens, before the network it belongs to
    // is up: the other operator is not reachable yet; they stay pending.
    if (target == nullptr)
      return Unavailable("payee operator unreachable (the network is starting)");
    if (faulty && world_.Chance(0.3)) {
      world_.Count("dcep-interbank-requests-lost");
      world_.Trace("dcep interbank credit " + credit.from_operator + "->" + credit.to_operator +
                   " lost");
      return Unavailable("payee operator unreachable (request lost)");
    }
    Result<dcep::CreditResult> r = target->CreditIncoming(credit);
    if (faulty && world_.Chance(0.3)) {
      world_.Count("dcep-interbank-answers-lost");
      world_.Trace("dcep interbank answer " + credit.to_operator + "->" + credit.from_operator +
                   " lost");
      return Unavailable("payee operator unreachable (answer lost)");
    }
    return r;
  }

 private:
  SimWorld& world_;
};

class Part {
 public:
  Part(SimWorld& world, std::filesystem::path dir, const DcepPartOptions& options)
      : world_(world),
        dir_(std::move(dir)),
        options_(options),
        network_random_(world.random()()),
        peers_(world) {}

  ~Part() {
    if (disk_role_ != kLedgersDisk) store::SetFaultHook(DiskPath(), {});
  }

  Status SetUp() {
    // One of the operators' stores, or the network's ledgers, sits on a disk the seed may fail
    // (disk_fault.h). The roles open their stores with the default VFS, so the fault VFS becomes
    // the process's default.
    store::RegisterFaultVfs(/*make_default=*/true);
    disk_role_ = kDiskRoles[Pick(std::size(kDiskRoles))];
    TS_RETURN_IF_ERROR(OpenNetwork());
    for (const char* op : {"icbc", "ccb"}) {
      TS_ASSIGN_OR_RETURN(dcep::Operator * o, network_->operator_of(op));
      TS_RETURN_IF_ERROR(o->RequestIssuance(kFloatFen, "sim-float").status());
    }
    for (const WatchSpec& spec : WatchSpecs()) {
      TS_ASSIGN_OR_RETURN(dcep::Operator * o, network_->operator_of(spec.op));
      const dcep::TierEvidence evidence{spec.phone, "Sim Holder", "110101199001011234",
                                        "6222020200112233", false};
      TS_ASSIGN_OR_RETURN(const dcep::WalletInfo wallet,
                          o->OpenWallet(evidence, std::string("open-") + spec.id));
      TS_RETURN_IF_ERROR(
          o->Exchange(wallet.wallet_id, kWalletFen, false, std::string("fund-") + spec.id)
              .status());
      TS_ASSIGN_OR_RETURN(std::unique_ptr<Watch> w,
                          OpenWatch(spec.id, spec.op, dir_ / "watches", false));
      w->wallet = wallet.wallet_id;
      TS_ASSIGN_OR_RETURN(dcep::HardwareWallets * hw, network_->hardware_wallets(spec.op));
      TS_ASSIGN_OR_RETURN(const Bytes key,
                          w->se->InstallDcepWallet(crypto::SignatureScheme::kSm2Sm3,
                                                   network_->root_authority().public_key()));
      TS_ASSIGN_OR_RETURN(
          const Bytes chain,
          hw->CertifyDevice(wallet.wallet_id, spec.id, crypto::SignatureScheme::kSm2Sm3, key));
      TS_RETURN_IF_ERROR(w->app->PutCertificates(chain));
      TS_ASSIGN_OR_RETURN(const Bytes order,
                          hw->Load(wallet.wallet_id, spec.id, kLoadFen, "load-1"));
      TS_RETURN_IF_ERROR(w->app->Load(order).status());
      owners_.push_back({wallet.wallet_id, spec.op});
      watches_.push_back(std::move(w));
    }
    for (const auto& [wallet, op] : owners_) {
      TS_ASSIGN_OR_RETURN(dcep::Operator * o, network_->operator_of(op));
      TS_ASSIGN_OR_RETURN(const dcep::WalletInfo info, o->Wallet(wallet));
      expected_fen_[wallet] = info.balance_fen;
    }
    if (options_.force_clone || (options_.faults && world_.Chance(0.5)))
      TS_RETURN_IF_ERROR(Clone());
    return Status::Ok();
  }

  Status Drive() {
    int payments = 0;
    for (int step = 0;
         payments < options_.payments && step < options_.payments * kStepsPerPaymentMax; ++step) {
      world_.clock().AdvanceMillis(world_.Uniform(1'000, 120'000));
      TS_RETURN_IF_ERROR(Supervise());
      const std::int64_t roll = world_.Uniform(0, 99);
      if (roll < 35) {
        Pay();
        ++payments;
      } else if (roll < 50) {
        PayOnline();
      } else if (roll < 58) {
        ContractStep();
      } else if (roll < 85) {
        TS_RETURN_IF_ERROR(Upload(*watches_[Pick(watches_.size())], /*heal=*/false));
      } else if (!options_.faults) {
        continue;
      } else if (roll < 90) {
        peers_.faulty = !peers_.faulty;
        world_.Count("dcep-interbank-faults");
        world_.Trace(std::string("dcep interbank link ") + (peers_.faulty ? "faulty" : "healthy"));
      } else if (roll < 95) {
        ArmDisk();
      } else {
        world_.Count("dcep-restarts");
        world_.Trace("dcep network restart");
        TS_RETURN_IF_ERROR(OpenNetwork());
      }
    }
    return Status::Ok();
  }

  // Every watch uploads its log (and syncs) a few times over; what is pending is re-driven.
  Status Heal() {
    peers_.faulty = false;
    world_.Trace("dcep heal");
    TS_RETURN_IF_ERROR(Supervise());
    disk_->Disarm();
    for (int round = 0; round < kHealRounds; ++round) {
      for (auto& w : watches_) TS_RETURN_IF_ERROR(Upload(*w, /*heal=*/true));
      for (const char* op : {"icbc", "ccb"}) {
        TS_ASSIGN_OR_RETURN(dcep::HardwareWallets * hw, network_->hardware_wallets(op));
        TS_ASSIGN_OR_RETURN(const std::int64_t pending, hw->settlement().RetryPending());
        world_.Trace("dcep " + std::string(op) + " pending " + std::to_string(pending));
      }
      for (OnlinePayment& p : online_) {
        if (p.known == OnlinePayment::Known::kNothing) SendOnline(p, /*heal=*/true);
      }
      for (SimContract& c : contracts_) {
        if (c.created == SimContract::Known::kNothing) SendCreate(c, /*heal=*/true);
        if (!c.close_key.empty() && c.closed == SimContract::Known::kNothing) {
          SendClose(c, /*heal=*/true);
        }
      }
    }
    if (options_.corrupt_double_credit) {
      // A compared watch's purse at its operator gains value the watch never loads: a credit it
      // never saw.
      for (const auto& w : watches_) {
        if (!Compared(*w)) continue;
        TS_ASSIGN_OR_RETURN(dcep::HardwareWallets * hw, network_->hardware_wallets(w->op));
        TS_RETURN_IF_ERROR(hw->Load(w->wallet, w->id, kCorruptionFen, "sim-corruption").status());
        world_.Trace("dcep test-corruption " + w->id);
        return Status::Ok();
      }
      return NotFound("test corruption: every watch dealt with the clone in this seed");
    }
    if (options_.corrupt_unrecorded_payment) {
      // Paid straight through the operator: no client remembers asking (owners 0 and 2 are
      // both icbc's).
      dcep::PaymentOrder order;
      order.payer_wallet = owners_[0].first;
      order.payee_operator = owners_[2].second;
      order.payee_wallet = owners_[2].first;
      order.amount_fen = kCorruptionFen;
      order.idempotency_key = "sim-corruption";
      TS_ASSIGN_OR_RETURN(dcep::Operator * op, network_->operator_of(owners_[0].second));
      TS_RETURN_IF_ERROR(op->Pay(order).status());
      world_.Trace("dcep test-corruption online payment");
    }
    return Status::Ok();
  }

  void Check(std::vector<Violation>& out) {
    Result<dcep::NetworkAudit> audit = network_->AuditNetwork();
    if (!audit.ok()) out.push_back({"dcep-network-balanced", audit.status().ToString(), 0});
    CheckContracts(out);  // before CheckOnline: it adds the contracts' moves to expected_fen_
    CheckOnline(out);
    for (const auto& [key, count] : settled_) {
      if (count > 1) {
        out.push_back(
            {"dcep-credited-once", key + " settled " + std::to_string(count) + " times", 0});
      }
    }
    // With a clone, the purses of the payer and of its payees are not the watches' own: the
    // payer's two copies share one purse record; a payee may have refused a transfer the payer
    // signed (the clone had used its counter) that the operator still settles, the first
    // recorded body standing, while the clone's transfer it took is the double spend,
    // compensated or refused. Those are covered by the per-transfer count and the audit.
    for (const auto& w : watches_) {
      if (!Compared(*w)) continue;
      Result<dcep::Operator*> op = network_->operator_of(w->op);
      Result<std::int64_t> held = op.ok() ? (*op)->OfflinePurseBalance(w->id) : op.status();
      Result<device::DcepPurseStatus> device = w->app->PurseStatus();
      if (!held.ok() || !device.ok()) {
        out.push_back({"dcep-purse-agrees",
                       w->id + ": cannot read (" +
                           (held.ok() ? device.status() : held.status()).ToString() + ")",
                       0});
        continue;
      }
      const std::string detail = w->op + " holds " + std::to_string(*held) + " fen for " + w->id +
                                 ", the watch " + std::to_string(device->balance_fen);
      if (*held > device->balance_fen) {
        out.push_back({"dcep-credited-once", detail, 0});  // a credit counted twice
      } else if (*held != device->balance_fen) {
        out.push_back({"dcep-purse-agrees", detail, 0});  // a transfer lost or debited twice
      }
    }
    if (HasClone() && watches_[0]->paid && watches_.back()->paid) {
      Result<dcep::HardwareWallets*> hw = network_->hardware_wallets("icbc");
      Result<bool> revoked = hw.ok() ? (*hw)->authority().IsRevoked(kClonedId) : hw.status();
      if (!revoked.ok() || !*revoked) {
        out.push_back(
            {"dcep-clone-caught",
             std::string("the original and the clone of ") + kClonedId +
                 " both paid; revoked: " + (revoked.ok() ? "no" : revoked.status().ToString()),
             0});
      }
    }
  }

 private:
  std::size_t Pick(std::size_t n) {
    return static_cast<std::size_t>(world_.Uniform(0, static_cast<std::int64_t>(n) - 1));
  }
  bool HasClone() const { return watches_.back()->clone; }
  // Whether Check compares the operator's purse record with the watch (see there).
  bool Compared(const Watch& w) const {
    return !w.clone && !(HasClone() && w.id == kClonedId) && !w.dealt_with_cloned_payer;
  }

  std::filesystem::path DiskPath() const { return store::SqlitePath(dir_ / "network", disk_role_); }

  // The next write or fdatasync of the disk under disk_role_ fails, its unsynced writes lost or
  // kept (as the card part's disks).
  void ArmDisk() {
    const DiskFailure failure = world_.Chance(0.5) ? DiskFailure::kWrite : DiskFailure::kSync;
    const DiskAftermath aftermath = world_.Chance(0.5) ? DiskAftermath::kLost : DiskAftermath::kKept;
    disk_->Arm(failure, aftermath);
    world_.Count("dcep-disk-faults");
    world_.Trace("dcep " + disk_role_ + " disk armed: next " +
                 (failure == DiskFailure::kWrite ? "write" : "fdatasync") + " fails, writes " +
                 (aftermath == DiskAftermath::kLost ? "lost" : "kept"));
  }

  // A supervisor: the network whose disk failed is restarted (the failed store or ledger refuses
  // writes until then), with a healthy disk.
  Status Supervise() {
    if (!disk_failed_->load() && !disk_->triggered()) return Status::Ok();
    world_.Count("dcep-disk-failures");
    world_.Trace("dcep " + disk_role_ + " disk failed: network restart");
    return OpenNetwork();
  }

  Status OpenNetwork() {
    peers_.target = nullptr;
    network_.reset();  // a restart: everything is read back from the files
    disk_->Disarm();
    disk_failed_ = std::make_shared<std::atomic<bool>>(false);
    if (disk_role_ != kLedgersDisk) store::SetFaultHook(DiskPath(), disk_->SqliteHook(disk_failed_));
    TS_ASSIGN_OR_RETURN(const std::filesystem::path config_path, dcep::DefaultDcepConfigPath());
    dcep::DcepNetworkOptions options;
    options.data_dir = dir_ / "network";
    TS_ASSIGN_OR_RETURN(options.config, dcep::LoadDcepConfig(config_path));
    options.clock = &world_.clock();
    options.random = &network_random_;
    options.operator_ids = {"icbc", "ccb"};
    options.peers = &peers_;
    options.ledger_preallocate_bytes = kLedgerPreallocateBytes;
    if (disk_role_ == kLedgersDisk) {
      // A ledger with its own opener leaves the directory to its caller.
      std::error_code ec;
      std::filesystem::create_directories(options.data_dir, ec);
      if (ec) return IoError("sim: cannot create " + options.data_dir.string() + ": " + ec.message());
      options.open_ledger_file = disk_->Opener();
    }
    TS_ASSIGN_OR_RETURN(network_, dcep::DcepNetwork::Open(std::move(options)));
    peers_.target = &network_->directory();
    return Status::Ok();
  }

  Result<std::unique_ptr<Watch>> OpenWatch(const std::string& id, const std::string& op,
                                           const std::filesystem::path& where, bool clone) {
    auto w = std::make_unique<Watch>();
    w->id = id;
    w->op = op;
    w->clone = clone;
    w->label = clone ? id + "(clone)" : id;
    w->random = std::make_unique<SeededRandom>(world_.random()());
    device::SecureElementOptions options;
    options.data_dir = where;
    options.device_id = id;
    options.clock = &world_.clock();
    options.dcep_random = w->random.get();
    TS_ASSIGN_OR_RETURN(w->se, device::SecureElement::Open(options));
    device::SecureElement* se = w->se.get();  // the clients hold the secure element
    w->app = std::make_unique<device::DcepWalletClient>(
        [se](ByteView apdu) { return se->TransmitToDcepWallet(apdu); });
    w->field = std::make_unique<device::DcepWalletClient>(
        [se](ByteView apdu) { return se->Transmit(apdu); });
    return w;
  }

  // watch-a's secure element copied byte for byte (its purse still loaded): both copies pay.
  Status Clone() {
    Watch& a = *watches_[0];
    a.app.reset();
    a.field.reset();
    a.se.reset();
    std::error_code ec;
    std::filesystem::create_directories(dir_ / "clone", ec);
    if (!ec)
      std::filesystem::copy(dir_ / "watches" / a.id, dir_ / "clone" / a.id,
                            std::filesystem::copy_options::recursive, ec);
    if (ec) return IoError("sim: cannot clone " + a.id + ": " + ec.message());
    const std::string wallet = a.wallet;
    TS_ASSIGN_OR_RETURN(watches_[0], OpenWatch(a.id, "icbc", dir_ / "watches", false));
    watches_[0]->wallet = wallet;
    TS_ASSIGN_OR_RETURN(std::unique_ptr<Watch> clone,
                        OpenWatch(kClonedId, "icbc", dir_ / "clone", true));
    clone->wallet = wallet;
    watches_.push_back(std::move(clone));
    world_.Count("dcep-clones");
    world_.Trace(std::string("dcep ") + kClonedId + " cloned");
    return Status::Ok();
  }

  void Pay() {
    Watch& payer = *watches_[Pick(watches_.size())];
    std::vector<Watch*> payees;
    for (auto& w : watches_) {
      if (!w->clone && w->id != payer.id) payees.push_back(w.get());
    }
    Watch& payee = *payees[Pick(payees.size())];
    const std::int64_t amount = world_.Uniform(kPaymentMinFen, kPaymentMaxFen);
    if (payer.id == kClonedId && HasClone()) payee.dealt_with_cloned_payer = true;
    const Result<Bytes> paid = device::PayOffline(*payer.field, *payee.field, amount);
    world_.Trace("dcep pay " + payer.label + "->" + payee.id + " " + std::to_string(amount) + ": " +
                 (paid.ok() ? "ok" : std::string(ErrorCodeName(paid.status().code()))));
    if (!paid.ok()) {
      world_.Count("dcep-payments-refused");
      return;
    }
    world_.Count("dcep-payments");
    payer.paid = true;
  }

  // An online payment between two owners (same operator or across): the seed may send it twice
  // or lose its answer; the client then retries under the same key, later or while healing.
  void PayOnline() {
    const std::size_t payer = Pick(owners_.size());
    std::size_t payee = Pick(owners_.size() - 1);
    if (payee >= payer) ++payee;
    OnlinePayment p;
    p.key = "online-" + std::to_string(online_.size() + 1);
    p.payer_wallet = owners_[payer].first;
    p.payer_op = owners_[payer].second;
    p.payee_wallet = owners_[payee].first;
    p.payee_op = owners_[payee].second;
    // Now and then more than any wallet holds: refused, and a retry must answer the refusal.
    p.amount = world_.Chance(0.1) ? kWalletFen * 10 : world_.Uniform(kPaymentMinFen, kPaymentMaxFen);
    if (world_.Chance(0.25)) {
      // A merchant's dynamic code. Now and then one scanned before, by the same payer for the
      // same amount (its first payment answers) or by another owner (refused: already paid).
      std::vector<const OnlinePayment*> orders;
      for (const OnlinePayment& q : online_) {
        if (!q.order_id.empty()) orders.push_back(&q);
      }
      if (!orders.empty() && world_.Chance(0.3)) {
        const OnlinePayment& q = *orders[Pick(orders.size())];
        p.merchant_id = q.merchant_id;
        p.payee_op = q.payee_op;
        p.order_id = q.order_id;
        if (world_.Chance(0.5)) {
          p.payer_wallet = q.payer_wallet;
          p.payer_op = q.payer_op;
          p.amount = q.amount;
        }
      } else {
        const auto& merchant = kMerchants[Pick(kMerchants.size())];
        p.merchant_id = merchant[0];
        p.payee_op = merchant[1];
        p.order_id = "ord-" + std::to_string(online_.size() + 1);
      }
      p.payee_wallet.clear();
      world_.Count("dcep-online-merchant-orders");
    }
    online_.push_back(std::move(p));
    world_.Count("dcep-online-payments");
    SendOnline(online_.back(), /*heal=*/false);
  }

  void SendOnline(OnlinePayment& p, bool heal) {
    Result<dcep::Operator*> op = network_->operator_of(p.payer_op);
    if (!op.ok()) return;
    dcep::PaymentOrder order;
    order.payer_wallet = p.payer_wallet;
    if (p.merchant_id.empty()) {
      order.payee_operator = p.payee_op;
      order.payee_wallet = p.payee_wallet;
    } else {
      order.merchant_id = p.merchant_id;
      order.merchant_order_id = p.order_id;
    }
    order.amount_fen = p.amount;
    order.idempotency_key = p.key;
    const Result<dcep::Entry> answer =
        SendCall(heal,
                 "online " + p.key + " " + p.payer_op + "->" + p.payee_op + " " +
                     std::to_string(p.amount),
                 "dcep-online-answers-lost", [&] { return (*op)->Pay(order); });
    p.last_answer = answer.ok() ? answer->status : answer.status().ToString();
    if (!answer.ok() && OutcomeUnknown(answer.status())) return;
    const bool posted = answer.ok() && answer->status == "posted";
    if (answer.ok() && !posted) return;  // not final yet (in flight): ask again later
    // A retry answers the first outcome: the same entry, or the same refusal.
    const bool changed =
        (p.known == OnlinePayment::Known::kPosted && (!posted || answer->entry_id != p.entry_id)) ||
        (p.known == OnlinePayment::Known::kRefused && posted);
    if (changed) online_changed_.push_back(p.key + ": first " + p.entry_id + ", now " + p.last_answer);
    if (p.known != OnlinePayment::Known::kNothing) return;
    if (posted) {
      p.known = OnlinePayment::Known::kPosted;
      p.entry_id = answer->entry_id;
      // An order scanned again by its payer answers its first payment: no money moves again.
      p.first_payment = std::none_of(online_.begin(), online_.end(), [&](const OnlinePayment& q) {
        return &q != &p && q.first_payment && q.entry_id == p.entry_id;
      });
      if (p.first_payment) {
        expected_fen_[p.payer_wallet] -= p.amount;
        if (!p.payee_wallet.empty()) expected_fen_[p.payee_wallet] += p.amount;
      } else {
        world_.Count("dcep-orders-answered-from-first");
      }
    } else {
      p.known = OnlinePayment::Known::kRefused;
      world_.Count("dcep-online-refused");
    }
  }

  // A contract step: create one, close one whose lock was answered, or ask again what is open;
  // now and then the operator's expiry timer runs.
  void ContractStep() {
    world_.Count("dcep-contract-steps");
    Result<dcep::Operator*> op = network_->operator_of(kContractOperator);
    if (op.ok() && world_.Chance(0.2)) {
      Result<std::int64_t> expired = (*op)->contracts().ExpireContracts();
      // The error's code only: its message names the run's temporary files, which would make the
      // trace (and its hash) differ from one process to the next.
      world_.Trace("dcep contracts expired: " +
                   (expired.ok() ? std::to_string(*expired) : std::string(ErrorCodeName(expired.status().code()))));
      if (expired.ok()) world_.Count("dcep-contracts-expired", *expired);
    }
    for (SimContract& c : contracts_) {  // what is open first, as a client would
      if (c.created == SimContract::Known::kNothing) return SendCreate(c, false);
      if (!c.close_key.empty() && c.closed == SimContract::Known::kNothing) {
        return SendClose(c, false);
      }
    }
    std::vector<SimContract*> open;
    for (SimContract& c : contracts_) {
      if (c.created == SimContract::Known::kPosted && c.close_key.empty()) open.push_back(&c);
    }
    if (!open.empty() && world_.Chance(0.5)) {
      SimContract& c = *open[Pick(open.size())];
      c.close_key = "close-" + c.create_key;
      c.confirm = world_.Chance(0.5);
      return SendClose(c, false);
    }
    SimContract c;
    c.create_key = "contract-" + std::to_string(contracts_.size() + 1);
    const bool a_pays = world_.Chance(0.5);  // owners 0 and 2 are icbc's
    c.payer_wallet = owners_[a_pays ? 0 : 2].first;
    c.payee_wallet = owners_[a_pays ? 2 : 0].first;
    c.amount = world_.Uniform(kContractMinFen, kContractMaxFen);
    c.expires_ms = world_.clock().NowUnixMillis() +
                   world_.Uniform(kContractLifeMinMs, kContractLifeMaxMs);
    contracts_.push_back(std::move(c));
    world_.Count("dcep-contracts");
    SendCreate(contracts_.back(), false);
  }

  // A client's call: sent twice at times, its answer lost at times (counted under `lost`), both
  // outside healing only. The answer, or kUnavailable when it was lost.
  template <typename Call>
  auto SendCall(bool heal, const std::string& what, const char* lost, Call call) -> decltype(call()) {
    const int sends = !heal && options_.faults && world_.Chance(0.1) ? 2 : 1;
    auto answer = call();
    for (int i = 1; i < sends; ++i) answer = call();
    world_.Trace("dcep " + what + ": " +
                 (answer.ok() ? std::string("ok")
                              : std::string(ErrorCodeName(answer.status().code()))));
    if (!heal && options_.faults && world_.Chance(0.15)) {
      world_.Count(lost);
      return Unavailable("answer lost");
    }
    return answer;
  }

  void SendCreate(SimContract& c, bool heal) {
    Result<dcep::Operator*> op = network_->operator_of(kContractOperator);
    if (!op.ok()) return;
    const nlohmann::json terms = {{"template", "escrow"},
                                  {"payer_wallet", c.payer_wallet},
                                  {"payee_wallet", c.payee_wallet},
                                  {"amount_fen", c.amount},
                                  {"expires_unix_ms", c.expires_ms}};
    const Result<dcep::ContractOutcome> answer =
        SendCall(heal, "contract create " + c.create_key, "dcep-contract-answers-lost", [&] {
          return (*op)->contracts().Create(terms.dump(), c.create_key);
        });
    c.last_answer = answer.ok() ? answer->entry.status : answer.status().ToString();
    if (!answer.ok() && OutcomeUnknown(answer.status())) return;
    const bool locked = answer.ok() && answer->entry.status == "posted";
    const SimContract::Known now = locked ? SimContract::Known::kPosted : SimContract::Known::kRefused;
    if (c.created != SimContract::Known::kNothing &&
        (c.created != now || (locked && answer->contract.contract_id != c.contract_id))) {
      online_changed_.push_back(c.create_key + ": first " + c.contract_id + ", now " + c.last_answer);
    }
    if (c.created != SimContract::Known::kNothing) return;
    c.created = now;
    if (locked) c.contract_id = answer->contract.contract_id;
    if (!locked) world_.Count("dcep-contracts-refused");
  }

  void SendClose(SimContract& c, bool heal) {
    Result<dcep::Operator*> op = network_->operator_of(kContractOperator);
    if (!op.ok()) return;
    const Result<dcep::ContractOutcome> answer =
        SendCall(heal, "contract close " + c.close_key, "dcep-contract-answers-lost", [&] {
          dcep::ContractBook& book = (*op)->contracts();
          return c.confirm ? book.Confirm(c.contract_id, c.payer_wallet, c.close_key)
                           : book.Cancel(c.contract_id, c.payee_wallet, c.close_key);
        });
    c.last_answer = answer.ok() ? answer->entry.status : answer.status().ToString();
    if (!answer.ok() && OutcomeUnknown(answer.status())) return;
    const bool posted = answer.ok() && answer->entry.status == "posted";
    const SimContract::Known now = posted ? SimContract::Known::kPosted : SimContract::Known::kRefused;
    if (c.closed != SimContract::Known::kNothing && c.closed != now) {
      online_changed_.push_back(c.close_key + ": first outcome changed, now " + c.last_answer);
    }
    if (c.closed != SimContract::Known::kNothing) return;
    c.closed = now;
    world_.Count(std::string("dcep-contracts-") +
                 (!posted ? "close-refused" : c.confirm ? "confirmed" : "cancelled"));
  }

  // Every contract call has a final answer once healed; each contract's progress matches the
  // answers (a confirmed one released all, a cancelled one refunded all, none more than it
  // locked); the wallets' expected balances take its moves.
  void CheckContracts(std::vector<Violation>& out) {
    Result<dcep::Operator*> op = network_->operator_of(kContractOperator);
    for (const SimContract& c : contracts_) {
      if (c.created == SimContract::Known::kNothing ||
          (!c.close_key.empty() && c.closed == SimContract::Known::kNothing)) {
        out.push_back({"dcep-online-answered", c.create_key + ": still " + c.last_answer, 0});
        continue;
      }
      if (c.created != SimContract::Known::kPosted) continue;
      Result<dcep::Contract> got = op.ok() ? (*op)->contracts().Get(c.contract_id) : op.status();
      if (!got.ok()) {
        out.push_back({"dcep-contract-agrees", c.contract_id + ": " + got.status().ToString(), 0});
        continue;
      }
      const dcep::ContractProgress& p = got->progress;
      const std::string detail = c.contract_id + " (" + std::to_string(c.amount) + " fen): released " +
                                 std::to_string(p.released_fen) + ", refunded " +
                                 std::to_string(p.refunded_fen) + ", state " + got->state;
      const bool closed_by_answer = c.closed == SimContract::Known::kPosted;
      const bool agrees =
          p.released_fen + p.refunded_fen + got->locked_fen == c.amount &&
          (got->state == "closed") == (got->locked_fen == 0) &&
          (!closed_by_answer || (c.confirm ? p.released_fen == c.amount : p.refunded_fen == c.amount));
      if (!agrees) out.push_back({"dcep-contract-agrees", detail, 0});
      expected_fen_[c.payer_wallet] -= c.amount - p.refunded_fen;
      expected_fen_[c.payee_wallet] += p.released_fen;
    }
  }

  // After healing, every online payment has an answer; each wallet holds what the answers say;
  // its history (the journal's per-wallet chain, paged) lists each posted payment it paid, or
  // received within its operator, exactly once, newest first.
  void CheckOnline(std::vector<Violation>& out) {
    for (const std::string& change : online_changed_) {
      out.push_back({"dcep-online-first-outcome", change, 0});
    }
    std::map<std::string, std::set<std::string>> paid_orders;  // merchant|order → entry ids
    for (const OnlinePayment& p : online_) {
      if (p.known == OnlinePayment::Known::kNothing) {
        out.push_back({"dcep-online-answered", p.key + ": still " + p.last_answer, 0});
      }
      if (p.known == OnlinePayment::Known::kPosted && !p.order_id.empty()) {
        paid_orders[p.merchant_id + "|" + p.order_id].insert(p.entry_id);
      }
    }
    for (const auto& [order, entries] : paid_orders) {
      if (entries.size() > 1) {
        out.push_back({"dcep-order-paid-once",
                       order + " paid by " + std::to_string(entries.size()) + " entries", 0});
      }
    }
    for (const auto& [wallet, op_id] : owners_) {
      Result<dcep::Operator*> op = network_->operator_of(op_id);
      Result<dcep::WalletInfo> info = op.ok() ? (*op)->Wallet(wallet) : op.status();
      if (!info.ok()) {
        out.push_back({"dcep-online-balance", wallet + ": " + info.status().ToString(), 0});
        continue;
      }
      if (info->balance_fen != expected_fen_[wallet]) {
        out.push_back({"dcep-online-balance",
                       wallet + " holds " + std::to_string(info->balance_fen) +
                           " fen, its payments' answers say " +
                           std::to_string(expected_fen_[wallet]),
                       0});
      }
      std::map<std::string, int> listed;  // entry id → times in the history
      std::int64_t before = 0;
      std::int64_t last_seq = std::numeric_limits<std::int64_t>::max();
      for (;;) {
        Result<dcep::HistoryPage> page = (*op)->History(wallet, before, kHistoryPageRows);
        if (!page.ok()) {
          out.push_back({"dcep-history-agrees", wallet + ": " + page.status().ToString(), 0});
          break;
        }
        for (const dcep::Entry& e : page->entries) {
          if (e.seq >= last_seq) {
            out.push_back({"dcep-history-agrees",
                           wallet + ": seq " + std::to_string(e.seq) + " after " +
                               std::to_string(last_seq),
                           0});
          }
          last_seq = e.seq;
          ++listed[e.entry_id];
        }
        if (page->next_before == 0) break;
        before = page->next_before;
      }
      for (const OnlinePayment& p : online_) {
        if (p.known != OnlinePayment::Known::kPosted) continue;
        const bool mine = p.payer_wallet == wallet ||
                          (p.payee_wallet == wallet && p.payee_op == p.payer_op);
        if (mine && listed[p.entry_id] != 1) {
          out.push_back({"dcep-history-agrees",
                         wallet + ": " + p.key + " (entry " + p.entry_id + ") listed " +
                             std::to_string(listed[p.entry_id]) + " times",
                         0});
        }
      }
    }
  }

  // READ LOG, upload, SYNC. Outside healing the seed may lose the answer (the watch keeps its
  // records and sends them again later) or send the upload twice.
  Status Upload(Watch& w, bool heal) {
    TS_ASSIGN_OR_RETURN(const Bytes log, w.app->ReadLog());
    TS_ASSIGN_OR_RETURN(dcep::HardwareWallets * hw, network_->hardware_wallets(w.op));
    const int sends = !heal && options_.faults && world_.Chance(0.1) ? 2 : 1;
    Result<dcep::UploadResult> result = InvalidArgument("not sent");
    for (int i = 0; i < sends; ++i) {
      result = hw->Upload(w.id, log);
      if (!result.ok()) {
        // A revoked clone's upload, say: refused as a whole, nothing recorded.
        world_.Trace("dcep upload " + w.label + ": " +
                     std::string(ErrorCodeName(result.status().code())));
        return Status::Ok();
      }
      for (const dcep::UploadedRecord& r : result->records) {
        const std::string key = r.payer_device_id + "#" + std::to_string(r.payer_counter);
        world_.Trace("dcep upload " + w.label + " " + key + "->" + r.payee_device_id + " " +
                     std::to_string(r.amount_fen) + ": " +
                     std::string(dcep::RecordOutcomeName(r.outcome)));
        world_.Count("dcep-records-" + std::string(dcep::RecordOutcomeName(r.outcome)));
        if (r.outcome == dcep::RecordOutcome::kSettled) ++settled_[key];
      }
    }
    if (!heal && options_.faults && world_.Chance(0.15)) {
      world_.Count("dcep-answers-lost");
      world_.Trace("dcep upload answer to " + w.label + " lost");
      return Status::Ok();
    }
    const Status synced = w.app->Sync(result->sync_ack);
    if (!synced.ok())
      world_.Trace("dcep sync " + w.label + ": " + std::string(ErrorCodeName(synced.code())));
    return Status::Ok();
  }

  SimWorld& world_;
  const std::filesystem::path dir_;
  const DcepPartOptions options_;
  SeededRandom network_random_;  // wallet ids
  LossyPeers peers_;
  std::unique_ptr<dcep::DcepNetwork> network_;
  std::vector<std::unique_ptr<Watch>> watches_;  // a, b, c, then the clone if any
  std::map<std::string, int> settled_;           // "payer#counter" → uploads answered kSettled
  std::vector<std::pair<std::string, std::string>> owners_;  // the watches' owners: wallet, operator
  std::vector<OnlinePayment> online_;
  std::map<std::string, std::int64_t> expected_fen_;  // wallet → balance its answers say
  std::vector<SimContract> contracts_;
  std::vector<std::string> online_changed_;  // retries (payments, contracts) that answered another outcome
  std::string disk_role_;                        // what the failing disk is under (kDiskRoles)
  std::shared_ptr<DiskFault> disk_ = std::make_shared<DiskFault>();
  // Set by the disk's hook when it failed the open network's store.
  std::shared_ptr<std::atomic<bool>> disk_failed_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace

Status RunDcepPart(SimWorld& world, const std::filesystem::path& dir,
                   const DcepPartOptions& options, std::vector<Violation>& violations) {
  if (options.payments < 1) return InvalidArgument("dcep payments: expected at least 1");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("sim: cannot create " + dir.string() + ": " + ec.message());
  Part part(world, dir, options);
  TS_RETURN_IF_ERROR(part.SetUp().WithContext("dcep set-up"));
  TS_RETURN_IF_ERROR(part.Drive().WithContext("dcep"));
  TS_RETURN_IF_ERROR(part.Heal().WithContext("dcep heal"));
  part.Check(violations);
  return Status::Ok();
}

}  // namespace tapstack::sim

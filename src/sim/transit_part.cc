#include "sim/transit_part.h"

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/bytes.h"
#include "core/hex.h"
#include "demo/demo_keys.h"
#include "device/secure_element.h"
#include "transit/transit_operator.h"
#include "transit/validator.h"

namespace tapstack::sim {
namespace {

using transit::LoadOrderState;
using transit::ValidatorKind;

constexpr char kHomeCity[] = "1000";     // Beijing: every gate is here
constexpr char kVisitorCity[] = "2000";  // Shanghai: one card, cleared through the exchange
constexpr std::uint32_t kFirstTopUpFen = 3'000;
constexpr std::uint32_t kTopUpFen = 2'000;        // within both cities' top-up bounds
constexpr std::uint32_t kLowBalanceFen = 1'500;   // below this a rider tops up before riding
constexpr std::int64_t kStepMinutesMax = 20;      // between steps; a ride stays under the 240 limit
constexpr int kUploadRoundsMax = 20;              // healing: uploads per gate at most
constexpr std::int64_t kMinuteMs = 60'000;

// Beijing's gates: (id, kind, line, station). Metro stations of seed/transit_cities.json.
struct GateSpec {
  const char* id;
  ValidatorKind kind;
  std::uint16_t line;
  std::uint16_t station;
};
constexpr std::array<GateSpec, 6> kGates = {{{"bj-101-in", ValidatorKind::kMetroEntry, 1, 101},
                                             {"bj-403-in", ValidatorKind::kMetroEntry, 2, 403},
                                             {"bj-106-out", ValidatorKind::kMetroExit, 1, 106},
                                             {"bj-201-out", ValidatorKind::kMetroExit, 2, 201},
                                             {"bj-404-out", ValidatorKind::kMetroExit, 4, 404},
                                             {"bj-bus-300", ValidatorKind::kBus, 300, 0}}};

struct PhoneSpec {
  const char* device;
  const char* city;
};
constexpr std::array<PhoneSpec, 3> kPhones = {{{"phone-1", kHomeCity}, {"phone-2", kHomeCity}, {"phone-3", kVisitorCity}}};

transit::TransitMasterKeys Keys(const transit::CityNetwork& city) {
  return {demo::DemoTransitKey("t-union", "purchase"), demo::DemoTransitKey("t-union", "maintenance"),
          demo::DemoTransitKey(city.city_code(), "load"), demo::DemoTransitKey(city.city_code(), "tac")};
}

// The operators' top-up payments: approves every order and counts what the load servers did.
class SimPayment final : public transit::TopUpPayment {
 public:
  Result<std::string> Authorize(std::string_view order_id, std::uint32_t, const nlohmann::json&) override {
    return "pay-" + std::string(order_id);
  }
  Status Capture(std::string_view ref) override {
    captures[std::string(ref)]++;
    return Status::Ok();
  }
  Status Reverse(std::string_view ref) override {
    reversals[std::string(ref)]++;
    return Status::Ok();
  }
  std::map<std::string, int> captures, reversals;  // by payment reference
};

struct Phone {
  std::unique_ptr<device::SecureElement> se;
  std::string city;
  std::string card_id;
  std::string serial;
  bool inside = false;          // entered the metro, not yet out
  std::int64_t loaded_fen = 0;  // loads the card took (the sim's truth)
  std::int64_t charged_fen = 0; // fares the gates said they charged at completed taps
  int taps = 0;                 // completed taps (one record each)
  std::optional<std::uint32_t> balance_after_last_tap;
  std::vector<std::string> orders;
};

struct Gate {
  GateSpec spec;
  std::unique_ptr<transit::Validator> validator;
  std::uint8_t psam_byte = 0;  // the last byte of its PSAM's number: one PSAM per gate
};

class Part {
 public:
  Part(SimWorld& world, std::filesystem::path dir, TransitPartOptions options)
      : world_(world), dir_(std::move(dir)), options_(options) {}

  Status SetUp() {
    TS_RETURN_IF_ERROR(OpenBackOffice());
    for (const PhoneSpec& spec : kPhones) {
      device::SecureElementOptions o;
      o.data_dir = dir_ / "phones";
      o.device_id = spec.device;
      o.clock = &world_.clock();
      Phone phone;
      TS_ASSIGN_OR_RETURN(phone.se, device::SecureElement::Open(std::move(o)));
      phone.city = spec.city;
      phone.card_id = std::string("card-") + spec.device;
      TS_ASSIGN_OR_RETURN(transit::TransitOperator * op, network_->Operator(phone.city));
      transit::CardRequest request{phone.card_id, std::string("acct-") + spec.device, spec.device,
                                   phone.se->public_key(), {}};
      TS_ASSIGN_OR_RETURN(transit::IssuedCard issued, op->registry().IssueCard(request));
      TS_RETURN_IF_ERROR(phone.se->InstallTransitCard(phone.card_id, issued.wrapped_profile));
      phone.serial = issued.serial;
      phones_.push_back(std::move(phone));
    }
    gates_.reserve(kGates.size());
    for (const GateSpec& spec : kGates) {
      gates_.push_back(Gate{spec, nullptr, static_cast<std::uint8_t>(gates_.size() + 1)});
      TS_RETURN_IF_ERROR(OpenGate(gates_.back()));
    }
    for (Phone& p : phones_) TS_RETURN_IF_ERROR(TopUp(p, kFirstTopUpFen, /*lose_credit_answer=*/false));
    return Status::Ok();
  }

  Status Drive() {
    for (int step = 0; step < options_.taps; ++step) {
      world_.clock().AdvanceMillis(world_.Uniform(1, kStepMinutesMax) * kMinuteMs);
      const std::int64_t roll = world_.Uniform(1, 100);
      if (options_.faults && roll <= 6) {
        world_.Trace("transit back office closed and reopened");
        world_.Count("transit-restarts");
        network_.reset();
        TS_RETURN_IF_ERROR(OpenBackOffice());
        continue;
      }
      if (options_.faults && roll <= 12) {
        Gate& gate = gates_[static_cast<std::size_t>(world_.Uniform(0, kGates.size() - 1))];
        world_.Trace(std::string("transit gate ") + gate.spec.id + " restarted");
        world_.Count("transit-gate-restarts");
        gate.validator.reset();
        TS_RETURN_IF_ERROR(OpenGate(gate));
        continue;
      }
      if (roll <= 30) {
        TS_RETURN_IF_ERROR(Upload(gates_[static_cast<std::size_t>(world_.Uniform(0, kGates.size() - 1))]));
        continue;
      }
      Phone& phone = phones_[static_cast<std::size_t>(world_.Uniform(0, kPhones.size() - 1))];
      if (!phone.inside && (phone.loaded_fen - phone.charged_fen < kLowBalanceFen || roll <= 36)) {
        TS_RETURN_IF_ERROR(TopUp(phone, kTopUpFen, options_.faults && world_.Chance(0.3)));
        continue;
      }
      Tap(phone);
    }
    return Status::Ok();
  }

  Status Heal() {
    for (Phone& p : phones_) {
      if (p.inside) Tap(p);  // out of the metro before the checks
    }
    for (int round = 0; round < kUploadRoundsMax; ++round) {
      TS_RETURN_IF_ERROR(network_->RetryForwarding());
      bool left = false;
      for (Gate& g : gates_) {
        TS_RETURN_IF_ERROR(Upload(g, /*faults=*/false));
        left = left || g.validator->PendingRecords() > 0;
      }
      if (!left) return Status::Ok();
    }
    return Internal("transit gates still hold records after " + std::to_string(kUploadRoundsMax) + " upload rounds");
  }

  void Check(std::vector<Violation>& violations) {
    auto violate = [&](const char* invariant, const std::string& detail) {
      violations.push_back({invariant, detail, 0});
    };
    std::map<std::string, std::int64_t> taps_by_city;   // completed taps of each city's cards
    std::int64_t visitor_fares = 0;
    std::int64_t all_taps = 0;
    for (Phone& p : phones_) {
      all_taps += p.taps;
      taps_by_city[p.city] += p.taps;
      if (p.city == kVisitorCity) visitor_fares += p.charged_fen;
      auto balance = Balance(p);
      if (!balance.ok()) {
        violate("transit-purse-agrees", p.card_id + ": balance unreadable: " + balance.status().ToString());
        continue;
      }
      if (static_cast<std::int64_t>(*balance) != p.loaded_fen - p.charged_fen) {
        violate("transit-purse-agrees", p.card_id + " holds " + std::to_string(*balance) + " fen; its loads (" +
                                            std::to_string(p.loaded_fen) + ") less the fares its gates charged (" +
                                            std::to_string(p.charged_fen) + ") make " +
                                            std::to_string(p.loaded_fen - p.charged_fen));
      }
      auto op = network_->Operator(p.city);
      if (!op.ok()) continue;
      auto last = (*op)->clearing().LastClearedBalance(p.serial);
      if (!last.ok() || *last != p.balance_after_last_tap) {
        violate("transit-cleared-once",
                p.card_id + ": the clearing's balance after its last record is " +
                    (last.ok() && last->has_value() ? std::to_string(**last) : std::string("none")) +
                    ", the card had " +
                    (p.balance_after_last_tap ? std::to_string(*p.balance_after_last_tap) : std::string("none")));
      }
    }
    // Beijing's clearing accepted every record of its gates (its own cards and the visitor's the
    // exchange accepted); Shanghai's accepted the visitor's, as the card's issuer.
    const std::map<std::string, std::int64_t> expected = {{kHomeCity, all_taps}, {kVisitorCity, taps_by_city[kVisitorCity]}};
    for (const auto& [city, n] : expected) {
      auto op = network_->Operator(city);
      auto cleared = op.ok() ? (*op)->clearing().ClearedRecords() : Result<std::int64_t>(op.status());
      if (!cleared.ok() || *cleared != n) {
        violate("transit-cleared-once", "city " + city + " cleared " +
                                            (cleared.ok() ? std::to_string(*cleared) : cleared.status().ToString()) +
                                            " records; its gates and cards made " + std::to_string(n));
      }
      auto anomalies = op.ok() ? (*op)->clearing().Anomalies() : Result<std::vector<transit::Anomaly>>(op.status());
      if (!anomalies.ok()) {
        violate("transit-no-anomaly", "city " + city + ": " + anomalies.status().ToString());
      } else {
        for (const transit::Anomaly& a : *anomalies) {
          violate("transit-no-anomaly", "city " + city + " reported " + a.kind + " for card " + a.card_serial + ": " + a.detail);
        }
      }
    }
    const std::int64_t owed_to_home = Position(kHomeCity, kVisitorCity, true);
    const std::int64_t owed_by_visitor = Position(kVisitorCity, kHomeCity, false);
    if (owed_to_home != visitor_fares || owed_by_visitor != visitor_fares) {
      violate("transit-positions", "Beijing is owed " + std::to_string(owed_to_home) + " fen by Shanghai, which owes " +
                                       std::to_string(owed_by_visitor) + "; the visitor's card paid " +
                                       std::to_string(visitor_fares) + " at Beijing's gates");
    }
    for (const Phone& p : phones_) {
      auto op = network_->Operator(p.city);
      if (!op.ok()) continue;
      for (const std::string& id : p.orders) {
        auto order = (*op)->load_server().Order(id);
        if (!order.ok()) {
          violate("transit-loads-once", "order " + id + ": " + order.status().ToString());
          continue;
        }
        const int captures = payment_.captures[order->payment_ref];
        const bool loaded = order->state == LoadOrderState::kLoaded;
        if (captures != (loaded ? 1 : 0)) {
          violate("transit-loads-once", "order " + id + " is " + std::string(LoadOrderStateName(order->state)) +
                                            " and was captured " + std::to_string(captures) + " time(s)");
        }
      }
    }
  }

 private:
  Status OpenBackOffice() {
    transit::TransitNetworkOptions o;
    o.keys = Keys;
    o.payment = &payment_;
    o.clock = &world_.clock();
    o.data_dir = dir_ / "operators";
    TS_ASSIGN_OR_RETURN(network_, transit::TransitNetwork::Open(std::move(o)));
    return Status::Ok();
  }

  Status OpenGate(Gate& gate) {
    TS_ASSIGN_OR_RETURN(transit::TransitOperator * home, network_->Operator(kHomeCity));
    transit::ValidatorOptions o;
    o.validator_id = gate.spec.id;
    o.kind = gate.spec.kind;
    o.city = std::make_shared<transit::CityNetwork>(home->city());
    o.line = gate.spec.line;
    o.station = gate.spec.station;
    o.data_dir = dir_ / "gates";
    o.psam.number = {0x10, 0x00, 0x00, 0x00, 0x00, gate.psam_byte};
    o.psam.purchase_master_key = demo::DemoTransitKey("t-union", "purchase");
    o.psam.maintenance_master_key = demo::DemoTransitKey("t-union", "maintenance");
    o.clock = &world_.clock();
    TS_ASSIGN_OR_RETURN(gate.validator, transit::Validator::Open(std::move(o)));
    return Status::Ok();
  }

  transit::PurseCommands Wallet(Phone& p) {
    device::SecureElement* se = p.se.get();
    return transit::PurseCommands([se, id = p.card_id](ByteView apdu) { return se->TransmitToTransitCard(id, apdu); });
  }

  Result<std::uint32_t> Balance(Phone& p) {
    transit::PurseCommands wallet = Wallet(p);
    TS_RETURN_IF_ERROR(wallet.Select());
    return wallet.GetBalance();
  }

  // A top-up as the wallet app makes it. With `lose_credit_answer`, the card takes the load but
  // its answer (the TAC) is lost: the wallet reads the card's log and the load server reconciles.
  Status TopUp(Phone& p, std::uint32_t amount, bool lose_credit_answer) {
    TS_ASSIGN_OR_RETURN(transit::TransitOperator * op, network_->Operator(p.city));
    transit::LoadServer& server = op->load_server();
    const std::string order_id = p.card_id + "-load-" + std::to_string(p.orders.size() + 1);
    p.orders.push_back(order_id);
    TS_RETURN_IF_ERROR(server.CreateOrder(order_id, p.serial, amount, {{"token", "sim"}}).status());
    transit::PurseCommands wallet = Wallet(p);
    TS_RETURN_IF_ERROR(wallet.Select());
    TS_ASSIGN_OR_RETURN(transit::LoadInit init, wallet.InitializeForLoad(amount, server.terminal_id()));
    // The card's 16-byte answer as the wallet forwards it (load_server.h AuthorizeLoad).
    Bytes answer = UintToBytes(init.balance_fen, 4);
    const Bytes counter = UintToBytes(init.online_counter, 2);
    answer.insert(answer.end(), counter.begin(), counter.end());
    answer.push_back(init.key_version);
    answer.push_back(crypto::PurseAlgorithmId(init.algorithm));
    answer.insert(answer.end(), init.card_random.begin(), init.card_random.end());
    answer.insert(answer.end(), init.mac1.begin(), init.mac1.end());
    TS_ASSIGN_OR_RETURN(transit::LoadAuthorization auth, server.AuthorizeLoad(order_id, answer));
    TS_ASSIGN_OR_RETURN(crypto::PurseMac tac, wallet.CreditForLoad(auth.date, auth.time, auth.mac2));
    p.loaded_fen += amount;
    world_.Count("transit-loads");
    if (!lose_credit_answer) {
      world_.Trace("transit " + p.card_id + " loaded " + std::to_string(amount) + " fen (" + order_id + ")");
      return server.ConfirmLoad(order_id, tac).status();
    }
    world_.Trace("transit " + p.card_id + " loaded " + std::to_string(amount) + " fen (" + order_id +
                 "), the card's answer lost: reconciled from its log");
    world_.Count("transit-loads-reconciled");
    std::vector<transit::PurseLogRecord> log;
    for (std::uint8_t i = 1; i <= 10; ++i) {
      auto record = wallet.ReadLogRecord(i);
      if (!record.ok()) break;  // kNotFound past the last record
      log.push_back(*record);
    }
    return server.ReconcileFromCardLog(p.serial, log).status();
  }

  // One tap: the next gate for this rider (an exit when inside, else an entry or the bus). With
  // faults, the DEBIT's answer may be lost (the card paid) or the DEBIT may never arrive; the
  // rider then taps again at the same gate.
  void Tap(Phone& p) {
    std::vector<std::size_t> candidates;
    for (std::size_t i = 0; i < gates_.size(); ++i) {
      const ValidatorKind k = gates_[i].spec.kind;
      if (p.inside ? k == ValidatorKind::kMetroExit : k != ValidatorKind::kMetroExit) candidates.push_back(i);
    }
    Gate& gate = gates_[candidates[static_cast<std::size_t>(world_.Uniform(0, static_cast<std::int64_t>(candidates.size()) - 1))]];
    device::SecureElement* se = p.se.get();
    enum class Fault { kNone, kAnswerLost, kNeverArrived } fault = Fault::kNone;
    if (options_.faults) {
      const std::int64_t roll = world_.Uniform(1, 100);
      fault = roll <= 10 ? Fault::kAnswerLost : roll <= 15 ? Fault::kNeverArrived : Fault::kNone;
    }
    const auto is_debit = [](ByteView apdu) { return apdu.size() > 1 && apdu[0] == 0x80 && apdu[1] == 0x54; };
    transit::Transmit field = [se, fault, is_debit](ByteView apdu) {
      if (fault == Fault::kNeverArrived && is_debit(apdu)) return Bytes{};
      Bytes answer = se->Transmit(apdu);
      if (fault == Fault::kAnswerLost && is_debit(apdu)) return Bytes{};
      return answer;
    };
    transit::TapResult result = gate.validator->Tap(field);
    if (!result.open && fault != Fault::kNone) {
      world_.Count(fault == Fault::kAnswerLost ? "transit-torn-taps" : "transit-debits-lost");
      world_.Trace("transit " + p.card_id + " at " + gate.spec.id + ": " +
                   (fault == Fault::kAnswerLost ? "the DEBIT's answer lost" : "the DEBIT lost") + ", tapping again");
      result = gate.validator->Tap([se](ByteView apdu) { return se->Transmit(apdu); });
    }
    world_.Trace("transit " + p.card_id + " at " + gate.spec.id + ": " +
                 (result.open ? "open, fare " + std::to_string(result.fare_fen) + (result.recovered ? " (recovered)" : "")
                              : "closed: " + result.reason));
    if (!result.open) return;
    world_.Count("transit-taps");
    p.taps++;
    p.charged_fen += result.fare_fen;
    p.balance_after_last_tap = result.balance_fen;
    if (gate.spec.kind == ValidatorKind::kMetroEntry) p.inside = true;
    if (gate.spec.kind == ValidatorKind::kMetroExit) p.inside = false;
  }

  Status Upload(Gate& gate, bool faults = true) {
    TS_ASSIGN_OR_RETURN(transit::UploadBatch batch, gate.validator->NextUploadBatch());
    if (batch.empty()) return Status::Ok();
    if (options_.corrupt_lost_batch && !corrupted_) {
      corrupted_ = true;
      return gate.validator->AcknowledgeUpload(batch.batch_id);  // never reached clearing
    }
    const nlohmann::json body = transit::UploadBatchToJson(batch, gate.validator->id());
    TS_ASSIGN_OR_RETURN(transit::UploadResult result, network_->IngestUpload(kHomeCity, body));
    world_.Count("transit-uploads");
    if (faults && options_.faults && world_.Chance(0.15)) {
      world_.Count("transit-uploads-repeated");
      TS_ASSIGN_OR_RETURN(result, network_->IngestUpload(kHomeCity, body));
    }
    if (faults && options_.faults && world_.Chance(0.2)) {
      world_.Trace("transit upload " + batch.batch_id + " of " + gate.spec.id + ": the answer lost");
      world_.Count("transit-upload-answers-lost");
      return Status::Ok();  // the gate sends the same batch again later
    }
    world_.Trace("transit upload " + batch.batch_id + " of " + gate.spec.id + ": " + std::to_string(result.accepted) +
                 " accepted, " + std::to_string(result.duplicates) + " duplicates, " +
                 std::to_string(result.rejected) + " rejected");
    // A record rejected for now (the visitor's issuer unreachable) is not stored by clearing:
    // the gate keeps its batch and uploads it again.
    for (const std::string& r : result.rejections) {
      if (r.find("unreachable") != std::string::npos) return Status::Ok();
    }
    return gate.validator->AcknowledgeUpload(batch.batch_id);
  }

  // `city`'s settlement position against `counterparty`: owed to it, or owed by it.
  std::int64_t Position(const std::string& city, const std::string& counterparty, bool owed_to_us) {
    auto op = network_->Operator(city);
    if (!op.ok()) return -1;
    auto positions = (*op)->clearing().Positions();
    if (!positions.ok()) return -1;
    for (const transit::SettlementPosition& p : *positions) {
      if (p.counterparty_city == counterparty) return owed_to_us ? p.owed_to_us_fen : p.owed_by_us_fen;
    }
    return 0;
  }

  SimWorld& world_;
  std::filesystem::path dir_;
  TransitPartOptions options_;
  SimPayment payment_;
  std::unique_ptr<transit::TransitNetwork> network_;
  std::vector<Phone> phones_;
  std::vector<Gate> gates_;
  bool corrupted_ = false;
};

}  // namespace

Status RunTransitPart(SimWorld& world, const std::filesystem::path& dir, const TransitPartOptions& options,
                      std::vector<Violation>& violations) {
  if (options.taps < 1) return InvalidArgument("transit taps: expected at least 1");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("sim: cannot create " + dir.string() + ": " + ec.message());
  Part part(world, dir, options);
  TS_RETURN_IF_ERROR(part.SetUp().WithContext("transit set-up"));
  TS_RETURN_IF_ERROR(part.Drive().WithContext("transit"));
  TS_RETURN_IF_ERROR(part.Heal().WithContext("transit heal"));
  part.Check(violations);
  return Status::Ok();
}

}  // namespace tapstack::sim

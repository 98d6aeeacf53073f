// CardRun: the seed's workload and fault plan (card_run.h).
#include "sim/card_run.h"

namespace tapstack::sim::card {

void CardRun::Plan() {
  std::int64_t at = 0;
  txns_.resize(static_cast<std::size_t>(options_.transactions));
  for (std::size_t i = 0; i < txns_.size(); ++i) {
    Txn& t = txns_[i];
    at += world_.Uniform(1, 2 * kTransactionSpacingMs);
    t.start_ms = at;
    t.terminal = static_cast<int>(world_.Uniform(0, static_cast<std::int64_t>(terminals_.size()) - 1));
    const std::int64_t roll = world_.Uniform(0, 99);
    t.kind = roll < 35 ? Kind::kAuthorization : roll < 70 ? Kind::kPurchase : Kind::kTokenTap;
    if (t.kind == Kind::kTokenTap) {
      t.facts.phone = static_cast<int>(world_.Uniform(0, kPhones - 1));
      t.card = phones_[static_cast<std::size_t>(t.facts.phone)].card;
    } else {
      t.card = static_cast<int>(world_.Uniform(0, static_cast<std::int64_t>(cards_.size()) - 1));
    }
    t.facts.amount_minor = world_.Uniform(kAmountMinMinor, kAmountMaxMinor);
    t.repeat = world_.Chance(0.15);
    t.repeat_after_ms = world_.Uniform(kTerminalTimeoutMs / 4, kTerminalTimeoutMs * 3 / 4);
    At(t.start_ms, "start|" + Digits(i, 6), [this, i] { Start(i); });
  }
  heal_ms_ = at + kHealAfterLastStartMs;
  At(heal_ms_, "heal", [this] { Heal(); });
  At(kAdviceRetryIntervalMs, "advice-tick", [this] { AdviceTick(); });

  if (!options_.link_faults) {
    world_.faults().drop_request = world_.faults().drop_response = 0;
    world_.faults().duplicate_request = world_.faults().slow = 0;
  }
  auto fault = [this](const std::string& text) {
    result_.faults.push_back(text);
  };
  if (options_.link_outages) {
    for (std::size_t h = 0; h < issuer_links_.size(); ++h) {
      if (!world_.Chance(0.3)) continue;
      const std::int64_t from = world_.Uniform(0, at);
      const std::int64_t to = from + world_.Uniform(100, 3'000);
      fault("link " + issuer_links_[h]->name() + " down t=" + std::to_string(from) + ".." + std::to_string(to));
      At(from, "outage|" + issuer_links_[h]->name(), [this, h] {
        world_.Count("link-outages");
        issuer_links_[h]->set_up(false);
      });
      At(to, "outage-end|" + issuer_links_[h]->name(), [this, h] {
        issuer_links_[h]->set_up(true);
        IssuerReady(h);
      });
    }
    if (world_.Chance(0.15)) {
      const std::size_t k = static_cast<std::size_t>(world_.Uniform(0, static_cast<std::int64_t>(terminals_.size()) - 1));
      const std::int64_t from = world_.Uniform(0, at);
      const std::int64_t to = from + world_.Uniform(100, 2'000);
      fault("link " + terminals_[k].link->name() + " down t=" + std::to_string(from) + ".." + std::to_string(to));
      At(from, "outage|" + terminals_[k].link->name(), [this, k] {
        world_.Count("link-outages");
        terminals_[k].link->set_up(false);
      });
      At(to, "outage-end|" + terminals_[k].link->name(), [this, k] { terminals_[k].link->set_up(true); });
    }
  }
  const bool issuer_crash = options_.force_issuer_crash || (options_.crashes && world_.Chance(0.3));
  if (issuer_crash) {
    const std::size_t h = static_cast<std::size_t>(world_.Uniform(0, static_cast<std::int64_t>(hosts_.size()) - 1));
    const std::int64_t when = world_.Uniform(1, at);
    const std::int64_t back = when + world_.Uniform(200, 3'000);
    fault(std::string(Hosts()[h].node) + " crash t=" + std::to_string(when) + " restart t=" + std::to_string(back));
    At(when, std::string("crash|") + Hosts()[h].node, [this, h] { CrashIssuer(h); });
    At(back, std::string("restart|") + Hosts()[h].node, [this, h] { RestartIssuer(h); });
  }
  const bool switch_crash = options_.force_switch_crash || (options_.crashes && world_.Chance(0.2));
  if (switch_crash) {
    const std::int64_t when = world_.Uniform(1, at);
    const std::int64_t back = when + world_.Uniform(200, 3'000);
    fault("switch crash t=" + std::to_string(when) + " restart t=" + std::to_string(back));
    At(when, "crash|switch", [this] { CrashSwitch(); });
    At(back, "restart|switch", [this] { RestartSwitch(); });
  }
  const bool suspension = options_.force_suspension || (options_.suspensions && world_.Chance(0.3));
  if (suspension) {
    const int p = static_cast<int>(world_.Uniform(0, kPhones - 1));
    const std::int64_t when = world_.Uniform(1, at);
    fault("phone " + std::to_string(p) + " token suspended t=" + std::to_string(when));
    At(when, "suspend|" + std::to_string(p), [this, p] {
      if (!tsp_) {  // restarting after its disk failed: the wallet's call fails
        world_.Trace("wallet>tsp suspend phone=" + std::to_string(p) + " failed (tsp down)");
        return;
      }
      auto view = tsp_->service().Suspend(demo_.tsp.requestors.at(0).id, phones_[static_cast<std::size_t>(p)].token_id,
                                          "lost phone");
      world_.Trace("wallet>tsp suspend phone=" + std::to_string(p) + (view.ok() ? " ok" : " failed"));
      if (view.ok()) {
        facts_.suspended_at_ms[p] = world_.now_ms();
        world_.Count("suspensions");
      }
    });
  }
  if (options_.force_disk_fault || (options_.disk_faults && world_.Chance(0.3))) {
    const std::size_t h = static_cast<std::size_t>(world_.Uniform(0, static_cast<std::int64_t>(hosts_.size()) - 1));
    PlanDiskFault(disks_[h], Hosts()[h].node, at, fault);
  }
  if (options_.force_switch_disk_fault || (options_.disk_faults && world_.Chance(0.25))) {
    PlanDiskFault(switch_disk_, "switch", at, fault);
  }
  if (options_.force_tsp_disk_fault || (options_.disk_faults && world_.Chance(0.2))) {
    PlanDiskFault(tsp_disk_, "tsp", at, fault);
  }
  if (options_.force_journal_disk_fault || (options_.disk_faults && world_.Chance(0.15))) {
    PlanDiskFault(journal_disk_, "switch-journal", at, fault);
  }
}

void CardRun::PlanDiskFault(const std::shared_ptr<DiskFault>& disk, const std::string& node, std::int64_t at,
                        const std::function<void(const std::string&)>& fault) {
  const std::int64_t when = world_.Uniform(1, at);
  const DiskFailure failure = world_.Chance(0.5) ? DiskFailure::kWrite : DiskFailure::kSync;
  const DiskAftermath aftermath = world_.Chance(0.5) ? DiskAftermath::kLost : DiskAftermath::kKept;
  const std::string what = std::string(failure == DiskFailure::kWrite ? "write" : "fdatasync") + " fails, writes " +
                           (aftermath == DiskAftermath::kLost ? "lost" : "kept");
  fault(node + " disk: next " + what + " t=" + std::to_string(when));
  At(when, "disk-fault|" + node, [this, disk, node, failure, aftermath, what] {
    if (healed_) return;
    disk->Arm(failure, aftermath);
    world_.Trace(node + " disk armed: next " + what);
  });
}

}  // namespace tapstack::sim::card

// Transit: the cost of one gate tap and the rate of clearing (issue #6).
//
//  1. Gate taps: phones with Beijing cards (device::SecureElement, the purse applet, its SQLite
//     file) tap an entry gate then an exit gate (transit::Validator with its PSAM and SQLite file),
//     alternating, for --taps taps. Every tap is the full exchange: SELECT, READ BINARY x2, READ
//     RECORD, INITIALIZE FOR CAPP PURCHASE, INIT SAM, UPDATE CAPP DATA CACHE, grey record on disk,
//     DEBIT FOR CAPP PURCHASE (card state on disk), CREDIT SAM, record on disk. Reported: CPU time
//     per tap (user + system, the "compute" the 1 ms target is about) and wall-clock latency
//     percentiles (which include the three synchronous SQLite commits of each tap).
//  2. Clearing: --records records (default 1,000,000) of 10,000 Beijing cards, each with
//     consecutive counters, consistent balances and a TAC made with the card's key, cleared by
//     transit::Clearing in upload batches of 10,000 (TAC check, de-duplication, counter reuse,
//     balance continuity, one commit per batch). Reported: records per second, and the same for a
//     JSON upload path over the first 100,000 records.
//
// Data lives under /dev/shm when it exists (the figures are CPU, not disk), else the temp dir.
//
//   transit_bench [--taps N] [--records N]
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "bench_util.h"
#include "core/clock.h"
#include "core/hex.h"
#include "crypto/purse_crypto.h"
#include "demo/demo_keys.h"
#include "device/secure_element.h"
#include "store/sqlite_store.h"
#include "transit/card_personalisation.h"
#include "transit/clearing.h"
#include "transit/transit_cities.h"
#include "transit/validator.h"

using namespace tapstack;

namespace {

constexpr int kPhones = 16;
constexpr int kCards = 10'000;
constexpr std::size_t kBatchRecords = 10'000;

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

transit::TransitMasterKeys Keys() {
  return {demo::DemoTransitKey("t-union", "purchase"), demo::DemoTransitKey("t-union", "maintenance"),
          demo::DemoTransitKey("1000", "load"), demo::DemoTransitKey("1000", "tac")};
}

transit::Serial SerialOf(int n) {
  char digits[21];
  std::snprintf(digits, sizeof digits, "1000%016d", n);
  const Bytes bytes = *HexDecode(digits);
  transit::Serial serial{};
  std::copy(bytes.begin(), bytes.end(), serial.begin());
  return serial;
}

std::unique_ptr<transit::Validator> Gate(const std::filesystem::path& dir, std::string id,
                                         transit::ValidatorKind kind, std::shared_ptr<const transit::CityNetwork> city,
                                         std::uint16_t station, std::uint8_t psam_byte) {
  transit::ValidatorOptions options;
  options.validator_id = std::move(id);
  options.kind = kind;
  options.city = std::move(city);
  options.line = 1;
  options.station = station;
  options.data_dir = dir;
  options.psam.number = {0x10, 0x00, 0x00, 0x00, 0x00, psam_byte};
  options.psam.purchase_master_key = demo::DemoTransitKey("t-union", "purchase");
  options.psam.maintenance_master_key = demo::DemoTransitKey("t-union", "maintenance");
  auto gate = transit::Validator::Open(std::move(options));
  if (!gate.ok()) {
    std::fprintf(stderr, "validator: %s\n", gate.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*gate);
}

int GateTaps(const std::filesystem::path& dir, std::shared_ptr<const transit::CityNetwork> beijing, int taps) {
  std::vector<std::unique_ptr<device::SecureElement>> phones;
  for (int p = 0; p < kPhones; ++p) {
    device::SecureElementOptions options;
    options.data_dir = dir;
    options.device_id = "phone-" + std::to_string(p);
    auto se = device::SecureElement::Open(std::move(options));
    if (!se.ok()) return std::fprintf(stderr, "phone: %s\n", se.status().ToString().c_str()), 1;
    transit::CardIssue issue;
    issue.card_id = "card-" + std::to_string(p);
    issue.serial = SerialOf(p);
    issue.start_date = 20260101;
    issue.expiry_date = 20991231;
    issue.balance_fen = beijing->card_rules().balance_cap_fen;
    auto blob = transit::PersonaliseTransitCard(*beijing, Keys(), issue, (*se)->public_key(), (*se)->device_id());
    if (!blob.ok() || !(*se)->InstallTransitCard(issue.card_id, *blob).ok()) {
      return std::fprintf(stderr, "card issue failed\n"), 1;
    }
    phones.push_back(std::move(*se));
  }
  auto in = Gate(dir, "bj-101-in", transit::ValidatorKind::kMetroEntry, beijing, 101, 1);
  auto out = Gate(dir, "bj-102-out", transit::ValidatorKind::kMetroExit, beijing, 102, 2);

  bench::Histogram latency;
  int refused = 0;
  std::int64_t apdus = 0;
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < taps; ++i) {
    device::SecureElement& phone = *phones[static_cast<std::size_t>((i / 2) % kPhones)];
    transit::Validator& gate = i % 2 == 0 ? *in : *out;
    const transit::Transmit field = [&phone, &apdus](ByteView apdu) {
      ++apdus;
      return phone.Transmit(apdu);
    };
    const auto start = std::chrono::steady_clock::now();
    const transit::TapResult result = gate.Tap(field);
    latency.Add(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count());
    if (!result.open) ++refused;
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  std::printf("gate taps: %d taps (%d refused), %.1f card APDUs per tap\n", taps, refused,
              static_cast<double>(apdus) / taps);
  std::printf("  CPU per tap: %.0f us (user+sys); wall %.0f us/tap; p50 %lld us, p99 %lld us, max %lld us\n",
              cpu / taps * 1e6, wall / taps * 1e6, static_cast<long long>(latency.Percentile(0.50)),
              static_cast<long long>(latency.Percentile(0.99)), static_cast<long long>(latency.max()));
  return refused == 0 ? 0 : 1;
}

int ClearingRate(const std::filesystem::path& dir, std::shared_ptr<const transit::CityNetwork> beijing,
                 int total) {
  // Records: card c, counters 0..per_card-1, 3.00 CNY each from a balance of 1000.00 CNY.
  const int per_card = std::max(1, total / kCards);
  std::vector<transit::TransitRecord> records;
  records.reserve(static_cast<std::size_t>(total));
  const crypto::SecretBytes tac_master = demo::DemoTransitKey("1000", "tac");
  for (int c = 0; c < kCards && static_cast<int>(records.size()) < total; ++c) {
    const transit::Serial serial = SerialOf(c);
    auto dtk = transit::CardKey(*beijing, tac_master, serial);
    if (!dtk.ok()) return 1;
    for (int n = 0; n < per_card && static_cast<int>(records.size()) < total; ++n) {
      transit::TransitRecord r;
      r.card_serial = HexEncode(serial);
      r.card_city = "1000";
      r.offline_counter = static_cast<std::uint16_t>(n);
      r.psam_number = "100000000002";
      r.psam_sequence = static_cast<std::uint32_t>(records.size() + 1);
      r.amount_fen = 300;
      r.balance_before_fen = 100000 - 300 * static_cast<std::uint32_t>(n);
      r.type = 0x09;
      char time[15];
      std::snprintf(time, sizeof time, "202611%02d%02d%02d00", 1 + n / 96 % 28, n / 4 % 24, n % 4 * 15);
      r.local_time = time;
      r.kind = "metro_exit";
      r.city = "1000";
      r.line = 1;
      r.station = 102;
      r.validator_id = "bj-102-out";
      r.tac = HexEncode(*crypto::PurseTac(beijing->purse_algorithm(), *dtk, *r.TacInput()));
      records.push_back(std::move(r));
    }
  }
  auto open = [&](const std::string& role) {
    transit::ClearingOptions options;
    options.city = beijing;
    options.tac_master_key = demo::DemoTransitKey("1000", "tac");
    options.store = std::move(*store::OpenSqlite(dir, role));
    auto clearing = transit::Clearing::Open(std::move(options));
    if (!clearing.ok()) std::exit(1);
    return std::move(*clearing);
  };
  auto clearing = open("transit_1000_clearing");
  const auto t0 = std::chrono::steady_clock::now();
  std::int64_t accepted = 0;
  for (std::size_t i = 0; i < records.size(); i += kBatchRecords) {
    const std::size_t n = std::min(kBatchRecords, records.size() - i);
    auto result = clearing->ClearUpload("batch-" + std::to_string(i / kBatchRecords),
                                        std::span<const transit::TransitRecord>(records.data() + i, n));
    if (!result.ok()) return std::fprintf(stderr, "clearing: %s\n", result.status().ToString().c_str()), 1;
    accepted += result->accepted;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto anomalies = clearing->Anomalies();
  std::printf("clearing: %zu records (%lld accepted, %zu anomalies) in %.2f s: %.0f records/s\n", records.size(),
              static_cast<long long>(accepted), anomalies.ok() ? anomalies->size() : 0, seconds,
              static_cast<double>(records.size()) / seconds);

  // The JSON path (what a validator's upload costs the operator), on the first 100,000 records.
  auto json_clearing = open("transit_1000_clearing_json");
  const std::size_t json_records = std::min<std::size_t>(records.size(), 100'000);
  std::vector<nlohmann::json> bodies;
  for (std::size_t i = 0; i < json_records; i += kBatchRecords) {
    transit::UploadBatch batch;
    batch.batch_id = "json-" + std::to_string(i / kBatchRecords);
    batch.records.assign(records.begin() + static_cast<std::ptrdiff_t>(i),
                         records.begin() + static_cast<std::ptrdiff_t>(std::min(i + kBatchRecords, json_records)));
    bodies.push_back(transit::UploadBatchToJson(batch, "bj-102-out"));
  }
  const auto t1 = std::chrono::steady_clock::now();
  for (const nlohmann::json& body : bodies) {
    if (!json_clearing->IngestUpload(body).ok()) return 1;
  }
  const double json_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  std::printf("clearing from JSON uploads: %zu records in %.2f s: %.0f records/s\n", json_records, json_seconds,
              static_cast<double>(json_records) / json_seconds);
  return accepted == static_cast<std::int64_t>(records.size()) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const int taps = bench::Flag(argc, argv, "--taps", 4000);
  const int total = bench::Flag(argc, argv, "--records", 1'000'000);
  spdlog::set_level(spdlog::level::warn);
  const std::filesystem::path base =
      std::filesystem::exists("/dev/shm") ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path();
  const auto dir = base / ("tapstack-transit-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto path = transit::DefaultTransitCitiesPath();
  auto cities = path.ok() ? transit::LoadTransitCities(*path) : Result<std::vector<transit::CityNetwork>>(path.status());
  if (!cities.ok()) return std::fprintf(stderr, "%s\n", cities.status().ToString().c_str()), 1;
  auto beijing = std::make_shared<transit::CityNetwork>(**transit::CityByCode(*cities, "1000"));
  int rc = GateTaps(dir / "taps", beijing, taps);
  rc |= ClearingRate(dir / "clearing", beijing, total);
  std::filesystem::remove_all(dir);
  return rc;
}

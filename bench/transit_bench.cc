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
// The phones, gates and records are src/benchkit/transit_workload.h, which `tapstack bench
// transit-tap` and `transit-clearing` run too.
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
#include "benchkit/transit_workload.h"
#include "demo/demo_keys.h"
#include "store/sqlite_store.h"
#include "transit/clearing.h"
#include "transit/validator.h"

using namespace tapstack;

namespace {

constexpr std::size_t kBatchRecords = 10'000;

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// The gate rig (phones, entry and exit gates) is `tapstack bench transit-tap`'s.
int GateTaps(const std::filesystem::path& dir, std::shared_ptr<const transit::CityNetwork> beijing, int taps) {
  auto rig = benchkit::TransitGateRig::Open(beijing, dir, 0, benchkit::kTransitRigPhonesDefault);
  if (!rig.ok()) return std::fprintf(stderr, "gate rig: %s\n", rig.status().ToString().c_str()), 1;

  bench::Histogram latency;
  int refused = 0;
  std::int64_t apdus = 0;
  double housekeeping = 0;  // card refills and gate uploads: not part of a tap
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < taps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const benchkit::GateTap tap = (*rig)->Tap();
    const auto end = std::chrono::steady_clock::now();
    latency.Add(std::chrono::duration_cast<std::chrono::microseconds>(end - start).count());
    apdus += tap.card_apdus;
    if (!tap.result.open) ++refused;
    if (auto s = (*rig)->AfterTap(tap); !s.ok()) return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
    housekeeping += std::chrono::duration<double>(std::chrono::steady_clock::now() - end).count();
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  std::printf("gate taps: %d taps (%d refused), %.1f card APDUs per tap\n", taps, refused,
              static_cast<double>(apdus) / taps);
  std::printf("  CPU per tap: %.0f us (user+sys, with %.1f ms of card refills); wall %.0f us/tap; p50 %lld us, "
              "p99 %lld us, max %lld us\n",
              cpu / taps * 1e6, housekeeping * 1e3, wall / taps * 1e6, static_cast<long long>(latency.Percentile(0.50)),
              static_cast<long long>(latency.Percentile(0.99)), static_cast<long long>(latency.max()));
  return refused == 0 ? 0 : 1;
}

int ClearingRate(const std::filesystem::path& dir, std::shared_ptr<const transit::CityNetwork> beijing,
                 int total) {
  // The records `tapstack bench transit-clearing` clears too.
  auto made = benchkit::MakeClearingRecords(*beijing, total, benchkit::kTransitClearingCards);
  if (!made.ok()) return std::fprintf(stderr, "records: %s\n", made.status().ToString().c_str()), 1;
  const std::vector<transit::TransitRecord>& records = *made;
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
  const auto dir = benchkit::MemoryScratchBase() / ("tapstack-transit-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto beijing = benchkit::LoadTransitCity("1000");
  if (!beijing.ok()) return std::fprintf(stderr, "%s\n", beijing.status().ToString().c_str()), 1;
  int rc = GateTaps(dir / "taps", *beijing, taps);
  rc |= ClearingRate(dir / "clearing", *beijing, total);
  std::filesystem::remove_all(dir);
  return rc;
}

// Token vault footprint: how much memory and disk each token costs, at scale. Tokenises N tokens
// (default 1,000,000; --tokens) into a fresh SQLite vault, in transactions of 10,000 (each token
// with its AES-256-GCM PAN record, keyed fingerprint, PAR and hash-chained audit entry, exactly as
// TokenVault::Tokenize writes it), then reports resident memory growth per token, the vault's own
// in-memory estimate, database bytes per token and the tokenisation rate. The tokens are 19 digits
// in one test BIN (10^10 numbers), for demo PANs of one test BIN, each on its own device.
//
//   vault_memory_bench [--tokens N]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "bench_util.h"
#include "core/clock.h"
#include "crypto/csprng.h"
#include "demo/demo_keys.h"
#include "store/sqlite_store.h"
#include "tsp/par.h"
#include "tsp/token_number.h"
#include "tsp/token_vault.h"

using namespace tapstack;

namespace {
constexpr int kTokensPerTransaction = 10'000;
}  // namespace

int main(int argc, char** argv) {
  const int tokens = bench::Flag(argc, argv, "--tokens", 1'000'000);
  spdlog::set_level(spdlog::level::warn);
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tapstack-vault-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  auto numbers = tsp::TokenNumberGenerator::Create({{"49990000", "49990000", 19}},
                                                   {{"62990000", "62999999"}}, nullptr);
  auto par = tsp::ParGenerator::Create("T001", demo::DemoTspKey("par"));
  auto store = store::OpenSqlite(dir, "vault");
  if (!numbers.ok() || !par.ok() || !store.ok()) {
    std::fprintf(stderr, "set-up failed\n");
    return 1;
  }
  crypto::Csprng random;
  tsp::TokenVaultOptions options;
  options.clock = &SystemClock::Instance();
  options.random = &random;
  options.token_numbers = &*numbers;
  options.par = &*par;
  auto vault = tsp::TokenVault::Open(
      **store,
      tsp::TokenVaultKeys{{"demo-kek-1", demo::DemoTspKey("kek")},
                          demo::DemoTspKey("pan-fingerprint")},
      options);
  if (!vault.ok()) {
    std::fprintf(stderr, "%s\n", vault.status().ToString().c_str());
    return 1;
  }
  // Test PANs of one BIN (Luhn-valid), 1,000 of them, each tokenised for many devices.
  std::vector<Pan> pans;
  for (int i = 0; i < 1000; ++i) {
    std::string payload = "6299015" + std::to_string(10'000'000 + i);
    pans.push_back(*Pan::Parse(payload + *LuhnCheckDigit(payload)));
  }

  const std::int64_t rss_before = bench::ResidentBytes();
  const auto t0 = std::chrono::steady_clock::now();
  int made = 0;
  while (made < tokens) {
    const int batch = std::min(kTokensPerTransaction, tokens - made);
    Status s = (*store)->RunInTransaction([&](store::Store&) -> Status {
      for (int i = 0; i < batch; ++i) {
        const int n = made + i;
        TS_RETURN_IF_ERROR((*vault)
                               ->Tokenize(pans[static_cast<std::size_t>(n) % pans.size()],
                                          {.pan_expiry = "2912",
                                           .requestor_id = "40010000001",
                                           .device_id = "device-" + std::to_string(n)})
                               .status());
      }
      return Status::Ok();
    });
    if (!s.ok()) {
      std::fprintf(stderr, "\n%s\n", s.ToString().c_str());
      return 1;
    }
    made += batch;
    std::fprintf(stderr, "\r%d / %d tokens", made, tokens);
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::int64_t rss_after = bench::ResidentBytes();
  std::int64_t disk = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) disk += static_cast<std::int64_t>(entry.file_size());
  }
  std::fprintf(stderr, "\n");
  std::printf("token vault at %d tokens (SQLite, AES-256-GCM records, audit chain)\n", tokens);
  std::printf("  tokenise rate      %.0f tokens/s (transactions of %d)\n",
              static_cast<double>(tokens) / elapsed, kTokensPerTransaction);
  std::printf("  resident memory    %lld → %lld KiB: %+.1f bytes per token (peak RSS %lld KiB)\n",
              static_cast<long long>(rss_before / 1024), static_cast<long long>(rss_after / 1024),
              static_cast<double>(rss_after - rss_before) / tokens,
              static_cast<long long>(bench::PeakResidentBytes() / 1024));
  std::printf("  vault's own memory %zu bytes (cached data keys; no per-token index in memory)\n",
              (*vault)->MemoryBytesEstimate());
  std::printf("  on disk            %.0f bytes per token (token record, indexes, audit entry)\n",
              static_cast<double>(disk) / tokens);
  vault->reset();
  store->reset();
  std::filesystem::remove_all(dir);
  return 0;
}

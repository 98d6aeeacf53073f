// Our CRC-16/CCITT-FALSE against an independent implementation (npm `crc` via
// tests/interop/crc_oracle.js) over seeded random MPM-like payloads, including non-ASCII text.
//
// Needs `node` and tests/interop/node_modules (scripts/bootstrap runs `npm ci`). When either is
// missing the test is skipped, except with CI=true, where it fails.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/random_source.h"
#include "qr/crc16.h"
#include "qr/utf8.h"

namespace tapstack::qr {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kPayloadCount = 500;
constexpr std::uint64_t kSeed = 0x5152C0DE2024ULL;

// Characters the generator draws from: ASCII printable (no newline, which separates payloads)
// plus 2-, 3- and 4-byte UTF-8 characters as merchant names in 64 use them.
const std::vector<std::string>& Alphabet() {
  static const std::vector<std::string> alphabet = [] {
    std::vector<std::string> a;
    for (char c = ' '; c <= '~'; ++c) a.emplace_back(1, c);
    for (const char* s : {"é", "ü", "ß", "ñ", "Ω", "最", "佳", "运", "输", "北", "京", "€", "₩",
                          "ก", "한", "😀", "𠀋"}) {
      a.emplace_back(s);
    }
    return a;
  }();
  return alphabet;
}

std::uint64_t Draw(SeededRandom& random, std::uint64_t bound) { return *random.Uniform(bound); }

// "IDLLvalue" objects with lengths in characters, ending in "6304" (what the CRC covers).
std::string RandomPayloadPrefix(SeededRandom& random) {
  std::string payload = "000201";
  const std::uint64_t objects = 1 + Draw(random, 12);
  for (std::uint64_t i = 0; i < objects; ++i) {
    std::uint64_t id = Draw(random, 100);
    if (id == 63) id = 64;
    const std::uint64_t chars = 1 + Draw(random, 30);
    std::string value;
    for (std::uint64_t c = 0; c < chars; ++c) value += Alphabet()[Draw(random, Alphabet().size())];
    payload += std::to_string(id / 10) + std::to_string(id % 10) + std::to_string(chars / 10) +
               std::to_string(chars % 10) + value;
  }
  return payload + "6304";
}

fs::path InteropDir() { return fs::path(TAPSTACK_VECTORS_DIR).parent_path() / "interop"; }

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

std::string RunAndCapture(const std::string& command, int& exit_status) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) {
    exit_status = -1;
    return out;
  }
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0)
    out.append(buffer.data(), n);
  exit_status = pclose(pipe.release());
  return out;
}

TEST(CrcOracleTest, MatchesNpmCrcOnRandomPayloads) {
  const fs::path script = InteropDir() / "crc_oracle.js";
  ASSERT_TRUE(fs::exists(script)) << script;
  std::string missing;
  if (std::system("node --version > /dev/null 2>&1") != 0) missing = "`node` is not on PATH";
  if (missing.empty() && !fs::exists(InteropDir() / "node_modules" / "crc")) {
    missing =
        "tests/interop/node_modules/crc is missing (run scripts/bootstrap, which runs npm ci)";
  }
  if (!missing.empty()) {
    if (InCi()) FAIL() << "CRC oracle unavailable with CI=true: " << missing;
    GTEST_SKIP() << "CRC oracle unavailable: " << missing;
  }

  SeededRandom random(kSeed);
  std::vector<std::string> payloads;
  std::size_t non_ascii = 0;
  for (std::size_t i = 0; i < kPayloadCount; ++i) {
    payloads.push_back(RandomPayloadPrefix(random));
    if (Utf8CharCount(payloads.back()) != payloads.back().size()) ++non_ascii;
  }
  // The EMVCo example's CRC input (non-ASCII 64 template), to pin a published case too.
  payloads.push_back(
      "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802"
      "CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030"
      "412340603***0708A60086670902ME91320016A0112233449988770708123456786304");
  ASSERT_GT(non_ascii, kPayloadCount / 2);

  const fs::path file =
      fs::temp_directory_path() / ("tapstack_qr_crc_oracle_" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream out(file, std::ios::binary);
    for (const std::string& p : payloads) out << p << '\n';
    ASSERT_TRUE(out.good());
  }
  int status = 0;
  const std::string output =
      RunAndCapture("node '" + script.string() + "' '" + file.string() + "'", status);
  fs::remove(file);
  ASSERT_EQ(status, 0) << "oracle failed; output:\n" << output;

  std::istringstream lines(output);
  std::string line;
  std::size_t i = 0;
  std::size_t mismatches = 0;
  while (std::getline(lines, line)) {
    ASSERT_LT(i, payloads.size()) << "oracle printed more lines than payloads";
    const std::string ours = FormatCrc16(Crc16CcittFalse(payloads[i]));
    if (ours != line) {
      ++mismatches;
      ADD_FAILURE() << "payload " << i << ": ours " << ours << ", npm crc " << line << "\n"
                    << payloads[i];
    }
    ++i;
  }
  EXPECT_EQ(i, payloads.size());
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(FormatCrc16(Crc16CcittFalse(payloads.back())), "A13A");
}

}  // namespace
}  // namespace tapstack::qr

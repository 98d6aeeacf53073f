// Runs the built `tapstack` binary: every shared crypto vector through `tapstack crypto ...`
// (same iteration as tests/crypto), plus the exit-code contract for bad input (exit 2, one line
// on stderr, nothing on stdout).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/hex.h"
#include "core/pan.h"
#include "support/subprocess.h"
#include "support/vectors.h"

namespace tapstack::cli {
namespace {

using nlohmann::json;

using RunResult = tapstack::testing::ProcessResult;

// Runs the built `tapstack` binary with `args` (no shell).
RunResult Run(const std::vector<std::string>& args) {
  return tapstack::testing::RunProcess(tapstack::testing::TapstackBinary(), args);
}

// Runs a crypto subcommand that must succeed and returns its one output line (without "\n").
std::string Crypto(std::vector<std::string> args) {
  args.insert(args.begin(), "crypto");
  const RunResult r = Run(args);
  std::string command;
  for (const std::string& a : args) command += " " + a;
  EXPECT_EQ(r.exit_code, 0) << "tapstack" << command << "\nstderr: " << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_FALSE(r.out.empty()) << "tapstack" << command;
  if (r.out.empty() || r.out.back() != '\n') {
    ADD_FAILURE() << "output is not newline-terminated: " << r.out;
    return r.out;
  }
  return r.out.substr(0, r.out.size() - 1);
}

// Expects exit 2, nothing on stdout and exactly one line on stderr.
void ExpectUsageError(std::vector<std::string> args, const std::string& stderr_contains = "") {
  args.insert(args.begin(), "crypto");
  const RunResult r = Run(args);
  std::string command;
  for (const std::string& a : args) command += " " + a;
  SCOPED_TRACE("tapstack" + command);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "expected one line: " << r.err;
  if (!stderr_contains.empty()) {
    EXPECT_NE(r.err.find(stderr_contains), std::string::npos) << r.err;
  }
}

std::string S(const json& v, const char* field) { return v.at(field).get<std::string>(); }

std::string Xor(const std::string& a_hex, const std::string& b_hex) {
  const Bytes a = HexDecode(a_hex).value();
  const Bytes b = HexDecode(b_hex).value();
  Bytes out(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = a[i] ^ b[i];
  return HexEncode(out);
}

void CheckArpcs(const json& v, const std::string& key, const std::string& arqc) {
  for (const json& a : v.at("arpc")) {
    if (a.at("method") == 1) {
      EXPECT_EQ(
          Crypto({"arpc", "--method", "1", "--key", key, "--arqc", arqc, "--arc", S(a, "arc")}),
          S(a, "expected_arpc"));
    } else {
      EXPECT_EQ(
          Crypto({"arpc", "--method", "2", "--key", key, "--arqc", arqc, "--csu", S(a, "csu")}),
          S(a, "expected_arpc"));
    }
  }
}

TEST(CliCryptoVectors, EmvCryptoJson) {
  const json doc = tapstack::testing::LoadVectors("emv_crypto.json");
  const std::set<std::string> not_crypto = {"apdu", "gpo", "dol_build"};
  int checked = 0;
  for (const json& v : doc.at("vectors")) {
    const std::string id = S(v, "id");
    const std::string algo = S(v, "algo");
    SCOPED_TRACE(id);
    if (not_crypto.count(algo) != 0) continue;  // codec vectors, not crypto
    ++checked;
    if (algo == "icc_mk_option_a" || algo == "icc_mk_option_b") {
      EXPECT_EQ(Crypto({"derive-mk", "--option", algo == "icc_mk_option_a" ? "A" : "B", "--imk",
                        S(v, "imk"), "--pan", S(v, "pan"), "--psn", S(v, "psn")}),
                S(v, "expected_icc_mk"));
    } else if (algo == "emv_csk_tdes") {
      EXPECT_EQ(
          Crypto({"session-key", "--method", "emv", "--key", S(v, "icc_mk"), "--r", S(v, "r")}),
          S(v, "expected_sk"));
    } else if (id.rfind("PYEMV-", 0) == 0) {
      std::string arqc;
      if (v.contains("ac_data")) {
        arqc = Crypto({"arqc", "--cipher", "tdes", "--key", S(v, "sk"), "--data", S(v, "ac_data"),
                       "--padding", "2"});
        EXPECT_EQ(arqc, S(v, "expected_arqc"));
      } else {
        arqc = S(v, "arqc");
      }
      if (v.contains("arpc")) CheckArpcs(v, S(v, "sk"), arqc);
    } else if (algo == "iso9797_1_mac_alg3_des") {
      EXPECT_EQ(Crypto({"mac", "--alg", "iso9797-3", "--key", S(v, "key_k") + S(v, "key_k2"),
                        "--data", S(v, "data_hex"), "--padding",
                        std::to_string(v.at("padding_method").get<int>())}),
                S(v, "expected_mac"));
    } else if (id == "CVN-MC-20") {
      const std::string mk = Crypto({"derive-mk", "--option", "A", "--imk", S(v, "imk_ac"), "--pan",
                                     S(v, "pan"), "--psn", S(v, "psn")});
      EXPECT_EQ(mk, S(v, "expanded_icc_mk_ac"));
      const std::string sk =
          Crypto({"session-key", "--method", "emv", "--key", mk, "--atc", S(v.at("tags"), "9F36")});
      EXPECT_EQ(sk, S(v, "expanded_sk_ac"));
      EXPECT_EQ(Crypto({"kcv", "--key", sk, "--length", "2"}), S(v, "sk_kcv2"));
      const std::string arqc = Crypto(
          {"arqc", "--cipher", "tdes", "--key", sk, "--data", S(v, "ac_data"), "--padding", "2"});
      EXPECT_EQ(arqc, S(v, "expected_arqc"));
      CheckArpcs(v, sk, arqc);
    } else if (algo == "aes_cmac" || algo == "tdes_cmac") {
      EXPECT_EQ(Crypto({"mac", "--alg", algo == "aes_cmac" ? "cmac-aes" : "cmac-tdes", "--key",
                        S(v, "key"), "--data", S(v, "msg")}),
                S(v, "expected_cmac"));
    } else if (algo == "aes_cmac subkeys") {
      // L = AES(K, 0); K1 = AES^-1(CMAC(0^128)); K2 = AES^-1(CMAC("")) XOR 80 00..00.
      const std::string zero(32, '0');
      EXPECT_EQ(Crypto({"encrypt", "--cipher", "aes-ecb", "--key", S(v, "key"), "--data", zero}),
                S(v, "expected_L"));
      const std::string mac_zero =
          Crypto({"mac", "--alg", "cmac-aes", "--key", S(v, "key"), "--data", zero});
      EXPECT_EQ(
          Crypto({"decrypt", "--cipher", "aes-ecb", "--key", S(v, "key"), "--data", mac_zero}),
          S(v, "expected_K1"));
      const std::string mac_empty =
          Crypto({"mac", "--alg", "cmac-aes", "--key", S(v, "key"), "--data", ""});
      const std::string k2_padded =
          Crypto({"decrypt", "--cipher", "aes-ecb", "--key", S(v, "key"), "--data", mac_empty});
      EXPECT_EQ(Xor(k2_padded, "80" + std::string(30, '0')), S(v, "expected_K2"));
    } else if (algo == "luhn") {
      const std::string number = S(v, "number");
      EXPECT_EQ(Crypto({"luhn", number}), v.at("expected_valid").get<bool>() ? "valid" : "invalid");
      if (!v.at("expected_check_digit_to_append").is_null()) {
        EXPECT_EQ(Crypto({"luhn", number + S(v, "expected_check_digit_to_append")}), "valid");
      }
    } else if (algo == "kcv_tdes_legacy") {
      EXPECT_EQ(Crypto({"kcv", "--key", S(v, "key")}), S(v, "expected_kcv3"));
      EXPECT_EQ(Crypto({"kcv", "--key", S(v, "key"), "--length", "8"}), S(v, "expected_kcv8"));
    } else {
      ADD_FAILURE() << "vector " << id << " has an algo this test does not know: " << algo;
    }
  }
  EXPECT_EQ(checked, 24);
}

TEST(CliCryptoVectors, SmCryptoJson) {
  const json doc = tapstack::testing::LoadVectors("sm_crypto.json");
  int checked = 0;
  for (const json& v : doc.at("vectors")) {
    SCOPED_TRACE(S(v, "id"));
    if (v.contains("plaintext")) {
      const std::string ct = Crypto(
          {"encrypt", "--cipher", "sm4-ecb", "--key", S(v, "key"), "--data", S(v, "plaintext")});
      EXPECT_EQ(ct, S(v, "expected_ciphertext"));
      EXPECT_EQ(Crypto({"decrypt", "--cipher", "sm4-ecb", "--key", S(v, "key"), "--data", ct}),
                S(v, "plaintext"));
      ++checked;
    } else if (v.contains("message_ascii")) {
      EXPECT_EQ(
          Crypto({"hash", "--alg", "sm3", "--data", HexEncode(AsBytes(S(v, "message_ascii")))}),
          S(v, "expected_digest"));
      ++checked;
    } else {
      ADD_FAILURE() << "unknown SM vector shape";
    }
  }
  EXPECT_EQ(checked, 2);
}

TEST(CliCryptoVectors, PbocPurseJson) {
  const json doc = tapstack::testing::LoadVectors("pboc_purse.json");
  int checked = 0;
  for (const json& v : doc.at("vectors")) {
    SCOPED_TRACE(S(v, "id"));
    if (v.contains("session_key_input")) {
      const std::string card_key =
          v.contains("card_key_dlk") ? S(v, "card_key_dlk") : S(v, "card_key_dpk");
      EXPECT_EQ(Crypto({"encrypt", "--cipher", "tdes-ecb", "--key", card_key, "--data",
                        S(v, "session_key_input")}),
                S(v, "expected_session_key"));
      ++checked;
    } else if (v.contains("expected_mac")) {
      EXPECT_EQ(Crypto({"mac", "--alg", "iso9797-1", "--key", S(v, "session_key"), "--data",
                        S(v, "data"), "--padding", "2", "--length", "4"}),
                S(v, "expected_mac"));
      ++checked;
    } else {
      ADD_FAILURE() << "unknown PBOC vector shape";
    }
  }
  EXPECT_EQ(checked, 6);
}

TEST(CliCrypto, EmptyDataIsValidInput) {
  EXPECT_EQ(Crypto({"hash", "--alg", "sha256", "--data", ""}),
            "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855");
  EXPECT_EQ(Crypto({"mac", "--alg", "cmac-aes", "--key", "2B7E151628AED2A6ABF7158809CF4F3C",
                    "--data", ""}),
            "BB1D6929E95937287FA37D129B756746");  // RFC 4493 example 1
  EXPECT_EQ(Crypto({"encrypt", "--cipher", "aes-cbc", "--key", "2B7E151628AED2A6ABF7158809CF4F3C",
                    "--data", ""}),
            "");
  // Padding method 1 turns empty data into one zero block.
  EXPECT_EQ(Crypto({"mac", "--alg", "iso9797-3", "--key", "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB",
                    "--data", "", "--padding", "1"}),
            Crypto({"mac", "--alg", "iso9797-3", "--key", "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB",
                    "--data", "0000000000000000", "--padding", "1"}));
}

TEST(CliCrypto, OtherSubcommands) {
  // FIPS 197 C.1 through the CLI, with lower-case input and an explicit CBC IV round trip.
  EXPECT_EQ(Crypto({"encrypt", "--cipher", "aes-ecb", "--key", "000102030405060708090a0b0c0d0e0f",
                    "--data", "00112233445566778899aabbccddeeff"}),
            "69C4E0D86A7B0430D8CDB78070B4C55A");
  const std::string ct =
      Crypto({"encrypt", "--cipher", "tdes-cbc", "--key", "0123456789ABCDEFFEDCBA9876543210",
              "--data", "00112233445566778899AABBCCDDEEFF", "--iv", "0102030405060708"});
  EXPECT_EQ(Crypto({"decrypt", "--cipher", "tdes-cbc", "--key", "0123456789ABCDEFFEDCBA9876543210",
                    "--data", ct, "--iv", "0102030405060708"}),
            "00112233445566778899AABBCCDDEEFF");
  EXPECT_EQ(Crypto({"encrypt", "--cipher", "des-ecb", "--key", "0123456789ABCDEF", "--data",
                    "4E6F772069732074"}),
            "3FA40E8A984D4815");  // FIPS 81 Appendix B
  EXPECT_EQ(Crypto({"hash", "--alg", "sha256", "--data", "616263"}),
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  EXPECT_EQ(Crypto({"session-key", "--method", "visa-sm", "--key",
                    "0123456789ABCDEFFEDCBA9876543210", "--atc", "001C"}),
            "0123456789ABCDF2FEDCBA987654CDF2");
  EXPECT_EQ(Crypto({"session-key", "--method", "mastercard", "--key",
                    "0123456789ABCDEFFEDCBA9876543210", "--atc", "001C", "--un", "ABCDEF12"}),
            Crypto({"session-key", "--method", "emv", "--key", "0123456789ABCDEFFEDCBA9876543210",
                    "--r", "001C0000ABCDEF12"}));
  EXPECT_EQ(Crypto({"arqc", "--cipher", "aes", "--key", "000102030405060708090A0B0C0D0E0F",
                    "--data", "0011", "--padding", "2"})
                .size(),
            16u);
  EXPECT_EQ(Crypto({"arqc", "--cipher", "sm4", "--key", "0123456789ABCDEFFEDCBA9876543210",
                    "--data", "0011", "--padding", "1"})
                .size(),
            16u);
  EXPECT_EQ(Crypto({"kcv", "--key", "0123456789ABCDEF"}).size(), 6u);  // single DES by length
  EXPECT_EQ(Crypto({"arpc", "--method", "2", "--key", "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB", "--arqc",
                    "1234567890ABCDEF", "--csu", "00000000", "--prop", ""}),
            "9308BEBC");
}

TEST(CliCrypto, BadInputExitsWithUsageError) {
  ExpectUsageError({"kcv", "--key", "0123456789ABCDEFFEDCBA987654321"}, "odd length");
  ExpectUsageError({"hash", "--alg", "sha256", "--data", "ABC"}, "odd length");
  ExpectUsageError({"kcv", "--key", "0123456789ABCDEF0123"}, "16 or 24 bytes");
  ExpectUsageError({"mac", "--alg", "iso9797-1", "--key", "0123456789ABCDEFFEDCBA9876543210",
                    "--data", "00", "--padding", "2"},
                   "8 bytes");
  ExpectUsageError(
      {"mac", "--alg", "iso9797-3", "--key", "0123456789ABCDEF", "--data", "00", "--padding", "2"});
  ExpectUsageError(
      {"arqc", "--cipher", "aes", "--key", "0123456789ABCDEF", "--data", "00", "--padding", "2"});
  ExpectUsageError({"mac", "--alg", "cbc-mac-42", "--key", "00", "--data", "00"}, "--alg");
  ExpectUsageError({"hash", "--alg", "md5", "--data", "00"}, "--alg");
  ExpectUsageError({"hash", "--alg", "sha256", "--data", "00", "--frobnicate"});
  ExpectUsageError({"hash", "--alg", "sha256"}, "--data");
  ExpectUsageError({"kcv"}, "--key");
  ExpectUsageError({"encrypt", "--cipher", "aes-ecb", "--key", "000102030405060708090A0B0C0D0E0F",
                    "--data", "00"},
                   "multiple");
  ExpectUsageError({"encrypt", "--cipher", "aes-ecb", "--key", "000102030405060708090A0B0C0D0E0F",
                    "--data", "00112233445566778899AABBCCDDEEFF", "--iv", "00"},
                   "IV");
  ExpectUsageError({"derive-mk", "--option", "C", "--imk", "0123456789ABCDEFFEDCBA9876543210",
                    "--pan", "1234567890123456", "--psn", "00"});
  ExpectUsageError({"derive-mk", "--option", "A", "--imk", "0123456789ABCDEFFEDCBA9876543210",
                    "--pan", "12345X7890123456", "--psn", "00"});
  ExpectUsageError({"session-key", "--method", "mastercard", "--key",
                    "0123456789ABCDEFFEDCBA9876543210", "--atc", "001C"},
                   "--un");
  ExpectUsageError({"session-key", "--method", "emv", "--key", "0123456789ABCDEFFEDCBA9876543210",
                    "--atc", "1C"},
                   "--atc");
  ExpectUsageError({"arpc", "--method", "1", "--key", "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB", "--arqc",
                    "1234567890ABCDEF"},
                   "--arc");
  ExpectUsageError({"arpc", "--method", "3", "--key", "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB", "--arqc",
                    "1234567890ABCDEF", "--arc", "0000"});
  ExpectUsageError({"luhn", "4992-7398-716"});
  ExpectUsageError({"kcv", "--key", "0123456789ABCDEFFEDCBA9876543210", "--length", "9"});
  ExpectUsageError({"frobnicate"});
  ExpectUsageError({});
}

}  // namespace
}  // namespace tapstack::cli

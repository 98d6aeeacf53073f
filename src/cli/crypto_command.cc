// `tapstack crypto ...`: a thin command-line face over src/crypto. Every subcommand parses its
// options, calls one library function and prints uppercase hex (or valid/invalid) on stdout.
// Bad input throws UsageError (exit 2); an OpenSSL failure throws std::runtime_error (exit 1).
#include "cli/crypto_command.h"

#include <cstdint>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "cli/usage_error.h"
#include "core/hex.h"
#include "core/pan.h"
#include "crypto/block_cipher.h"
#include "crypto/emv_cryptogram.h"
#include "crypto/emv_key_derivation.h"
#include "crypto/hash.h"
#include "crypto/kcv.h"
#include "crypto/mac.h"
#include "crypto/secret_bytes.h"

namespace tapstack::cli {

namespace {

using crypto::BlockCipher;
using crypto::CipherMode;
using crypto::MacPadding;
using crypto::SecretBytes;

// Bad input is a usage error (exit 2); anything else (OpenSSL refusing) is a failure (exit 1).
[[noreturn]] void ThrowFor(const Status& status, const std::string& what) {
  if (status.code() == ErrorCode::kInvalidArgument || status.code() == ErrorCode::kOutOfRange) {
    throw UsageError(what + ": " + status.message());
  }
  throw std::runtime_error(what + ": " + status.ToString());
}

template <typename T>
T Check(Result<T> result, const std::string& what) {
  if (!result.ok()) ThrowFor(result.status(), what);
  return std::move(result).value();
}

Bytes HexOption(const std::string& value, const std::string& option) {
  return ValueOrUsageError(HexDecode(value), option);
}

SecretBytes KeyOption(const std::string& value, const std::string& option = "--key") {
  return ValueOrUsageError(SecretBytes::FromHex(value), option);
}

Bytes HexOptionOfLength(const std::string& value, const std::string& option, std::size_t bytes) {
  Bytes decoded = HexOption(value, option);
  if (decoded.size() != bytes) {
    throw UsageError(option + ": expected " + std::to_string(bytes) + " bytes (" +
                     std::to_string(2 * bytes) + " hex digits); got " +
                     std::to_string(decoded.size()));
  }
  return decoded;
}

std::uint16_t AtcOption(const std::string& value) {
  const Bytes atc = HexOptionOfLength(value, "--atc", 2);
  return static_cast<std::uint16_t>((atc[0] << 8) | atc[1]);
}

MacPadding PaddingOption(int padding) {
  return padding == 1 ? MacPadding::kMethod1 : MacPadding::kMethod2;
}

void PrintHex(ByteView bytes) { std::cout << HexEncode(bytes) << "\n"; }

BlockCipher CipherFromName(const std::string& name) {
  if (name == "des") return BlockCipher::kDes;
  if (name == "tdes") return BlockCipher::kTdes;
  if (name == "aes") return BlockCipher::kAes;
  return BlockCipher::kSm4;
}

// ---- kcv ---------------------------------------------------------------------------------------

void AddKcv(CLI::App& crypto) {
  struct Options {
    std::string key;
    std::string cipher;
    std::size_t length = crypto::kKcvLegacyBytes;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = crypto.add_subcommand(
      "kcv", "Key check value: leftmost bytes of the encryption of a zero block");
  cmd->add_option("--key", opts->key, "key in hex")->required();
  cmd->add_option("--cipher", opts->cipher,
                  "des|tdes|aes|sm4 (default: des for 8-byte keys, tdes for 16/24, aes for 32)")
      ->check(CLI::IsMember({"des", "tdes", "aes", "sm4"}));
  cmd->add_option("--length", opts->length, "KCV length in bytes (default 3)");
  cmd->callback([opts] {
    const SecretBytes key = KeyOption(opts->key);
    BlockCipher cipher = BlockCipher::kTdes;
    if (!opts->cipher.empty()) {
      cipher = CipherFromName(opts->cipher);
    } else if (key.size() == crypto::kDesKeyBytes) {
      cipher = BlockCipher::kDes;
    } else if (key.size() == 32) {
      cipher = BlockCipher::kAes;
    }
    PrintHex(Check(crypto::KeyCheckValue(cipher, key, opts->length), "kcv"));
  });
}

// ---- luhn --------------------------------------------------------------------------------------

void AddLuhn(CLI::App& crypto) {
  auto number = std::make_shared<std::string>();
  CLI::App* cmd = crypto.add_subcommand("luhn", "Checks a number's Luhn check digit");
  cmd->add_option("number", *number, "the digits, check digit last")->required();
  cmd->callback([number] {
    if (!IsAllDigits(*number)) throw UsageError("luhn: the number must be digits only");
    std::cout << (LuhnValid(*number) ? "valid" : "invalid") << "\n";
  });
}

// ---- derive-mk ---------------------------------------------------------------------------------

void AddDeriveMk(CLI::App& crypto) {
  struct Options {
    std::string option, imk, pan, psn;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = crypto.add_subcommand(
      "derive-mk", "ICC master key from an issuer master key (EMV Option A or B)");
  cmd->add_option("--option", opts->option, "A|B (B falls back to A for PANs of <= 16 digits)")
      ->required()
      ->check(CLI::IsMember({"A", "B"}, CLI::ignore_case));
  cmd->add_option("--imk", opts->imk, "issuer master key, 16 or 24 bytes hex")->required();
  cmd->add_option("--pan", opts->pan, "PAN digits")->required();
  cmd->add_option("--psn", opts->psn, "PAN sequence number, two digits")->required();
  cmd->callback([opts] {
    const SecretBytes imk = KeyOption(opts->imk, "--imk");
    const bool option_b = opts->option == "B" || opts->option == "b";
    const SecretBytes mk =
        Check(option_b ? crypto::DeriveIccMasterKeyOptionB(imk, opts->pan, opts->psn)
                       : crypto::DeriveIccMasterKeyOptionA(imk, opts->pan, opts->psn),
              "derive-mk");
    PrintHex(mk.reveal());
  });
}

// ---- session-key -------------------------------------------------------------------------------

void AddSessionKey(CLI::App& crypto) {
  struct Options {
    std::string method, key, atc, un, r, cipher = "tdes";
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = crypto.add_subcommand("session-key", "EMV, Mastercard or Visa SM session key");
  cmd->add_option("--method", opts->method, "emv|mastercard|visa-sm")
      ->required()
      ->check(CLI::IsMember({"emv", "mastercard", "visa-sm"}));
  cmd->add_option("--key", opts->key, "master key in hex")->required();
  cmd->add_option("--atc", opts->atc, "application transaction counter, 2 bytes hex");
  cmd->add_option("--un", opts->un, "unpredictable number, 4 bytes hex (mastercard)");
  cmd->add_option("--r", opts->r, "explicit diversification value R, one block hex (emv)");
  cmd->add_option("--cipher", opts->cipher, "tdes|aes|sm4 (emv; default tdes)")
      ->check(CLI::IsMember({"tdes", "aes", "sm4"}));
  cmd->callback([opts] {
    const SecretBytes key = KeyOption(opts->key);
    const bool emv = opts->method == "emv";
    const bool mastercard = opts->method == "mastercard";
    if (!opts->r.empty() && !emv) throw UsageError("session-key: --r applies to --method emv");
    if (!opts->un.empty() && !mastercard) {
      throw UsageError("session-key: --un applies to --method mastercard");
    }
    if (opts->cipher != "tdes" && !emv) {
      throw UsageError("session-key: --cipher applies to --method emv");
    }
    if (!opts->r.empty() && !opts->atc.empty()) {
      throw UsageError("session-key: give either --atc or --r, not both");
    }
    if (opts->r.empty() && opts->atc.empty()) throw UsageError("session-key: --atc is required");
    SecretBytes sk;
    if (emv) {
      const BlockCipher cipher = CipherFromName(opts->cipher);
      const Bytes r = opts->r.empty()
                          ? crypto::AtcDiversifier(AtcOption(opts->atc), crypto::BlockBytes(cipher))
                          : HexOption(opts->r, "--r");
      sk = Check(crypto::DeriveCommonSessionKey(cipher, key, r), "session-key");
    } else if (mastercard) {
      if (opts->un.empty()) throw UsageError("session-key: --un is required for mastercard");
      const Bytes un = HexOption(opts->un, "--un");
      sk = Check(crypto::DeriveMastercardSessionKey(key, AtcOption(opts->atc), un), "session-key");
    } else {
      sk = Check(crypto::DeriveVisaSecureMessagingKey(key, AtcOption(opts->atc)), "session-key");
    }
    PrintHex(sk.reveal());
  });
}

// ---- mac ---------------------------------------------------------------------------------------

void AddMac(CLI::App& crypto) {
  struct Options {
    std::string alg, key, data;
    int padding = 0;
    std::size_t length = 0;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = crypto.add_subcommand("mac", "ISO/IEC 9797-1 MAC algorithm 1 or 3, or CMAC");
  cmd->add_option("--alg", opts->alg, "iso9797-1|iso9797-3|cmac-aes|cmac-tdes|cmac-sm4")
      ->required()
      ->check(CLI::IsMember({"iso9797-1", "iso9797-3", "cmac-aes", "cmac-tdes", "cmac-sm4"}));
  cmd->add_option("--key", opts->key,
                  "key in hex (iso9797-1: 8-byte DES; iso9797-3: 16-byte K||K')")
      ->required();
  cmd->add_option("--data", opts->data, "data in hex (may be empty)")->required();
  cmd->add_option("--padding", opts->padding, "ISO/IEC 9797-1 padding method 1|2 (iso9797-*)")
      ->check(CLI::IsMember({1, 2}));
  cmd->add_option("--length", opts->length, "keep only the leftmost N bytes");
  cmd->callback([opts] {
    const SecretBytes key = KeyOption(opts->key);
    const Bytes data = HexOption(opts->data, "--data");
    const bool iso = opts->alg.rfind("iso", 0) == 0;
    if (iso && opts->padding == 0)
      throw UsageError("mac: --padding 1|2 is required for " + opts->alg);
    if (!iso && opts->padding != 0) {
      throw UsageError("mac: --padding does not apply to CMAC (it pads internally)");
    }
    Bytes mac;
    if (opts->alg == "iso9797-1") {
      mac =
          Check(crypto::Iso9797Alg1Mac(BlockCipher::kDes, key, data, PaddingOption(opts->padding)),
                "mac");
    } else if (opts->alg == "iso9797-3") {
      mac = Check(crypto::Iso9797Alg3Mac(key, data, PaddingOption(opts->padding)), "mac");
    } else {
      const BlockCipher cipher = opts->alg == "cmac-aes"    ? BlockCipher::kAes
                                 : opts->alg == "cmac-tdes" ? BlockCipher::kTdes
                                                            : BlockCipher::kSm4;
      mac = Check(crypto::Cmac(cipher, key, data), "mac");
    }
    if (opts->length != 0) {
      if (opts->length > mac.size()) {
        throw UsageError("mac: --length must be 1-" + std::to_string(mac.size()));
      }
      mac.resize(opts->length);
    }
    PrintHex(mac);
  });
}

// ---- arqc --------------------------------------------------------------------------------------

void AddArqc(CLI::App& crypto) {
  struct Options {
    std::string cipher, key, data, sm4_mac = "cbc-mac";
    int padding = 0;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = crypto.add_subcommand("arqc", "EMV application cryptogram (8 bytes)");
  cmd->add_option("--cipher", opts->cipher, "tdes|aes|sm4")
      ->required()
      ->check(CLI::IsMember({"tdes", "aes", "sm4"}));
  cmd->add_option("--key", opts->key, "session key (or MK-AC) in hex")->required();
  cmd->add_option("--data", opts->data, "cryptogram input data in hex (may be empty)")->required();
  cmd->add_option("--padding", opts->padding, "ISO/IEC 9797-1 padding method 1|2")
      ->required()
      ->check(CLI::IsMember({1, 2}));
  cmd->add_option("--sm4-mac", opts->sm4_mac, "cbc-mac|cmac (sm4 only; default cbc-mac)")
      ->check(CLI::IsMember({"cbc-mac", "cmac"}));
  cmd->callback([opts] {
    const SecretBytes key = KeyOption(opts->key);
    const Bytes data = HexOption(opts->data, "--data");
    crypto::CryptogramOptions options;
    options.padding = PaddingOption(opts->padding);
    options.sm4_mac = opts->sm4_mac == "cmac" ? crypto::Sm4CryptogramMac::kCmac
                                              : crypto::Sm4CryptogramMac::kCbcMac;
    const crypto::ApplicationCryptogram ac = Check(
        crypto::GenerateApplicationCryptogram(CipherFromName(opts->cipher), key, data, options),
        "arqc");
    PrintHex(ac);
  });
}

// ---- arpc --------------------------------------------------------------------------------------

void AddArpc(CLI::App& crypto) {
  struct Options {
    int method = 0;
    std::string key, arqc, arc, csu, prop;
    bool prop_given = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = crypto.add_subcommand("arpc", "EMV ARPC, method 1 or 2 (TDES)");
  cmd->add_option("--method", opts->method, "1|2")->required()->check(CLI::IsMember({1, 2}));
  cmd->add_option("--key", opts->key, "16-byte TDES key in hex")->required();
  cmd->add_option("--arqc", opts->arqc, "ARQC, 8 bytes hex")->required();
  cmd->add_option("--arc", opts->arc, "authorisation response code, 2 bytes hex (method 1)");
  cmd->add_option("--csu", opts->csu, "card status update, 4 bytes hex (method 2)");
  CLI::Option* prop =
      cmd->add_option("--prop", opts->prop, "proprietary authentication data, 0-8 bytes hex");
  cmd->callback([opts, prop] {
    const SecretBytes key = KeyOption(opts->key);
    const Bytes arqc = HexOption(opts->arqc, "--arqc");
    Bytes arpc;
    if (opts->method == 1) {
      if (opts->arc.empty()) throw UsageError("arpc: --arc is required for method 1");
      if (!opts->csu.empty() || prop->count() > 0) {
        throw UsageError("arpc: --csu and --prop apply to method 2");
      }
      arpc = Check(crypto::GenerateArpcMethod1(key, arqc, HexOption(opts->arc, "--arc")), "arpc");
    } else {
      if (opts->csu.empty()) throw UsageError("arpc: --csu is required for method 2");
      if (!opts->arc.empty()) throw UsageError("arpc: --arc applies to method 1");
      arpc = Check(crypto::GenerateArpcMethod2(key, arqc, HexOption(opts->csu, "--csu"),
                                               HexOption(opts->prop, "--prop")),
                   "arpc");
    }
    PrintHex(arpc);
  });
}

// ---- encrypt / decrypt -------------------------------------------------------------------------

void AddCipherCommand(CLI::App& crypto, bool encrypt) {
  struct Options {
    std::string cipher, key, data, iv;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = crypto.add_subcommand(
      encrypt ? "encrypt" : "decrypt",
      encrypt ? "Block cipher encryption, no padding" : "Block cipher decryption, no padding");
  cmd->add_option("--cipher", opts->cipher,
                  "des-ecb|tdes-ecb|tdes-cbc|aes-ecb|aes-cbc|sm4-ecb|sm4-cbc")
      ->required()
      ->check(CLI::IsMember(
          {"des-ecb", "tdes-ecb", "tdes-cbc", "aes-ecb", "aes-cbc", "sm4-ecb", "sm4-cbc"}));
  cmd->add_option("--key", opts->key, "key in hex")->required();
  cmd->add_option("--data", opts->data, "data in hex, whole blocks (may be empty)")->required();
  CLI::Option* iv = cmd->add_option("--iv", opts->iv, "CBC IV in hex (default: zero block)");
  cmd->callback([opts, iv, encrypt] {
    const std::string& name = opts->cipher;
    const std::size_t dash = name.find('-');
    const BlockCipher cipher = CipherFromName(name.substr(0, dash));
    const CipherMode mode = name.substr(dash + 1) == "cbc" ? CipherMode::kCbc : CipherMode::kEcb;
    const SecretBytes key = KeyOption(opts->key);
    const Bytes data = HexOption(opts->data, "--data");
    Bytes iv_bytes;
    if (mode == CipherMode::kEcb && iv->count() > 0) {
      throw UsageError("--iv: ECB takes no IV");
    }
    if (mode == CipherMode::kCbc) {
      iv_bytes =
          iv->count() > 0 ? HexOption(opts->iv, "--iv") : Bytes(crypto::BlockBytes(cipher), 0);
    }
    const std::string what = encrypt ? "encrypt" : "decrypt";
    PrintHex(Check(encrypt ? crypto::Encrypt(cipher, mode, key, data, iv_bytes)
                           : crypto::Decrypt(cipher, mode, key, data, iv_bytes),
                   what));
  });
}

// ---- hash --------------------------------------------------------------------------------------

void AddHash(CLI::App& crypto) {
  struct Options {
    std::string alg, data;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = crypto.add_subcommand("hash", "SHA-256 or SM3 digest");
  cmd->add_option("--alg", opts->alg, "sha256|sm3")
      ->required()
      ->check(CLI::IsMember({"sha256", "sm3"}));
  cmd->add_option("--data", opts->data, "data in hex (may be empty)")->required();
  cmd->callback([opts] {
    const Bytes data = HexOption(opts->data, "--data");
    const crypto::HashAlgorithm alg =
        opts->alg == "sm3" ? crypto::HashAlgorithm::kSm3 : crypto::HashAlgorithm::kSha256;
    PrintHex(Check(crypto::Hash(alg, data), "hash"));
  });
}

}  // namespace

void RegisterCryptoCommand(CLI::App& app) {
  CLI::App* crypto = app.add_subcommand(
      "crypto", "Payment crypto calculator: KCV, Luhn, EMV keys and cryptograms, MACs, ciphers");
  crypto->require_subcommand(1);
  AddKcv(*crypto);
  AddLuhn(*crypto);
  AddDeriveMk(*crypto);
  AddSessionKey(*crypto);
  AddMac(*crypto);
  AddArqc(*crypto);
  AddArpc(*crypto);
  AddCipherCommand(*crypto, true);
  AddCipherCommand(*crypto, false);
  AddHash(*crypto);
}

}  // namespace tapstack::cli

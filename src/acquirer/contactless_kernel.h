// ContactlessKernel: the terminal side of an EMV contactless transaction, run over any APDU
// transport (NFC reader, an in-process secure element, a test fake). The flow (EMV Contactless
// Book A/B entry point, Book C-2 style kernel; EMV 4.x Book 3 section 6.5; design notes
// section 13):
//
//   1. SELECT PPSE "2PAY.SYS.DDF01"; pick the directory entry with the best priority (87, lowest
//      value first; entries without 87 last) whose AID the kernel supports;
//   2. SELECT that AID; read the PDOL (9F38) from the FCI;
//   3. GET PROCESSING OPTIONS with the PDOL filled from the terminal data (dol.h rules):
//      9F66 TTQ, 9F02, 9F03, 9F1A, 95 TVR, 5F2A, 9A date, 9C type, 9F37 UN, 9F33, 9F35, 9F34;
//   4. READ RECORD over every AFL entry; keep 57, 5A, 5F24, 5F34, 8C CDOL1 ...;
//   5. GENERATE AC asking for an ARQC with the CDOL1 filled from the same data;
//   6. return the outcome: ARQC -> go online (the DE55 bytes for the 0100 are ready);
//      AAC -> declined offline. A TC (offline approval) is refused: this kernel is online-only.
//
// The unpredictable number comes from the injected RandomSource; the date (9A, YYMMDD UTC) from
// the injected Clock. Errors are Status values, never exceptions: a transport failure passes
// through; a status word other than 9000 is kFailedPrecondition naming the command and the SW
// (kNotFound for SELECT 6A82); a malformed card response is kInvalidArgument.
// Not thread-safe: one kernel per reader; Run() one transaction at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/random_source.h"
#include "core/status.h"
#include "crypto/emv_cryptogram.h"
#include "emv/contactless_commands.h"
#include "emv/cryptogram_profile.h"
#include "emv/tag_values.h"

namespace tapstack::acquirer {

// Sends one C-APDU and returns the R-APDU (data || SW1 SW2).
using ApduTransport = std::function<Result<Bytes>(ByteView command_apdu)>;

// Most records one transaction reads (a bound on a hostile AFL).
inline constexpr std::size_t kKernelRecordsMax = 32;

struct ContactlessTerminalData {
  std::uint64_t amount_authorised_minor = 0;  // 9F02, n12
  std::uint64_t amount_other_minor = 0;       // 9F03, n12
  std::uint16_t currency_numeric = 156;       // 5F2A (ISO 4217)
  std::uint16_t country_numeric = 156;        // 9F1A (ISO 3166-1)
  std::uint8_t transaction_type = 0x00;       // 9C: 00 purchase
  std::array<std::uint8_t, 5> tvr{};          // 95
  // 9F66 TTQ (design notes section 9): 26 = EMV mode, online PIN, signature; 80 = online
  // cryptogram required; 40 = CDCVM supported.
  std::array<std::uint8_t, 4> ttq = {0x26, 0x80, 0x40, 0x00};
  // 9F33 terminal capabilities (Book 4 Annex A2): no ICC contact entry; CVM: online PIN,
  // signature, no CVM; security: CDA.
  std::array<std::uint8_t, 3> terminal_capabilities = {0x00, 0x68, 0x08};
  std::uint8_t terminal_type = 0x22;  // 9F35: attended, offline with online capability
};

enum class KernelOutcome : std::uint8_t {
  kOnlineRequest,    // ARQC: send the 0100 with icc_data in DE55
  kDeclinedOffline,  // AAC: the card declined (no CDCVM, HCE keys exhausted ...)
};

struct ContactlessResult {
  KernelOutcome outcome = KernelOutcome::kDeclinedOffline;
  Bytes aid;                                   // the application selected (84 / 4F)
  std::uint8_t cid = 0;                        // 9F27
  std::uint16_t atc = 0;                       // 9F36
  crypto::ApplicationCryptogram cryptogram{};  // 9F26
  Bytes iad;                                   // 9F10
  Bytes track2_equivalent;                     // 57 as read (holds the token, not a PAN)
  std::string token_number;                    // the PAN-position digits of 57 (or 5A)
  std::string expiry_yymm;                     // from 5F24 (YYMMDD) or else from 57
  std::string psn;                             // 5F34 as two digits; empty when the card has none
  Bytes cvm_results;                           // 9F34 (card's, else 3F 00 00 "no CVM performed")
  // DE55 (ISO 8583 field 55, EMV TLV): 9F26 9F27 9F10 9F37 9F36 95 9A 9C 9F02 5F2A 82 9F1A
  // 9F03 9F33 9F34 9F35 84, each when known.
  Bytes icc_data;
  // Everything the terminal sent and the card returned, for the issuer's cryptogram check.
  emv::TagValues terminal_data;
  emv::TagValues card_data;
};

struct ContactlessKernelOptions {
  // AID prefixes this terminal accepts (an AID matches when it starts with one); empty accepts
  // any. Default: Mastercard A0000000041010 and Visa A0000000031010.
  std::vector<Bytes> supported_aid_prefixes = {
      {0xA0, 0x00, 0x00, 0x00, 0x04, 0x10, 0x10},
      {0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10},
  };
};

class ContactlessKernel {
 public:
  // `random` and `clock` must outlive the kernel.
  ContactlessKernel(ApduTransport transport, RandomSource& random, const Clock& clock,
                    ContactlessKernelOptions options = {});

  // Runs one transaction (steps 1-6 above).
  Result<ContactlessResult> Run(const ContactlessTerminalData& data);

  // Sends the issuer's tag 91 value to the card in EXTERNAL AUTHENTICATE (Book 3 6.5.4), after
  // checking its layout against `profile`'s ARPC method (ParseIssuerAuthenticationData). OK when
  // the card accepts it (9000); kCryptoFailure when the card says the ARPC is wrong (6300);
  // kFailedPrecondition for other status words.
  Status ExternalAuthenticate(const emv::CryptogramProfile& profile,
                              ByteView issuer_authentication_data);

 private:
  Result<Bytes> Exchange(const emv::CommandApdu& command, std::string_view what);

  ApduTransport transport_;
  RandomSource& random_;
  const Clock& clock_;
  ContactlessKernelOptions options_;
};

// Tag 91 split per the profile's ARPC method (Book 2 8.2): method 1 = ARPC (8) || ARC (2);
// method 2 = ARPC (4) || CSU (4) || proprietary authentication data (0-8).
struct IssuerAuthentication {
  emv::ArpcMethod method = emv::ArpcMethod::kNone;
  Bytes arpc;
  Bytes arc;          // method 1
  Bytes csu;          // method 2
  Bytes proprietary;  // method 2
};

// Errors: the profile has no ARPC method (kFailedPrecondition); a length that does not fit the
// method (kInvalidArgument).
Result<IssuerAuthentication> ParseIssuerAuthenticationData(const emv::CryptogramProfile& profile,
                                                           ByteView issuer_authentication_data);

// The terminal data as tag values (9F02 9F03 5F2A 9F1A 9C 95 9F66 9F33 9F35, 9A from
// `unix_millis`, 9F37 = `unpredictable_number`).
Result<emv::TagValues> TerminalTagValues(const ContactlessTerminalData& data,
                                         std::int64_t unix_millis, ByteView unpredictable_number);

}  // namespace tapstack::acquirer

// The EMV contactless command set as C-APDU builders and response parsers (EMV 4.x Book 3
// section 6.5, Book 1 section 11; shared/design/domain/emv-and-tokenization.md section 13):
//
//   SELECT PPSE / PSE / AID     00 A4 04 00 Lc <name> 00     -> FCI (6F)
//   GET PROCESSING OPTIONS      80 A8 00 00 Lc 83 L <PDOL data> 00
//                                                           -> 80 AIP AFL  |  77 { 82, 94, ... }
//   READ RECORD                 00 B2 <record> <SFI<<3 | 4> 00  -> 70 { ... }
//   GENERATE AC                 80 AE <P1> 00 Lc <CDOL data> 00
//                                                           -> 80 CID ATC AC IAD | 77 { 9F27 ... }
//   GET DATA                    80 CA <tag> 00
//
// Parsers take the response data field (the R-APDU without its status word; check the status
// word first). Their errors (kInvalidArgument) name the template, the tag and what was wrong.
// Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/emv_cryptogram.h"
#include "emv/apdu.h"
#include "emv/tag_values.h"
#include "emv/tlv.h"

namespace tapstack::emv {

// Directory names (Book 1 12.2.2; EMV contactless Book B).
inline constexpr std::string_view kPseName = "1PAY.SYS.DDF01";   // contact
inline constexpr std::string_view kPpseName = "2PAY.SYS.DDF01";  // contactless

inline constexpr std::size_t kAidBytesMin = 5;  // RID
inline constexpr std::size_t kAidBytesMax = 16;
inline constexpr std::size_t kDfNameBytesMax = 16;
inline constexpr std::uint8_t kSfiMin = 1;
inline constexpr std::uint8_t kSfiMax = 30;
inline constexpr std::size_t kAflEntryBytes = 4;
inline constexpr std::size_t kIssuerApplicationDataBytesMax = 32;  // 9F10

// ---- SELECT -------------------------------------------------------------------------------------

// SELECT by DF name, first or only occurrence: 00 A4 04 00 Lc <name> 00.
// Errors: name empty or longer than kDfNameBytesMax.
Result<CommandApdu> SelectByName(ByteView df_name);
CommandApdu SelectPpse();
CommandApdu SelectPse();
// Errors: AID shorter than kAidBytesMin or longer than kAidBytesMax.
Result<CommandApdu> SelectAid(ByteView aid);

// One application in a PPSE/PSE directory (template 61 inside BF0C).
struct DirectoryEntry {
  Bytes aid;                             // 4F
  std::string label;                     // 50, empty when absent
  std::optional<std::uint8_t> priority;  // 87
  Bytes kernel_identifier;               // 9F2A, empty when absent
};

// A SELECT response: 6F { 84 DF name, A5 { 50, 87, 9F38 PDOL, 9F12, BF0C { 61 ... } } }.
struct FileControlInformation {
  Bytes df_name;                          // 84
  std::string label;                      // 50
  std::optional<std::uint8_t> priority;   // 87
  Bytes pdol;                             // 9F38, empty when absent
  std::string preferred_name;             // 9F12
  std::vector<DirectoryEntry> directory;  // BF0C / 61 entries (PPSE), in order
};

// Errors: not TLV, no 6F template, no 84 inside it, a 61 entry without 4F, an 87 that is not one
// byte.
Result<FileControlInformation> ParseFci(ByteView response_data);

// ---- GET PROCESSING OPTIONS ---------------------------------------------------------------------

// 80 A8 00 00 Lc 83 L <pdol_data> 00. Empty PDOL data gives template 83 00.
// Errors: PDOL data longer than kDolDataBytesMax.
Result<CommandApdu> GetProcessingOptions(ByteView pdol_data);

// One Application File Locator entry (Book 3 10.2).
struct AflEntry {
  std::uint8_t sfi = 0;           // 1-30
  std::uint8_t first_record = 0;  // 1-255
  std::uint8_t last_record = 0;   // >= first_record
  std::uint8_t oda_records = 0;   // records (from the first) used in offline data authentication

  friend bool operator==(const AflEntry&, const AflEntry&) = default;
};

// Errors: length not a multiple of 4, SFI outside 1-30 or its low 3 bits set, first record 0,
// last record before first, more ODA records than records.
Result<std::vector<AflEntry>> ParseAfl(ByteView afl);

enum class ResponseFormat : std::uint8_t { kFormat1 = 1, kFormat2 = 2 };

struct ProcessingOptions {
  ResponseFormat format = ResponseFormat::kFormat1;
  Bytes aip;  // 82, 2 bytes
  Bytes afl;  // 94 as received (may be empty in format 2, e.g. Visa qVSDC)
  std::vector<AflEntry> afl_entries;
  // Format 2 only: every other primitive object of template 77 (qVSDC returns 9F26, 9F10,
  // 9F36, 57, 9F6C ... here).
  TagValues other;
};

// Format 1: 80 L AIP(2) AFL(4n). Format 2: 77 { 82 AIP, [94 AFL], ... }.
// Errors: neither template, trailing data after it, AIP missing or not 2 bytes, AFL malformed.
Result<ProcessingOptions> ParseProcessingOptions(ByteView response_data);

// ---- READ RECORD --------------------------------------------------------------------------------

// 00 B2 <record> <(sfi << 3) | 04> 00. Errors: SFI outside 1-30, record 0.
Result<CommandApdu> ReadRecord(std::uint8_t sfi, std::uint8_t record);

// ---- GENERATE AC --------------------------------------------------------------------------------

// The cryptogram asked for / returned (Book 3 6.5.5: P1 and CID bits 8-7).
enum class CryptogramType : std::uint8_t { kAac = 0x00, kTc = 0x40, kArqc = 0x80 };

std::string_view CryptogramTypeName(CryptogramType type);  // "AAC", "TC", "ARQC"

// The cryptogram type coded in a CID (9F27) byte; nullopt for the reserved value 11.
std::optional<CryptogramType> CryptogramTypeFromCid(std::uint8_t cid);

// 80 AE P1 00 Lc <cdol_data> 00 with P1 = type, plus 10 when CDA is requested.
// Errors: CDOL data empty or longer than kDolDataBytesMax.
Result<CommandApdu> GenerateAc(CryptogramType type, bool cda, ByteView cdol_data);

struct GenerateAcResponse {
  ResponseFormat format = ResponseFormat::kFormat1;
  std::uint8_t cid = 0;   // 9F27
  std::uint16_t atc = 0;  // 9F36
  // 9F26; nullopt in a format 2 CDA response, where the card puts the AC inside 9F4B.
  std::optional<crypto::ApplicationCryptogram> ac;
  Bytes iad;                              // 9F10, empty when absent
  Bytes signed_dynamic_application_data;  // 9F4B (CDA, format 2), empty when absent
};

// Format 1: 80 L CID(1) ATC(2) AC(8) IAD(0-32). Format 2: 77 { 9F27, 9F36, 9F26, [9F10],
// [9F4B] }. Errors: neither template, a mandatory object missing or of the wrong length, IAD
// longer than kIssuerApplicationDataBytesMax.
Result<GenerateAcResponse> ParseGenerateAcResponse(ByteView response_data);

// ---- GET DATA -----------------------------------------------------------------------------------

// 80 CA <tag as P1 P2> 00. Errors: a tag longer than 2 bytes or malformed.
Result<CommandApdu> GetData(TlvTag tag);

// The value of `tag` in a GET DATA response (the TLV object tag L value).
// Errors: not TLV, or the response holds a different tag.
Result<Bytes> ParseGetDataResponse(TlvTag tag, ByteView response_data);

}  // namespace tapstack::emv

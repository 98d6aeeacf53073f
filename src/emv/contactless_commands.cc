#include "emv/contactless_commands.h"

#include <algorithm>
#include <string>

#include "core/hex.h"
#include "emv/dol.h"

namespace tapstack::emv {

namespace {

constexpr std::uint8_t kClaIso = 0x00;
constexpr std::uint8_t kClaProprietary = 0x80;
constexpr std::uint8_t kInsSelect = 0xA4;
constexpr std::uint8_t kInsGetProcessingOptions = 0xA8;
constexpr std::uint8_t kInsReadRecord = 0xB2;
constexpr std::uint8_t kInsGenerateAc = 0xAE;
constexpr std::uint8_t kInsGetData = 0xCA;
constexpr std::uint8_t kP1SelectByName = 0x04;
constexpr std::uint8_t kP2ReadRecordBySfi = 0x04;  // P1 is a record number, SFI in bits 8-4
constexpr std::uint8_t kP1Cda = 0x10;
constexpr std::uint8_t kCidTypeMask = 0xC0;

constexpr TlvTag kTagFci = 0x6F;
constexpr TlvTag kTagDfName = 0x84;
constexpr TlvTag kTagFciProprietary = 0xA5;
constexpr TlvTag kTagLabel = 0x50;
constexpr TlvTag kTagPriority = 0x87;
constexpr TlvTag kTagPdol = 0x9F38;
constexpr TlvTag kTagPreferredName = 0x9F12;
constexpr TlvTag kTagIssuerDiscretionary = 0xBF0C;
constexpr TlvTag kTagApplicationTemplate = 0x61;
constexpr TlvTag kTagAid = 0x4F;
constexpr TlvTag kTagKernelIdentifier = 0x9F2A;
constexpr TlvTag kTagCommandTemplate = 0x83;
constexpr TlvTag kTagFormat1 = 0x80;
constexpr TlvTag kTagFormat2 = 0x77;
constexpr TlvTag kTagAip = 0x82;
constexpr TlvTag kTagAfl = 0x94;
constexpr TlvTag kTagCid = 0x9F27;
constexpr TlvTag kTagAtc = 0x9F36;
constexpr TlvTag kTagAc = 0x9F26;
constexpr TlvTag kTagIad = 0x9F10;
constexpr TlvTag kTagSdad = 0x9F4B;

constexpr std::size_t kAipBytes = 2;
constexpr std::size_t kCidBytes = 1;
constexpr std::size_t kAtcBytes = 2;

std::string Text(ByteView bytes) { return std::string(bytes.begin(), bytes.end()); }

// Decodes `data` and returns the only top-level object, which must be one of the given tags.
Result<const TlvNode*> SingleTemplate(const TlvTree& tree, std::string_view what,
                                      std::initializer_list<TlvTag> allowed) {
  std::string expected;
  for (TlvTag tag : allowed) expected += (expected.empty() ? "" : " or ") + TlvTagHex(tag);
  if (tree.empty()) return InvalidArgument(std::string(what) + ": empty; expected " + expected);
  const TlvNode& root = tree.nodes()[0];
  if (std::find(allowed.begin(), allowed.end(), root.tag) == allowed.end()) {
    return InvalidArgument(std::string(what) + ": starts with tag " + TlvTagHex(root.tag) +
                           "; expected " + expected);
  }
  if (root.next_sibling != kTlvNoNode) {
    return InvalidArgument(std::string(what) + ": data after template " + TlvTagHex(root.tag) +
                           " (tag " + TlvTagHex(tree.nodes()[root.next_sibling].tag) +
                           " at offset " + std::to_string(tree.nodes()[root.next_sibling].offset) +
                           ")");
  }
  return &root;
}

Status CheckLength(std::string_view what, TlvTag tag, ByteView value, std::size_t expected) {
  if (value.size() == expected) return Status::Ok();
  return InvalidArgument(std::string(what) + ": tag " + TlvTagHex(tag) + " has " +
                         std::to_string(value.size()) + " bytes; expected " +
                         std::to_string(expected));
}

Result<std::optional<std::uint8_t>> OptionalPriority(const TlvTree& tree, const TlvNode& parent,
                                                     std::string_view what) {
  const TlvNode* priority = tree.FindChild(parent, kTagPriority);
  if (priority == nullptr) return std::optional<std::uint8_t>();
  TS_RETURN_IF_ERROR(CheckLength(what, kTagPriority, priority->value, 1));
  return std::optional<std::uint8_t>(priority->value[0]);
}

Status CheckCommandData(std::string_view what, ByteView data) {
  if (data.size() > kDolDataBytesMax) {
    return InvalidArgument(std::string(what) + ": " + std::to_string(data.size()) +
                           " bytes of data exceed " + std::to_string(kDolDataBytesMax));
  }
  return Status::Ok();
}

}  // namespace

// ---- SELECT -------------------------------------------------------------------------------------

Result<CommandApdu> SelectByName(ByteView df_name) {
  if (df_name.empty() || df_name.size() > kDfNameBytesMax) {
    return InvalidArgument("select: DF name of " + std::to_string(df_name.size()) +
                           " bytes; expected 1-" + std::to_string(kDfNameBytesMax));
  }
  CommandApdu command;
  command.cla = kClaIso;
  command.ins = kInsSelect;
  command.p1 = kP1SelectByName;
  command.p2 = 0x00;  // first or only occurrence, return FCI
  command.data.assign(df_name.begin(), df_name.end());
  command.le = kShortLeMax;
  return command;
}

CommandApdu SelectPpse() { return std::move(SelectByName(AsBytes(kPpseName))).value(); }

CommandApdu SelectPse() { return std::move(SelectByName(AsBytes(kPseName))).value(); }

Result<CommandApdu> SelectAid(ByteView aid) {
  if (aid.size() < kAidBytesMin || aid.size() > kAidBytesMax) {
    return InvalidArgument("select: AID of " + std::to_string(aid.size()) + " bytes; expected " +
                           std::to_string(kAidBytesMin) + "-" + std::to_string(kAidBytesMax));
  }
  return SelectByName(aid);
}

Result<FileControlInformation> ParseFci(ByteView response_data) {
  constexpr std::string_view kWhat = "fci";
  Result<TlvTree> tree = DecodeTlv(response_data);
  if (!tree.ok()) return InvalidArgument("fci: " + tree.status().message());
  TS_ASSIGN_OR_RETURN(const TlvNode* fci, SingleTemplate(*tree, kWhat, {kTagFci}));
  FileControlInformation out;
  const TlvNode* df_name = tree->FindChild(*fci, kTagDfName);
  if (df_name == nullptr) return InvalidArgument("fci: template 6F has no DF name (84)");
  out.df_name.assign(df_name->value.begin(), df_name->value.end());
  const TlvNode* proprietary = tree->FindChild(*fci, kTagFciProprietary);
  if (proprietary == nullptr) {
    return InvalidArgument("fci: template 6F has no proprietary template (A5)");
  }
  if (const TlvNode* label = tree->FindChild(*proprietary, kTagLabel))
    out.label = Text(label->value);
  TS_ASSIGN_OR_RETURN(out.priority, OptionalPriority(*tree, *proprietary, kWhat));
  if (const TlvNode* pdol = tree->FindChild(*proprietary, kTagPdol)) {
    out.pdol.assign(pdol->value.begin(), pdol->value.end());
  }
  if (const TlvNode* name = tree->FindChild(*proprietary, kTagPreferredName)) {
    out.preferred_name = Text(name->value);
  }
  if (const TlvNode* discretionary = tree->FindChild(*proprietary, kTagIssuerDiscretionary)) {
    for (const TlvNode& entry : tree->children(*discretionary)) {
      if (entry.tag != kTagApplicationTemplate) continue;
      DirectoryEntry directory_entry;
      const TlvNode* aid = tree->FindChild(entry, kTagAid);
      if (aid == nullptr) {
        return InvalidArgument("fci: application template 61 at offset " +
                               std::to_string(entry.offset) + " has no AID (4F)");
      }
      directory_entry.aid.assign(aid->value.begin(), aid->value.end());
      if (const TlvNode* label = tree->FindChild(entry, kTagLabel)) {
        directory_entry.label = Text(label->value);
      }
      TS_ASSIGN_OR_RETURN(directory_entry.priority, OptionalPriority(*tree, entry, kWhat));
      if (const TlvNode* kernel = tree->FindChild(entry, kTagKernelIdentifier)) {
        directory_entry.kernel_identifier.assign(kernel->value.begin(), kernel->value.end());
      }
      out.directory.push_back(std::move(directory_entry));
    }
  }
  return out;
}

// ---- GET PROCESSING OPTIONS ---------------------------------------------------------------------

Result<CommandApdu> GetProcessingOptions(ByteView pdol_data) {
  TS_RETURN_IF_ERROR(CheckCommandData("get processing options", pdol_data));
  CommandApdu command;
  command.cla = kClaProprietary;
  command.ins = kInsGetProcessingOptions;
  TS_RETURN_IF_ERROR(AppendTlv(command.data, kTagCommandTemplate, pdol_data));
  command.le = kShortLeMax;
  return command;
}

Result<std::vector<AflEntry>> ParseAfl(ByteView afl) {
  if (afl.size() % kAflEntryBytes != 0) {
    return InvalidArgument("afl: " + std::to_string(afl.size()) + " bytes is not a multiple of 4");
  }
  std::vector<AflEntry> entries;
  entries.reserve(afl.size() / kAflEntryBytes);
  for (std::size_t pos = 0; pos < afl.size(); pos += kAflEntryBytes) {
    const std::string at = "afl entry " + std::to_string(pos / kAflEntryBytes + 1) + " (" +
                           HexEncode(afl.subspan(pos, kAflEntryBytes)) + "): ";
    AflEntry entry;
    const std::uint8_t sfi_byte = afl[pos];
    entry.sfi = static_cast<std::uint8_t>(sfi_byte >> 3);
    entry.first_record = afl[pos + 1];
    entry.last_record = afl[pos + 2];
    entry.oda_records = afl[pos + 3];
    if ((sfi_byte & 0x07) != 0) return InvalidArgument(at + "low 3 bits of the SFI byte set");
    if (entry.sfi < kSfiMin || entry.sfi > kSfiMax) {
      return InvalidArgument(at + "SFI " + std::to_string(entry.sfi) + " outside 1-30");
    }
    if (entry.first_record == 0) return InvalidArgument(at + "first record 0");
    if (entry.last_record < entry.first_record) {
      return InvalidArgument(at + "last record before first record");
    }
    if (entry.oda_records > entry.last_record - entry.first_record + 1) {
      return InvalidArgument(at + "more ODA records than records");
    }
    entries.push_back(entry);
  }
  return entries;
}

Result<ProcessingOptions> ParseProcessingOptions(ByteView response_data) {
  constexpr std::string_view kWhat = "gpo response";
  Result<TlvTree> tree = DecodeTlv(response_data);
  if (!tree.ok()) return InvalidArgument("gpo response: " + tree.status().message());
  TS_ASSIGN_OR_RETURN(const TlvNode* root,
                      SingleTemplate(*tree, kWhat, {kTagFormat1, kTagFormat2}));
  ProcessingOptions out;
  if (root->tag == kTagFormat1) {
    out.format = ResponseFormat::kFormat1;
    if (root->value.size() < kAipBytes) {
      return InvalidArgument("gpo response: format 1 (80) has " +
                             std::to_string(root->value.size()) + " bytes; the AIP alone is 2");
    }
    out.aip.assign(root->value.begin(), root->value.begin() + kAipBytes);
    out.afl.assign(root->value.begin() + kAipBytes, root->value.end());
  } else {
    out.format = ResponseFormat::kFormat2;
    const TlvNode* aip = tree->FindChild(*root, kTagAip);
    if (aip == nullptr) return InvalidArgument("gpo response: template 77 has no AIP (82)");
    TS_RETURN_IF_ERROR(CheckLength(kWhat, kTagAip, aip->value, kAipBytes));
    out.aip.assign(aip->value.begin(), aip->value.end());
    if (const TlvNode* afl = tree->FindChild(*root, kTagAfl)) {
      out.afl.assign(afl->value.begin(), afl->value.end());
    }
    for (const TlvNode& child : tree->children(*root)) {
      if (child.tag == kTagAip || child.tag == kTagAfl || child.constructed) continue;
      if (out.other.Contains(child.tag)) continue;
      Status status = out.other.Set(child.tag, child.value);
      if (!status.ok()) return status.WithContext("gpo response");
    }
  }
  Result<std::vector<AflEntry>> entries = ParseAfl(out.afl);
  if (!entries.ok()) return entries.status().WithContext("gpo response");
  out.afl_entries = std::move(entries).value();
  return out;
}

// ---- READ RECORD --------------------------------------------------------------------------------

Result<CommandApdu> ReadRecord(std::uint8_t sfi, std::uint8_t record) {
  if (sfi < kSfiMin || sfi > kSfiMax) {
    return InvalidArgument("read record: SFI " + std::to_string(sfi) + " outside 1-30");
  }
  if (record == 0) return InvalidArgument("read record: record number 0");
  CommandApdu command;
  command.cla = kClaIso;
  command.ins = kInsReadRecord;
  command.p1 = record;
  command.p2 = static_cast<std::uint8_t>((sfi << 3) | kP2ReadRecordBySfi);
  command.le = kShortLeMax;
  return command;
}

// ---- GENERATE AC --------------------------------------------------------------------------------

std::string_view CryptogramTypeName(CryptogramType type) {
  switch (type) {
    case CryptogramType::kAac:
      return "AAC";
    case CryptogramType::kTc:
      return "TC";
    case CryptogramType::kArqc:
      return "ARQC";
  }
  return "AAC";
}

std::optional<CryptogramType> CryptogramTypeFromCid(std::uint8_t cid) {
  switch (cid & kCidTypeMask) {
    case 0x00:
      return CryptogramType::kAac;
    case 0x40:
      return CryptogramType::kTc;
    case 0x80:
      return CryptogramType::kArqc;
    default:
      return std::nullopt;  // 11: reserved (AAR in EMV 4.0)
  }
}

Result<CommandApdu> GenerateAc(CryptogramType type, bool cda, ByteView cdol_data) {
  if (cdol_data.empty()) return InvalidArgument("generate ac: CDOL data is empty");
  TS_RETURN_IF_ERROR(CheckCommandData("generate ac", cdol_data));
  CommandApdu command;
  command.cla = kClaProprietary;
  command.ins = kInsGenerateAc;
  command.p1 = static_cast<std::uint8_t>(static_cast<std::uint8_t>(type) | (cda ? kP1Cda : 0));
  command.data.assign(cdol_data.begin(), cdol_data.end());
  command.le = kShortLeMax;
  return command;
}

Result<GenerateAcResponse> ParseGenerateAcResponse(ByteView response_data) {
  constexpr std::string_view kWhat = "generate ac response";
  Result<TlvTree> tree = DecodeTlv(response_data);
  if (!tree.ok()) return InvalidArgument("generate ac response: " + tree.status().message());
  TS_ASSIGN_OR_RETURN(const TlvNode* root,
                      SingleTemplate(*tree, kWhat, {kTagFormat1, kTagFormat2}));
  GenerateAcResponse out;
  ByteView iad;
  if (root->tag == kTagFormat1) {
    out.format = ResponseFormat::kFormat1;
    constexpr std::size_t kFixed = kCidBytes + kAtcBytes + crypto::kApplicationCryptogramBytes;
    if (root->value.size() < kFixed) {
      return InvalidArgument("generate ac response: format 1 (80) has " +
                             std::to_string(root->value.size()) +
                             " bytes; CID, ATC and AC alone are 11");
    }
    const ByteView v = root->value;
    out.cid = v[0];
    out.atc = static_cast<std::uint16_t>((v[1] << 8) | v[2]);
    std::copy_n(v.begin() + 3, crypto::kApplicationCryptogramBytes, out.ac.emplace().begin());
    iad = v.subspan(kFixed);
  } else {
    out.format = ResponseFormat::kFormat2;
    const TlvNode* cid = tree->FindChild(*root, kTagCid);
    const TlvNode* atc = tree->FindChild(*root, kTagAtc);
    const TlvNode* ac = tree->FindChild(*root, kTagAc);
    const TlvNode* sdad = tree->FindChild(*root, kTagSdad);
    if (cid == nullptr)
      return InvalidArgument("generate ac response: template 77 has no CID (9F27)");
    if (atc == nullptr)
      return InvalidArgument("generate ac response: template 77 has no ATC (9F36)");
    // With CDA the cryptogram travels inside the signed dynamic data (Book 2 6.6).
    if (ac == nullptr && sdad == nullptr) {
      return InvalidArgument(
          "generate ac response: template 77 has neither AC (9F26) nor SDAD (9F4B)");
    }
    TS_RETURN_IF_ERROR(CheckLength(kWhat, kTagCid, cid->value, kCidBytes));
    TS_RETURN_IF_ERROR(CheckLength(kWhat, kTagAtc, atc->value, kAtcBytes));
    out.cid = cid->value[0];
    out.atc = static_cast<std::uint16_t>((atc->value[0] << 8) | atc->value[1]);
    if (ac != nullptr) {
      TS_RETURN_IF_ERROR(
          CheckLength(kWhat, kTagAc, ac->value, crypto::kApplicationCryptogramBytes));
      std::copy_n(ac->value.begin(), crypto::kApplicationCryptogramBytes, out.ac.emplace().begin());
    }
    if (sdad != nullptr) {
      out.signed_dynamic_application_data.assign(sdad->value.begin(), sdad->value.end());
    }
    if (const TlvNode* iad_node = tree->FindChild(*root, kTagIad)) iad = iad_node->value;
  }
  if (iad.size() > kIssuerApplicationDataBytesMax) {
    return InvalidArgument("generate ac response: IAD of " + std::to_string(iad.size()) +
                           " bytes exceeds " + std::to_string(kIssuerApplicationDataBytesMax));
  }
  out.iad.assign(iad.begin(), iad.end());
  return out;
}

// ---- GET DATA -----------------------------------------------------------------------------------

Result<CommandApdu> GetData(TlvTag tag) {
  TS_RETURN_IF_ERROR(CheckTlvTag(tag));
  if (tag > 0xFFFF) {
    return InvalidArgument("get data: tag " + TlvTagHex(tag) + " does not fit P1 P2");
  }
  CommandApdu command;
  command.cla = kClaProprietary;
  command.ins = kInsGetData;
  command.p1 = static_cast<std::uint8_t>(tag >> 8);
  command.p2 = static_cast<std::uint8_t>(tag);
  command.le = kShortLeMax;
  return command;
}

Result<Bytes> ParseGetDataResponse(TlvTag tag, ByteView response_data) {
  Result<TlvTree> tree = DecodeTlv(response_data);
  if (!tree.ok()) return InvalidArgument("get data response: " + tree.status().message());
  TS_ASSIGN_OR_RETURN(const TlvNode* root, SingleTemplate(*tree, "get data response", {tag}));
  return Bytes(root->value.begin(), root->value.end());
}

}  // namespace tapstack::emv

#include "acquirer/contactless_kernel.h"

#include <algorithm>
#include <ctime>
#include <limits>
#include <string>
#include <utility>

#include "core/hex.h"
#include "emv/apdu.h"
#include "emv/dol.h"
#include "emv/tlv.h"

namespace tapstack::acquirer {

namespace {

using emv::CommandApdu;
using emv::TagValues;

constexpr std::size_t kUnpredictableNumberBytes = 4;
constexpr std::array<std::uint8_t, 3> kCvmResultsNone = {0x3F, 0x00, 0x00};  // Book 4 A4

// DE55 contents, in this order (the brief's list plus 9F35 and 84, common in network specs).
constexpr std::array<emv::TlvTag, 17> kIccDataTags = {
    0x9F26, 0x9F27, 0x9F10, 0x9F37, 0x9F36, 0x95,   0x9A,   0x9C, 0x9F02,
    0x5F2A, 0x82,   0x9F1A, 0x9F03, 0x9F33, 0x9F34, 0x9F35, 0x84,
};

std::string SwText(emv::StatusWord sw) { return emv::DescribeStatusWord(sw); }

// YYMMDD (UTC) for 9A.
Result<Bytes> TransactionDate(std::int64_t unix_millis) {
  const std::time_t seconds = static_cast<std::time_t>(unix_millis / 1000);
  std::tm tm{};
  if (gmtime_r(&seconds, &tm) == nullptr || tm.tm_year < 100 || tm.tm_year > 199) {
    return InvalidArgument("transaction date outside 2000-2099");
  }
  const auto two = [](int v) {
    return std::string{static_cast<char>('0' + v / 10 % 10), static_cast<char>('0' + v % 10)};
  };
  return BcdEncode(two(tm.tm_year % 100) + two(tm.tm_mon + 1) + two(tm.tm_mday));
}

bool StartsWith(ByteView aid, ByteView prefix) {
  return aid.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), aid.begin());
}

// Track 2 equivalent (Book 3 Annex A, tag 57): PAN digits, 'D', YYMM, service code, ...
// as nibbles; F pads the last byte.
Status ReadTrack2(ByteView track2, std::string& pan, std::string& expiry) {
  const std::string hex = HexEncode(track2);
  const std::size_t separator = hex.find('D');
  if (separator == std::string::npos || separator < 12 || separator > 19 ||
      !IsAllDigits(hex.substr(0, separator)) || hex.size() < separator + 5 ||
      !IsAllDigits(hex.substr(separator + 1, 4))) {
    return InvalidArgument("track 2 equivalent (57): malformed");
  }
  pan = hex.substr(0, separator);
  expiry = hex.substr(separator + 1, 4);
  return Status::Ok();
}

}  // namespace

Result<emv::TagValues> TerminalTagValues(const ContactlessTerminalData& data,
                                         std::int64_t unix_millis, ByteView unpredictable_number) {
  constexpr std::uint64_t kN12Max = 999'999'999'999;
  if (data.amount_authorised_minor > kN12Max || data.amount_other_minor > kN12Max) {
    return OutOfRange("amount above n12");
  }
  if (data.currency_numeric > 999 || data.country_numeric > 999) {
    return InvalidArgument("currency and country codes are 3 digits");
  }
  TagValues t;
  TS_ASSIGN_OR_RETURN(Bytes amount,
                      BcdEncodeFixed(std::to_string(data.amount_authorised_minor), 6));
  TS_ASSIGN_OR_RETURN(Bytes other, BcdEncodeFixed(std::to_string(data.amount_other_minor), 6));
  TS_ASSIGN_OR_RETURN(Bytes currency, BcdEncodeFixed(std::to_string(data.currency_numeric), 2));
  TS_ASSIGN_OR_RETURN(Bytes country, BcdEncodeFixed(std::to_string(data.country_numeric), 2));
  TS_ASSIGN_OR_RETURN(Bytes date, TransactionDate(unix_millis));
  TS_RETURN_IF_ERROR(t.Set(0x9F02, amount));
  TS_RETURN_IF_ERROR(t.Set(0x9F03, other));
  TS_RETURN_IF_ERROR(t.Set(0x5F2A, currency));
  TS_RETURN_IF_ERROR(t.Set(0x9F1A, country));
  TS_RETURN_IF_ERROR(t.Set(0x9A, date));
  TS_RETURN_IF_ERROR(t.Set(0x9C, ByteView(&data.transaction_type, 1)));
  TS_RETURN_IF_ERROR(t.Set(0x95, data.tvr));
  TS_RETURN_IF_ERROR(t.Set(0x9F66, data.ttq));
  TS_RETURN_IF_ERROR(t.Set(0x9F33, data.terminal_capabilities));
  TS_RETURN_IF_ERROR(t.Set(0x9F35, ByteView(&data.terminal_type, 1)));
  TS_RETURN_IF_ERROR(t.Set(0x9F37, unpredictable_number));
  return t;
}

ContactlessKernel::ContactlessKernel(ApduTransport transport, RandomSource& random,
                                     const Clock& clock, ContactlessKernelOptions options)
    : transport_(std::move(transport)),
      random_(random),
      clock_(clock),
      options_(std::move(options)) {}

Result<Bytes> ContactlessKernel::Exchange(const CommandApdu& command, std::string_view what) {
  TS_ASSIGN_OR_RETURN(const Bytes capdu, emv::EncodeCommandApdu(command));
  TS_ASSIGN_OR_RETURN(const Bytes rapdu, transport_(capdu));
  Result<emv::ResponseApdu> response = emv::ParseResponseApdu(rapdu);
  if (!response.ok()) {
    return InvalidArgument(std::string(what) + ": " + response.status().message());
  }
  if (response->sw == emv::kSwFileNotFound && command.ins == 0xA4) {
    return NotFound(std::string(what) + ": " + SwText(response->sw));
  }
  if (!response->sw.IsSuccess()) {
    return FailedPrecondition(std::string(what) + ": card answered " + SwText(response->sw));
  }
  return std::move(response->data);
}

Result<ContactlessResult> ContactlessKernel::Run(const ContactlessTerminalData& data) {
  ContactlessResult result;

  // 1. PPSE (Book B 3.3).
  TS_ASSIGN_OR_RETURN(const Bytes ppse_data, Exchange(emv::SelectPpse(), "select ppse"));
  TS_ASSIGN_OR_RETURN(const emv::FileControlInformation ppse, emv::ParseFci(ppse_data));
  const emv::DirectoryEntry* chosen = nullptr;
  auto rank = [](const emv::DirectoryEntry& e) {
    // 87 bits 4-1: 1 highest ... 15 lowest; 0 or absent means no priority (after the others).
    const int p = e.priority.has_value() ? (*e.priority & 0x0F) : 0;
    return p == 0 ? 16 : p;
  };
  for (const emv::DirectoryEntry& entry : ppse.directory) {
    const bool supported =
        options_.supported_aid_prefixes.empty() ||
        std::any_of(options_.supported_aid_prefixes.begin(), options_.supported_aid_prefixes.end(),
                    [&](const Bytes& prefix) { return StartsWith(entry.aid, prefix); });
    if (!supported) continue;
    if (chosen == nullptr || rank(entry) < rank(*chosen)) chosen = &entry;
  }
  if (chosen == nullptr) return NotFound("select ppse: no supported application in the directory");
  result.aid = chosen->aid;

  // 2. SELECT AID.
  TS_ASSIGN_OR_RETURN(const CommandApdu select, emv::SelectAid(result.aid));
  TS_ASSIGN_OR_RETURN(const Bytes fci_data, Exchange(select, "select aid"));
  TS_ASSIGN_OR_RETURN(const emv::FileControlInformation fci, emv::ParseFci(fci_data));
  TS_RETURN_IF_ERROR(result.card_data.Set(0x84, fci.df_name));

  // 3. GPO with the PDOL data.
  std::array<std::uint8_t, kUnpredictableNumberBytes> un{};
  TS_RETURN_IF_ERROR(random_.Fill(un));
  TS_ASSIGN_OR_RETURN(result.terminal_data, TerminalTagValues(data, clock_.NowUnixMillis(), un));
  TS_RETURN_IF_ERROR(result.terminal_data.Set(0x9F34, kCvmResultsNone));
  const emv::TagSources terminal_sources{&result.terminal_data};
  Bytes pdol_data;
  if (!fci.pdol.empty()) {
    TS_ASSIGN_OR_RETURN(pdol_data, emv::BuildDolData(ByteView(fci.pdol), terminal_sources));
  }
  TS_ASSIGN_OR_RETURN(const CommandApdu gpo, emv::GetProcessingOptions(pdol_data));
  TS_ASSIGN_OR_RETURN(const Bytes gpo_data, Exchange(gpo, "get processing options"));
  TS_ASSIGN_OR_RETURN(const emv::ProcessingOptions options, emv::ParseProcessingOptions(gpo_data));
  TS_RETURN_IF_ERROR(result.card_data.Set(0x82, options.aip));

  // 4. READ RECORD over the AFL.
  std::size_t records_read = 0;
  for (const emv::AflEntry& entry : options.afl_entries) {
    for (unsigned record = entry.first_record; record <= entry.last_record; ++record) {
      if (++records_read > kKernelRecordsMax) {
        return InvalidArgument("afl: more than " + std::to_string(kKernelRecordsMax) + " records");
      }
      TS_ASSIGN_OR_RETURN(const CommandApdu read,
                          emv::ReadRecord(entry.sfi, static_cast<std::uint8_t>(record)));
      TS_ASSIGN_OR_RETURN(const Bytes record_data, Exchange(read, "read record"));
      TS_ASSIGN_OR_RETURN(const emv::TlvTree tree, emv::DecodeTlv(record_data));
      if (tree.empty() || tree.nodes()[0].tag != 0x70) {
        return InvalidArgument("read record: response is not template 70");
      }
      TS_RETURN_IF_ERROR(result.card_data.AddFromTree(tree));
    }
  }

  // The token and its dates (57 first, then 5A / 5F24 / 5F34).
  const std::optional<ByteView> track2 = result.card_data.Get(0x57);
  if (!track2.has_value()) return InvalidArgument("card data: no track 2 equivalent (57)");
  result.track2_equivalent.assign(track2->begin(), track2->end());
  TS_RETURN_IF_ERROR(ReadTrack2(*track2, result.token_number, result.expiry_yymm));
  if (const std::optional<ByteView> expiry = result.card_data.Get(0x5F24);
      expiry.has_value() && expiry->size() == 3) {
    TS_ASSIGN_OR_RETURN(const std::string yymmdd, BcdDecode(*expiry));
    result.expiry_yymm = yymmdd.substr(0, 4);
  }
  if (const std::optional<ByteView> psn = result.card_data.Get(0x5F34); psn.has_value()) {
    if (psn->size() != 1) return InvalidArgument("card data: 5F34 is not one byte");
    TS_ASSIGN_OR_RETURN(result.psn, BcdDecode(*psn));
  }

  // 5. GENERATE AC (ARQC) with the CDOL1 data.
  const std::optional<ByteView> cdol1 = result.card_data.Get(0x8C);
  if (!cdol1.has_value()) return InvalidArgument("card data: no CDOL1 (8C)");
  TS_ASSIGN_OR_RETURN(const Bytes cdol1_data, emv::BuildDolData(*cdol1, terminal_sources));
  TS_ASSIGN_OR_RETURN(const CommandApdu generate_ac,
                      emv::GenerateAc(emv::CryptogramType::kArqc, false, cdol1_data));
  TS_ASSIGN_OR_RETURN(const Bytes ac_data, Exchange(generate_ac, "generate ac"));
  TS_ASSIGN_OR_RETURN(const emv::GenerateAcResponse ac, emv::ParseGenerateAcResponse(ac_data));
  if (!ac.ac.has_value()) return InvalidArgument("generate ac: no cryptogram (CDA not asked)");
  result.cid = ac.cid;
  result.atc = ac.atc;
  result.cryptogram = *ac.ac;
  result.iad = ac.iad;
  const std::optional<emv::CryptogramType> type = emv::CryptogramTypeFromCid(ac.cid);
  if (!type.has_value()) return InvalidArgument("generate ac: CID with the reserved type 11");
  if (*type == emv::CryptogramType::kTc) {
    return InvalidArgument("generate ac: card returned a TC to an ARQC request");
  }
  result.outcome = *type == emv::CryptogramType::kArqc ? KernelOutcome::kOnlineRequest
                                                       : KernelOutcome::kDeclinedOffline;
  TS_RETURN_IF_ERROR(result.card_data.Set(0x9F27, ByteView(&ac.cid, 1)));
  TS_RETURN_IF_ERROR(result.card_data.Set(0x9F36, UintToBytes(ac.atc, 2)));
  TS_RETURN_IF_ERROR(result.card_data.Set(0x9F26, result.cryptogram));
  if (!ac.iad.empty()) TS_RETURN_IF_ERROR(result.card_data.Set(0x9F10, ac.iad));
  // The card's CVM results when it reports them (CDCVM), else the terminal's.
  if (ac.format == emv::ResponseFormat::kFormat2) {
    TS_ASSIGN_OR_RETURN(const emv::TlvTree tree, emv::DecodeTlv(ac_data));
    if (const emv::TlvNode* cvm = tree.Find(0x9F34); cvm != nullptr && cvm->value.size() == 3) {
      TS_RETURN_IF_ERROR(result.terminal_data.Set(0x9F34, cvm->value));
    }
  }
  const std::optional<ByteView> cvm = result.terminal_data.Get(0x9F34);
  result.cvm_results.assign(cvm->begin(), cvm->end());

  // 6. DE55.
  const emv::TagSources all{&result.card_data, &result.terminal_data};
  for (emv::TlvTag tag : kIccDataTags) {
    const std::optional<ByteView> value = all.Find(tag);
    if (value.has_value()) TS_RETURN_IF_ERROR(emv::AppendTlv(result.icc_data, tag, *value));
  }
  return result;
}

Result<IssuerAuthentication> ParseIssuerAuthenticationData(const emv::CryptogramProfile& profile,
                                                           ByteView data) {
  IssuerAuthentication out;
  out.method = profile.arpc_method;
  switch (profile.arpc_method) {
    case emv::ArpcMethod::kMethod1:
      if (data.size() != crypto::kArpcMethod1Bytes + crypto::kArcBytes) {
        return InvalidArgument("tag 91 (ARPC method 1): expected 10 bytes, got " +
                               std::to_string(data.size()));
      }
      out.arpc.assign(data.begin(), data.begin() + 8);
      out.arc.assign(data.begin() + 8, data.end());
      return out;
    case emv::ArpcMethod::kMethod2:
      if (data.size() < crypto::kArpcMethod2Bytes + crypto::kCsuBytes ||
          data.size() > crypto::kArpcMethod2Bytes + crypto::kCsuBytes +
                            crypto::kProprietaryAuthDataBytesMax) {
        return InvalidArgument("tag 91 (ARPC method 2): expected 8-16 bytes, got " +
                               std::to_string(data.size()));
      }
      out.arpc.assign(data.begin(), data.begin() + 4);
      out.csu.assign(data.begin() + 4, data.begin() + 8);
      out.proprietary.assign(data.begin() + 8, data.end());
      return out;
    case emv::ArpcMethod::kNone:
      break;
  }
  return FailedPrecondition("profile " + std::string(profile.name) + " has no ARPC method");
}

Status ContactlessKernel::ExternalAuthenticate(const emv::CryptogramProfile& profile,
                                               ByteView issuer_authentication_data) {
  TS_RETURN_IF_ERROR(ParseIssuerAuthenticationData(profile, issuer_authentication_data).status());
  CommandApdu command;
  command.cla = 0x00;
  command.ins = 0x82;  // EXTERNAL AUTHENTICATE, Book 3 6.5.4
  command.data.assign(issuer_authentication_data.begin(), issuer_authentication_data.end());
  TS_ASSIGN_OR_RETURN(const Bytes capdu, emv::EncodeCommandApdu(command));
  TS_ASSIGN_OR_RETURN(const Bytes rapdu, transport_(capdu));
  TS_ASSIGN_OR_RETURN(const emv::ResponseApdu response, emv::ParseResponseApdu(rapdu));
  if (response.sw.IsSuccess()) return Status::Ok();
  if (response.sw == emv::kSwVerificationFailed) {
    return CryptoFailure("external authenticate: the card rejected the ARPC");
  }
  return FailedPrecondition("external authenticate: card answered " + SwText(response.sw));
}

}  // namespace tapstack::acquirer

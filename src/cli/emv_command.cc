// `tapstack emv ...`: a thin command-line face over src/emv. Every subcommand parses its
// options, calls the library and prints JSON (or hex) on stdout.
#include "cli/emv_command.h"

#include <cstdint>
#include <cstdio>
#include <deque>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>

#include "cli/usage_error.h"
#include "core/hex.h"
#include "crypto/secret_bytes.h"
#include "emv/apdu.h"
#include "emv/arqc_engine.h"
#include "emv/cryptogram_profile.h"
#include "emv/dol.h"
#include "emv/status_word.h"
#include "emv/tag_dictionary.h"
#include "emv/tag_values.h"
#include "emv/tlv.h"

namespace tapstack::cli {

namespace {

using nlohmann::json;

// Bad input is a usage error (exit 2); anything else (OpenSSL refusing) is a failure (exit 1).
[[noreturn]] void ThrowFor(const Status& status, const std::string& what) {
  switch (status.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:
    case ErrorCode::kNotFound:
    case ErrorCode::kFailedPrecondition:
      throw UsageError(what + ": " + status.message());
    default:
      throw std::runtime_error(what + ": " + status.ToString());
  }
}

template <typename T>
T Check(Result<T> result, const std::string& what) {
  if (!result.ok()) ThrowFor(result.status(), what);
  return std::move(result).value();
}

Bytes HexOption(const std::string& value, const std::string& option) {
  return ValueOrUsageError(HexDecode(value), option);
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

void PrintJson(const json& value) { std::cout << value.dump(2) << "\n"; }

json NodeJson(const emv::TlvTree& tree, const emv::TlvNode& node) {
  json out;
  out["tag"] = emv::TlvTagHex(node.tag);
  const std::string_view name = emv::TagName(node.tag);
  if (!name.empty()) out["name"] = std::string(name);
  out["offset"] = node.offset;
  out["length"] = node.value.size();
  out["value"] = HexEncode(node.value);
  if (node.constructed) {
    json children = json::array();
    for (const emv::TlvNode& child : tree.children(node)) children.push_back(NodeJson(tree, child));
    out["children"] = std::move(children);
  }
  return out;
}

json TreeJson(const emv::TlvTree& tree) {
  json roots = json::array();
  for (const emv::TlvNode& root : tree.roots()) roots.push_back(NodeJson(tree, root));
  return roots;
}

[[noreturn]] void ThrowNotHexText(const std::string& option, const std::string& tag) {
  throw UsageError(option + ": tag " + tag + ": value must be hex text");
}

// --tags: one JSON object {"9F02": "000000001000", ...}, or an array of them in priority order.
// A deque keeps the addresses TagSources points at stable.
std::deque<emv::TagValues> TagsOption(const std::string& text, const std::string& option) {
  json parsed;
  try {
    parsed = json::parse(text);
  } catch (const json::parse_error& e) {
    throw UsageError(option + ": not JSON (" + std::string(e.what()) + ")");
  }
  if (parsed.is_object()) parsed = json::array({parsed});
  if (!parsed.is_array() || parsed.empty()) {
    throw UsageError(option + ": expected an object of tag -> hex, or an array of them");
  }
  if (parsed.size() + 1 > emv::kTagSourcesMax) {
    throw UsageError(option + ": at most " + std::to_string(emv::kTagSourcesMax - 1) + " sources");
  }
  std::deque<emv::TagValues> sources;
  for (const json& object : parsed) {
    if (!object.is_object()) throw UsageError(option + ": every source must be a JSON object");
    emv::TagValues& values = sources.emplace_back();
    for (const auto& [tag, value] : object.items()) {
      if (!value.is_string()) ThrowNotHexText(option, tag);
      OkOrUsageError(values.SetHex(tag, value.get<std::string>()), option);
    }
  }
  return sources;
}

emv::TagSources SourcesOf(const std::deque<emv::TagValues>& values) {
  emv::TagSources sources;
  for (const emv::TagValues& v : values) sources.Add(v);
  return sources;
}

std::string ByteHex(std::uint8_t b) { return HexEncode(ByteView(&b, 1)); }

// ---- tlv ---------------------------------------------------------------------------------------

void AddTlv(CLI::App& emv) {
  struct Options {
    std::string hex;
    bool no_padding = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = emv.add_subcommand("tlv", "Decodes BER-TLV and prints the tree as JSON");
  cmd->add_option("hex", opts->hex, "the TLV data in hex")->required();
  cmd->add_flag("--no-padding", opts->no_padding, "read 00/FF as tags instead of padding");
  cmd->callback([opts] {
    const Bytes input = HexOption(opts->hex, "hex");
    emv::TlvDecodeOptions options;
    options.allow_padding = !opts->no_padding;
    const emv::TlvTree tree = Check(emv::DecodeTlv(input, options), "hex");
    PrintJson(TreeJson(tree));
  });
}

// ---- dol ---------------------------------------------------------------------------------------

void AddDol(CLI::App& emv) {
  struct Options {
    std::string dol, tags;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = emv.add_subcommand("dol", "Builds the data a DOL asks for (Book 3 5.4)");
  cmd->add_option("--dol", opts->dol, "the DOL in hex (e.g. a CDOL1 or PDOL)")->required();
  cmd->add_option("--tags", opts->tags,
                  "tag values as JSON {\"9F02\": \"000000001000\"}, or an array of such objects "
                  "(first wins)")
      ->required();
  cmd->callback([opts] {
    const Bytes dol = HexOption(opts->dol, "--dol");
    const std::deque<emv::TagValues> values = TagsOption(opts->tags, "--tags");
    const Bytes data = Check(emv::BuildDolData(dol, SourcesOf(values)), "--dol");
    std::cout << HexEncode(data) << "\n";
  });
}

// ---- apdu --------------------------------------------------------------------------------------

json CommandJson(const emv::CommandApdu& command) {
  json out;
  out["cla"] = ByteHex(command.cla);
  out["ins"] = ByteHex(command.ins);
  const std::string_view name = emv::InstructionName(command.ins);
  if (!name.empty()) out["instruction"] = std::string(name);
  out["p1"] = ByteHex(command.p1);
  out["p2"] = ByteHex(command.p2);
  out["case"] = static_cast<int>(command.Case());
  if (!command.data.empty()) {
    out["lc"] = command.data.size();
    out["data"] = HexEncode(command.data);
  }
  if (command.le) out["le"] = *command.le;
  return out;
}

json ResponseJson(const emv::ResponseApdu& response) {
  json out;
  out["data"] = HexEncode(response.data);
  char sw[5];
  std::snprintf(sw, sizeof sw, "%04X", static_cast<unsigned>(response.sw.value()));
  out["sw"] = sw;
  out["status"] = std::string(emv::StatusWordName(response.sw));
  out["description"] = emv::DescribeStatusWord(response.sw);
  if (!response.data.empty()) {
    // Most EMV responses are TLV; show the tree when the data decodes as such.
    const Result<emv::TlvTree> tree = emv::DecodeTlv(response.data);
    if (tree.ok() && !tree->empty()) out["tlv"] = TreeJson(*tree);
  }
  return out;
}

void AddApdu(CLI::App& emv) {
  struct Options {
    std::string hex;
    bool response = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = emv.add_subcommand("apdu", "Parses a C-APDU (or an R-APDU) and prints JSON");
  cmd->add_option("hex", opts->hex, "the APDU in hex")->required();
  cmd->add_flag("--response", opts->response, "parse a response APDU (data || SW1 SW2)");
  cmd->callback([opts] {
    const Bytes apdu = HexOption(opts->hex, "hex");
    if (opts->response) {
      PrintJson(ResponseJson(Check(emv::ParseResponseApdu(apdu), "hex")));
    } else {
      PrintJson(CommandJson(Check(emv::ParseCommandApdu(apdu), "hex")));
    }
  });
}

// ---- arqc --------------------------------------------------------------------------------------

void AddArqc(CLI::App& emv) {
  struct Options {
    std::string profile, imk, pan, psn = "00", atc, un, tags, iad, arc, csu, pad;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = emv.add_subcommand(
      "arqc", "Computes an ARQC through a cryptogram profile, and the ARPC with --arc/--csu");
  cmd->add_option("--profile", opts->profile,
                  "profile name (see `tapstack emv profiles`), or auto to detect it from the IAD")
      ->required();
  cmd->add_option("--imk", opts->imk, "issuer master key (AC) in hex")->required();
  cmd->add_option("--pan", opts->pan, "PAN digits")->required();
  cmd->add_option("--psn", opts->psn, "PAN sequence number, two digits (default 00)");
  cmd->add_option("--atc", opts->atc, "application transaction counter, 2 bytes hex")->required();
  cmd->add_option("--un", opts->un, "unpredictable number, 4 bytes hex (default: 9F37 of --tags)");
  cmd->add_option("--tags", opts->tags,
                  "terminal and card tag values as JSON (9F02 9F03 9F1A 95 5F2A 9A 9C 82 ...)")
      ->required();
  cmd->add_option("--iad", opts->iad, "issuer application data (9F10) in hex (default: --tags)");
  cmd->add_option("--arc", opts->arc, "authorisation response code, 2 bytes hex (ARPC method 1)");
  cmd->add_option("--csu", opts->csu, "card status update, 4 bytes hex (ARPC method 2)");
  cmd->add_option("--pad", opts->pad, "proprietary authentication data, 0-8 bytes hex (method 2)");
  cmd->callback([opts] {
    const std::deque<emv::TagValues> values = TagsOption(opts->tags, "--tags");
    const emv::TagSources sources = SourcesOf(values);
    const Bytes iad = opts->iad.empty() ? Bytes() : HexOption(opts->iad, "--iad");
    const Bytes un = opts->un.empty() ? Bytes() : HexOptionOfLength(opts->un, "--un", 4);
    const Bytes atc_bytes = HexOptionOfLength(opts->atc, "--atc", 2);

    const emv::CryptogramProfile* profile = nullptr;
    if (opts->profile == "auto") {
      ByteView detect_from = iad;
      if (detect_from.empty()) {
        if (std::optional<ByteView> from_tags = sources.Find(0x9F10)) detect_from = *from_tags;
      }
      profile = emv::DetectCryptogramProfile(detect_from);
      if (profile == nullptr) {
        throw UsageError("--profile: auto: no profile recognises IAD " + HexEncode(detect_from));
      }
    } else {
      profile = emv::FindCryptogramProfile(opts->profile);
      if (profile == nullptr) throw UsageError("--profile: unknown profile " + opts->profile);
    }
    const bool wants_arpc = !opts->arc.empty() || !opts->csu.empty();
    if (!opts->pad.empty() && opts->csu.empty()) throw UsageError("--pad: needs --csu");
    if (wants_arpc && profile->arpc_method == emv::ArpcMethod::kNone) {
      throw UsageError("--arc/--csu: profile " + std::string(profile->name) +
                       " has no ARPC method");
    }
    if (!opts->arc.empty() && profile->arpc_method != emv::ArpcMethod::kMethod1) {
      throw UsageError("--arc: profile " + std::string(profile->name) +
                       " uses ARPC method 2; give --csu");
    }
    if (!opts->csu.empty() && profile->arpc_method != emv::ArpcMethod::kMethod2) {
      throw UsageError("--csu: profile " + std::string(profile->name) +
                       " uses ARPC method 1; give --arc");
    }

    crypto::SecretBytes imk = ValueOrUsageError(crypto::SecretBytes::FromHex(opts->imk), "--imk");
    const emv::ArqcEngine engine =
        Check(emv::ArqcEngine::Create(*profile, std::move(imk)), "--imk");
    emv::ArqcInput in;
    in.pan = opts->pan;
    in.psn = opts->psn;
    in.atc = static_cast<std::uint16_t>((atc_bytes[0] << 8) | atc_bytes[1]);
    in.unpredictable_number = un;
    in.iad = iad;
    in.tags = sources;

    json out;
    out["profile"] = std::string(profile->name);
    Result<Bytes> ac_data = engine.BuildAcData(in);
    if (!ac_data.ok()) {
      // Name the option the bad value came from.
      const Status status = ac_data.status();
      const std::string& message = status.message();
      const std::string option = message.rfind("iad", 0) == 0             ? "--iad"
                                 : message.rfind("unpredictable", 0) == 0 ? "--un"
                                                                          : "--tags";
      ThrowFor(status, option);
    }
    out["ac_data"] = HexEncode(*ac_data);
    const crypto::ApplicationCryptogram arqc = Check(engine.GenerateArqc(in), "arqc");
    out["arqc"] = HexEncode(arqc);
    if (wants_arpc) {
      const Bytes arc = opts->arc.empty() ? Bytes() : HexOptionOfLength(opts->arc, "--arc", 2);
      const Bytes csu = opts->csu.empty() ? Bytes() : HexOptionOfLength(opts->csu, "--csu", 4);
      const Bytes pad = opts->pad.empty() ? Bytes() : HexOption(opts->pad, "--pad");
      emv::ArpcInput response;
      response.arc = arc;
      response.csu = csu;
      response.proprietary_auth_data = pad;
      const emv::ArpcResult arpc =
          Check(engine.GenerateArpc(in, arqc, response), opts->arc.empty() ? "--csu" : "--arc");
      out["arpc"] = HexEncode(arpc.arpc);
      out["issuer_authentication_data"] = HexEncode(arpc.issuer_authentication_data);
    }
    PrintJson(out);
  });
}

// ---- profiles ----------------------------------------------------------------------------------

void AddProfiles(CLI::App& emv) {
  CLI::App* cmd = emv.add_subcommand("profiles", "Lists the cryptogram profiles as JSON");
  cmd->callback([] {
    json out = json::array();
    for (const emv::CryptogramProfile& p : emv::CryptogramProfiles()) {
      json j;
      j["name"] = std::string(p.name);
      j["description"] = std::string(p.description);
      j["uncertain"] = p.uncertain;
      j["notes"] = std::string(p.notes);
      j["cipher"] = std::string(crypto::BlockCipherName(p.cipher));
      j["master_key_derivation"] =
          std::string(emv::MasterKeyDerivationName(p.master_key_derivation));
      j["session_key_derivation"] =
          std::string(emv::SessionKeyDerivationName(p.session_key_derivation));
      j["padding"] = static_cast<int>(p.padding);
      j["arpc_method"] = std::string(emv::ArpcMethodName(p.arpc_method));
      j["arpc_key"] = p.arpc_key == emv::ArpcKey::kMasterKey ? "mk" : "sk";
      out.push_back(std::move(j));
    }
    PrintJson(out);
  });
}

}  // namespace

void RegisterEmvCommand(CLI::App& app) {
  CLI::App* emv = app.add_subcommand("emv", "EMV codecs: TLV, DOL, APDU, ARQC/ARPC");
  emv->require_subcommand(1);
  AddTlv(*emv);
  AddDol(*emv);
  AddApdu(*emv);
  AddArqc(*emv);
  AddProfiles(*emv);
}

}  // namespace tapstack::cli

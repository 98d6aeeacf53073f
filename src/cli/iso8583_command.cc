#include "cli/iso8583_command.h"

#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/usage_error.h"
#include "core/hex.h"
#include "iso8583/codec.h"
#include "iso8583/framing.h"
#include "iso8583/message_json.h"

namespace tapstack::cli {

namespace {

struct Iso8583Options {
  std::string profile = "ascii";
  std::string frame = "none";
  std::string hex;
};

void RunPack(const Iso8583Options& opts) {
  const auto* profile = ValueOrUsageError(iso8583::ProfileByName(opts.profile), "--profile");
  const auto frame = ValueOrUsageError(iso8583::FrameKindByName(opts.frame), "--frame");
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) throw UsageError("stdin: not valid JSON");
  iso8583::Message message;
  OkOrUsageError(iso8583::MessageFromJson(json, message), "stdin");
  std::string wire;
  OkOrUsageError(iso8583::AppendFrameHeader(frame, 0, wire), "--frame");
  OkOrUsageError(iso8583::Pack(message, *profile, wire), "pack");
  iso8583::PatchFrameHeader(frame, 0, wire);
  std::cout << HexEncode(AsBytes(wire)) << "\n";
}

void RunUnpack(const Iso8583Options& opts) {
  const auto* profile = ValueOrUsageError(iso8583::ProfileByName(opts.profile), "--profile");
  const auto frame = ValueOrUsageError(iso8583::FrameKindByName(opts.frame), "--frame");
  const Bytes bytes = ValueOrUsageError(HexDecode(opts.hex), "HEX");
  const ByteView body = ValueOrUsageError(iso8583::UnframeExact(frame, bytes), "HEX");
  iso8583::Message message;
  OkOrUsageError(iso8583::Unpack(body, *profile, message), "unpack");
  std::cout << iso8583::MessageToJson(message).dump(2) << "\n";
}

void AddCommonOptions(CLI::App* cmd, Iso8583Options& opts) {
  cmd->add_option("--profile", opts.profile, "Wire profile: ascii (default), ascii-hexbitmap, bcd");
  cmd->add_option("--frame", opts.frame, "Length header: none (default), 2byte, 4ascii");
}

}  // namespace

void RegisterIso8583Command(CLI::App& app) {
  auto opts = std::make_shared<Iso8583Options>();
  CLI::App* iso = app.add_subcommand("iso8583", "ISO 8583:1987 pack/unpack (docs/ISO8583.md)");
  iso->require_subcommand(1);

  CLI::App* pack = iso->add_subcommand("pack", "Read a JSON message on stdin, print it packed as hex");
  AddCommonOptions(pack, *opts);
  pack->callback([opts] { RunPack(*opts); });

  CLI::App* unpack = iso->add_subcommand("unpack", "Unpack a hex message and print it as JSON");
  AddCommonOptions(unpack, *opts);
  unpack->add_option("HEX", opts->hex, "The message (with its frame header if --frame)")->required();
  unpack->callback([opts] { RunUnpack(*opts); });
}

}  // namespace tapstack::cli

// `tapstack qr ...`: a thin command-line face over src/qr (the JSON view is qr/qr_json.h, so the
// logic is tested there as a library).
#include "cli/qr_command.h"

#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/usage_error.h"
#include "qr/qr_json.h"

namespace tapstack::cli {

namespace {

// Stdin above this is refused: a QR symbol holds under 3 KB, and a JSON tree of one is far less.
constexpr std::size_t kEncodeInputBytesMax = 1 << 20;

void AddDecode(CLI::App& qr) {
  auto payload = std::make_shared<std::string>();
  CLI::App* cmd = qr.add_subcommand(
      "decode", "Decode and validate an EMVCo QR payload (MPM text or CPM base64); prints JSON");
  cmd->add_option("payload", *payload, "the payload as scanned")->required();
  cmd->callback([payload] {
    const nlohmann::json out = qr::DecodeToJson(*payload);
    std::cout << out.dump(2) << "\n" << std::flush;
    if (!out.at("valid").get<bool>()) {
      throw ExitWithCode(kExitFailure, "qr decode: the payload is invalid");
    }
  });
}

void AddEncode(CLI::App& qr) {
  auto no_validate = std::make_shared<bool>(false);
  CLI::App* cmd = qr.add_subcommand(
      "encode",
      "Encode a QR payload from JSON on stdin (MPM object tree or {\"mode\":\"cpm\",...})");
  cmd->add_flag("--no-validate", *no_validate,
                "produce the payload even if it breaks validation rules (test fixtures)");
  cmd->callback([no_validate] {
    std::string input;
    char buffer[4096];
    while (std::cin.read(buffer, sizeof buffer) || std::cin.gcount() > 0) {
      input.append(buffer, static_cast<std::size_t>(std::cin.gcount()));
      if (input.size() > kEncodeInputBytesMax) {
        throw UsageError("qr encode: stdin exceeds " + std::to_string(kEncodeInputBytesMax) +
                         " bytes");
      }
    }
    nlohmann::json tree;
    try {
      tree = nlohmann::json::parse(input);
    } catch (const nlohmann::json::parse_error& e) {
      throw UsageError(std::string("qr encode: stdin is not JSON: ") + e.what());
    }
    qr::QrEncodeOptions options;
    options.validate = !*no_validate;
    std::cout << ValueOrUsageError(qr::EncodeFromJson(tree, options), "qr encode") << "\n";
  });
}

}  // namespace

void RegisterQrCommand(CLI::App& app) {
  CLI::App* qr = app.add_subcommand("qr", "EMVCo QR payloads: decode, validate and encode");
  qr->require_subcommand(1);
  AddDecode(*qr);
  AddEncode(*qr);
}

}  // namespace tapstack::cli

#include "benchkit/iso8583_codec_scenario.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "benchkit/child_process.h"
#include "iso8583/codec.h"

namespace tapstack::benchkit {

std::filesystem::path DefaultIso8583MessagePath() {
  return std::filesystem::path(TAPSTACK_SOURCE_DIR) / "bench" / "data" / "contactless_0100.json";
}

Result<iso8583::Message> LoadNpmFormMessage(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return NotFound(path.string() + ": cannot open");
  const nlohmann::json npm = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!npm.is_object() || !npm.contains("0") || !npm["0"].is_string()) {
    return InvalidArgument(path.string() + ": expected an object with the MTI under \"0\"");
  }
  iso8583::Message m(npm["0"].get<std::string>());
  for (const auto& [key, value] : npm.items()) {
    if (key == "0") continue;
    int field = 0;
    try {
      field = std::stoi(key);
    } catch (const std::exception&) {
      return InvalidArgument(path.string() + ": key \"" + key + "\": expected a field number");
    }
    if (!value.is_string() || !m.Set(field, value.get<std::string>())) {
      return InvalidArgument(path.string() + ": field " + key + ": expected a text value of DE2..DE128");
    }
  }
  return m;
}

std::vector<ScenarioOption> Iso8583CodecScenario::options() const {
  return {{"--profile", "Wire profile: ascii, ascii-hexbitmap, bcd", "ascii"},
          {"--message", "Message in npm iso_8583 JSON form", DefaultIso8583MessagePath().string()}};
}

Status Iso8583CodecScenario::Setup(const ScenarioConfig& config) {
  profile_name_ = config.options.at("--profile");
  Result<const iso8583::Profile*> profile = iso8583::ProfileByName(profile_name_);
  if (!profile.ok()) return profile.status().WithContext("--profile");
  profile_ = *profile;
  message_path_ = config.options.at("--message");
  TS_ASSIGN_OR_RETURN(message_, LoadNpmFormMessage(message_path_));
  workers_.assign(static_cast<std::size_t>(config.limits.threads), Worker{});
  // One round trip before timing: a message the profile cannot carry fails here, not per op.
  std::string wire;
  iso8583::Message parsed;
  TS_RETURN_IF_ERROR(iso8583::Pack(message_, *profile_, wire).WithContext("pack"));
  TS_RETURN_IF_ERROR(iso8583::Unpack(AsBytes(wire), *profile_, parsed).WithContext("unpack"));
  if (!(parsed == message_)) return Internal("unpack(pack(message)) differs from the message");
  return Status::Ok();
}

Status Iso8583CodecScenario::RunOnce(int thread) {
  Worker& w = workers_[static_cast<std::size_t>(thread)];
  w.wire.clear();
  TS_RETURN_IF_ERROR(iso8583::Pack(message_, *profile_, w.wire));
  return iso8583::Unpack(AsBytes(w.wire), *profile_, w.parsed);
}

PeerFigure Iso8583CodecScenario::MeasurePeer(const RunLimits& limits) {
  PeerFigure peer;
  peer.name = "npm iso_8583";
  const std::filesystem::path interop = std::filesystem::path(TAPSTACK_SOURCE_DIR) / "tests" / "interop";
  const std::string how = " (install Node.js and run `npm ci` in " + interop.string() + ")";
  if (!std::filesystem::exists(interop / "node_modules" / "iso_8583")) {
    peer.note = "npm package iso_8583 not installed in " + interop.string() + how;
    return peer;
  }
  Result<ChildOutput> child = RunChild({"node", "iso8583_npm_bench.js", message_path_.string(),
                                        std::to_string(limits.seconds)},
                                       interop);
  if (!child.ok()) {
    peer.note = "could not start node: " + child.status().ToString();
    return peer;
  }
  if (child->exit_code == 127) {
    peer.note = "node not found on PATH" + how;
    return peer;
  }
  const std::size_t brace = child->output.rfind("{\"implementation\"");
  const nlohmann::json figure = brace == std::string::npos
                                    ? nlohmann::json()
                                    : nlohmann::json::parse(child->output.substr(brace), nullptr, false);
  if (child->exit_code != 0 || !figure.is_object() || !figure.contains("messages_per_second")) {
    peer.note = "node iso8583_npm_bench.js failed (exit " + std::to_string(child->exit_code) +
                "): " + child->output.substr(0, 300);
    return peer;
  }
  peer.available = true;
  peer.name = figure.value("implementation", "npm iso_8583") + " (node " + figure.value("node", "?") + ")";
  peer.ops_per_second = figure["messages_per_second"].get<double>();
  peer.note = "one node thread, " + std::to_string(figure.value("messages", std::int64_t{0})) + " pack+unpack in " +
              std::to_string(figure.value("seconds", 0.0)) + " s, npm's ASCII form";
  if (profile_name_ != "ascii") peer.note += " (ours: profile " + profile_name_ + ")";
  if (limits.threads != 1) {
    peer.note += "; ours used " + std::to_string(limits.threads) + " threads: compare with --threads 1";
  }
  return peer;
}

}  // namespace tapstack::benchkit

// `iso8583-codec`: pack + unpack of the contactless 0100 of bench/data/contactless_0100.json
// (22 fields, DE55 of EMV data), reusing the output buffer and the Message as a switch does.
// Peer: npm iso_8583 on the same message through node (tests/interop/iso8583_npm_bench.js).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "benchkit/scenario.h"
#include "core/status.h"
#include "iso8583/message.h"
#include "iso8583/profile.h"

namespace tapstack::benchkit {

// bench/data/contactless_0100.json of the source tree this was built from.
std::filesystem::path DefaultIso8583MessagePath();

// Loads a message in npm iso_8583's JSON form {"0": mti, "<n>": value} (DE55 as hex text), the
// form both tapstack and the npm peer read. Errors: kNotFound (no file), kInvalidArgument (not
// that form; names the key).
Result<iso8583::Message> LoadNpmFormMessage(const std::filesystem::path& path);

class Iso8583CodecScenario : public Scenario {
 public:
  std::string_view name() const override { return "iso8583-codec"; }
  std::string_view description() const override {
    return "ISO 8583 pack + unpack of a contactless 0100 (one op = one message both ways)";
  }
  std::vector<ScenarioOption> options() const override;
  Status Setup(const ScenarioConfig& config) override;
  Status RunOnce(int thread) override;
  bool has_peer() const override { return true; }
  PeerFigure MeasurePeer(const RunLimits& limits) override;

 private:
  struct Worker {
    std::string wire;
    iso8583::Message parsed;
  };
  const iso8583::Profile* profile_ = nullptr;
  std::string profile_name_;
  std::filesystem::path message_path_;
  iso8583::Message message_;
  std::vector<Worker> workers_;
};

}  // namespace tapstack::benchkit

// Test doubles for the network and acquirer tests: a scriptable ISO 8583 peer, an in-memory
// link that loses requests or responses on demand, and a token service that records how each
// token use was answered.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "iso8583/response.h"
#include "link/in_memory_link.h"
#include "link/message_handler.h"
#include "network/token_service.h"

namespace tapstack::testing_peers {

// A peer the test controls (an issuer host, or a switch for a terminal): records every request,
// answers with `decide` (default: approve, with approval code A00001 when the answer has none).
class ScriptedPeer final : public link::MessageHandler {
 public:
  void OnRequest(iso8583::Message request, link::Reply reply) override {
    iso8583::Message response;
    {
      std::lock_guard lock(mu_);
      received_.push_back(request);
      response = decide_ ? decide_(request) : iso8583::ResponseTo(request, "00");
    }
    if (response.Get(39) == std::string_view("00") && !response.Has(38)) response.Set(38, "A00001");
    reply(std::move(response));
  }
  void Decide(std::function<iso8583::Message(const iso8583::Message&)> decide) {
    std::lock_guard lock(mu_);
    decide_ = std::move(decide);
  }
  std::vector<iso8583::Message> Received(std::string_view mti = "") const {
    std::lock_guard lock(mu_);
    std::vector<iso8583::Message> out;
    for (const auto& m : received_) {
      if (mti.empty() || m.mti() == mti) out.push_back(m);
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<iso8583::Message> received_;
  std::function<iso8583::Message(const iso8583::Message&)> decide_;
};

// An in-memory link that can lose a request before it reaches the peer (drop) or deliver it
// and lose the response (time out: the response then arrives late, as a TCP client reports it).
class FaultyLink final : public link::RequestSender {
 public:
  explicit FaultyLink(link::MessageHandler& peer) : inner_(peer) {}
  void Send(iso8583::Message request, link::ResponseCallback done) override {
    if (drop_next > 0) {
      --drop_next;
      return done(Unavailable("request lost"));
    }
    if (time_out_next > 0) {
      --time_out_next;
      return inner_.Send(std::move(request),
                         [this, done = std::move(done)](Result<iso8583::Message> r) {
                           done(Unavailable("response timed out"));
                           if (r.ok() && late) late(std::move(*r));
                         });
    }
    inner_.Send(std::move(request), std::move(done));
  }
  bool ready() const override { return inner_.ready(); }
  void set_up(bool up) { inner_.set_up(up); }

  std::atomic<int> drop_next{0};
  std::atomic<int> time_out_next{0};
  std::function<void(iso8583::Message)> late;

 private:
  link::InMemoryLink inner_;
};

// A token service that knows a fixed set of tokens (DE2 → funding PAN and expiry; any other
// token is kNotFound, which the switch answers "14") and records every OnTokenUseAnswered.
class RecordingTokenService final : public network::TokenService {
 public:
  explicit RecordingTokenService(std::map<std::string, network::Detokenized> tokens)
      : tokens_(std::move(tokens)) {}
  Result<network::Detokenized> Detokenize(const iso8583::Message& request) override {
    auto it = tokens_.find(std::string(request.Get(2).value_or("")));
    if (it == tokens_.end()) return NotFound("token not active");
    return it->second;
  }
  void OnTokenUseAnswered(const network::TokenUseOutcome& outcome) override {
    std::lock_guard lock(mu_);
    outcomes_.push_back(outcome);
  }
  std::vector<network::TokenUseOutcome> Outcomes() const {
    std::lock_guard lock(mu_);
    return outcomes_;
  }

 private:
  const std::map<std::string, network::Detokenized> tokens_;
  mutable std::mutex mu_;
  std::vector<network::TokenUseOutcome> outcomes_;
};

}  // namespace tapstack::testing_peers

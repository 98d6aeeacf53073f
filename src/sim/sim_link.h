// SimLink: a link::RequestSender for the deterministic simulation. Like link::InMemoryLink it
// carries the same bytes as TCP (every request and response is packed and unpacked with the
// profile), but nothing is delivered at once: each request, response and timeout is an event in
// the simulator's agenda at now + a seeded delay, with seeded faults (SimWorld::faults()):
//   drop-request     the request never arrives; the sender gets kUnavailable at its timeout
//   drop-response    the response never arrives; likewise (a late response cannot follow)
//   duplicate        the request arrives twice (the second answer is unmatched, as on TCP)
//   slow             a long delay, which reorders messages
//   link down        set_up(false): Send fails at once, requests waiting for a response fail
//                    with kUnavailable and messages on the wire are lost (a dropped connection)
// and a response after the timeout goes to the late-response handler (as link::Iso8583Client).
// A peer that is down (SimNode::handler == nullptr) loses what is delivered to it. Callbacks of a
// sender that crashed since it sent (its SimNode incarnation moved) are never run.
//
// Set-up (provisioning a token before the run) uses set_immediate(true): delivery on the calling
// thread, as InMemoryLink does, without events or faults.
// Thread-safety: Send from any thread (it only stages an event); everything else on the
// simulator's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "iso8583/message.h"
#include "iso8583/profile.h"
#include "link/message_handler.h"
#include "sim/sim_world.h"

namespace tapstack::sim {

struct SimLinkOptions {
  std::string from;  // SimWorld node names, also used in the trace
  std::string to;
  int timeout_ms = 1'500;  // no response by then: kUnavailable
  bool faulty = true;      // false: no seeded faults on this link (delays still apply)
};

class SimLink final : public link::RequestSender {
 public:
  SimLink(SimWorld& world, SimLinkOptions options,
          const iso8583::Profile& profile = iso8583::AsciiProfile());

  void Send(iso8583::Message request, link::ResponseCallback done) override;
  bool ready() const override { return up_; }

  // Down: fails waiting requests (kUnavailable) and loses what is on the wire. Simulator thread.
  void set_up(bool up);
  void set_immediate(bool immediate) { immediate_ = immediate; }
  void set_late_response_handler(std::function<void(iso8583::Message)> handler) {
    late_ = std::move(handler);
  }
  // Called (simulator thread) for every request delivered to a live peer, before it handles it.
  void set_delivery_observer(std::function<void(const iso8583::Message&)> observer) {
    observer_ = std::move(observer);
  }
  // Requests sent and not yet answered, failed or timed out.
  std::size_t waiting() const { return pending_.size(); }
  const std::string& name() const { return name_; }

 private:
  struct Pending {
    link::ResponseCallback done;
    std::uint64_t sender_incarnation = 0;
  };
  Result<iso8583::Message> RoundTrip(const iso8583::Message& m) const;
  void Dispatch(iso8583::Message request, link::ResponseCallback done, std::uint64_t sender_incarnation);
  void Deliver(std::uint64_t id, iso8583::Message request, std::uint64_t epoch, const char* tag);
  void OnResponse(std::uint64_t id, iso8583::Message response, std::uint64_t epoch, bool drop);
  void OnTimeout(std::uint64_t id);
  void TraceMessage(const std::string& from, const std::string& to, const iso8583::Message& m,
                    const std::string& note);

  SimWorld& world_;
  SimLinkOptions options_;
  const iso8583::Profile& profile_;
  std::string name_;
  bool up_ = true;
  bool immediate_ = false;
  std::uint64_t epoch_ = 0;  // grows when the link goes down: what was on the wire is lost
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Pending> pending_;
  std::set<std::uint64_t> timed_out_;
  std::function<void(iso8583::Message)> late_;
  std::function<void(const iso8583::Message&)> observer_;
};

}  // namespace tapstack::sim

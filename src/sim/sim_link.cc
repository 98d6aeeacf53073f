#include "sim/sim_link.h"

#include "iso8583/codec.h"

namespace tapstack::sim {

SimLink::SimLink(SimWorld& world, SimLinkOptions options, const iso8583::Profile& profile)
    : world_(world), options_(std::move(options)), profile_(profile),
      name_(options_.from + ">" + options_.to) {}

Result<iso8583::Message> SimLink::RoundTrip(const iso8583::Message& m) const {
  std::string wire;
  TS_RETURN_IF_ERROR(iso8583::Pack(m, profile_, wire));
  iso8583::Message out;
  TS_RETURN_IF_ERROR(iso8583::Unpack(AsBytes(wire), profile_, out));
  return out;
}

void SimLink::TraceMessage(const std::string& from, const std::string& to, const iso8583::Message& m,
                           const std::string& note) {
  std::string line = from + ">" + to + " " + std::string(m.mti());
  line += " stan=" + std::string(m.Get(11).value_or("-"));
  line += " rc=" + std::string(m.Get(39).value_or("-"));
  if (!note.empty()) line += " " + note;
  world_.Trace(line);
}

void SimLink::Send(iso8583::Message request, link::ResponseCallback done) {
  auto wire = RoundTrip(request);
  if (!wire.ok()) {
    done(wire.status());
    return;
  }
  if (immediate_) {
    link::MessageHandler* peer = world_.node(options_.to).handler;
    if (peer == nullptr) {
      done(Unavailable("simulated peer " + options_.to + " is down"));
      return;
    }
    peer->OnRequest(std::move(*wire), [this, done = std::move(done)](iso8583::Message response) {
      done(RoundTrip(response));
    });
    return;
  }
  if (!up_) {
    done(Unavailable("simulated link " + name_ + " is down"));
    return;
  }
  // Staged with the packed bytes as its key: the order of sends made on roles' threads during
  // one step is then the order of their contents.
  std::string key;
  (void)iso8583::Pack(*wire, profile_, key);
  key = "send|" + name_ + "|" + key;
  const std::uint64_t incarnation = world_.node(options_.from).incarnation;
  world_.events().Schedule(world_.now_ms(), std::move(key),
                           [this, m = std::move(*wire), done = std::move(done), incarnation]() mutable {
                             Dispatch(std::move(m), std::move(done), incarnation);
                           });
}

void SimLink::Dispatch(iso8583::Message request, link::ResponseCallback done,
                       std::uint64_t sender_incarnation) {
  if (world_.node(options_.from).incarnation != sender_incarnation) return;  // sender died
  if (!up_) {
    done(Unavailable("simulated link " + name_ + " is down"));
    return;
  }
  const std::uint64_t id = next_id_++;
  pending_[id] = {std::move(done), sender_incarnation};
  const std::string tag = std::to_string(id);
  world_.events().Schedule(world_.now_ms() + options_.timeout_ms, "timeout|" + name_ + "|" + tag,
                           [this, id] { OnTimeout(id); });
  const bool faulty = options_.faulty;
  const bool drop = faulty && world_.Chance(world_.faults().drop_request);
  const bool duplicate = faulty && world_.Chance(world_.faults().duplicate_request);
  bool slow = false;
  const std::int64_t delay = world_.DrawDelayMs(&slow);
  world_.Count("messages");
  if (slow) world_.Count("fault:slow");
  if (duplicate) world_.Count("fault:duplicate");
  if (drop) {
    world_.Count("fault:drop-request");
    TraceMessage(options_.from, options_.to, request, "fault=drop-request");
  } else {
    world_.events().Schedule(world_.now_ms() + delay, "deliver|" + name_ + "|" + tag + "|0",
                             [this, id, request, epoch = epoch_, slow] {
                               Deliver(id, request, epoch, slow ? "fault=slow" : "");
                             });
  }
  if (duplicate) {
    bool slow_copy = false;
    const std::int64_t copy_delay = world_.DrawDelayMs(&slow_copy);
    world_.events().Schedule(world_.now_ms() + copy_delay, "deliver|" + name_ + "|" + tag + "|1",
                             [this, id, request = std::move(request), epoch = epoch_] {
                               Deliver(id, request, epoch, "fault=duplicate");
                             });
  }
}

void SimLink::Deliver(std::uint64_t id, iso8583::Message request, std::uint64_t epoch, const char* tag) {
  if (epoch != epoch_) {
    TraceMessage(options_.from, options_.to, request, "lost=link-down");
    return;
  }
  SimNode& peer = world_.node(options_.to);
  if (peer.handler == nullptr) {
    TraceMessage(options_.from, options_.to, request, std::string(tag) + " lost=peer-down");
    return;
  }
  TraceMessage(options_.from, options_.to, request, tag);
  if (observer_) observer_(request);
  // The response's fate is drawn now, on the simulator's thread, whichever thread answers.
  const bool drop = options_.faulty && world_.Chance(world_.faults().drop_response);
  bool slow = false;
  const std::int64_t delay = world_.DrawDelayMs(&slow);
  const std::string key = "response|" + name_ + "|" + std::to_string(id) + "|" + tag;
  peer.handler->OnRequest(std::move(request), [this, id, epoch, drop, delay, key](iso8583::Message response) {
    auto back = RoundTrip(response);
    if (!back.ok()) return;  // a response the codec refuses is lost: the sender times out
    world_.events().Schedule(world_.now_ms() + delay, key,
                             [this, id, epoch, drop, m = std::move(*back)]() mutable {
                               OnResponse(id, std::move(m), epoch, drop);
                             });
  });
}

void SimLink::OnResponse(std::uint64_t id, iso8583::Message response, std::uint64_t epoch, bool drop) {
  if (epoch != epoch_) {
    TraceMessage(options_.to, options_.from, response, "lost=link-down");
    return;
  }
  if (drop) {
    world_.Count("fault:drop-response");
    TraceMessage(options_.to, options_.from, response, "fault=drop-response");
    return;
  }
  auto it = pending_.find(id);
  if (it == pending_.end()) {
    if (timed_out_.contains(id) && late_) {
      TraceMessage(options_.to, options_.from, response, "late");
      late_(std::move(response));
    } else {
      TraceMessage(options_.to, options_.from, response, "unmatched");
    }
    return;
  }
  Pending pending = std::move(it->second);
  pending_.erase(it);
  if (world_.node(options_.from).incarnation != pending.sender_incarnation) {
    TraceMessage(options_.to, options_.from, response, "lost=sender-restarted");
    return;
  }
  TraceMessage(options_.to, options_.from, response, "");
  pending.done(std::move(response));
}

void SimLink::OnTimeout(std::uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending pending = std::move(it->second);
  pending_.erase(it);
  if (world_.node(options_.from).incarnation != pending.sender_incarnation) return;
  timed_out_.insert(id);
  world_.Count("timeouts");
  world_.Trace(name_ + " timeout id=" + std::to_string(id));
  pending.done(Unavailable("simulated link " + name_ + ": no response within " +
                           std::to_string(options_.timeout_ms) + " ms"));
}

void SimLink::set_up(bool up) {
  if (up == up_) return;
  up_ = up;
  world_.Trace(name_ + (up ? " link-up" : " link-down"));
  if (up) return;
  ++epoch_;
  std::map<std::uint64_t, Pending> failed;
  failed.swap(pending_);
  for (auto& [id, pending] : failed) {
    if (world_.node(options_.from).incarnation != pending.sender_incarnation) continue;
    pending.done(Unavailable("simulated link " + name_ + " went down"));
  }
}

}  // namespace tapstack::sim

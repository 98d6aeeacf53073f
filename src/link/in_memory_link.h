// InMemoryLink: a RequestSender that delivers to a MessageHandler in the same process, carrying
// the same bytes a TCP link would (each request and response is packed and unpacked with the
// profile), so a role cannot tell it from a socket. set_up(false) simulates a lost link.
// Thread-safety: Send and set_up from any thread.
#pragma once

#include <atomic>

#include "iso8583/codec.h"
#include "iso8583/profile.h"
#include "link/message_handler.h"

namespace tapstack::link {

class InMemoryLink final : public RequestSender {
 public:
  explicit InMemoryLink(MessageHandler& peer,
                        const iso8583::Profile& profile = iso8583::AsciiProfile())
      : peer_(peer), profile_(profile) {}

  void Send(iso8583::Message request, ResponseCallback done) override {
    if (!up_) {
      done(Unavailable("in-memory link is down"));
      return;
    }
    auto wire = RoundTrip(request);
    if (!wire.ok()) {
      done(wire.status());
      return;
    }
    peer_.OnRequest(std::move(*wire), [this, done = std::move(done)](iso8583::Message response) {
      auto back = RoundTrip(response);
      if (!up_) {
        done(Unavailable("in-memory link went down before the response"));
      } else {
        done(std::move(back));
      }
    });
  }

  bool ready() const override { return up_; }
  void set_up(bool up) { up_ = up; }

 private:
  Result<iso8583::Message> RoundTrip(const iso8583::Message& m) const {
    std::string wire;
    TS_RETURN_IF_ERROR(iso8583::Pack(m, profile_, wire));
    iso8583::Message out;
    TS_RETURN_IF_ERROR(iso8583::Unpack(AsBytes(wire), profile_, out));
    return out;
  }

  MessageHandler& peer_;
  const iso8583::Profile& profile_;
  std::atomic<bool> up_{true};
};

}  // namespace tapstack::link

// A MessageHandler for link tests, and a 0100 authorisation request to send it.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "iso8583/message.h"
#include "iso8583/mti.h"
#include "link/message_handler.h"

namespace tapstack::link::testing {

// Answers network management with 00 and 0100 with DE39 "00" echoing the matching fields;
// a request with DE4 = "000000000666" is held until Release().
class TestHost : public MessageHandler {
 public:
  void OnRequest(iso8583::Message request, Reply reply) override {
    iso8583::Message response(*iso8583::ResponseMti(request.mti()));
    for (int f : {2, 4, 7, 11, 32, 33, 41, 70}) {
      if (auto v = request.Get(f)) response.Set(f, *v);
    }
    response.Set(39, "00");
    std::lock_guard lock(mu_);
    ++requests_;
    if (request.Get(4) == std::string_view("000000000666")) {
      held_.push_back([reply, response] { reply(response); });
      return;
    }
    reply(std::move(response));
  }
  void Release() {
    std::vector<std::function<void()>> held;
    {
      std::lock_guard lock(mu_);
      held.swap(held_);
    }
    for (auto& f : held) f();
  }
  // Requests handled so far, sign-ons and echoes included.
  int requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  std::mutex mu_;
  std::vector<std::function<void()>> held_;
  int requests_ = 0;
};

inline iso8583::Message Auth(int stan, std::string amount = "000000001000") {
  iso8583::Message m("0100");
  std::string s = std::to_string(stan);
  m.Set(4, amount);
  m.Set(11, std::string(6 - s.size(), '0') + s);
  m.Set(41, "TERM0001");
  return m;
}

}  // namespace tapstack::link::testing

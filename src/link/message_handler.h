// MessageHandler: a role that answers ISO 8583 requests. Roles (network switch, issuer host) are
// reached only through this interface, over a TCP link (tcp_server.h / tcp_client.h) or an
// in-memory link (in_memory_link.h) that carries the same bytes.
#pragma once

#include <functional>

#include "core/status.h"
#include "iso8583/message.h"

namespace tapstack::link {

// Delivers the response to one request. Call at most once, from any thread. A handler that cannot
// know what became of a request (its store failed mid-write) drops the Reply uncalled: the sender
// then times out, exactly as when the handler's process dies before answering.
using Reply = std::function<void(iso8583::Message response)>;

class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  // Handles `request`; calls `reply` once when the response is ready (possibly later, from
  // another thread). Every request gets a response (advice acknowledgements are responses too;
  // only keep-alives get none), except one whose outcome the handler cannot know (see Reply).
  virtual void OnRequest(iso8583::Message request, Reply reply) = 0;
};

// The sending side of a link: a client to a peer that answers requests.
// `done` receives the matched response, or kUnavailable (not connected / signed on, link lost,
// or no response within the timeout: the outcome at the peer is then unknown).
using ResponseCallback = std::function<void(Result<iso8583::Message> response)>;

class RequestSender {
 public:
  virtual ~RequestSender() = default;
  virtual void Send(iso8583::Message request, ResponseCallback done) = 0;
  // True when requests can be sent (connected and signed on).
  virtual bool ready() const = 0;
};

}  // namespace tapstack::link

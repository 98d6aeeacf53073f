// SmsGateway: how the TSP sends a one-time password to the cardholder's phone (the yellow path of
// provisioning, emv-and-tokenization.md §4: "OTP by SMS").
//
//   OutboxSmsGateway   writes each message as a row of tsp_sms_outbox (seq, to, text, time) that
//                      List() reads back: the demo and the tests read OTPs there instead of a
//                      phone. The outbox holds the OTP text in clear by design (it stands in for
//                      the phone's inbox), so it is for demos and tests, never for production.
//   WebhookSmsGateway  POSTs {"to": "+86…", "text": "…"} as JSON to a configured URL (an SMS
//                      provider or a relay); the TSP keeps nothing.
// Phone numbers are E.164 (ITU-T E.164: "+", a country code not starting with 0, at most 15
// digits in all; tapstack asks for at least kPhoneDigitsMin).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace tapstack::tsp {

inline constexpr std::size_t kPhoneDigitsMin = 8;
inline constexpr std::size_t kPhoneDigitsMax = 15;  // E.164 §6.1
// An SMS of one GSM 03.38 segment is 160 characters; the OTP text stays within one.
inline constexpr std::size_t kSmsTextBytesMax = 160;
// Rows one List() call returns at most.
inline constexpr std::size_t kSmsOutboxListMax = 100;
// Connect and read timeout of the webhook POST.
inline constexpr int kSmsWebhookTimeoutMs = 5000;

// OK when `phone` is "+" and kPhoneDigitsMin..kPhoneDigitsMax digits, the first not 0.
// Errors: kInvalidArgument naming `field` and what was expected (never echoing the number).
Status CheckE164(std::string_view phone, std::string_view field = "phone");
// "+86*******8000": "+", the first two digits, stars, the last four. For display and logs.
std::string MaskPhone(std::string_view phone);

class SmsGateway {
 public:
  virtual ~SmsGateway() = default;
  // Sends `text` to `phone`. Errors: kInvalidArgument (phone not E.164, text empty or above
  // kSmsTextBytesMax); kUnavailable when the message could not be handed over; the store's.
  // Implementations are thread-safe.
  virtual Status Send(std::string_view phone, std::string_view text) = 0;
};

struct SmsOutboxMessage {
  std::int64_t seq = 0;
  std::string to;
  std::string text;
  std::int64_t time_unix_ms = 0;
};

class OutboxSmsGateway final : public SmsGateway {
 public:
  // Applies the TSP schema. `store`, `clock` and `store_mutex` are not owned and must outlive the
  // gateway; every store use happens under `store_mutex` (the owner's lock of that store, so the
  // gateway can be called without it held). Errors: the store's.
  static Result<std::unique_ptr<OutboxSmsGateway>> Open(store::Store& store, const Clock& clock,
                                                        std::mutex& store_mutex);

  Status Send(std::string_view phone, std::string_view text) override;
  // Send for a caller that already holds `store_mutex`: inside a transaction the caller has open on
  // the store, the message commits (or rolls back) with it, so provisioning stores the OTP's SMS in
  // the same commit as its challenge. Errors: as Send.
  Status SendLocked(std::string_view phone, std::string_view text);

  // The messages to `phone` with seq > `after`, oldest first, at most `limit`
  // (1..kSmsOutboxListMax). Errors: kInvalidArgument (phone, limit); the store's.
  Result<std::vector<SmsOutboxMessage>> List(std::string_view phone, std::int64_t after,
                                             std::size_t limit = kSmsOutboxListMax);

 private:
  OutboxSmsGateway(store::Store& store, const Clock& clock, std::mutex& mu)
      : store_(store), clock_(clock), mu_(mu) {}

  store::Store& store_;
  const Clock& clock_;
  std::mutex& mu_;
};

class WebhookSmsGateway final : public SmsGateway {
 public:
  // `url`: "http://host:port/path" (https when cpp-httplib was built with OpenSSL). Errors:
  // kInvalidArgument naming sms_webhook_url when it has no scheme, host or path.
  static Result<std::unique_ptr<WebhookSmsGateway>> Create(std::string url,
                                                           int timeout_ms = kSmsWebhookTimeoutMs);

  // POSTs {"to","text"}; a 2xx answer is success. Errors: as SmsGateway; kUnavailable for an
  // unreachable URL, a timeout or a non-2xx status (the message names the status, not the text).
  Status Send(std::string_view phone, std::string_view text) override;

 private:
  WebhookSmsGateway(std::string scheme_host_port, std::string path, int timeout_ms)
      : scheme_host_port_(std::move(scheme_host_port)),
        path_(std::move(path)),
        timeout_ms_(timeout_ms) {}

  std::string scheme_host_port_;
  std::string path_;
  int timeout_ms_;
};

}  // namespace tapstack::tsp

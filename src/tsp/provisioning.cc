#include "tsp/provisioning.h"

#include <spdlog/spdlog.h>

#include "core/hex.h"
#include "tsp/limits.h"

namespace tapstack::tsp {

namespace {

const Initiator kIdvInitiator{InitiatorKind::kTsp, "tsp:idv"};

bool IsPrintableId(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (const char c : s) {
    if (c <= 0x20 || c >= 0x7F) return false;
  }
  return true;
}

Status CheckDevice(std::string_view device_id, ByteView device_public_key) {
  if (!IsPrintableId(device_id, kDeviceIdBytesMax)) {
    return InvalidArgument("device_id: expected 1-64 printable ASCII characters, no spaces");
  }
  return CheckDevicePublicKey(device_public_key);
}

Status CheckPanExpiry(std::string_view yymm) {
  if (yymm.size() != 4 || !IsAllDigits(yymm) || yymm.substr(2) < "01" || yymm.substr(2) > "12") {
    return InvalidArgument("pan_expiry: expected YYMM");
  }
  return Status::Ok();
}

}  // namespace

std::string_view ProvisionDecisionName(ProvisionDecision decision) {
  switch (decision) {
    case ProvisionDecision::kApproved: return "approved";
    case ProvisionDecision::kStepUp: return "step_up";
    case ProvisionDecision::kDeclined: return "declined";
  }
  return "declined";
}

Status Provisioning::ChangeInTransaction(std::string_view token_id, LifecycleAction action,
                                         std::string_view reason, TokenRecord* after,
                                         std::vector<TokenEvent>& events) {
  TS_ASSIGN_OR_RETURN(TokenEvent event, d_.lifecycle->ChangeInTransaction(
                                            token_id, action, kIdvInitiator, reason, after));
  // The feed row commits with the change (a crash cannot lose it between the two commits).
  if (d_.notifications != nullptr) TS_RETURN_IF_ERROR(d_.notifications->Append(event));
  events.push_back(std::move(event));
  return Status::Ok();
}

void Provisioning::Announce(const std::vector<TokenEvent>& events) {
  if (events.empty()) return;
  if (d_.notifications != nullptr) {
    for (const TokenEvent& e : events) d_.notifications->Forward(e);
    return;
  }
  // The lifecycle's listener may use the store (a durable feed), so it runs under the lock.
  std::lock_guard lock(*d_.store_mutex);
  for (const TokenEvent& e : events) d_.lifecycle->Announce(e);
}

Status Provisioning::ApproveInTransaction(const Pan& pan, std::string_view pan_expiry,
                                          std::string_view requestor_id,
                                          std::string_view device_id, ByteView device_public_key,
                                          KeyStorage storage, std::string_view reason,
                                          ProvisionOutcome& out,
                                          std::vector<TokenEvent>& events) {
  // One transaction: a failure at any step leaves no half-provisioned token (nothing commits).
  TS_ASSIGN_OR_RETURN(TokenizeResult t,
                      d_.vault->Tokenize(pan, {.pan_expiry = std::string(pan_expiry),
                                               .requestor_id = std::string(requestor_id),
                                               .device_id = std::string(device_id)}));
  const std::string token_id = t.record.token_id;
  if (t.record.state == TokenState::kSuspended) {
    return FailedPrecondition("token " + token_id + " of this card on this device is suspended");
  }
  TS_RETURN_IF_ERROR(d_.keys->Bind(token_id, storage, device_public_key));
  TokenRecord record = t.record;
  if (record.state == TokenState::kInactive) {
    TS_RETURN_IF_ERROR(
        ChangeInTransaction(token_id, LifecycleAction::kActivate, reason, &record, events));
  }
  TS_ASSIGN_OR_RETURN(out.credentials, d_.keys->WrappedCredentials(token_id));
  out.decision = ProvisionDecision::kApproved;
  out.token = std::move(record);
  out.storage = storage;
  return Status::Ok();
}

Result<ProvisionOutcome> Provisioning::Provision(ProvisionRequest request) {
  // The CVV2 is wiped on every path out of this function.
  struct Wipe {
    std::string& s;
    ~Wipe() { SecureWipe(s.data(), s.size()); }
  } wipe_cvv2{request.cvv2};

  if (request.requestor_id.size() != kTokenRequestorIdDigits ||
      !IsAllDigits(request.requestor_id)) {
    return InvalidArgument("requestor_id: expected 11 digits");
  }
  TS_RETURN_IF_ERROR(CheckDevice(request.device_id, request.device_public_key));
  Result<Pan> parsed = Pan::Parse(request.pan);
  SecureWipe(request.pan.data(), request.pan.size());
  if (!parsed.ok()) return InvalidArgument("pan: " + parsed.status().message());
  const Pan pan = std::move(*parsed);
  TS_RETURN_IF_ERROR(CheckPanExpiry(request.pan_expiry));
  if (request.cvv2.size() != 3 || !IsAllDigits(request.cvv2)) {
    return InvalidArgument("cvv2: expected 3 digits");
  }
  if (request.holder_name.size() > kHolderNameBytesMax) {
    return InvalidArgument("holder_name: expected at most " +
                           std::to_string(kHolderNameBytesMax) + " bytes");
  }
  TS_RETURN_IF_ERROR(CheckE164(request.phone));

  std::string stan;
  {
    std::lock_guard lock(*d_.store_mutex);
    TS_ASSIGN_OR_RETURN(const std::int64_t locked_until, d_.otp->LockedOutUntil(pan));
    if (locked_until != 0) {
      ProvisionOutcome out;
      out.decline_reason = "locked_out";
      out.storage = request.storage;
      return out;
    }
    // Mostly from memory: the counter commits once per block of STANs (idv_client.h).
    TS_ASSIGN_OR_RETURN(stan, d_.stans->Next());
  }

  // The network call, with no lock held.
  IdvRequest idv_request{&pan, request.pan_expiry, request.cvv2, request.requestor_id,
                         request.device_id};
  Result<IdvResult> idv = d_.idv->Verify(idv_request, stan);
  SecureWipe(idv_request.cvv2.data(), idv_request.cvv2.size());
  if (!idv.ok()) return idv.status();

  ProvisionOutcome out;
  out.response_code = idv->response_code;
  out.storage = request.storage;
  if (idv->decision == IdvDecision::kRed || idv->decision == IdvDecision::kUnavailable) {
    out.decline_reason = std::string(IdvDeclineReasonName(idv->reason));
    return out;
  }
  std::vector<TokenEvent> events;
  if (idv->decision == IdvDecision::kGreen) {
    ProvisionOutcome approved;
    TS_RETURN_IF_ERROR(d_.commits->Run([&](store::Store&) -> Status {
      approved = ProvisionOutcome{};
      events.clear();
      return ApproveInTransaction(pan, request.pan_expiry, request.requestor_id,
                                  request.device_id, request.device_public_key, request.storage,
                                  "idv green", approved, events);
    }));
    Announce(events);
    approved.response_code = out.response_code;
    return approved;
  }

  // Yellow: a pending token, its key binding, the OTP challenge and (with the outbox) the SMS, in
  // one transaction; any other SMS gateway is called after the commit, with no lock held.
  OtpIssued issued;
  struct WipeOtp {
    OtpIssued& issued;
    ~WipeOtp() { SecureWipe(issued.otp.data(), issued.otp.size()); }
  } wipe_otp{issued};
  Status committed = d_.commits->Run([&](store::Store&) -> Status {
    out.token.reset();
    SecureWipe(issued.otp.data(), issued.otp.size());
    issued = OtpIssued{};
    TS_ASSIGN_OR_RETURN(TokenizeResult t,
                        d_.vault->Tokenize(pan, {.pan_expiry = request.pan_expiry,
                                                 .requestor_id = request.requestor_id,
                                                 .device_id = request.device_id}));
    if (t.record.state == TokenState::kSuspended) {
      return FailedPrecondition("token " + t.record.token_id +
                                " of this card on this device is suspended");
    }
    TS_RETURN_IF_ERROR(
        d_.keys->Bind(t.record.token_id, request.storage, request.device_public_key));
    TS_ASSIGN_OR_RETURN(issued, d_.otp->Issue(t.record.token_id, pan, request.phone));
    if (d_.outbox != nullptr) {
      std::string text = OtpSmsText(issued.otp);
      const Status stored = d_.outbox->SendLocked(request.phone, text);
      SecureWipe(text.data(), text.size());
      TS_RETURN_IF_ERROR(stored.WithContext("otp sms"));
    }
    out.token = std::move(t.record);
    return Status::Ok();
  });
  if (!committed.ok()) return committed;
  if (d_.outbox == nullptr) {
    std::string text = OtpSmsText(issued.otp);
    const Status sent = d_.sms->Send(request.phone, text);
    SecureWipe(text.data(), text.size());
    if (!sent.ok()) return sent.WithContext("otp sms");
  }
  out.decision = ProvisionDecision::kStepUp;
  out.otp = OtpSent{MaskPhone(request.phone), issued.expires_unix_ms, issued.attempts_left};
  return out;
}

Result<TokenRecord> Provisioning::OwnedToken(std::string_view requestor_id,
                                             std::string_view token_id) {
  Result<TokenRecord> record = d_.vault->Get(token_id);
  if (!record.ok() || record->requestor_id != requestor_id) {
    if (record.ok() || record.status().code() == ErrorCode::kNotFound) {
      return NotFound("token " + std::string(token_id) + " not found");
    }
    return record.status();
  }
  return record;
}

Result<OtpVerification> Provisioning::VerifyOtp(std::string_view requestor_id,
                                                std::string_view token_id, std::string_view otp) {
  OtpVerification v;
  std::vector<TokenEvent> events;
  // One transaction: the attempt (or the verification), the activation or the deletion, its
  // notification and an HCE token's ATC reservation commit together.
  TS_RETURN_IF_ERROR(d_.commits->Run([&](store::Store&) -> Status {
    v = OtpVerification{};
    events.clear();
    TS_ASSIGN_OR_RETURN(TokenRecord record, OwnedToken(requestor_id, token_id));
    TS_ASSIGN_OR_RETURN(const OtpCheck check, d_.otp->Verify(token_id, otp));
    v.outcome = check.outcome;
    v.attempts_left = check.attempts_left;
    if (check.outcome == OtpOutcome::kLocked) {
      // Also on a retry after the lock was stored but the token was not deleted.
      if (record.state == TokenState::kDeleted) return Status::Ok();
      return ChangeInTransaction(token_id, LifecycleAction::kDelete, "otp attempts exhausted",
                                 nullptr, events);
    }
    if (check.outcome != OtpOutcome::kVerified) return Status::Ok();
    if (record.state == TokenState::kInactive) {
      TS_RETURN_IF_ERROR(ChangeInTransaction(token_id, LifecycleAction::kActivate,
                                             "otp verified", &record, events));
    }
    TS_ASSIGN_OR_RETURN(v.approved.credentials, d_.keys->WrappedCredentials(token_id));
    TS_ASSIGN_OR_RETURN(v.approved.storage, d_.keys->StorageOf(token_id));
    v.approved.decision = ProvisionDecision::kApproved;
    v.approved.token = std::move(record);
    return Status::Ok();
  }));
  Announce(events);
  return v;
}

Result<ProvisionOutcome> Provisioning::ProvisionToAnotherDevice(std::string_view requestor_id,
                                                                std::string_view source_token_id,
                                                                std::string_view device_id,
                                                                ByteView device_public_key,
                                                                KeyStorage storage) {
  TS_RETURN_IF_ERROR(CheckDevice(device_id, device_public_key));
  std::optional<DetokenizedPan> funding;
  {
    std::lock_guard lock(*d_.store_mutex);
    TS_ASSIGN_OR_RETURN(const TokenRecord source, OwnedToken(requestor_id, source_token_id));
    if (source.state != TokenState::kActive) {
      return FailedPrecondition("source token " + source.token_id + " is " +
                                std::string(TokenStateName(source.state)) + ", not active");
    }
    if (source.device_id == device_id) {
      return InvalidArgument("device_id: the source token's own device");
    }
    // Alone, not in the transaction below: a refused de-tokenisation commits its audit entry.
    TS_ASSIGN_OR_RETURN(funding,
                        d_.vault->Detokenize(source.token_number,
                                             {.actor = "tsp:provisioning",
                                              .purpose = "provision to another device"}));
  }
  const std::string reason = "provisioned from " + std::string(source_token_id);
  ProvisionOutcome out;
  std::vector<TokenEvent> events;
  TS_RETURN_IF_ERROR(d_.commits->Run([&](store::Store&) -> Status {
    out = ProvisionOutcome{};
    events.clear();
    return ApproveInTransaction(funding->pan, funding->pan_expiry, requestor_id, device_id,
                                device_public_key, storage, reason, out, events);
  }));
  Announce(events);
  return out;
}

}  // namespace tapstack::tsp

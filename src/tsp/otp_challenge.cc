#include "tsp/otp_challenge.h"

#include "core/hex.h"
#include "crypto/mac.h"
#include "tsp/schema.h"
#include "tsp/sms_gateway.h"
#include "tsp/store_transaction.h"

namespace tapstack::tsp {

std::string OtpSmsText(std::string_view otp) {
  return "tapstack: your card verification code is " + std::string(otp) + ". It expires in " +
         std::to_string(kOtpValiditySeconds / 60) + " minutes. Never share it.";
}

std::string OtpFromSmsText(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j - i == kOtpDigits) return std::string(text.substr(i, j - i));
    i = j;
  }
  return "";
}

namespace {

constexpr std::string_view kOtpMacLabel = "tapstack-otp-v1";
constexpr std::string_view kLockoutLabel = "tapstack-otp-lockout-v1";
constexpr std::uint64_t kOtpSpace = 1'000'000;  // 10^kOtpDigits
static_assert(kOtpDigits == 6);

Bytes Labelled(std::string_view label, std::initializer_list<std::string_view> parts) {
  Bytes data(label.begin(), label.end());
  for (std::string_view part : parts) {
    data.push_back(0x00);
    data.insert(data.end(), part.begin(), part.end());
  }
  return data;
}

}  // namespace

Result<std::unique_ptr<OtpChallenges>> OtpChallenges::Open(store::Store& store,
                                                           const Clock& clock,
                                                           RandomSource& random,
                                                           crypto::SecretBytes otp_key) {
  if (otp_key.size() != kOtpKeyBytes) {
    return InvalidArgument("otp_key: expected " + std::to_string(kOtpKeyBytes) + " bytes");
  }
  TS_RETURN_IF_ERROR(ApplyTspSchema(store));
  return std::unique_ptr<OtpChallenges>(
      new OtpChallenges(store, clock, random, std::move(otp_key)));
}

Result<Bytes> OtpChallenges::OtpMac(std::string_view token_id, std::string_view otp) const {
  Bytes data = Labelled(kOtpMacLabel, {token_id, otp});
  Result<Bytes> mac = crypto::HmacSha256(key_, data);
  SecureWipe(data.data(), data.size());
  return mac;
}

Result<Bytes> OtpChallenges::LockoutKey(const Pan& pan) const {
  Bytes data = Labelled(kLockoutLabel, {pan.reveal()});
  Result<Bytes> mac = crypto::HmacSha256(key_, data);
  SecureWipe(data.data(), data.size());
  return mac;
}

Result<std::int64_t> OtpChallenges::LockedOutUntil(const Pan& pan) {
  TS_ASSIGN_OR_RETURN(const Bytes key, LockoutKey(pan));
  Result<store::Row> row = store_.QueryRow(
      "SELECT until_unix_ms FROM tsp_provisioning_lockouts WHERE lockout_key = ?", {key});
  if (!row.ok()) {
    if (row.status().code() == ErrorCode::kNotFound) return std::int64_t{0};
    return row.status();
  }
  TS_ASSIGN_OR_RETURN(const std::int64_t until, row->GetInt64(0));
  return until > clock_.NowUnixMillis() ? until : 0;
}

Result<OtpIssued> OtpChallenges::Issue(std::string_view token_id, const Pan& pan,
                                       std::string_view phone) {
  if (token_id.empty()) return InvalidArgument("token_id: expected a token id");
  TS_RETURN_IF_ERROR(CheckE164(phone));
  TS_ASSIGN_OR_RETURN(const std::uint64_t draw, random_.Uniform(kOtpSpace));
  OtpIssued issued;
  issued.otp = std::to_string(draw);
  issued.otp.insert(0, kOtpDigits - issued.otp.size(), '0');
  TS_ASSIGN_OR_RETURN(const Bytes mac, OtpMac(token_id, issued.otp));
  TS_ASSIGN_OR_RETURN(const Bytes lockout_key, LockoutKey(pan));
  const std::int64_t now = clock_.NowUnixMillis();
  issued.expires_unix_ms = now + kOtpValiditySeconds * 1000;
  const std::string masked = MaskPhone(phone);

  Status s = RunInTransactionOrJoin(store_, [&](store::Store& tx) -> Status {
    Result<store::Row> existing = tx.QueryRow(
        "SELECT attempts, state FROM tsp_otp_challenges WHERE token_id = ?", {token_id});
    if (!existing.ok() && existing.status().code() != ErrorCode::kNotFound) {
      return existing.status();
    }
    std::int64_t attempts = 0;
    if (existing.ok()) {
      TS_ASSIGN_OR_RETURN(attempts, existing->GetInt64(0));
      TS_ASSIGN_OR_RETURN(const std::string state, existing->GetText(1));
      if (state == "locked" || attempts >= kOtpAttemptsMax) {
        return FailedPrecondition("otp challenge of " + std::string(token_id) + " is locked");
      }
    }
    issued.attempts_left = kOtpAttemptsMax - static_cast<int>(attempts);
    return tx
        .Execute(
            "INSERT INTO tsp_otp_challenges (token_id, otp_mac, lockout_key, masked_phone, "
            "expires_unix_ms, attempts, state, updated_unix_ms) VALUES (?, ?, ?, ?, ?, ?, "
            "'pending', ?) ON CONFLICT (token_id) DO UPDATE SET otp_mac = excluded.otp_mac, "
            "lockout_key = excluded.lockout_key, masked_phone = excluded.masked_phone, "
            "expires_unix_ms = excluded.expires_unix_ms, state = 'pending', "
            "updated_unix_ms = excluded.updated_unix_ms",
            {token_id, mac, lockout_key, masked, issued.expires_unix_ms, attempts, now})
        .status();
  });
  if (!s.ok()) return s.WithContext("otp issue");
  return issued;
}

Result<OtpCheck> OtpChallenges::Verify(std::string_view token_id, std::string_view otp) {
  if (otp.size() != kOtpDigits || !IsAllDigits(otp)) {
    return InvalidArgument("otp: expected " + std::to_string(kOtpDigits) + " digits");
  }
  TS_ASSIGN_OR_RETURN(const Bytes candidate, OtpMac(token_id, otp));
  const std::int64_t now = clock_.NowUnixMillis();
  OtpCheck check;
  Status s = RunInTransactionOrJoin(store_, [&](store::Store& tx) -> Status {
    Result<store::Row> row = tx.QueryRow(
        "SELECT otp_mac, lockout_key, expires_unix_ms, attempts, state FROM tsp_otp_challenges "
        "WHERE token_id = ?",
        {token_id});
    if (!row.ok()) {
      if (row.status().code() == ErrorCode::kNotFound) {
        return NotFound("no otp challenge for token " + std::string(token_id));
      }
      return row.status();
    }
    TS_ASSIGN_OR_RETURN(const Bytes stored, row->GetBlob(0));
    TS_ASSIGN_OR_RETURN(const Bytes lockout_key, row->GetBlob(1));
    TS_ASSIGN_OR_RETURN(const std::int64_t expires, row->GetInt64(2));
    TS_ASSIGN_OR_RETURN(const std::int64_t attempts, row->GetInt64(3));
    TS_ASSIGN_OR_RETURN(const std::string state, row->GetText(4));
    const bool match = crypto::ConstantTimeEquals(stored, candidate);
    check.attempts_left = kOtpAttemptsMax - static_cast<int>(attempts);
    if (state == "locked") {
      check = {OtpOutcome::kLocked, 0};
      return Status::Ok();
    }
    if (state == "verified") {
      if (!match) return FailedPrecondition("otp challenge already verified");
      check.outcome = OtpOutcome::kVerified;
      return Status::Ok();
    }
    if (now > expires) {
      check.outcome = OtpOutcome::kExpired;
      return Status::Ok();
    }
    if (match) {
      check.outcome = OtpOutcome::kVerified;
      return tx
          .Execute(
              "UPDATE tsp_otp_challenges SET state = 'verified', updated_unix_ms = ? "
              "WHERE token_id = ?",
              {now, token_id})
          .status();
    }
    const std::int64_t used = attempts + 1;
    if (used < kOtpAttemptsMax) {
      check = {OtpOutcome::kMismatch, kOtpAttemptsMax - static_cast<int>(used)};
      return tx
          .Execute(
              "UPDATE tsp_otp_challenges SET attempts = ?, updated_unix_ms = ? WHERE token_id = ?",
              {used, now, token_id})
          .status();
    }
    check = {OtpOutcome::kLocked, 0};
    TS_RETURN_IF_ERROR(tx.Execute("UPDATE tsp_otp_challenges SET attempts = ?, state = 'locked', "
                                  "updated_unix_ms = ? WHERE token_id = ?",
                                  {used, now, token_id})
                           .status());
    return tx
        .Execute(
            "INSERT INTO tsp_provisioning_lockouts (lockout_key, until_unix_ms) VALUES (?, ?) "
            "ON CONFLICT (lockout_key) DO UPDATE SET until_unix_ms = excluded.until_unix_ms",
            {lockout_key, now + kOtpLockoutSeconds * 1000})
        .status();
  });
  if (!s.ok()) return s.WithContext("otp verify");
  return check;
}

}  // namespace tapstack::tsp

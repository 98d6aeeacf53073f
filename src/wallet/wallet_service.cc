// WalletService: construction, ids and idempotency records. Users, devices and cards are in
// wallet_users.cc, wallet_devices.cc and wallet_cards.cc.
#include "wallet/wallet_service.h"

#include <cctype>

#include "core/hex.h"
#include "crypto/mac.h"
#include "wallet/limits.h"
#include "wallet/schema.h"

namespace tapstack::wallet {

Result<std::unique_ptr<WalletService>> WalletService::Open(store::Store& store, TspClient& tsp,
                                                           WalletOptions options) {
  if (options.random == nullptr) return InvalidArgument("random: a RandomSource is required");
  if (options.request_hmac_key.size() < kRequestHmacKeyBytesMin) {
    return InvalidArgument("request_hmac_key: expected at least 32 bytes");
  }
  if (options.requestor_id.size() != 11 || !IsAllDigits(options.requestor_id)) {
    return InvalidArgument("requestor_id: expected an 11-digit token requestor id");
  }
  TS_RETURN_IF_ERROR(CheckCardProducts(options.card_products));
  TS_RETURN_IF_ERROR(ApplyWalletSchema(store));
  return std::unique_ptr<WalletService>(new WalletService(store, tsp, std::move(options)));
}

WalletService::WalletService(store::Store& store, TspClient& tsp, WalletOptions options)
    : store_(&store),
      tsp_(&tsp),
      clock_(options.clock != nullptr ? options.clock : &SystemClock::Instance()),
      random_(options.random),
      options_(std::move(options)) {}

Result<std::string> WalletService::NewId() {
  Bytes id(kWalletIdBytes);
  TS_RETURN_IF_ERROR(random_->Fill(id));
  std::string hex = HexEncode(id);
  for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return hex;
}

Result<IdempotentReply> WalletService::RunIdempotent(const std::string& user_id,
                                                     std::string_view key, std::string_view route,
                                                     std::string_view request_body,
                                                     const std::function<IdempotentReply()>& call) {
  if (key.empty() || key.size() > kIdempotencyKeyBytesMax) {
    return InvalidArgument("Idempotency-Key: expected 1-64 characters");
  }
  for (char c : key) {
    if (c < 0x21 || c > 0x7E) return InvalidArgument("Idempotency-Key: expected printable ASCII");
  }
  // The route is part of the fingerprint, so one key cannot be replayed on another endpoint.
  std::string material = std::string(route) + '\n' + std::string(request_body);
  auto mac = crypto::HmacSha256(options_.request_hmac_key, AsBytes(material));
  SecureWipe(material.data(), material.size());
  if (!mac.ok()) return mac.status();

  std::lock_guard<std::mutex> idem_lock(idempotency_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::int64_t oldest = NowMs() - kIdempotencyRecordTtlSeconds * 1000;
    TS_RETURN_IF_ERROR(
        store_
            ->Execute(
                "DELETE FROM wallet_idempotency WHERE user_id = ? AND idempotency_key = ? AND "
                "created_unix_ms < ?",
                {user_id, key, oldest})
            .status());
    auto row = store_->QueryRow(
        "SELECT request_hmac, http_status, response_body FROM wallet_idempotency WHERE user_id = ? "
        "AND idempotency_key = ?",
        {user_id, key});
    if (row.ok()) {
      TS_ASSIGN_OR_RETURN(Bytes stored, row->GetBlob("request_hmac"));
      if (stored != *mac) {
        return AlreadyExists("Idempotency-Key: already used with another request");
      }
      IdempotentReply reply;
      TS_ASSIGN_OR_RETURN(std::int64_t status, row->GetInt64("http_status"));
      reply.http_status = static_cast<int>(status);
      TS_ASSIGN_OR_RETURN(reply.body, row->GetText("response_body"));
      reply.replayed = true;
      return reply;
    }
    if (row.status().code() != ErrorCode::kNotFound) return row.status();
  }
  IdempotentReply reply = call();
  if (reply.http_status >= 500) return reply;
  std::lock_guard<std::mutex> lock(mu_);
  TS_RETURN_IF_ERROR(store_
                         ->Execute("INSERT INTO wallet_idempotency (user_id, idempotency_key, "
                                   "request_hmac, http_status, "
                                   "response_body, created_unix_ms) VALUES (?, ?, ?, ?, ?, ?)",
                                   {user_id, key, *mac, reply.http_status, reply.body, NowMs()})
                         .status());
  return reply;
}

}  // namespace tapstack::wallet

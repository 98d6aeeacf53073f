// WalletService: devices (register, list, location, lost / found / delete).
#include "core/hex.h"
#include "wallet/limits.h"
#include "wallet/wallet_service.h"

namespace tapstack::wallet {

namespace {

// Uncompressed P-256 point (SEC 1 v2 section 2.3.3): 04 || X || Y, 65 bytes.
constexpr std::size_t kP256PublicKeyBytes = 65;
constexpr const char* kDeviceColumns =
    "device_id, kind, name, se_public_key, storage, state, lat_e6, lon_e6, location_unix_ms, "
    "created_unix_ms";

Status CheckText(std::string_view field, std::string_view value, std::size_t max_bytes) {
  if (value.empty() || value.size() > max_bytes) {
    return InvalidArgument(std::string(field) + ": expected 1-" + std::to_string(max_bytes) +
                           " bytes");
  }
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20) {
      return InvalidArgument(std::string(field) + ": control characters are not allowed");
    }
  }
  return Status::Ok();
}

Status CheckRegistration(const DeviceRegistration& reg) {
  TS_RETURN_IF_ERROR(CheckText("device_id", reg.device_id, kDeviceIdBytesMax));
  for (char c : reg.device_id) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return InvalidArgument("device_id: expected letters, digits, '-', '_' or '.'");
  }
  if (reg.kind != "phone" && reg.kind != "watch") {
    return InvalidArgument("kind: expected \"phone\" or \"watch\"");
  }
  TS_RETURN_IF_ERROR(CheckText("name", reg.name, kDeviceNameBytesMax));
  auto key = HexDecode(reg.se_public_key);
  if (!key.ok() || key->size() != kP256PublicKeyBytes || (*key)[0] != 0x04) {
    return InvalidArgument(
        "se_public_key: expected 130 hex digits, an uncompressed P-256 point (04…)");
  }
  if (reg.storage != "se" && reg.storage != "hce") {
    return InvalidArgument("storage: expected \"se\" or \"hce\"");
  }
  return Status::Ok();
}

Result<Device> DeviceFromRow(const store::Row& row) {
  Device d;
  TS_ASSIGN_OR_RETURN(d.device_id, row.GetText("device_id"));
  TS_ASSIGN_OR_RETURN(d.kind, row.GetText("kind"));
  TS_ASSIGN_OR_RETURN(d.name, row.GetText("name"));
  TS_ASSIGN_OR_RETURN(d.se_public_key, row.GetText("se_public_key"));
  TS_ASSIGN_OR_RETURN(d.storage, row.GetText("storage"));
  TS_ASSIGN_OR_RETURN(d.state, row.GetText("state"));
  TS_ASSIGN_OR_RETURN(auto lat, row.GetOptionalInt64("lat_e6"));
  TS_ASSIGN_OR_RETURN(auto lon, row.GetOptionalInt64("lon_e6"));
  TS_ASSIGN_OR_RETURN(auto at, row.GetOptionalInt64("location_unix_ms"));
  if (lat && lon && at) d.last_location = Location{*lat, *lon, *at};
  TS_ASSIGN_OR_RETURN(d.created_unix_ms, row.GetInt64("created_unix_ms"));
  return d;
}

}  // namespace

Result<Device> WalletService::LoadDevice(const std::string& user_id, const std::string& device_id) {
  auto row = store_->QueryRow(std::string("SELECT ") + kDeviceColumns +
                                  " FROM wallet_devices WHERE device_id = ? AND user_id = ? AND "
                                  "state <> 'deleted'",
                              {device_id, user_id});
  if (!row.ok()) {
    if (row.status().code() == ErrorCode::kNotFound) return NotFound("device_id: no such device");
    return row.status();
  }
  return DeviceFromRow(*row);
}

Result<Device> WalletService::RegisterDevice(const std::string& user_id,
                                             const DeviceRegistration& reg) {
  TS_RETURN_IF_ERROR(CheckRegistration(reg));
  std::lock_guard<std::mutex> lock(mu_);
  auto existing = store_->QueryRow(
      "SELECT user_id, kind, name, se_public_key, storage, state FROM wallet_devices WHERE "
      "device_id = ?",
      {reg.device_id});
  if (existing.ok()) {
    // A retry of the same registration returns the device; anything else is a conflict (also for
    // a device id of another user, which says no more than that the id is taken).
    TS_ASSIGN_OR_RETURN(std::string owner, existing->GetText("user_id"));
    TS_ASSIGN_OR_RETURN(std::string kind, existing->GetText("kind"));
    TS_ASSIGN_OR_RETURN(std::string name, existing->GetText("name"));
    TS_ASSIGN_OR_RETURN(std::string key, existing->GetText("se_public_key"));
    TS_ASSIGN_OR_RETURN(std::string storage, existing->GetText("storage"));
    TS_ASSIGN_OR_RETURN(std::string state, existing->GetText("state"));
    if (owner == user_id && state != "deleted" && kind == reg.kind && name == reg.name &&
        key == reg.se_public_key && storage == reg.storage) {
      return LoadDevice(user_id, reg.device_id);
    }
    return AlreadyExists("device_id: already registered");
  }
  if (existing.status().code() != ErrorCode::kNotFound) return existing.status();
  TS_ASSIGN_OR_RETURN(store::Row count,
                      store_->QueryRow("SELECT count(*) AS n FROM wallet_devices WHERE user_id = ? "
                                       "AND state <> 'deleted'",
                                       {user_id}));
  TS_ASSIGN_OR_RETURN(std::int64_t n, count.GetInt64("n"));
  if (n >= static_cast<std::int64_t>(kDevicesPerUserMax)) {
    return OutOfRange("device_id: at most " + std::to_string(kDevicesPerUserMax) +
                      " devices per account");
  }
  std::int64_t now = NowMs();
  TS_RETURN_IF_ERROR(
      store_
          ->Execute("INSERT INTO wallet_devices (device_id, user_id, kind, name, se_public_key, "
                    "storage, state, "
                    "created_unix_ms, updated_unix_ms) VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?)",
                    {reg.device_id, user_id, reg.kind, reg.name, reg.se_public_key, reg.storage,
                     now, now})
          .status());
  return LoadDevice(user_id, reg.device_id);
}

Result<std::vector<Device>> WalletService::ListDevices(const std::string& user_id) {
  std::lock_guard<std::mutex> lock(mu_);
  TS_ASSIGN_OR_RETURN(store::Rows rows,
                      store_->Query(std::string("SELECT ") + kDeviceColumns +
                                        " FROM wallet_devices WHERE user_id = ? AND state <> "
                                        "'deleted' ORDER BY created_unix_ms, device_id",
                                    {user_id}));
  std::vector<Device> out;
  for (const store::Row& row : rows) {
    TS_ASSIGN_OR_RETURN(Device d, DeviceFromRow(row));
    out.push_back(std::move(d));
  }
  return out;
}

Result<Device> WalletService::GetDevice(const std::string& user_id, const std::string& device_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return LoadDevice(user_id, device_id);
}

Result<Device> WalletService::ReportLocation(const std::string& user_id,
                                             const std::string& device_id, std::int64_t lat_e6,
                                             std::int64_t lon_e6) {
  if (lat_e6 < -kLatitudeE6Max || lat_e6 > kLatitudeE6Max) {
    return InvalidArgument("lat_e6: expected -90000000..90000000 micro-degrees");
  }
  if (lon_e6 < -kLongitudeE6Max || lon_e6 > kLongitudeE6Max) {
    return InvalidArgument("lon_e6: expected -180000000..180000000 micro-degrees");
  }
  std::lock_guard<std::mutex> lock(mu_);
  TS_RETURN_IF_ERROR(LoadDevice(user_id, device_id).status());
  std::int64_t now = NowMs();
  TS_RETURN_IF_ERROR(store_
                         ->Execute("UPDATE wallet_devices SET lat_e6 = ?, lon_e6 = ?, "
                                   "location_unix_ms = ?, updated_unix_ms = ? "
                                   "WHERE device_id = ? AND user_id = ?",
                                   {lat_e6, lon_e6, now, now, device_id, user_id})
                         .status());
  return LoadDevice(user_id, device_id);
}

Result<std::vector<std::pair<std::string, CardToken>>> WalletService::DeviceTokens(
    const std::string& device_id) {
  TS_ASSIGN_OR_RETURN(store::Rows rows,
                      store_->Query("SELECT token_id, card_id, token_last4, token_expiry, state "
                                    "FROM wallet_card_tokens WHERE device_id = ? ORDER BY token_id",
                                    {device_id}));
  std::vector<std::pair<std::string, CardToken>> out;
  for (const store::Row& row : rows) {
    CardToken t;
    t.device_id = device_id;
    TS_ASSIGN_OR_RETURN(t.token_id, row.GetText("token_id"));
    TS_ASSIGN_OR_RETURN(std::string card_id, row.GetText("card_id"));
    TS_ASSIGN_OR_RETURN(t.token_last4, row.GetText("token_last4"));
    TS_ASSIGN_OR_RETURN(t.token_expiry, row.GetText("token_expiry"));
    TS_ASSIGN_OR_RETURN(t.state, row.GetText("state"));
    out.emplace_back(std::move(card_id), std::move(t));
  }
  return out;
}

Status WalletService::SaveTokenState(const std::string& token_id, const std::string& state) {
  return store_
      ->Execute(
          "UPDATE wallet_card_tokens SET state = ?, updated_unix_ms = ? WHERE "
          "token_id = ?",
          {state, NowMs(), token_id})
      .status();
}

std::vector<TokenActionReport> WalletService::ApplyToTokens(
    const std::vector<std::pair<std::string, CardToken>>& tokens, const std::string& done_state,
    const std::function<Result<TspToken>(const std::string&)>& action) {
  std::vector<TokenActionReport> reports;
  for (const auto& [card_id, token] : tokens) {
    TokenActionReport r{.token_id = token.token_id,
                        .card_id = card_id,
                        .device_id = token.device_id,
                        .ok = false,
                        .state = token.state,
                        .error = ""};
    if (token.state == done_state || token.state == "deleted") {
      r.ok = true;  // done by an earlier call: retries skip it
      reports.push_back(std::move(r));
      continue;
    }
    auto result = action(token.token_id);
    if (!result.ok() && result.status().code() == ErrorCode::kFailedPrecondition) {
      // The TSP refused the change for the token's state: it may have been done already (an
      // earlier attempt whose answer was lost, or the issuer). Ask for the state.
      auto current = tsp_->GetToken(token.token_id);
      if (current.ok() && (current->state == done_state || current->state == "deleted")) {
        result = std::move(current);
      }
    }
    if (result.ok()) {
      r.state = result->state;
      Status saved = SaveTokenState(token.token_id, result->state);
      r.ok = saved.ok();
      if (!saved.ok()) r.error = saved.ToString();
    } else {
      r.error = result.status().ToString();
    }
    reports.push_back(std::move(r));
  }
  return reports;
}

namespace {

bool AllOk(const std::vector<TokenActionReport>& reports) {
  for (const TokenActionReport& r : reports) {
    if (!r.ok) return false;
  }
  return true;
}

}  // namespace

Result<DeviceActionResult> WalletService::MarkDeviceLost(const std::string& user_id,
                                                         const std::string& device_id) {
  std::lock_guard<std::mutex> lock(mu_);
  TS_RETURN_IF_ERROR(LoadDevice(user_id, device_id).status());
  // Lost first and durably: even if the TSP cannot be reached now, the wallet treats the device
  // as lost, and a retry finishes the suspensions.
  TS_RETURN_IF_ERROR(store_
                         ->Execute("UPDATE wallet_devices SET state = 'lost', updated_unix_ms = ? "
                                   "WHERE device_id = ? AND user_id = ?",
                                   {NowMs(), device_id, user_id})
                         .status());
  TS_ASSIGN_OR_RETURN(auto all_tokens, DeviceTokens(device_id));
  // Pending (inactive) tokens cannot pay and the TSP refuses to suspend them (409); VerifyCard
  // refuses to activate them while the device is lost.
  std::vector<std::pair<std::string, CardToken>> tokens;
  for (auto& t : all_tokens) {
    if (t.second.state != "inactive") tokens.push_back(std::move(t));
  }
  DeviceActionResult result;
  result.tokens = ApplyToTokens(tokens, "suspended", [this](const std::string& id) {
    return tsp_->Suspend(id, "device lost");
  });
  result.all_succeeded = AllOk(result.tokens);
  TS_ASSIGN_OR_RETURN(result.device, LoadDevice(user_id, device_id));
  return result;
}

Result<DeviceActionResult> WalletService::MarkDeviceFound(const std::string& user_id,
                                                          const std::string& device_id) {
  std::lock_guard<std::mutex> lock(mu_);
  TS_ASSIGN_OR_RETURN(Device device, LoadDevice(user_id, device_id));
  TS_ASSIGN_OR_RETURN(auto all_tokens, DeviceTokens(device_id));
  // Only suspended tokens are resumed; pending (inactive) ones wait for their OTP.
  std::vector<std::pair<std::string, CardToken>> tokens;
  for (auto& t : all_tokens) {
    if (t.second.state == "suspended") tokens.push_back(std::move(t));
  }
  DeviceActionResult result;
  result.tokens = ApplyToTokens(
      tokens, "active", [this](const std::string& id) { return tsp_->Resume(id, "device found"); });
  result.all_succeeded = AllOk(result.tokens);
  if (result.all_succeeded) {
    TS_RETURN_IF_ERROR(store_
                           ->Execute("UPDATE wallet_devices SET state = 'active', "
                                     "updated_unix_ms = ? WHERE device_id = ? AND user_id = ?",
                                     {NowMs(), device_id, user_id})
                           .status());
  }
  TS_ASSIGN_OR_RETURN(result.device, LoadDevice(user_id, device_id));
  return result;
}

Result<DeviceActionResult> WalletService::DeleteDevice(const std::string& user_id,
                                                       const std::string& device_id) {
  std::lock_guard<std::mutex> lock(mu_);
  TS_RETURN_IF_ERROR(LoadDevice(user_id, device_id).status());
  TS_ASSIGN_OR_RETURN(auto tokens, DeviceTokens(device_id));
  DeviceActionResult result;
  result.tokens = ApplyToTokens(tokens, "deleted", [this](const std::string& id) {
    return tsp_->Delete(id, "device replaced");
  });
  result.all_succeeded = AllOk(result.tokens);
  TS_ASSIGN_OR_RETURN(result.device, LoadDevice(user_id, device_id));
  if (result.all_succeeded) {
    TS_RETURN_IF_ERROR(store_
                           ->Execute("UPDATE wallet_devices SET state = 'deleted', "
                                     "updated_unix_ms = ? WHERE device_id = ? AND user_id = ?",
                                     {NowMs(), device_id, user_id})
                           .status());
    result.device.state = "deleted";
  }
  return result;
}

}  // namespace tapstack::wallet

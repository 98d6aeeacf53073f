#include "device/secure_element.h"

#include "crypto/device_key_wrap.h"

namespace tapstack::device {

Result<std::unique_ptr<SecureElement>> SecureElement::Open(SecureElementOptions options) {
  TS_RETURN_IF_ERROR(DeviceStore::CheckDeviceId(options.device_id));
  const Clock& clock = options.clock != nullptr ? *options.clock : SystemClock::Instance();
  TS_ASSIGN_OR_RETURN(std::unique_ptr<DeviceStore> store,
                      DeviceStore::Open(options.data_dir, options.device_id));
  TS_ASSIGN_OR_RETURN(std::optional<crypto::SecretBytes> stored_key, store->LoadDeviceKey());
  Result<crypto::EcdhPrivateKey> key = Status(ErrorCode::kInternal, "unset");
  if (stored_key.has_value()) {
    key = crypto::EcdhPrivateKey::FromPkcs8Der(stored_key->reveal());
    if (!key.ok()) return Corruption("stored device key does not load");
  } else {
    key = crypto::EcdhPrivateKey::Generate();
    if (!key.ok()) return key.status();
    TS_ASSIGN_OR_RETURN(const crypto::SecretBytes der, key->ToPkcs8Der());
    TS_RETURN_IF_ERROR(store->SaveDeviceKey(der, clock.NowUnixMillis()));
  }
  TS_ASSIGN_OR_RETURN(Bytes public_key, key->PublicKeyRaw());
  std::unique_ptr<SecureElement> se(new SecureElement(
      std::move(options), clock, std::move(store), std::move(key).value(), std::move(public_key)));
  TS_ASSIGN_OR_RETURN(std::vector<StoredToken> tokens, se->store_->LoadTokens());
  for (StoredToken& token : tokens) {
    Status added = se->AddApplet(std::move(token));
    if (!added.ok()) return Corruption("stored token does not load: " + added.message());
  }
  return se;
}

Status SecureElement::AddApplet(StoredToken token) {
  TS_ASSIGN_OR_RETURN(std::unique_ptr<PaymentApplet> applet,
                      PaymentApplet::Create(std::move(token), *store_, gate_));
  PaymentApplet* raw = applet.get();
  TS_RETURN_IF_ERROR(host_.Install(std::move(applet)));
  payment_applets_.push_back(raw);
  return Status::Ok();
}

PaymentApplet* SecureElement::FindToken(std::string_view token_id) const {
  for (PaymentApplet* applet : payment_applets_) {
    if (applet->token_id() == token_id) return applet;
  }
  return nullptr;
}

Bytes SecureElement::Transmit(ByteView command_apdu) {
  std::lock_guard lock(mu_);
  return host_.Transmit(command_apdu);
}

void SecureElement::BiometricVerified() {
  std::lock_guard lock(mu_);
  gate_.Arm();
}

Status SecureElement::InstallToken(std::string_view token_id, ByteView wrapped_credentials) {
  std::lock_guard lock(mu_);
  TS_ASSIGN_OR_RETURN(
      const crypto::SecretBytes plain,
      crypto::UnwrapOnDevice(key_, options_.device_id, token_id, wrapped_credentials));
  TS_ASSIGN_OR_RETURN(TokenCredentials credentials, DecodeTokenCredentials(plain.reveal()));
  if (credentials.token_id != token_id) {
    return InvalidArgument("wrapped credentials name another token id");
  }
  if (FindToken(token_id) != nullptr) return AlreadyExists("token already installed");
  if (credentials.profile_name != kSupportedProfile) {
    return InvalidArgument("profile " + credentials.profile_name + " is not supported");
  }
  TS_RETURN_IF_ERROR(store_->InsertToken(credentials));
  // Reload what was stored, so the applet runs on exactly what a restart would load.
  TS_ASSIGN_OR_RETURN(std::vector<StoredToken> tokens, store_->LoadTokens());
  for (StoredToken& token : tokens) {
    if (token.credentials.token_id == token_id) return AddApplet(std::move(token));
  }
  return Internal("installed token not found on reload");
}

Status SecureElement::ReplenishLimitedUseKeys(std::string_view token_id, ByteView wrapped_batch) {
  std::lock_guard lock(mu_);
  PaymentApplet* applet = FindToken(token_id);
  if (applet == nullptr) return NotFound("no such token on this device");
  if (applet->mode() != KeyMode::kLimitedUse) {
    return FailedPrecondition("token is not in limited-use (HCE) mode");
  }
  TS_ASSIGN_OR_RETURN(const crypto::SecretBytes plain,
                      crypto::UnwrapOnDevice(key_, options_.device_id, token_id, wrapped_batch));
  TS_ASSIGN_OR_RETURN(TokenCredentials batch, DecodeTokenCredentials(plain.reveal(), true));
  if (batch.token_id != token_id) return InvalidArgument("key batch names another token id");
  return store_->AddLimitedUseKeys(token_id, batch.limited_use_keys);
}

Result<std::size_t> SecureElement::LimitedUseKeysRemaining(std::string_view token_id) {
  std::lock_guard lock(mu_);
  if (FindToken(token_id) == nullptr) return NotFound("no such token on this device");
  return store_->CountLimitedUseKeys(token_id);
}

Result<bool> SecureElement::ReplenishNeeded(std::string_view token_id) {
  std::size_t remaining = 0;
  {
    std::lock_guard lock(mu_);
    PaymentApplet* applet = FindToken(token_id);
    if (applet == nullptr) return NotFound("no such token on this device");
    if (applet->mode() != KeyMode::kLimitedUse) return false;
    TS_ASSIGN_OR_RETURN(remaining, store_->CountLimitedUseKeys(token_id));
  }
  return remaining < options_.hce_replenish_threshold_keys;
}

Result<std::uint16_t> SecureElement::Atc(std::string_view token_id) {
  std::lock_guard lock(mu_);
  if (FindToken(token_id) == nullptr) return NotFound("no such token on this device");
  return store_->Atc(token_id);
}

std::vector<std::string> SecureElement::TokenIds() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> ids;
  for (PaymentApplet* applet : payment_applets_) ids.push_back(applet->token_id());
  return ids;
}

Result<Bytes> SecureElement::TokenAid(std::string_view token_id) const {
  std::lock_guard lock(mu_);
  PaymentApplet* applet = FindToken(token_id);
  if (applet == nullptr) return NotFound("no such token on this device");
  const ByteView aid = applet->aid();
  return Bytes(aid.begin(), aid.end());
}

}  // namespace tapstack::device

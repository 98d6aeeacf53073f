#include "device/secure_element.h"

#include <algorithm>

#include "crypto/device_key_wrap.h"
#include "emv/contactless_commands.h"

namespace tapstack::device {

namespace {

emv::ResponseApdu Sw(emv::StatusWord sw) { return emv::ResponseApdu{{}, sw}; }

Bytes Encode(const emv::ResponseApdu& response) {
  Result<Bytes> encoded = emv::EncodeResponseApdu(response);
  return encoded.ok() ? std::move(encoded).value() : Bytes{0x6F, 0x00};
}

}  // namespace

// The host's one applet for the T-Union AID: routes a terminal's session to the express card.
class SecureElement::ExpressTransitRouter final : public Applet {
 public:
  explicit ExpressTransitRouter(TransitChannels& channels) : channels_(channels) {}

  ByteView aid() const override { return kTUnionAid; }
  Bytes DirectoryEntry() const override { return {}; }  // gates select it directly

  emv::ResponseApdu Select() override {
    Deselect();
    TransitPurseApplet* target = channels_.express;
    if (target == nullptr) return Sw(emv::kSwFileNotFound);
    if (channels_.wallet == target) channels_.wallet = nullptr;  // its session ends here
    channels_.terminal = target;
    return target->Select();
  }

  void Deselect() override {
    if (channels_.terminal != nullptr) channels_.terminal->Deselect();
    channels_.terminal = nullptr;
  }

  emv::ResponseApdu Process(const emv::CommandApdu& command) override {
    if (channels_.terminal == nullptr) return Sw(emv::kSwConditionsNotSatisfied);
    return channels_.terminal->Process(command);
  }

 private:
  TransitChannels& channels_;
};

// The host's one applet for the digital-currency AID: routes the terminal's session to the wallet.
class SecureElement::DcepRouter final : public Applet {
 public:
  explicit DcepRouter(DcepChannels& channels) : channels_(channels) {}

  ByteView aid() const override { return kDcepAid; }
  Bytes DirectoryEntry() const override { return {}; }

  emv::ResponseApdu Select() override {
    Deselect();
    if (channels_.applet == nullptr) return Sw(emv::kSwFileNotFound);
    channels_.wallet = false;  // the wallet's session ends here
    channels_.terminal = true;
    return channels_.applet->Select();
  }

  void Deselect() override {
    if (channels_.terminal && channels_.applet != nullptr) channels_.applet->Deselect();
    channels_.terminal = false;
  }

  emv::ResponseApdu Process(const emv::CommandApdu& command) override {
    if (!channels_.terminal || channels_.applet == nullptr) {
      return Sw(emv::kSwConditionsNotSatisfied);
    }
    return channels_.applet->Process(command);
  }

 private:
  DcepChannels& channels_;
};

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
  TS_RETURN_IF_ERROR(
      se->host_.Install(std::make_unique<ExpressTransitRouter>(se->transit_channels_)));
  TS_ASSIGN_OR_RETURN(std::vector<StoredTransitCard> cards, se->store_->LoadTransitCards());
  for (StoredTransitCard& card : cards) {
    Status added = se->AddTransitApplet(std::move(card));
    if (!added.ok()) return Corruption("stored transit card does not load: " + added.message());
  }
  TS_RETURN_IF_ERROR(se->host_.Install(std::make_unique<DcepRouter>(se->dcep_channels_)));
  TS_RETURN_IF_ERROR(se->LoadDcepApplet());
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

Status SecureElement::AddTransitApplet(StoredTransitCard card) {
  const bool express = card.express;
  TransitAppletOptions applet_options;
  applet_options.random = options_.transit_random;
  TS_ASSIGN_OR_RETURN(std::unique_ptr<TransitPurseApplet> applet,
                      TransitPurseApplet::Create(std::move(card), *store_, applet_options));
  if (express) transit_channels_.express = applet.get();
  transit_cards_.push_back(std::move(applet));
  return Status::Ok();
}

TransitPurseApplet* SecureElement::FindTransitCard(std::string_view card_id) const {
  for (const auto& card : transit_cards_) {
    if (card->card_id() == card_id) return card.get();
  }
  return nullptr;
}

void SecureElement::EndTerminalTransitSession(TransitPurseApplet* card) {
  TransitPurseApplet* terminal = transit_channels_.terminal;
  if (terminal == nullptr || (card != nullptr && terminal != card)) return;
  terminal->Deselect();
  transit_channels_.terminal = nullptr;
}

Status SecureElement::InstallTransitCard(std::string_view card_id, ByteView wrapped_profile) {
  std::lock_guard lock(mu_);
  TS_ASSIGN_OR_RETURN(
      const crypto::SecretBytes plain,
      crypto::UnwrapOnDevice(key_, options_.device_id, card_id, wrapped_profile));
  TS_ASSIGN_OR_RETURN(TransitCardProfile profile, DecodeTransitCardProfile(plain.reveal()));
  if (profile.card_id != card_id) return InvalidArgument("wrapped profile names another card id");
  if (FindTransitCard(card_id) != nullptr) return AlreadyExists("transit card already installed");
  if (transit_cards_.size() >= kTransitCardsMax) {
    return OutOfRange("a device holds at most " + std::to_string(kTransitCardsMax) +
                      " transit cards");
  }
  TS_RETURN_IF_ERROR(store_->InsertTransitCard(profile));
  // Reload what was stored, so the applet runs on exactly what a restart would load.
  Status added = Internal("installed transit card not found on reload");
  Result<std::vector<StoredTransitCard>> cards = store_->LoadTransitCards();
  if (cards.ok()) {
    for (StoredTransitCard& card : *cards) {
      if (card.profile.card_id == card_id) {
        added = AddTransitApplet(std::move(card));
        break;
      }
    }
  } else {
    added = cards.status();
  }
  if (!added.ok()) (void)store_->DeleteTransitCard(card_id);  // leave no half-installed card
  return added;
}

Status SecureElement::RemoveTransitCard(std::string_view card_id) {
  std::lock_guard lock(mu_);
  TransitPurseApplet* card = FindTransitCard(card_id);
  if (card == nullptr) return NotFound("no such transit card on this device");
  TS_RETURN_IF_ERROR(store_->DeleteTransitCard(card_id));
  EndTerminalTransitSession(card);
  if (transit_channels_.wallet == card) transit_channels_.wallet = nullptr;
  const bool was_express = transit_channels_.express == card;
  std::erase_if(transit_cards_, [card](const auto& c) { return c.get() == card; });
  // Same rule as DeviceStore::DeleteTransitCard: the first remaining card in install order.
  if (was_express) {
    transit_channels_.express = transit_cards_.empty() ? nullptr : transit_cards_.front().get();
  }
  return Status::Ok();
}

std::vector<std::string> SecureElement::TransitCardIds() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> ids;
  for (const auto& card : transit_cards_) ids.push_back(card->card_id());
  return ids;
}

Status SecureElement::SetExpressTransitCard(std::string_view card_id) {
  std::lock_guard lock(mu_);
  TransitPurseApplet* card = FindTransitCard(card_id);
  if (card == nullptr) return NotFound("no such transit card on this device");
  TS_RETURN_IF_ERROR(store_->SetExpressTransitCard(card_id));
  if (transit_channels_.express != card) EndTerminalTransitSession(nullptr);
  transit_channels_.express = card;
  return Status::Ok();
}

Result<std::string> SecureElement::ExpressTransitCard() const {
  std::lock_guard lock(mu_);
  if (transit_channels_.express == nullptr) return NotFound("no transit card on this device");
  return transit_channels_.express->card_id();
}

Bytes SecureElement::TransmitToTransitCard(std::string_view card_id, ByteView command_apdu) {
  std::lock_guard lock(mu_);
  TransitPurseApplet* card = FindTransitCard(card_id);
  if (card == nullptr) return Encode(Sw(emv::kSwFileNotFound));
  if (transit_channels_.wallet != card) {
    if (transit_channels_.wallet != nullptr) transit_channels_.wallet->Deselect();
    EndTerminalTransitSession(card);
    (void)card->Select();  // implicit selection; a blocked card answers 9303 to purse commands
    transit_channels_.wallet = card;
  }
  Result<emv::CommandApdu> command = emv::ParseCommandApdu(command_apdu);
  if (!command.ok()) return Encode(Sw(emv::kSwWrongLength));
  if (command->ins == 0xA4) {  // SELECT on this channel: only the purse itself
    if (command->cla != 0x00) return Encode(Sw(emv::kSwClaNotSupported));
    if (command->p1 != 0x04 || command->p2 != 0x00) return Encode(Sw(emv::kSwIncorrectP1P2));
    if (!std::ranges::equal(command->data, ByteView(kTUnionAid))) {
      return Encode(Sw(emv::kSwFileNotFound));
    }
    return Encode(card->Select());
  }
  return Encode(card->Process(*command));
}

Status SecureElement::LoadDcepApplet() {
  TS_ASSIGN_OR_RETURN(std::optional<StoredDcepWallet> wallet, store_->LoadDcepWallet());
  if (!wallet.has_value()) return Status::Ok();
  DcepAppletOptions applet_options;
  applet_options.random = options_.dcep_random;
  TS_ASSIGN_OR_RETURN(dcep_, DcepApplet::Create(std::move(*wallet), *store_, applet_options));
  dcep_channels_.applet = dcep_.get();
  return Status::Ok();
}

Status SecureElement::InstallDcepAppletLocked() {
  if (dcep_ != nullptr) return AlreadyExists("a digital-currency wallet is already installed");
  TS_RETURN_IF_ERROR(store_->InsertDcepWallet());
  // Load what was stored, so the applet runs on exactly what a restart would load.
  return LoadDcepApplet();
}

Status SecureElement::InstallDcepApplet() {
  std::lock_guard lock(mu_);
  return InstallDcepAppletLocked();
}

Result<Bytes> SecureElement::InstallDcepWallet(crypto::SignatureScheme scheme,
                                               const crypto::PublicKey& root_public_key) {
  std::lock_guard lock(mu_);
  if (dcep_ == nullptr) TS_RETURN_IF_ERROR(InstallDcepAppletLocked());
  if (dcep_->personalised()) {
    return AlreadyExists("digital-currency wallet already personalised");
  }
  TS_ASSIGN_OR_RETURN(const Bytes root_raw, root_public_key.ToRaw());
  return dcep_->GenerateKeyPair(scheme, root_public_key.scheme(), root_raw);
}

bool SecureElement::HasDcepWallet() const {
  std::lock_guard lock(mu_);
  return dcep_ != nullptr;
}

Bytes SecureElement::TransmitToDcepWallet(ByteView command_apdu) {
  std::lock_guard lock(mu_);
  if (dcep_ == nullptr) return Encode(Sw(emv::kSwFileNotFound));
  if (!dcep_channels_.wallet) {
    if (dcep_channels_.terminal) dcep_->Deselect();
    dcep_channels_.terminal = false;  // the terminal's next command gets 6985
    (void)dcep_->Select();            // implicit selection on the wallet's channel
    dcep_channels_.wallet = true;
  }
  Result<emv::CommandApdu> command = emv::ParseCommandApdu(command_apdu);
  if (!command.ok()) return Encode(Sw(emv::kSwWrongLength));
  if (command->ins == 0xA4 && command->cla == 0x00) {  // SELECT on this channel: only the wallet
    if (command->p1 != 0x04 || command->p2 != 0x00) return Encode(Sw(emv::kSwIncorrectP1P2));
    if (!std::ranges::equal(command->data, ByteView(kDcepAid))) {
      return Encode(Sw(emv::kSwFileNotFound));
    }
    return Encode(dcep_->Select());
  }
  return Encode(dcep_->Process(*command));
}

}  // namespace tapstack::device

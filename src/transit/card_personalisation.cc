#include "transit/card_personalisation.h"

#include "core/hex.h"
#include "crypto/device_key_wrap.h"
#include "crypto/purse_crypto.h"
#include "device/transit_card_profile.h"

namespace tapstack::transit {

Result<std::uint16_t> BcdCode(std::string_view four_digits) {
  if (four_digits.size() != 4 || !IsAllDigits(four_digits)) {
    return InvalidArgument("a city or province code must be 4 digits; got \"" + std::string(four_digits) +
                           "\"");
  }
  TS_ASSIGN_OR_RETURN(Bytes bcd, HexDecode(four_digits));
  return static_cast<std::uint16_t>((bcd[0] << 8) | bcd[1]);
}

Result<crypto::SecretBytes> CardKey(const CityNetwork& city, const crypto::SecretBytes& master,
                                    const Serial& serial) {
  return crypto::DiversifyPurseKey(city.purse_algorithm(), master,
                                   ByteView(serial).last(crypto::kPurseDiversifierBytes));
}

Result<Bytes> PersonaliseTransitCard(const CityNetwork& city, const TransitMasterKeys& keys,
                                     const CardIssue& issue, ByteView device_public_key,
                                     std::string_view device_id) {
  device::TransitCardProfile profile;
  profile.card_id = issue.card_id;
  profile.issuer_id.assign(city.issuer_id().begin(), city.issuer_id().end());
  profile.serial.assign(issue.serial.begin(), issue.serial.end());
  profile.start_date = issue.start_date;
  profile.expiry_date = issue.expiry_date;
  TS_ASSIGN_OR_RETURN(profile.province_code, BcdCode(city.province_code()));
  TS_ASSIGN_OR_RETURN(profile.city_code, BcdCode(city.city_code()));
  profile.algorithm = city.purse_algorithm();
  profile.key_version = city.key_version();
  TS_ASSIGN_OR_RETURN(profile.purchase_key, CardKey(city, keys.purchase, issue.serial));
  TS_ASSIGN_OR_RETURN(profile.load_key, CardKey(city, keys.load, issue.serial));
  TS_ASSIGN_OR_RETURN(profile.tac_key, CardKey(city, keys.tac, issue.serial));
  TS_ASSIGN_OR_RETURN(profile.maintenance_key, CardKey(city, keys.maintenance, issue.serial));
  profile.balance_fen = issue.balance_fen;
  profile.balance_cap_fen = city.card_rules().balance_cap_fen;
  TS_RETURN_IF_ERROR(device::CheckTransitCardProfile(profile));
  const crypto::SecretBytes plaintext = device::EncodeTransitCardProfile(profile);
  if (plaintext.empty()) return Internal("transit card profile did not encode");
  return crypto::WrapForDevice(device_public_key, device_id, issue.card_id, plaintext);
}

}  // namespace tapstack::transit

#include "tsp/token_requestors.h"

#include "core/hex.h"
#include "crypto/hash.h"
#include "crypto/mac.h"
#include "tsp/limits.h"

namespace tapstack::tsp {

Result<TokenRequestors> TokenRequestors::Create(std::vector<TokenRequestorConfig> requestors) {
  if (requestors.size() > kTokenRequestorsMax) {
    return InvalidArgument("requestors: at most " + std::to_string(kTokenRequestorsMax));
  }
  TokenRequestors out;
  for (std::size_t i = 0; i < requestors.size(); ++i) {
    TokenRequestorConfig& r = requestors[i];
    const std::string name = "requestors[" + std::to_string(i) + "]";
    if (r.id.size() != kTokenRequestorIdDigits || !IsAllDigits(r.id)) {
      return InvalidArgument(name + ".id: expected 11 digits");
    }
    if (r.name.empty()) return InvalidArgument(name + ".name: required");
    bool printable = true;
    for (const char c : r.api_key) printable = printable && c > 0x20 && c < 0x7F;
    if (r.api_key.size() < kApiKeyBytesMin || r.api_key.size() > kApiKeyBytesMax || !printable) {
      return InvalidArgument(name + ".api_key: expected " + std::to_string(kApiKeyBytesMin) + "-" +
                             std::to_string(kApiKeyBytesMax) + " printable ASCII characters");
    }
    TS_ASSIGN_OR_RETURN(Bytes hash, crypto::Sha256(AsBytes(r.api_key)));
    SecureWipe(r.api_key.data(), r.api_key.size());
    for (const Entry& e : out.entries_) {
      if (e.requestor.id == r.id) return InvalidArgument(name + ".id: duplicate");
      if (e.key_sha256 == hash) return InvalidArgument(name + ".api_key: duplicate");
    }
    out.entries_.push_back(Entry{{r.id, r.name}, std::move(hash)});
  }
  return out;
}

std::optional<TokenRequestor> TokenRequestors::Authenticate(std::string_view api_key) const {
  if (api_key.empty() || api_key.size() > kApiKeyBytesMax) return std::nullopt;
  Result<Bytes> hash = crypto::Sha256(AsBytes(api_key));
  if (!hash.ok()) return std::nullopt;
  std::optional<TokenRequestor> found;
  for (const Entry& e : entries_) {
    if (crypto::ConstantTimeEquals(e.key_sha256, *hash) && !found) found = e.requestor;
  }
  return found;
}

std::optional<TokenRequestor> TokenRequestors::Find(std::string_view id) const {
  for (const Entry& e : entries_) {
    if (e.requestor.id == id) return e.requestor;
  }
  return std::nullopt;
}

}  // namespace tapstack::tsp

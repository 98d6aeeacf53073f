// TokenRequestors: the token requestors (wallets) the TSP serves, and the check of their API keys
// (docs/tsp.md: every JSON API call carries "Authorization: Bearer <key>").
//
// Only SHA-256(key) is kept: the key itself is dropped after Create, so a memory or configuration
// dump of the registry does not reveal a key (the keys are long random strings, so an unkeyed
// hash is enough; a password-like key would need crypto/password.h instead). Authenticate hashes
// the presented key and compares it with every requestor's hash in constant time
// (crypto::ConstantTimeEquals), without stopping at the first match.
// Thread-safe (immutable after Create).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"

namespace tapstack::tsp {

inline constexpr std::size_t kApiKeyBytesMin = 16;
inline constexpr std::size_t kApiKeyBytesMax = 256;
inline constexpr std::size_t kTokenRequestorsMax = 1000;

struct TokenRequestorConfig {
  std::string id;       // Token Requestor ID, 11 digits
  std::string name;     // for logs
  std::string api_key;  // kApiKeyBytesMin..kApiKeyBytesMax printable ASCII
};

struct TokenRequestor {
  std::string id;
  std::string name;
};

class TokenRequestors {
 public:
  // Errors (kInvalidArgument naming "requestors[i].field"): a bad id, an empty name, a key out of
  // bounds, a duplicate id or key; more than kTokenRequestorsMax.
  static Result<TokenRequestors> Create(std::vector<TokenRequestorConfig> requestors);

  // The requestor whose key is `api_key`, or nullopt.
  std::optional<TokenRequestor> Authenticate(std::string_view api_key) const;
  // The requestor with `id`, or nullopt.
  std::optional<TokenRequestor> Find(std::string_view id) const;

 private:
  struct Entry {
    TokenRequestor requestor;
    Bytes key_sha256;
  };
  std::vector<Entry> entries_;
};

}  // namespace tapstack::tsp

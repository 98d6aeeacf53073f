#include "link/request_key.h"

#include "core/hex.h"

namespace tapstack::link {

std::string MatchKey(const iso8583::Message& message) {
  std::string_view mti = message.mti();
  if (!IsAllDigits(mti)) return {};
  std::string key(mti);
  // Response function digits (1 request response, 3 advice response) map back to the request.
  if (key[2] == '1' || key[2] == '3') key[2] = static_cast<char>(key[2] - 1);
  if (key[3] == '1' || key[3] == '3') key[3] = static_cast<char>(key[3] - 1);
  key += '|';
  key += message.Get(11).value_or("");
  key += '|';
  key += message.Get(41).value_or("");
  key += '|';
  key += message.Get(32).value_or("");
  return key;
}

}  // namespace tapstack::link

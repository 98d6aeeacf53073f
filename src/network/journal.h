// Message journal for disputes: every message the switch receives or sends, with the card number
// masked. What is kept of each field:
//   DE2 masked (first 6 / last 4); DE35 track 2 with its PAN masked and the rest dropped;
//   DE45 track 1, DE52 PIN block: dropped; DE55: its length only (it can carry tags 5A and 57);
//   DE48 token data: the payment token (TK) masked; every other field as is.
#pragma once

#include <string>
#include <string_view>

#include "iso8583/message.h"

namespace tapstack::network {

// "622202******1234"; a number too short to mask keeps only its last 4 digits.
std::string MaskCardNumber(std::string_view digits);

// The journal form of `message` as compact JSON text, {"mti":…,"fields":{"2":…,…}} with the
// masking above, fields in ascending order. Written directly (no JSON tree): the switch journals
// every message, so this is on the hot path.
std::string JournalJson(const iso8583::Message& message);

}  // namespace tapstack::network

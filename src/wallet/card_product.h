// CardProduct: what the wallet shows for a bank card (bank name, card art, promotions), looked up
// by the card's BIN range in the table configured in WalletOptions::card_products.
//
// Ranges are 8-digit BINs (ISO/IEC 7812-1:2017 moved issuer identification numbers to 8 digits)
// compared as the first 8 digits of the PAN. The PAN is only ever looked at in memory.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/pan.h"
#include "core/status.h"

namespace tapstack::wallet {

inline constexpr std::size_t kCardProductBinDigits = 8;

struct CardProduct {
  std::string bin_low;                  // 8 digits, inclusive
  std::string bin_high;                 // 8 digits, inclusive, >= bin_low
  std::string bank_name;                // "China Demo Bank"
  std::string short_name;               // "CDB"
  std::string art_color;                // card art colour, "#C8102E"
  std::vector<std::string> promotions;  // texts shown with the card
};

// OK when every range has 8-digit bounds with low <= high, names are non-empty and no two ranges
// overlap. kInvalidArgument naming the entry (card_products[i].field) otherwise.
Status CheckCardProducts(std::span<const CardProduct> products);

// The product whose range holds the PAN's first 8 digits; nullptr when none does. The pointer is
// into `products`.
const CardProduct* FindCardProduct(std::span<const CardProduct> products, const Pan& pan);

}  // namespace tapstack::wallet

#include "wallet/card_product.h"

#include <algorithm>

#include "core/hex.h"

namespace tapstack::wallet {

Status CheckCardProducts(std::span<const CardProduct> products) {
  for (std::size_t i = 0; i < products.size(); ++i) {
    const CardProduct& p = products[i];
    std::string at = "card_products[" + std::to_string(i) + "].";
    for (const auto& [name, bin] :
         {std::pair{"bin_low", &p.bin_low}, std::pair{"bin_high", &p.bin_high}}) {
      if (bin->size() != kCardProductBinDigits || !IsAllDigits(*bin)) {
        return InvalidArgument(at + name + ": expected 8 digits");
      }
    }
    if (p.bin_low > p.bin_high) return InvalidArgument(at + "bin_high: expected >= bin_low");
    if (p.bank_name.empty()) return InvalidArgument(at + "bank_name: expected a name");
    if (p.short_name.empty()) return InvalidArgument(at + "short_name: expected a name");
    for (std::size_t j = 0; j < i; ++j) {
      // Equal-length digit strings compare like the numbers they spell.
      if (!(p.bin_high < products[j].bin_low || products[j].bin_high < p.bin_low)) {
        return InvalidArgument(at + "bin_low: range overlaps card_products[" + std::to_string(j) +
                               "]");
      }
    }
  }
  return Status::Ok();
}

const CardProduct* FindCardProduct(std::span<const CardProduct> products, const Pan& pan) {
  std::string_view bin = pan.reveal().substr(0, kCardProductBinDigits);
  auto it = std::find_if(products.begin(), products.end(), [&](const CardProduct& p) {
    return p.bin_low <= bin && bin <= p.bin_high;
  });
  return it == products.end() ? nullptr : &*it;
}

}  // namespace tapstack::wallet

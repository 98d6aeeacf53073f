// ContactlessSale: one tap-to-pay sale at a POS terminal, start to finish: the contactless kernel
// runs against the device over APDUs (SELECT PPSE, SELECT AID, GPO with the PDOL data, READ
// RECORD, GENERATE AC), the terminal sends the 0100 (DE22 = 07x, DE55 = the card's cryptogram
// data) to the network, checks the issuer's ARPC (tag 91 in the response's DE55) with the card
// (EXTERNAL AUTHENTICATE) and prints a receipt line.
//
// An offline decline by the card (AAC: no CDCVM, HCE keys exhausted) sends nothing to the network.
// An approval whose ARPC the card rejects is still an approval for the terminal (the issuer
// approved; the card only records the failed issuer authentication, Book 3 10.9), but it is
// reported (issuer_authenticated = false) and shown on the receipt.
//
// Thread-safety: one sale at a time per kernel (it talks to one card); the terminal may be shared.
#pragma once

#include <cstdint>
#include <string>

#include "acquirer/contactless_kernel.h"
#include "acquirer/pos_terminal.h"
#include "core/amount.h"
#include "core/status.h"
#include "emv/cryptogram_profile.h"

namespace tapstack::acquirer {

struct ContactlessSaleResult {
  ContactlessResult tap;    // what the kernel read from the card
  PurchaseResult purchase;  // empty (kUnavailable "not sent") after an offline decline
  bool sent_online = false;
  bool approved = false;
  // The card accepted the issuer's ARPC (only checked for an approval that carried one).
  bool issuer_authenticated = false;
  std::string receipt_line;
};

// Runs one sale of `amount` and waits for its outcome. `profile` is the card application's
// cryptogram profile (the terminal knows it from the AID it selected), used to read tag 91.
// Errors: the kernel's (the card did not answer as EMV requires; nothing was sent). A network
// outcome that is unknown is not an error: purchase.response is kUnavailable and the terminal has
// sent a reversal.
Result<ContactlessSaleResult> RunContactlessSale(ContactlessKernel& kernel, PosTerminal& terminal,
                                                 const TerminalConfig& config, const Amount& amount,
                                                 const emv::CryptogramProfile& profile);

// "TERM0001 Best Transport Store Beijing | CNY 88.00 | token ************4242 | APPROVED 00 auth
// 123456 | ARPC ok": the token (never a PAN) shows its last 4 digits only.
std::string FormatReceiptLine(const TerminalConfig& config, const Amount& amount,
                              const ContactlessSaleResult& sale);

}  // namespace tapstack::acquirer

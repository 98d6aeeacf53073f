#include "transit/load_server.h"

#include <algorithm>

#include "core/hex.h"
#include "crypto/hash.h"
#include "crypto/mac.h"
#include "transit/card_personalisation.h"
#include "transit/operator_store.h"

namespace tapstack::transit {

namespace {

constexpr std::string_view kOrderColumns =
    "order_id, card_serial, amount_fen, request_sha256, state, payment_ref, decline_reason, "
    "online_counter,"
    " loaded_attempt, tac, captured, review_note, created_unix_ms, updated_unix_ms";
constexpr std::uint16_t kOnlineCounterMax = 0xFFFF;  // the card refuses a load at this value (6985)

Status CheckOrderId(std::string_view id) {
  const bool ok = !id.empty() && id.size() <= kLoadOrderIdBytesMax &&
                  std::all_of(id.begin(), id.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-';
                  });
  if (ok) return Status::Ok();
  return InvalidArgument("order_id: expected 1-" + std::to_string(kLoadOrderIdBytesMax) +
                         " characters of A-Z a-z 0-9 . _ : -");
}

Status CheckSerial(std::string_view serial) {
  if (serial.size() == kCardSerialDigits && IsAllDigits(serial)) return Status::Ok();
  return InvalidArgument("card serial: expected " + std::to_string(kCardSerialDigits) + " digits");
}

Result<Serial> SerialBytes(std::string_view digits) {
  TS_RETURN_IF_ERROR(CheckSerial(digits));
  TS_ASSIGN_OR_RETURN(Bytes bytes, HexDecode(digits));
  Serial serial{};
  std::copy(bytes.begin(), bytes.end(), serial.begin());
  return serial;
}

Result<LoadOrderState> ParseState(std::string_view name) {
  for (LoadOrderState state :
       {LoadOrderState::kAuthorising, LoadOrderState::kDeclined, LoadOrderState::kPaid,
        LoadOrderState::kAuthorised, LoadOrderState::kLoaded, LoadOrderState::kCancelling,
        LoadOrderState::kRefunded}) {
    if (LoadOrderStateName(state) == name) return state;
  }
  return Corruption("transit_load_orders.state: unknown value \"" + std::string(name) + "\"");
}

std::string StateText(LoadOrderState state) { return std::string(LoadOrderStateName(state)); }

void Append(Bytes& out, ByteView part) { out.insert(out.end(), part.begin(), part.end()); }

std::string Describe(const LoadOrder& order) {
  return "order " + order.order_id + " (" + std::string(LoadOrderStateName(order.state)) + ")";
}

}  // namespace

struct LoadServer::Attempt {
  std::int64_t attempt = 0;
  Bytes card_random;
  std::uint16_t online_counter = 0;
  std::uint32_t balance_before_fen = 0;
  std::string card_time_local;  // YYYYMMDDhhmmss
  Bytes mac2;
};

std::string_view LoadOrderStateName(LoadOrderState state) {
  switch (state) {
    case LoadOrderState::kAuthorising:
      return "authorising";
    case LoadOrderState::kDeclined:
      return "declined";
    case LoadOrderState::kPaid:
      return "paid";
    case LoadOrderState::kAuthorised:
      return "authorised";
    case LoadOrderState::kLoaded:
      return "loaded";
    case LoadOrderState::kCancelling:
      return "cancelling";
    case LoadOrderState::kRefunded:
      return "refunded";
  }
  return "unknown";
}

Result<std::unique_ptr<LoadServer>> LoadServer::Open(LoadServerOptions options) {
  if (options.city == nullptr) return InvalidArgument("load server: no city");
  if (options.payment == nullptr) return InvalidArgument("load server: no payment");
  if (options.registry == nullptr) return InvalidArgument("load server: no card registry");
  if (options.store == nullptr) return InvalidArgument("load server: no store");
  if (options.registry->city().city_code() != options.city->city_code()) {
    return InvalidArgument("load server: the card registry is of city " +
                           options.registry->city().city_code() + ", not " +
                           options.city->city_code());
  }
  if (options.load_master_key.size() != crypto::kPurseKeyBytes ||
      options.tac_master_key.size() != crypto::kPurseKeyBytes) {
    return InvalidArgument("load server: load and TAC master keys must be 16 bytes");
  }
  TS_RETURN_IF_ERROR(ApplyOperatorSchema(*options.store));
  const Clock& clock = options.clock != nullptr ? *options.clock : SystemClock::Instance();
  return std::unique_ptr<LoadServer>(new LoadServer(std::move(options), clock));
}

Result<std::vector<LoadServer::Attempt>> LoadServer::AttemptsLocked(
    std::string_view order_id) const {
  TS_ASSIGN_OR_RETURN(
      store::Rows rows,
      options_.store->Query("SELECT attempt, card_random, online_counter, balance_before_fen,"
                            " card_time_local, mac2 FROM transit_load_attempts"
                            " WHERE order_id = ? ORDER BY attempt",
                            {order_id}));
  std::vector<Attempt> attempts;
  for (const store::Row& row : rows) {
    Attempt a;
    TS_ASSIGN_OR_RETURN(a.attempt, row.GetInt64("attempt"));
    TS_ASSIGN_OR_RETURN(a.card_random, row.GetBlob("card_random"));
    TS_ASSIGN_OR_RETURN(std::int64_t counter, row.GetInt64("online_counter"));
    TS_ASSIGN_OR_RETURN(std::int64_t balance, row.GetInt64("balance_before_fen"));
    a.online_counter = static_cast<std::uint16_t>(counter);
    a.balance_before_fen = static_cast<std::uint32_t>(balance);
    TS_ASSIGN_OR_RETURN(a.card_time_local, row.GetText("card_time_local"));
    TS_ASSIGN_OR_RETURN(a.mac2, row.GetBlob("mac2"));
    attempts.push_back(std::move(a));
  }
  return attempts;
}

Result<LoadOrder> LoadServer::LoadOrderLocked(std::string_view order_id) const {
  Result<store::Row> found = options_.store->QueryRow(
      "SELECT " + std::string(kOrderColumns) + " FROM transit_load_orders WHERE order_id = ?",
      {order_id});
  if (!found.ok()) {
    if (found.status().code() == ErrorCode::kNotFound)
      return NotFound("no load order " + std::string(order_id));
    return found.status();
  }
  const store::Row& row = *found;
  LoadOrder order;
  TS_ASSIGN_OR_RETURN(order.order_id, row.GetText("order_id"));
  TS_ASSIGN_OR_RETURN(order.card_serial, row.GetText("card_serial"));
  TS_ASSIGN_OR_RETURN(std::int64_t amount, row.GetInt64("amount_fen"));
  order.amount_fen = static_cast<std::uint32_t>(amount);
  TS_ASSIGN_OR_RETURN(std::string state, row.GetText("state"));
  TS_ASSIGN_OR_RETURN(order.state, ParseState(state));
  TS_ASSIGN_OR_RETURN(std::optional<std::string> ref, row.GetOptionalText("payment_ref"));
  order.payment_ref = ref.value_or("");
  TS_ASSIGN_OR_RETURN(std::optional<std::string> reason, row.GetOptionalText("decline_reason"));
  order.decline_reason = reason.value_or("");
  TS_ASSIGN_OR_RETURN(std::optional<std::int64_t> counter, row.GetOptionalInt64("online_counter"));
  if (counter.has_value()) order.online_counter = static_cast<std::uint16_t>(*counter);
  TS_ASSIGN_OR_RETURN(std::optional<std::int64_t> loaded_attempt,
                      row.GetOptionalInt64("loaded_attempt"));
  TS_ASSIGN_OR_RETURN(std::optional<Bytes> tac, row.GetOptionalBlob("tac"));
  if (tac.has_value()) order.tac = HexEncode(*tac);
  TS_ASSIGN_OR_RETURN(order.captured, row.GetBool("captured"));
  TS_ASSIGN_OR_RETURN(std::optional<std::string> note, row.GetOptionalText("review_note"));
  order.review_note = note.value_or("");
  TS_ASSIGN_OR_RETURN(order.created_unix_ms, row.GetInt64("created_unix_ms"));
  TS_ASSIGN_OR_RETURN(order.updated_unix_ms, row.GetInt64("updated_unix_ms"));

  TS_ASSIGN_OR_RETURN(std::vector<Attempt> attempts, AttemptsLocked(order_id));
  const Attempt* shown = attempts.empty() ? nullptr : &attempts.back();
  if (loaded_attempt.has_value()) {
    for (const Attempt& a : attempts) {
      if (a.attempt == *loaded_attempt) shown = &a;
    }
  }
  if (shown != nullptr) {
    order.balance_before_fen = shown->balance_before_fen;
    order.card_time_local = shown->card_time_local;
    if (order.state == LoadOrderState::kLoaded) {
      order.new_balance_fen = shown->balance_before_fen + order.amount_fen;
    }
  }
  return order;
}

Status LoadServer::SetState(std::string_view order_id, LoadOrderState state) {
  return options_.store
      ->Execute("UPDATE transit_load_orders SET state = ?, updated_unix_ms = ? WHERE order_id = ?",
                {StateText(state), clock_.NowUnixMillis(), order_id})
      .status();
}

Result<LoadOrder> LoadServer::CreateOrder(std::string_view order_id, std::string_view card_serial,
                                          std::uint32_t amount_fen,
                                          const nlohmann::json& payment_data) {
  TS_RETURN_IF_ERROR(CheckOrderId(order_id));
  TS_RETURN_IF_ERROR(CheckSerial(card_serial));
  const std::string payment_text = payment_data.dump();
  if (payment_text.size() > kPaymentDataBytesMax) {
    return InvalidArgument("payment_data: above " + std::to_string(kPaymentDataBytesMax) +
                           " bytes");
  }
  const CardRules& rules = options_.city->card_rules();
  if (amount_fen < rules.top_up_min_fen || amount_fen > rules.top_up_max_fen) {
    return OutOfRange("amount_fen " + std::to_string(amount_fen) + ": " + options_.city->name() +
                      " loads " + std::to_string(rules.top_up_min_fen) + ".." +
                      std::to_string(rules.top_up_max_fen) + " fen");
  }
  // The body's fingerprint tells a retry from another order under the same id; the payment data
  // itself (a token cryptogram) is not kept.
  const nlohmann::json body = {
      {"card_serial", card_serial}, {"amount_fen", amount_fen}, {"payment_data", payment_data}};
  TS_ASSIGN_OR_RETURN(const Bytes fingerprint, crypto::Sha256(AsBytes(body.dump())));

  std::lock_guard lock(mu_);
  store::Store& store = *options_.store;
  Result<store::Row> existing = store.QueryRow(
      "SELECT request_sha256, state, decline_reason FROM transit_load_orders WHERE order_id = ?",
      {order_id});
  if (existing.ok()) {
    TS_ASSIGN_OR_RETURN(Bytes stored, existing->GetBlob("request_sha256"));
    if (stored != fingerprint) {
      return AlreadyExists("order_id " + std::string(order_id) +
                           " is already used with another card, amount or payment");
    }
    TS_ASSIGN_OR_RETURN(std::string state, existing->GetText("state"));
    if (state == LoadOrderStateName(LoadOrderState::kDeclined)) {
      TS_ASSIGN_OR_RETURN(std::optional<std::string> reason,
                          existing->GetOptionalText("decline_reason"));
      return FailedPrecondition("order " + std::string(order_id) +
                                ": payment declined: " + reason.value_or(""));
    }
    if (state != LoadOrderStateName(LoadOrderState::kAuthorising)) return LoadOrderLocked(order_id);
  } else if (existing.status().code() != ErrorCode::kNotFound) {
    return existing.status();
  } else {
    TS_ASSIGN_OR_RETURN(TransitCardInfo card, options_.registry->Card(card_serial));
    if (card.status != CardStatus::kActive) {
      return FailedPrecondition("card " + card.serial + " is " +
                                std::string(CardStatusName(card.status)) +
                                "; only an active card can be loaded");
    }
    const std::int64_t now_ms = clock_.NowUnixMillis();
    // Written before Authorize: a crash in between leaves an "authorising" order, not nothing.
    TS_RETURN_IF_ERROR(
        store
            .Execute("INSERT INTO transit_load_orders (order_id, card_serial, amount_fen,"
                     " request_sha256, state, captured, created_unix_ms, updated_unix_ms)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     {order_id, card_serial, amount_fen, ByteView(fingerprint),
                      StateText(LoadOrderState::kAuthorising), false, now_ms, now_ms})
            .status());
  }

  Result<std::string> ref = options_.payment->Authorize(order_id, amount_fen, payment_data);
  if (!ref.ok()) {
    const ErrorCode code = ref.status().code();
    if (code == ErrorCode::kFailedPrecondition || code == ErrorCode::kInvalidArgument) {
      TS_RETURN_IF_ERROR(
          store
              .Execute("UPDATE transit_load_orders SET state = ?, decline_reason = ?,"
                       " updated_unix_ms = ? WHERE order_id = ?",
                       {StateText(LoadOrderState::kDeclined), ref.status().message(),
                        clock_.NowUnixMillis(), order_id})
              .status());
      return FailedPrecondition("order " + std::string(order_id) +
                                ": payment declined: " + ref.status().message());
    }
    // kUnavailable and the rest: nothing is held (TopUpPayment's contract); the order stays
    // "authorising" and a retry of the same body authorises again.
    return ref.status().WithContext("order " + std::string(order_id));
  }
  // Kept to pay a refund back to this card when the transit card is deleted (card_registry.h).
  const Result<std::string> card_on_file = options_.payment->CardOnFile(*ref);
  TS_RETURN_IF_ERROR(
      store
          .Execute("UPDATE transit_load_orders SET state = ?, payment_ref = ?, card_on_file = ?,"
                   " updated_unix_ms = ? WHERE order_id = ?",
                   {StateText(LoadOrderState::kPaid), *ref,
                    card_on_file.ok() ? store::Value(*card_on_file) : store::Value(),
                    clock_.NowUnixMillis(), order_id})
          .status());
  return LoadOrderLocked(order_id);
}

Result<LoadAuthorization> LoadServer::AuthorizeLoad(std::string_view order_id, ByteView answer) {
  if (answer.size() != kLoadInitAnswerBytes) {
    return InvalidArgument("INITIALIZE FOR LOAD answer: expected " +
                           std::to_string(kLoadInitAnswerBytes) + " bytes, got " +
                           std::to_string(answer.size()));
  }
  // Layout (transit-purse.md section 4): balance (4) | online counter (2) | key version (1) |
  // algorithm id (1) | card random (4) | MAC1 (4).
  const auto balance_fen = static_cast<std::uint32_t>(BytesToUint(answer.subspan(0, 4)));
  const auto counter = static_cast<std::uint16_t>(BytesToUint(answer.subspan(4, 2)));
  const std::uint8_t key_version = answer[6];
  const ByteView card_random = answer.subspan(8, 4);
  const ByteView mac1 = answer.subspan(12, 4);
  const CityNetwork& city = *options_.city;
  TS_ASSIGN_OR_RETURN(crypto::PurseAlgorithm algorithm, crypto::PurseAlgorithmFromId(answer[7]));
  if (algorithm != city.purse_algorithm()) {
    return InvalidArgument("INITIALIZE FOR LOAD answer: algorithm id " +
                           HexEncode(answer.subspan(7, 1)) + " is not " + city.name() + "'s");
  }
  if (key_version != city.key_version()) {
    return InvalidArgument("INITIALIZE FOR LOAD answer: key version " +
                           HexEncode(answer.subspan(6, 1)) + ", expected " +
                           HexEncode(Bytes{city.key_version()}));
  }

  std::lock_guard lock(mu_);
  TS_ASSIGN_OR_RETURN(LoadOrder order, LoadOrderLocked(order_id));
  if (order.state != LoadOrderState::kPaid && order.state != LoadOrderState::kAuthorised) {
    return FailedPrecondition(Describe(order) + ": only a paid order can be loaded");
  }
  if (order.online_counter.has_value()) {
    if (counter > *order.online_counter) {
      return FailedPrecondition(
          Describe(order) + ": the card's online counter is " + std::to_string(counter) +
          ", past the order's " + std::to_string(*order.online_counter) +
          ": the load may have happened; confirm it with the TAC or reconcile from the "
          "card log");
    }
    if (counter < *order.online_counter) {
      return InvalidArgument(Describe(order) + ": online counter " + std::to_string(counter) +
                             " is below the order's " + std::to_string(*order.online_counter) +
                             " (card counters only grow)");
    }
  }

  // MAC1 = MAC(SK_load, old balance | amount | 02 | terminal id): the card's proof that it was
  // initialised for this order's amount and this terminal.
  TS_ASSIGN_OR_RETURN(Serial serial, SerialBytes(order.card_serial));
  TS_ASSIGN_OR_RETURN(crypto::SecretBytes dlk, CardKey(city, options_.load_master_key, serial));
  TS_ASSIGN_OR_RETURN(crypto::SecretBytes session_key,
                      crypto::DerivePurseSessionKey(
                          algorithm, dlk, crypto::LoadSessionInput(card_random, counter)));
  const Bytes amount = UintToBytes(order.amount_fen, 4);
  Bytes mac1_input = UintToBytes(balance_fen, 4);
  Append(mac1_input, amount);
  mac1_input.push_back(kLoadTransactionType);
  Append(mac1_input, options_.terminal_id);
  TS_ASSIGN_OR_RETURN(crypto::PurseMac expected_mac1,
                      crypto::PurseSessionMac(algorithm, session_key, mac1_input));
  if (!crypto::ConstantTimeEquals(expected_mac1, mac1)) {
    return CryptoFailure(
        Describe(order) + ": MAC1 does not verify (was INITIALIZE FOR LOAD sent to card " +
        order.card_serial + " with the order's amount " + std::to_string(order.amount_fen) +
        " fen and terminal id " + HexEncode(options_.terminal_id) + "?)");
  }
  if (counter >= kOnlineCounterMax) {
    return FailedPrecondition(Describe(order) + ": the card's online counter is at its maximum");
  }
  const std::uint32_t cap = city.card_rules().balance_cap_fen;
  if (std::uint64_t{balance_fen} + order.amount_fen > cap) {
    return FailedPrecondition(Describe(order) + ": balance " + std::to_string(balance_fen) +
                              " fen + " + std::to_string(order.amount_fen) +
                              " fen would pass the card cap of " + std::to_string(cap) +
                              " fen; cancel the order");
  }

  TS_ASSIGN_OR_RETURN(std::vector<Attempt> attempts, AttemptsLocked(order_id));
  LoadAuthorization answer_out;
  answer_out.terminal_id = options_.terminal_id;
  for (const Attempt& a : attempts) {
    // The same card session again (a lost answer): the same date, time and MAC2.
    if (a.online_counter == counter &&
        a.card_random == Bytes(card_random.begin(), card_random.end())) {
      TS_ASSIGN_OR_RETURN(Bytes bcd, HexDecode(a.card_time_local));
      std::copy_n(bcd.begin(), kBcdDateBytes, answer_out.date.begin());
      std::copy_n(bcd.begin() + kBcdDateBytes, kBcdTimeBytes, answer_out.time.begin());
      std::copy_n(a.mac2.begin(), crypto::kPurseMacBytes, answer_out.mac2.begin());
      return answer_out;
    }
  }
  if (attempts.size() >= kLoadAttemptsPerOrderMax) {
    return OutOfRange(Describe(order) + ": " + std::to_string(kLoadAttemptsPerOrderMax) +
                      " MAC2s issued already; cancel the order");
  }

  // MAC2 = MAC(SK_load, amount | 02 | terminal id | date | time), the time in China time.
  const std::int64_t now_ms = clock_.NowUnixMillis();
  TS_ASSIGN_OR_RETURN(answer_out.date, ToBcdDate(now_ms / 1000));
  answer_out.time = ToBcdTime(now_ms / 1000);
  Bytes mac2_input = amount;
  mac2_input.push_back(kLoadTransactionType);
  Append(mac2_input, options_.terminal_id);
  Append(mac2_input, answer_out.date);
  Append(mac2_input, answer_out.time);
  TS_ASSIGN_OR_RETURN(answer_out.mac2, crypto::PurseSessionMac(algorithm, session_key, mac2_input));
  const std::string card_time = HexEncode(answer_out.date) + HexEncode(answer_out.time);

  // Stored before it is sent: a MAC2 the server forgot could not be matched to a TAC later.
  const std::int64_t attempt_number = attempts.empty() ? 1 : attempts.back().attempt + 1;
  TS_RETURN_IF_ERROR(options_.store->RunInTransaction([&](store::Store& tx) -> Status {
    TS_RETURN_IF_ERROR(
        tx.Execute(
              "INSERT INTO transit_load_attempts (order_id, attempt, card_random, online_counter,"
              " balance_before_fen, card_time_local, mac2, created_unix_ms)"
              " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              {order_id, attempt_number, card_random, counter, balance_fen, card_time,
               ByteView(answer_out.mac2), now_ms})
            .status());
    return tx
        .Execute(
            "UPDATE transit_load_orders SET state = ?, online_counter = ?, updated_unix_ms = ?"
            " WHERE order_id = ?",
            {StateText(LoadOrderState::kAuthorised), counter, now_ms, order_id})
        .status();
  }));
  return answer_out;
}

Status LoadServer::CaptureLocked(const LoadOrder& order) {
  Status captured = options_.payment->Capture(order.payment_ref);
  if (!captured.ok()) return captured.WithContext(Describe(order) + ": capture");
  return options_.store
      ->Execute(
          "UPDATE transit_load_orders SET captured = ?, updated_unix_ms = ? WHERE order_id = ?",
          {true, clock_.NowUnixMillis(), order.order_id})
      .status();
}

Status LoadServer::MarkLoaded(const LoadOrder& order, std::int64_t attempt, ByteView tac) {
  const std::optional<Bytes> tac_value =
      tac.empty() ? std::nullopt : std::optional<Bytes>(Bytes(tac.begin(), tac.end()));
  TS_RETURN_IF_ERROR(
      options_.store
          ->Execute("UPDATE transit_load_orders SET state = ?, loaded_attempt = ?, tac = ?,"
                    " review_note = NULL, updated_unix_ms = ? WHERE order_id = ?",
                    {StateText(LoadOrderState::kLoaded), attempt, tac_value, clock_.NowUnixMillis(),
                     order.order_id})
          .status());
  // The load is recorded; a capture the network cannot take now stays pending (the order says so).
  Status captured = CaptureLocked(order);
  if (!captured.ok() && captured.code() != ErrorCode::kUnavailable) return captured;
  return Status::Ok();
}

Result<LoadOrder> LoadServer::ConfirmLoad(std::string_view order_id, ByteView tac) {
  if (tac.size() != crypto::kPurseMacBytes) {
    return InvalidArgument("TAC: expected " + std::to_string(crypto::kPurseMacBytes) + " bytes");
  }
  std::lock_guard lock(mu_);
  TS_ASSIGN_OR_RETURN(LoadOrder order, LoadOrderLocked(order_id));
  if (order.state == LoadOrderState::kLoaded) {
    if (order.tac != HexEncode(tac)) {
      return FailedPrecondition(Describe(order) + ": loaded already, with another TAC");
    }
    if (!order.captured) {
      Status captured = CaptureLocked(order);
      if (!captured.ok() && captured.code() != ErrorCode::kUnavailable) return captured;
    }
    return LoadOrderLocked(order_id);
  }
  if (order.state != LoadOrderState::kAuthorised && order.state != LoadOrderState::kCancelling) {
    return FailedPrecondition(Describe(order) + ": no MAC2 was issued for it");
  }
  TS_ASSIGN_OR_RETURN(Serial serial, SerialBytes(order.card_serial));
  TS_ASSIGN_OR_RETURN(crypto::SecretBytes dtk,
                      CardKey(*options_.city, options_.tac_master_key, serial));
  TS_ASSIGN_OR_RETURN(std::vector<Attempt> attempts, AttemptsLocked(order_id));
  for (const Attempt& a : attempts) {
    // Load TAC = TAC(DTK, new balance | online counter before the increment | amount | 02 |
    // terminal id | date | time) (the shared card contract).
    Bytes input = UintToBytes(std::uint64_t{a.balance_before_fen} + order.amount_fen, 4);
    Append(input, UintToBytes(a.online_counter, 2));
    Append(input, UintToBytes(order.amount_fen, 4));
    input.push_back(kLoadTransactionType);
    Append(input, options_.terminal_id);
    TS_ASSIGN_OR_RETURN(Bytes card_time, HexDecode(a.card_time_local));
    Append(input, card_time);
    TS_ASSIGN_OR_RETURN(crypto::PurseMac expected,
                        crypto::PurseTac(options_.city->purse_algorithm(), dtk, input));
    if (crypto::ConstantTimeEquals(expected, tac)) {
      TS_RETURN_IF_ERROR(MarkLoaded(order, a.attempt, tac));
      return LoadOrderLocked(order_id);
    }
  }
  return CryptoFailure(Describe(order) + ": the TAC does not verify for any MAC2 issued for it");
}

Result<ReconcileReport> LoadServer::ReconcileFromCardLog(std::string_view card_serial,
                                                         const std::vector<PurseLogRecord>& log) {
  TS_RETURN_IF_ERROR(CheckSerial(card_serial));
  std::lock_guard lock(mu_);
  // The card's next online counter as far as the log shows: past every load it still lists.
  std::int64_t next_counter = 0;
  for (const PurseLogRecord& record : log) {
    if (record.type == kLoadTransactionType)
      next_counter = std::max<std::int64_t>(next_counter, record.counter + 1);
  }
  TS_ASSIGN_OR_RETURN(
      store::Rows rows,
      options_.store->Query(
          "SELECT order_id FROM transit_load_orders WHERE card_serial = ?"
          " AND state IN (?, ?, ?) ORDER BY created_unix_ms, order_id",
          {card_serial, StateText(LoadOrderState::kAuthorised),
           StateText(LoadOrderState::kCancelling), StateText(LoadOrderState::kRefunded)}));
  ReconcileReport report;
  for (const store::Row& row : rows) {
    TS_ASSIGN_OR_RETURN(std::string order_id, row.GetText(0));
    TS_ASSIGN_OR_RETURN(LoadOrder order, LoadOrderLocked(order_id));
    TS_ASSIGN_OR_RETURN(std::vector<Attempt> attempts, AttemptsLocked(order_id));
    std::optional<std::int64_t> matched;
    for (const Attempt& a : attempts) {
      for (const PurseLogRecord& record : log) {
        if (record.type == kLoadTransactionType && record.counter == a.online_counter &&
            record.amount_fen == order.amount_fen && record.terminal_id == options_.terminal_id &&
            HexEncode(record.date_time) == a.card_time_local) {
          matched = a.attempt;
        }
      }
    }
    if (matched.has_value()) {
      if (order.state == LoadOrderState::kRefunded) {
        const std::string note =
            "the card log shows this order loaded after its payment was reversed";
        TS_RETURN_IF_ERROR(
            options_.store
                ->Execute("UPDATE transit_load_orders SET review_note = ?, updated_unix_ms = ?"
                          " WHERE order_id = ?",
                          {note, clock_.NowUnixMillis(), order_id})
                .status());
        report.anomalies.push_back(order_id);
        continue;
      }
      TS_RETURN_IF_ERROR(MarkLoaded(order, *matched, {}));
      report.loaded.push_back(order_id);
      continue;
    }
    if (order.state == LoadOrderState::kAuthorised && order.online_counter.has_value() &&
        *order.online_counter < next_counter) {
      const std::string note = "the card's online counter passed " +
                               std::to_string(*order.online_counter) +
                               " and its log shows no load of this order";
      TS_RETURN_IF_ERROR(
          options_.store
              ->Execute("UPDATE transit_load_orders SET review_note = ?, updated_unix_ms = ?"
                        " WHERE order_id = ?",
                        {note, clock_.NowUnixMillis(), order_id})
              .status());
      report.needs_review.push_back(order_id);
    }
  }
  return report;
}

Result<LoadOrder> LoadServer::ReverseLocked(const LoadOrder& order) {
  if (order.state != LoadOrderState::kCancelling) {
    // No MAC2 is issued for a cancelling order, so nothing can load it while the reversal runs.
    TS_RETURN_IF_ERROR(SetState(order.order_id, LoadOrderState::kCancelling));
  }
  TS_RETURN_IF_ERROR(
      options_.payment->Reverse(order.payment_ref).WithContext(Describe(order) + ": reversal"));
  TS_RETURN_IF_ERROR(SetState(order.order_id, LoadOrderState::kRefunded));
  return LoadOrderLocked(order.order_id);
}

Result<LoadOrder> LoadServer::CancelOrder(std::string_view order_id,
                                          std::uint16_t card_online_counter_now) {
  std::lock_guard lock(mu_);
  TS_ASSIGN_OR_RETURN(LoadOrder order, LoadOrderLocked(order_id));
  switch (order.state) {
    case LoadOrderState::kRefunded:
      return order;
    case LoadOrderState::kPaid:
    case LoadOrderState::kCancelling:
      return ReverseLocked(order);
    case LoadOrderState::kAuthorised:
      if (card_online_counter_now < order.online_counter.value_or(0)) {
        return InvalidArgument(Describe(order) + ": online counter " +
                               std::to_string(card_online_counter_now) + " is below the order's " +
                               std::to_string(order.online_counter.value_or(0)));
      }
      if (card_online_counter_now > order.online_counter.value_or(0)) {
        return FailedPrecondition(Describe(order) + ": the card's online counter advanced past " +
                                  std::to_string(order.online_counter.value_or(0)) +
                                  "; reconcile from the card log first");
      }
      return ReverseLocked(order);
    case LoadOrderState::kLoaded:
      return FailedPrecondition(Describe(order) +
                                ": the card was loaded; a loaded order cannot be cancelled");
    case LoadOrderState::kAuthorising:
      return FailedPrecondition(Describe(order) +
                                ": the payment's outcome is not known yet; retry CreateOrder");
    case LoadOrderState::kDeclined:
      return FailedPrecondition(Describe(order) + ": the payment was declined; nothing to refund");
  }
  return Internal("unknown order state");
}

Result<std::size_t> LoadServer::RetryPendingCaptures() {
  std::lock_guard lock(mu_);
  TS_ASSIGN_OR_RETURN(
      store::Rows rows,
      options_.store->Query(
          "SELECT order_id FROM transit_load_orders WHERE state = ? AND captured = ?",
          {StateText(LoadOrderState::kLoaded), false}));
  std::size_t pending = 0;
  for (const store::Row& row : rows) {
    TS_ASSIGN_OR_RETURN(std::string order_id, row.GetText(0));
    TS_ASSIGN_OR_RETURN(LoadOrder order, LoadOrderLocked(order_id));
    if (!CaptureLocked(order).ok()) ++pending;
  }
  return pending;
}

Result<LoadOrder> LoadServer::Order(std::string_view order_id) const {
  std::lock_guard lock(mu_);
  return LoadOrderLocked(order_id);
}

Result<std::vector<LoadOrder>> LoadServer::OrdersForCard(std::string_view card_serial) const {
  std::lock_guard lock(mu_);
  TS_ASSIGN_OR_RETURN(
      store::Rows rows,
      options_.store->Query("SELECT order_id FROM transit_load_orders WHERE card_serial = ?"
                            " ORDER BY created_unix_ms, order_id",
                            {card_serial}));
  std::vector<LoadOrder> orders;
  for (const store::Row& row : rows) {
    TS_ASSIGN_OR_RETURN(std::string order_id, row.GetText(0));
    TS_ASSIGN_OR_RETURN(LoadOrder order, LoadOrderLocked(order_id));
    orders.push_back(std::move(order));
  }
  return orders;
}

Result<std::vector<ConfirmedLoad>> LoadServer::ConfirmedLoads(std::string_view card_serial) const {
  std::lock_guard lock(mu_);
  TS_ASSIGN_OR_RETURN(
      store::Rows rows,
      options_.store->Query("SELECT order_id FROM transit_load_orders WHERE card_serial = ?"
                            " AND state = ? ORDER BY online_counter",
                            {card_serial, StateText(LoadOrderState::kLoaded)}));
  std::vector<ConfirmedLoad> loads;
  for (const store::Row& row : rows) {
    TS_ASSIGN_OR_RETURN(std::string order_id, row.GetText(0));
    TS_ASSIGN_OR_RETURN(LoadOrder order, LoadOrderLocked(order_id));
    if (!order.online_counter || !order.new_balance_fen || !order.card_time_local) {
      return Corruption(Describe(order) + ": loaded without its attempt");
    }
    loads.push_back({order.order_id, *order.online_counter, order.amount_fen,
                     *order.new_balance_fen, *order.card_time_local});
  }
  return loads;
}

}  // namespace tapstack::transit

// ConsoleApi: the operations console's JSON API under /v1/console/ (docs/console.md has every
// shape). An admin signs in with the one console account (console_sessions.h) and every other
// route needs `Authorization: Bearer <console session>`:
//   POST   /v1/console/sessions                    {"user","password"} → 201 {"session","expires_unix_ms"}
//   DELETE /v1/console/sessions/current            → 204
//   GET    /v1/console/metrics?seconds=60          per-second samples and totals (console_metrics.h)
//   GET    /v1/console/links                       per issuer: link ready, advices, stand-in counts
//   GET    /v1/console/transactions?masked_pan=…|last4=…&limit=20
//                                                  the message journal by transaction (console_journal.h)
//   GET    /v1/console/tokens/{token_id}           a token (looked up for each token requestor)
//   POST   /v1/console/tokens/{token_id}/(suspend|resume|delete)  {"reason"}
//   GET    /v1/console/settlement                  the last settlement report, and what is open
//   POST   /v1/console/settlement/cutoff           closes the clearing cycle (as POST /v1/settlement/cutoff)
//   GET    /v1/console/dcep                        digital currency: supply (issued = held) and
//                                                  revoked (blocked, frozen) devices per operator
// Errors are JSON {"error","message","field"?}: 400 bad input, 401 no or unknown session (and a
// failed sign-in, the same message for user and password), 404, 409 a lifecycle change the
// token's state does not allow, 429 too many failed sign-ins ({"retry_after_seconds"} and a
// Retry-After header), 503 a part that is not running here.
//
// Token actions go through tsp::TspService::IssuerChange: the network's console acts on the
// card issuer's behalf (as the schemes' customer-service portals do, e.g. Mastercard's MDES
// Customer Service Portal), recorded in the TSP's audit log with actor id kConsoleActorId.
//
// Ownership: the switch, the TSP service, the digital-currency network, the clock and the random source are not owned and must
// outlive this object; it owns its sessions and the metrics sampler (whose thread Start begins and
// the destructor joins). Thread-safety: the routes run on the HTTP worker threads at once.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random_source.h"
#include "core/status.h"
#include "crypto/csprng.h"
#include "dcep/dcep_network.h"
#include "network/switch.h"
#include "server/console_metrics.h"
#include "server/console_sessions.h"
#include "tsp/tsp_service.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace tapstack::server {

// The initiator id of the console's token lifecycle changes in the TSP's audit log.
inline constexpr char kConsoleActorId[] = "network-console";
inline constexpr std::size_t kConsoleBodyBytesMax = 4 * 1024;
inline constexpr int kConsoleMetricsSecondsDefault = 60;

struct ConsoleOptions {
  std::string user;                             // required: ServeConfig::console_user
  std::string password;                         // required: ServeConfig::console_password
  network::Switch* network = nullptr;           // required
  tsp::TspService* tsp = nullptr;               // optional: token routes answer 503 without it
  dcep::DcepNetwork* dcep = nullptr;            // optional: /dcep answers 503 without it
  std::vector<std::string> token_requestor_ids;  // whose tokens GET /tokens/{id} can find
  std::filesystem::path data_dir;               // settlement reports in <data_dir>/settlement
  const Clock* clock = nullptr;                 // default: the system clock
  RandomSource* random = nullptr;               // default: a crypto::Csprng of its own
};

class ConsoleApi {
 public:
  // Errors: kInvalidArgument naming a missing option (user, password, network).
  static Result<std::unique_ptr<ConsoleApi>> Create(ConsoleOptions options);
  ~ConsoleApi();
  ConsoleApi(const ConsoleApi&) = delete;
  ConsoleApi& operator=(const ConsoleApi&) = delete;

  // Starts the metrics sampler's thread. Idempotent.
  void Start() { metrics_->Start(); }
  // Stops the sampler (routes keep answering, with the samples taken so far). Idempotent.
  void Stop() { metrics_->Stop(); }

  // Installs the routes above on `server` (before it serves); this object must outlive it.
  void InstallRoutes(httplib::Server& server);

  ConsoleSessions& sessions() { return *sessions_; }
  ConsoleMetrics& metrics() { return *metrics_; }

 private:
  ConsoleApi() = default;

  ConsoleOptions options_;
  crypto::Csprng csprng_;
  std::unique_ptr<ConsoleSessions> sessions_;
  std::unique_ptr<ConsoleMetrics> metrics_;
};

}  // namespace tapstack::server

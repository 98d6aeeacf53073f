// Fuzz target for the HTTP JSON API (dcep/dcep_http.h over json_api/json_api.h): each input is
// one raw HTTP/1.1 request — request line, headers, body — parsed by cpp-httplib and dispatched
// to the real route handlers, as a socket would deliver it. The handlers run against one
// digital-currency network opened once in a temp directory (SQLite, seed/dcep.json, seeded wallet
// ids): wallets w-A (funded) and w-B at icbc, whose ids the seed corpus uses, and admin token
// "fuzz-admin". State carries over from input to input, as on a server.
// Properties: nothing crashes; every request gets an answer; no answer is 500 (the handlers map
// every refusal of bad input to a 4xx naming the field; a 500 is a bug or an internal fault that
// request bytes must not be able to cause); after every answered POST the network audit holds
// (issued = held, per ledger, and each operator's journal agrees with its ledger).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <httplib.h>
#include <unistd.h>

#include "core/random_source.h"
#include "dcep/dcep_http.h"
#include "dcep/dcep_network.h"
#include "dcep/tiers.h"

namespace {

using namespace tapstack;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "dcep_http_fuzz: property failed: %s\n", what);
    std::abort();
  }
}

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "dcep_http_fuzz: set-up %s: %s\n", what, r.status().ToString().c_str());
    std::abort();
  }
  return std::move(r).value();
}

// One request in, the answer out: the Stream httplib's server reads a connection through.
class MemoryStream final : public httplib::Stream {
 public:
  explicit MemoryStream(std::string_view input) : input_(input) {}
  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, std::size_t size) override {
    const std::size_t n = std::min(size, input_.size() - at_);
    std::copy_n(input_.data() + at_, n, ptr);
    at_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, std::size_t size) override {
    output_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 8080;
  }
  socket_t socket() const override { return INVALID_SOCKET; }
  const std::string& output() const { return output_; }

 private:
  std::string_view input_;
  std::size_t at_ = 0;
  std::string output_;
};

// httplib's Server with its connection handler reachable for one in-memory request.
class FuzzServer final : public httplib::Server {
 public:
  std::string Serve(std::string_view request) {
    MemoryStream stream(request);
    bool closed = false;
    process_request(stream, /*close_connection=*/true, closed, nullptr);
    return stream.output();
  }
};

struct World {
  std::filesystem::path dir;
  SeededRandom random{7};  // fixed wallet ids, which the seed corpus names
  std::unique_ptr<dcep::DcepNetwork> network;
  FuzzServer server;

  World() {
    dir = std::filesystem::temp_directory_path() /
          ("tapstack-dcep-http-fuzz-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    dcep::DcepNetworkOptions options;
    options.data_dir = dir;
    options.config = Must(dcep::LoadDcepConfig(Must(dcep::DefaultDcepConfigPath(), "config path")),
                          "config");
    options.operator_ids = {"icbc", "ccb"};
    options.random = &random;
    network = Must(dcep::DcepNetwork::Open(std::move(options)), "open network");
    dcep::Operator& icbc = *Must(network->operator_of("icbc"), "icbc");
    Must(icbc.RequestIssuance(1'000'000, "fuzz-float"), "issuance");
    const dcep::WalletInfo a =
        Must(icbc.OpenWallet({"13800000001", "Fuzz A", "110101199001011234", "", true}, "open-a"),
             "wallet a");
    const dcep::WalletInfo b =
        Must(icbc.OpenWallet({"13800000002", "Fuzz B", "", "", false}, "open-b"), "wallet b");
    Must(icbc.Exchange(a.wallet_id, 500'000, false, "fund-a"), "fund a");
    dcep::DcepHttpOptions http;
    http.admin_token = "fuzz-admin";
    dcep::InstallDcepRoutes(server, *network, std::move(http));
    if (std::getenv("TAPSTACK_FUZZ_PRINT_WALLETS") != nullptr) {
      std::printf("wallet A %s, wallet B %s\n", a.wallet_id.c_str(), b.wallet_id.c_str());
    }
  }
  ~World() {
    network.reset();
    std::filesystem::remove_all(dir);
  }
};

World& TheWorld() {
  static World* world = new World();  // lives for the process: libFuzzer never returns
  return *world;
}

int StatusOf(const std::string& answer) {
  // "HTTP/1.1 NNN ..."
  if (answer.size() < 12 || answer.compare(0, 9, "HTTP/1.1 ") != 0) return -1;
  return std::atoi(answer.substr(9, 3).c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& world = TheWorld();
  const std::string_view request(reinterpret_cast<const char*>(data), size);
  const std::string answer = world.server.Serve(request);
  if (answer.empty()) return 0;  // httplib read no request line: nothing to answer
  const int status = StatusOf(answer);
  Check(status >= 100 && status <= 599, "the answer starts with an HTTP status line");
  Check(status != 500, "no 500 for request bytes");
  if (request.starts_with("POST ") && status < 300) {
    Check(world.network->AuditNetwork().ok(), "the network audit holds after a POST");
  }
  return 0;
}

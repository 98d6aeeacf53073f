#include "cli/serve_command.h"

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "cli/usage_error.h"
#include "server/demo_node.h"
#include "server/role_node.h"
#include "server/serve_config.h"

namespace tapstack::cli {

namespace {

struct ServeOptions {
  std::string config_file;
  std::string role;
  std::string store_url;
  std::string data_dir;
  std::string http_bind;
  int http_port = -1;
  int iso8583_port = -1;
  std::string http_tls_cert_file;
  std::string http_tls_key_file;
  bool reset = false;
};

void RunServe(const ServeOptions& opts) {
  server::ServeConfig config;
  if (!opts.config_file.empty()) {
    OkOrUsageError(server::LoadServeConfigFile(opts.config_file, config), "--config");
  }
  if (!opts.role.empty()) {
    auto role = server::ParseRole(opts.role);
    OkOrUsageError(role.status(), "--role");
    config.role = *role;
  }
  if (!opts.store_url.empty()) config.store_url = opts.store_url;
  if (!opts.data_dir.empty()) config.data_dir = opts.data_dir;
  if (!opts.http_bind.empty()) config.http_bind = opts.http_bind;
  if (opts.http_port >= 0) config.http_port = static_cast<std::uint16_t>(opts.http_port);
  if (opts.iso8583_port >= 0) config.iso8583_port = static_cast<std::uint16_t>(opts.iso8583_port);
  if (!opts.http_tls_cert_file.empty()) config.http_tls_cert_file = opts.http_tls_cert_file;
  if (!opts.http_tls_key_file.empty()) config.http_tls_key_file = opts.http_tls_key_file;
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  OkOrUsageError(server::ValidateServeConfig(config), "configuration");

  if (opts.reset) {
    Status reset = server::DemoNode::ResetData(config.data_dir);
    if (!reset.ok()) throw std::runtime_error(reset.ToString());
    spdlog::info("reset: removed the databases under {}", config.data_dir);
  }

  // Block the stop signals before any thread starts so that only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto node = server::StartRoleNode(config);
  if (!node.ok()) throw std::runtime_error(node.status().ToString());
  std::printf("tapstack serve\n");
  for (const auto& [label, value] : (*node)->Summary()) {
    std::printf("  %-12s  %s\n", label.c_str(), value.c_str());
  }
  if (!config.http_tls_cert_file.empty()) {
    std::printf("  %-12s  %s\n", "tls",
                ("HTTPS only, TLS 1.2 or later (certificate " + config.http_tls_cert_file + ")").c_str());
  }
  std::printf("  %-12s  %s\n", "stop", "Ctrl-C or SIGTERM (clean shutdown; a restart keeps all data)");
  std::fflush(stdout);

  // Waits for a stop signal, looking at the node's health once a second: a node that can no longer
  // serve (an issuer whose ledger failed) stops and exits non-zero, for its supervisor to restart.
  constexpr timespec kHealthCheckInterval{1, 0};
  for (;;) {
    const int signal_number = sigtimedwait(&stop_signals, nullptr, &kHealthCheckInterval);
    if (signal_number == SIGINT || signal_number == SIGTERM) {
      spdlog::info("received {}, shutting down", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
      break;
    }
    if (Status health = (*node)->Health(); !health.ok()) {
      spdlog::error("{}: stopping (restart the process)", health.ToString());
      (*node)->Stop();
      throw std::runtime_error(health.ToString());
    }
  }
  (*node)->Stop();
  std::printf("tapstack serve stopped\n");
}

}  // namespace

void RegisterServeCommand(CLI::App& app) {
  auto opts = std::make_shared<ServeOptions>();
  CLI::App* serve = app.add_subcommand(
      "serve", "Start the demo network in one process (SQLite), or one role of it with --role");
  serve->add_option("--role", opts->role, "all (default), network, issuer or acquirer");
  serve->add_option("--store", opts->store_url,
                    "postgresql://… : keep the role's store on PostgreSQL (default: SQLite under --data-dir)");
  serve->add_option("--config", opts->config_file, "TOML configuration file (docs/CONFIG.md)")
      ->check(CLI::ExistingFile);
  serve->add_option("--data-dir", opts->data_dir, "Directory of the SQLite databases (default data)");
  serve->add_option("--http-bind", opts->http_bind, "HTTP listen address (default 127.0.0.1)");
  serve->add_option("--http-port", opts->http_port, "HTTP port (default 8080)")
      ->check(CLI::Range(1, 65535));
  serve->add_option("--iso8583-port", opts->iso8583_port, "ISO 8583 port of the switch (default 8583)")
      ->check(CLI::Range(1, 65535));
  serve->add_option("--http-tls-cert-file", opts->http_tls_cert_file,
                    "PEM certificate: serve HTTPS only (with --http-tls-key-file; http.tls_cert_file)");
  serve->add_option("--http-tls-key-file", opts->http_tls_key_file,
                    "PEM private key of that certificate (http.tls_key_file)");
  serve->add_flag("--reset", opts->reset, "Delete the databases in the data directory first");
  serve->callback([opts] { RunServe(*opts); });
}

}  // namespace tapstack::cli

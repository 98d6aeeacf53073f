// Runs a program (no shell) for tests: the tapstack binary, node oracles. Header-only.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace tapstack::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  std::string out;
  std::string err;
};

inline constexpr int kProcessTimeoutMs = 60'000;

// Runs `program` with `args`, feeding `stdin_data` on standard input, capturing stdout, stderr and
// the exit code. Throws std::runtime_error when the program cannot be started.
inline ProcessResult RunProcess(const std::string& program, const std::vector<std::string>& args,
                                const std::string& stdin_data = "") {
  std::vector<std::string> argv_storage = {program};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  // Standard input comes from a temporary file so the child never blocks us on a full pipe.
  std::string stdin_path =
      (std::filesystem::temp_directory_path() / ("tapstack-stdin-" + std::to_string(::getpid()) +
                                                 "-" + std::to_string(std::rand())))
          .string();
  { std::ofstream(stdin_path, std::ios::binary) << stdin_data; }

  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  pid_t pid = 0;
  const int spawn_error = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (spawn_error != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    std::filesystem::remove(stdin_path);
    throw std::runtime_error("cannot run " + program);
  }

  ProcessResult result;
  std::array<pollfd, 2> fds = {pollfd{out_pipe[0], POLLIN, 0}, pollfd{err_pipe[0], POLLIN, 0}};
  std::array<std::string*, 2> sinks = {&result.out, &result.err};
  int open_fds = 2;
  bool timed_out = false;
  while (open_fds > 0) {
    int ready = poll(fds.data(), fds.size(), kProcessTimeoutMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      std::array<char, 4096> buf{};
      const ssize_t n = read(fds[i].fd, buf.data(), buf.size());
      if (n > 0) {
        sinks[i]->append(buf.data(), static_cast<std::size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) close(p.fd);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  std::filesystem::remove(stdin_path);
  result.exit_code = (!timed_out && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  return result;
}

// A program running in the background (a tapstack role process), its standard output and error
// appended to `log_path`. Killed with SIGKILL when destroyed and still running.
class ChildProcess {
 public:
  ChildProcess(const std::string& program, const std::vector<std::string>& args, const std::string& log_path) {
    std::vector<std::string> argv_storage = {program};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    const int spawn_error = posix_spawnp(&pid_, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawn_error != 0) throw std::runtime_error("cannot run " + program);
  }
  ~ChildProcess() {
    if (running()) Signal(SIGKILL);
    Wait();
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void Signal(int signal_number) {
    if (pid_ > 0) kill(pid_, signal_number);
  }
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = status;
      pid_ = -1;
    }
    return pid_ > 0;
  }
  // Waits for the process to end; its raw wait status (-1 when never started).
  int Wait() {
    if (pid_ > 0) {
      waitpid(pid_, &exit_status_, 0);
      pid_ = -1;
    }
    return exit_status_;
  }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

// A TCP port on loopback that was free a moment ago, for a child process to listen on. It is
// picked below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range, 32768-60999 by
// default): a port from that range can be taken by any outgoing connection (an issuer link's
// reconnect, another test) between this check and the child's bind, or while a killed child
// restarts. The start is spread by pid so tests running in parallel do not probe the same ports.
inline constexpr std::uint16_t kTestPortFirst = 20000;
inline constexpr std::uint16_t kTestPortCount = 12000;

inline bool TcpPortBindable(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

inline std::uint16_t FreeTcpPort() {
  // Each call moves on, so one test never gets the same port twice even before its child binds it.
  static unsigned next = (static_cast<unsigned>(getpid()) * 7919U) % kTestPortCount;
  for (unsigned tries = 0; tries < kTestPortCount; ++tries) {
    const auto port = static_cast<std::uint16_t>(kTestPortFirst + next);
    next = (next + 1) % kTestPortCount;
    if (TcpPortBindable(port)) return port;
  }
  throw std::runtime_error("no free TCP port in the test range");
}

// The tapstack binary of this build.
inline std::string TapstackBinary() { return TAPSTACK_BINARY_DIR "/src/cli/tapstack"; }

// tests/interop/ (npm oracles, installed by scripts/bootstrap from its lock file).
inline std::filesystem::path InteropDir() {
  return std::filesystem::path(TAPSTACK_VECTORS_DIR).parent_path() / "interop";
}

// Empty when node and the interop packages are usable; otherwise why not.
inline std::string InteropUnavailableReason() {
  if (!std::filesystem::exists(InteropDir() / "node_modules")) {
    return "tests/interop/node_modules is missing (run scripts/bootstrap)";
  }
  try {
    if (RunProcess("node", {"--version"}).exit_code != 0) return "node does not run";
  } catch (const std::exception&) {
    return "node is not installed";
  }
  return "";
}

}  // namespace tapstack::testing

// IoThreads: an Asio io_context run by a few threads, kept alive by a work guard until Stop.
// Stop lets the threads drain what is left (sign-offs, the cancelled handlers of closed sockets,
// which hold their sessions) for a bounded time before stopping: stopping first would strand
// those handlers and the sessions they keep alive.
//
// Owners close their links, servers and timers first, then call Stop (or destroy this).
#pragma once

#include <asio.hpp>

#include <thread>
#include <vector>

namespace tapstack::server {

class IoThreads {
 public:
  explicit IoThreads(int threads);
  ~IoThreads() { Stop(); }
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;

  asio::io_context& io() { return io_; }
  // Releases the work guard, waits up to drain_ms for the io_context to run out of work, then
  // stops it and joins the threads. Idempotent.
  void Stop(int drain_ms = 2'000);

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

}  // namespace tapstack::server

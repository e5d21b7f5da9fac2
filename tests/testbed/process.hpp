#pragma once
// Child processes for tests and benchmarks. Only processes this code started
// are ever signalled, and only by PID; the destructor kills what is left.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace hasup::testbed {

class Process {
 public:
  Process() = default;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  ~Process();

  // stdout and stderr go to log_path (appended).
  static Process spawn(const std::vector<std::string>& argv, const std::string& log_path,
                       const std::map<std::string, std::string>& env = {});

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int number);
  // After SIGSTOP: true once every thread of it is stopped. kill() only queues
  // the signal; a thread running on another core can still answer a request
  // sent right after it (a Consul agent did, once in CI).
  bool wait_stopped(std::chrono::milliseconds timeout);
  // Exit status (or 128+signal) once it ended, -1 if still running at the timeout.
  int wait(std::chrono::milliseconds timeout);
  void kill_and_reap();
  int exit_status() const { return status_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// A TCP port on 127.0.0.1 that nothing listens on right now. Other agents may
// run on this machine, so no port is ever assumed free.
unsigned short free_port();
std::string make_temp_dir(const std::string& tag);
void remove_tree(const std::string& path);
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step = std::chrono::milliseconds(50));
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);

}  // namespace hasup::testbed

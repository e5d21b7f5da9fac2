#pragma once
// N real syncthing 1.19 instances on 127.0.0.1 sharing one folder, for tests
// and benchmarks. Ports (GUI/API and sync) are picked free at start: other
// agents on this machine are left alone. Device names are n1..nN, as the
// supervisor names each device after its node.
//
// Before the first start only the network-facing settings are written into
// each config.xml (GUI and sync listen addresses on 127.0.0.1, discovery,
// relays, NAT, usage reporting, upgrades, crash reporting off), so that no
// instance ever listens beyond loopback or announces itself on the LAN. The
// cluster itself (devices with static tcp://127.0.0.1:PORT addresses, names,
// the shared folder) is configured through the REST API only.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "supervisor/http/client.hpp"
#include "tests/testbed/process.hpp"

namespace hasup::testbed {

struct SyncthingNode {
  std::string name;  // n1, n2, ...
  std::string home;
  std::string folder;  // the shared folder's path on this node
  std::string log;
  unsigned short api_port = 0, sync_port = 0;
  std::string api_key;
  std::string device_id;
  std::unique_ptr<Process> process;
};

struct SyncthingOptions {
  int nodes = 3;
  std::string folder_id = "resources";
  // Off by default in tests: then only an explicit scan (the gate's) makes a
  // change travel, which is what the tests must prove.
  bool fs_watcher = false;
  std::string tag = "syncthing";
};

class SyncthingCluster {
 public:
  explicit SyncthingCluster(SyncthingOptions options = {});
  ~SyncthingCluster();

  static std::string binary() { return "/usr/bin/syncthing"; }
  static bool available();

  // Generates, starts, configures every node and waits until each sees every
  // other connected. Throws with the log directory on failure.
  void start(std::chrono::seconds timeout = std::chrono::seconds(90));

  int size() const { return static_cast<int>(nodes_.size()); }
  SyncthingNode& node(int i) { return nodes_.at(static_cast<std::size_t>(i)); }
  const std::string& folder_id() const { return options_.folder_id; }
  const std::string& dir() const { return dir_; }

  void kill_node(int i);      // SIGKILL, by PID, only a process this cluster started
  void restart_node(int i);   // start again with the same home; waits until its API answers
  bool node_running(int i);

  bool connected(int from, int to);
  bool wait_all_connected(std::chrono::milliseconds timeout);
  bool wait_disconnected(int from, int to, std::chrono::milliseconds timeout);

  // Synchronous REST calls to node i (3 s timeout).
  http::Outcome get(int i, const std::string& target);
  http::Outcome post(int i, const std::string& target, const std::string& body);

  // Writes the API key into a 0600 file (for the gate's api_key_file).
  std::string write_api_key_file(int i, const std::string& path);

 private:
  void generate(int i);
  void spawn(int i);
  bool api_answers(int i);
  void configure(int i);

  SyncthingOptions options_;
  std::string dir_;
  std::vector<SyncthingNode> nodes_;
};

}  // namespace hasup::testbed

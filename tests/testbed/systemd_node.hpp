#pragma once
// A real systemd 252 as PID 1 of its own namespaces, booted in about 0.1-0.3 s,
// for tests that talk to systemd over its system bus (see TESTBED.md).
//
//   unshare --fork --pid --mount --uts --ipc --net --cgroup --mount-proc
//           --propagation private DIR/init     (--net only with NodeNetwork::own)
//
// DIR/init (PID 1 of the new namespaces) makes /proc/sys read-only, mounts a
// private tmpfs on /run and cgroup2 on /sys/fs/cgroup, bind-mounts DIR/bus on
// /run/dbus (so the node's system bus is DIR/bus/system_bus_socket on the
// host), gives the node its own /etc/machine-id, and execs systemd with
// SYSTEMD_UNIT_PATH=DIR/units only: stub targets, Debian's dbus.socket and
// dbus.service, and the test's units. It never sees the host's unit paths
// (sysinit.target would run tmpfiles on the shared /tmp, sysctl, ...).
//
// The node runs in a cgroup of its own (DIR's name under the cgroup2 mount),
// joined before unshare, so its cgroup namespace is rooted there and every
// cgroup its systemd creates is below it. Stop: SIGKILL to the node's PID 1
// (by host PID, checked), reap, rmdir that cgroup tree, remove DIR. If the
// test process dies first, PR_SET_PDEATHSIG takes the node down with it.
//
// Network: NodeNetwork::own (the default) gives the node a fresh network
// namespace; its systemd brings up that namespace's own `lo` (127.0.0.1/8,
// ::1) at boot, and nothing in it is reachable from the host.
// NodeNetwork::host drops --net: the node shares the host's network
// namespace, so a service in it (nginx) listening on 127.0.0.1 is reached by
// the test process directly, and its ports come from the host's (pick them
// with free_port()). Nothing of the host's network changes: init configures
// no interface, systemd's loopback setup finds the host's `lo` already as it
// wants it, and /proc/sys (net sysctls included) is read-only in every node.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "tests/testbed/process.hpp"

namespace hasup::testbed {

enum class NodeNetwork { own, host };

class SystemdNode {
 public:
  static constexpr const char* kSystemd = "/lib/systemd/systemd";
  // Empty when a node can boot here (root, binaries, cgroup2), else why not.
  static std::string unavailable_reason();

  explicit SystemdNode(const std::string& tag = "sdnode", NodeNetwork network = NodeNetwork::own);
  ~SystemdNode();
  SystemdNode(const SystemdNode&) = delete;
  SystemdNode& operator=(const SystemdNode&) = delete;

  // A unit file in the node's unit dir. Before boot(), or followed by daemon_reload().
  void add_unit(const std::string& name, const std::string& text);
  // Boots and waits until systemd owns org.freedesktop.systemd1 on the node's
  // bus. Throws std::runtime_error (with the node's log) when it does not.
  void boot(std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // Kills the node and removes everything it left. Safe to call twice.
  void shutdown();
  bool booted() const { return init_pid_ > 0; }

  std::string bus_socket() const { return dir_ + "/bus/system_bus_socket"; }
  std::string bus_address() const { return "unix:path=" + bus_socket(); }
  // A host dir the node sees at the same path (scratch space for test units).
  const std::string& dir() const { return dir_; }
  const std::string& cgroup() const { return cgroup_; }
  NodeNetwork network() const { return network_; }
  // Host PID of the node's PID 1 (systemd).
  pid_t init_pid() const { return init_pid_; }
  // Host PID of the node's process `node_pid` (a PID as systemd reports it,
  // e.g. MainPID), or -1. Checked against the node's PID namespace, so a
  // signal sent to the result can only reach a process of this node.
  pid_t host_pid(pid_t node_pid) const;
  // Runs argv inside all the node's namespaces (nsenter); returns its exit status.
  int exec(const std::vector<std::string>& argv, std::string* output = nullptr,
           std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // busctl against the node's bus; returns its exit status.
  int busctl(const std::vector<std::string>& args, std::string* output = nullptr,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));
  int daemon_reload() {
    return busctl({"call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                   "org.freedesktop.systemd1.Manager", "Reload"});
  }
  // The node's log (unshare's and the init script's stdout/stderr).
  std::string log() const;

 private:
  void write_units();
  void write_init();
  pid_t find_init(std::chrono::milliseconds timeout);
  bool init_is_ours() const;
  void remove_cgroup();
  int run_captured(const std::vector<std::string>& argv, std::string* output, std::chrono::milliseconds timeout);

  NodeNetwork network_;
  std::string dir_;
  std::string cgroup_;
  Process unshare_;
  pid_t init_pid_ = -1;
  std::string init_pid_ns_;  // readlink of /proc/<init>/ns/pid
  int run_counter_ = 0;
};

// The cgroup2 mount point of this machine ("" if none): /sys/fs/cgroup on a
// unified host, /sys/fs/cgroup/unified on a hybrid one.
std::string cgroup2_mount();

}  // namespace hasup::testbed

#include "tests/testbed/systemd_node.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace hasup::testbed {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* kUnshare = "/usr/bin/unshare";
constexpr const char* kSetpriv = "/usr/bin/setpriv";
constexpr const char* kNsenter = "/usr/bin/nsenter";
constexpr const char* kBusctl = "/usr/bin/busctl";
constexpr const char* kShell = "/bin/sh";
constexpr const char* kBootTarget = "hasup-node.target";

// Stubs for the targets systemd and the units' default dependencies name.
// Empty on purpose: nothing of the host's boot may run in a node.
const char* const kStubTargets[] = {"sysinit.target",   "basic.target",      "sockets.target",   "timers.target",
                                    "paths.target",     "slices.target",     "local-fs.target",  "swap.target",
                                    "network.target",   "network-online.target", "multi-user.target",
                                    "default.target",   "emergency.target"};

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string link_target(const std::string& path) {
  std::error_code ec;
  auto target = fs::read_symlink(path, ec);
  return ec ? std::string() : target.string();
}

// "NSpid:\t4242\t17" -> {4242, 17}
std::vector<long> nspids(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("NSpid:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    std::vector<long> out;
    long v;
    while (fields >> v) out.push_back(v);
    return out;
  }
  return {};
}

long parent_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("PPid:", 0) == 0) return std::stol(line.substr(5));
  return -1;
}

std::string random_machine_id() {
  std::random_device rd;
  std::ostringstream out;
  for (int i = 0; i < 4; ++i) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
    out << buf;
  }
  return out.str();
}

bool cgroup_tree_empty(const std::string& root) {
  std::error_code ec;
  if (!fs::exists(root, ec)) return true;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->path().filename() == "cgroup.procs" && !read_file(it->path().string()).empty()) return false;
  }
  return read_file(root + "/cgroup.procs").empty();
}

void remove_cgroup_tree(const std::string& root) {
  std::error_code ec;
  std::vector<std::string> dirs;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_directory(ec)) dirs.push_back(it->path().string());
  // cgroupfs wants rmdir, deepest first (pre-order reversed).
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) ::rmdir(it->c_str());
  ::rmdir(root.c_str());
}

// A test process that died (crash, SIGKILL) took its nodes down with it
// (PDEATHSIG) but could not remove their cgroups and dirs. Those are removed
// here: named like ours, no process anywhere in the tree, and created more
// than a minute ago (a node being booted right now has processes within
// milliseconds of its cgroup's creation).
void sweep_stale_nodes(const std::string& prefix) {
  std::string mount = cgroup2_mount();
  if (mount.empty()) return;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(mount, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || !entry.is_directory(ec)) continue;
    auto age = fs::file_time_type::clock::now() - fs::last_write_time(entry.path(), ec);
    if (ec || age < std::chrono::minutes(1) || !cgroup_tree_empty(entry.path().string())) continue;
    remove_cgroup_tree(entry.path().string());
    fs::path dir = fs::temp_directory_path() / name;
    if (fs::exists(dir / "init", ec) && fs::exists(dir / "units", ec)) remove_tree(dir.string());
  }
}

}  // namespace

std::string cgroup2_mount() {
  std::ifstream in("/proc/self/mounts");
  std::string device, mountpoint, type, rest;
  std::string found;
  while (in >> device >> mountpoint >> type && std::getline(in, rest)) {
    if (type != "cgroup2") continue;
    if (mountpoint == "/sys/fs/cgroup" || mountpoint == "/sys/fs/cgroup/unified") return mountpoint;
    if (found.empty()) found = mountpoint;
  }
  return found;
}

std::string SystemdNode::unavailable_reason() {
  if (::geteuid() != 0) return "not root (a systemd node needs namespaces, mounts and cgroups)";
  for (const char* binary : {kSystemd, kUnshare, kSetpriv, kNsenter, kBusctl, "/usr/bin/dbus-daemon"})
    if (::access(binary, X_OK) != 0) return std::string(binary) + " is missing";
  for (const char* unit : {"/lib/systemd/system/dbus.service", "/lib/systemd/system/dbus.socket"})
    if (::access(unit, R_OK) != 0) return std::string(unit) + " is missing (dbus package)";
  if (cgroup2_mount().empty()) return "no cgroup2 hierarchy mounted";
  if (::access("/etc/machine-id", F_OK) != 0) return "/etc/machine-id is missing (needed as a bind-mount target)";
  return {};
}

SystemdNode::SystemdNode(const std::string& tag, NodeNetwork network) : network_(network) {
  sweep_stale_nodes("hasup-" + tag + "-");
  dir_ = make_temp_dir(tag);
  ::chmod(dir_.c_str(), 0755);
  for (const char* sub : {"units", "empty", "bus"}) fs::create_directories(dir_ + "/" + sub);
  write_file(dir_ + "/console", "");
  write_file(dir_ + "/machine-id", random_machine_id() + "\n");
  write_units();
  write_init();
}

SystemdNode::~SystemdNode() {
  try {
    shutdown();
  } catch (...) {
  }
  remove_tree(dir_);
}

void SystemdNode::add_unit(const std::string& name, const std::string& text) {
  write_file(dir_ + "/units/" + name, text);
}

void SystemdNode::write_units() {
  for (const char* target : kStubTargets)
    add_unit(target, std::string("[Unit]\nDescription=") + target + " (testbed stub)\n");
  add_unit("shutdown.target", "[Unit]\nDescription=shutdown.target (testbed stub)\nDefaultDependencies=no\n"
                              "RefuseManualStart=yes\n");
  add_unit(kBootTarget,
           "[Unit]\nDescription=testbed node\nRequires=dbus.socket dbus.service\nAfter=dbus.socket dbus.service\n");
  // Debian's own units, unchanged: dbus.service needs /run/dbus, which init makes.
  for (const char* unit : {"dbus.service", "dbus.socket"})
    fs::copy_file(std::string("/lib/systemd/system/") + unit, dir_ + "/units/" + unit,
                  fs::copy_options::overwrite_existing);
}

void SystemdNode::write_init() {
  const std::string d = dir_;
  std::string script =
      "#!/bin/sh\n"
      "# PID 1 of the node's fresh namespaces, before systemd (see tests/testbed/systemd_node.hpp).\n"
      "# Every mount here lives in the node's private mount namespace only.\n"
      "set -e\n"
      "mount -o bind,ro /proc/sys /proc/sys\n"
      "mount -t tmpfs -o mode=755 tmpfs /run\n"
      "mkdir -p /run/dbus\n"
      "mount --bind " + quote(d + "/bus") + " /run/dbus\n"
      "# systemd logs to the console: keep it off the host's.\n"
      "mount --bind " + quote(d + "/console") + " /dev/console\n"
      "# Its own machine id: never a first boot (that would run presets on the host's /etc).\n"
      "mount --bind " + quote(d + "/machine-id") + " /etc/machine-id\n"
      "mount -t cgroup2 cgroup2 /sys/fs/cgroup\n"
      "export container=lab\n"
      "export SYSTEMD_UNIT_PATH=" + quote(d + "/units") + "\n"
      "export SYSTEMD_GENERATOR_PATH=" + quote(d + "/empty") + "\n"
      "export SYSTEMD_ENVIRONMENT_GENERATOR_PATH=" + quote(d + "/empty") + "\n"
      "exec " + kSystemd + " --system --unit=" + kBootTarget +
      " --log-target=console --log-level=info --default-standard-output=null --default-standard-error=null\n";
  write_file(d + "/init", script);
  ::chmod((d + "/init").c_str(), 0755);
}

void SystemdNode::boot(std::chrono::milliseconds timeout) {
  if (unshare_.pid() > 0) throw std::runtime_error("node already booted");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string mount = cgroup2_mount();
  cgroup_ = mount + "/" + fs::path(dir_).filename().string();
  if (::mkdir(cgroup_.c_str(), 0755) != 0 && errno != EEXIST)
    throw std::runtime_error("cannot create cgroup " + cgroup_ + ": " + std::strerror(errno));
  // The shell joins the node's cgroup before unshare creates the cgroup
  // namespace (rooted at the caller's cgroup). setpriv's PDEATHSIG and
  // unshare's --kill-child chain the node's life to this process.
  std::string command = "echo $$ > " + quote(cgroup_ + "/cgroup.procs") + " && exec " + kSetpriv +
                        " --pdeathsig KILL " + kUnshare +
                        " --kill-child=SIGKILL --fork --pid --mount --uts --ipc" +
                        (network_ == NodeNetwork::own ? " --net" : "") +
                        " --cgroup --mount-proc --propagation private " + quote(dir_ + "/init");
  unshare_ = Process::spawn({kShell, "-c", command}, dir_ + "/node.log");
  init_pid_ = find_init(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
  if (init_pid_ <= 0) {
    std::string log_text = log();
    shutdown();
    throw std::runtime_error("the node's PID 1 did not start: " + log_text);
  }
  init_pid_ns_ = link_target("/proc/" + std::to_string(init_pid_) + "/ns/pid");
  while (true) {
    if (busctl({"call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner", "s",
                "org.freedesktop.systemd1"},
               nullptr, 2s) == 0)
      return;
    if (!unshare_.running() || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(20ms);
  }
  std::string log_text = log();
  shutdown();
  throw std::runtime_error("systemd did not appear on the node's bus: " + log_text);
}

pid_t SystemdNode::find_init(std::chrono::milliseconds timeout) {
  pid_t found = -1;
  wait_until(
      [this, &found] {
        if (!unshare_.running()) return true;
        pid_t a = unshare_.pid();
        std::istringstream children(read_file("/proc/" + std::to_string(a) + "/task/" + std::to_string(a) + "/children"));
        long child;
        while (children >> child) {
          auto ids = nspids(static_cast<pid_t>(child));
          if (ids.size() >= 2 && ids.back() == 1) {
            found = static_cast<pid_t>(child);
            return true;
          }
        }
        return false;
      },
      timeout, 5ms);
  return found;
}

// The PID we hold is still the node's PID 1: a child of our unshare, PID 1 in
// its namespace, in the namespace we recorded. Never signal a recycled PID.
bool SystemdNode::init_is_ours() const {
  if (init_pid_ <= 0) return false;
  if (parent_of(init_pid_) != unshare_.pid()) return false;
  auto ids = nspids(init_pid_);
  if (ids.size() < 2 || ids.back() != 1) return false;
  return link_target("/proc/" + std::to_string(init_pid_) + "/ns/pid") == init_pid_ns_;
}

pid_t SystemdNode::host_pid(pid_t node_pid) const {
  if (init_pid_ <= 0 || node_pid <= 0) return -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    auto ids = nspids(pid);
    if (ids.size() < 2 || ids.back() != node_pid) continue;
    if (link_target("/proc/" + name + "/ns/pid") != init_pid_ns_) continue;
    return pid;
  }
  return -1;
}

int SystemdNode::run_captured(const std::vector<std::string>& argv, std::string* output,
                              std::chrono::milliseconds timeout) {
  std::string out_path = dir_ + "/run-" + std::to_string(++run_counter_) + ".out";
  Process p = Process::spawn(argv, out_path);
  int status = p.wait(timeout);
  if (status < 0) p.kill_and_reap();
  if (output) *output = read_file(out_path);
  std::error_code ec;
  fs::remove(out_path, ec);
  return status;
}

int SystemdNode::exec(const std::vector<std::string>& argv, std::string* output, std::chrono::milliseconds timeout) {
  if (!init_is_ours()) return -1;
  std::vector<std::string> full = {kNsenter, "-t", std::to_string(init_pid_), "-a"};
  full.insert(full.end(), argv.begin(), argv.end());
  return run_captured(full, output, timeout);
}

int SystemdNode::busctl(const std::vector<std::string>& args, std::string* output, std::chrono::milliseconds timeout) {
  std::vector<std::string> full = {kBusctl, "--address=" + bus_address()};
  full.insert(full.end(), args.begin(), args.end());
  return run_captured(full, output, timeout);
}

std::string SystemdNode::log() const { return read_file(dir_ + "/node.log"); }

void SystemdNode::shutdown() {
  if (unshare_.pid() > 0) {
    // The node's PID 1 dies, and with it every process of its PID namespace;
    // unshare, its parent, then exits and is reaped here.
    if (init_is_ours()) ::kill(init_pid_, SIGKILL);
    if (unshare_.wait(5s) < 0) unshare_.kill_and_reap();
  }
  init_pid_ = -1;
  remove_cgroup();
}

void SystemdNode::remove_cgroup() {
  if (cgroup_.empty()) return;
  if (!wait_until([this] { return cgroup_tree_empty(cgroup_); }, 3s, 10ms)) {
    // Everything in this cgroup is the node's: cgroup.kill (Linux 5.14+) ends what is left.
    write_file(cgroup_ + "/cgroup.kill", "1");
    wait_until([this] { return cgroup_tree_empty(cgroup_); }, 3s, 10ms);
  }
  // A cgroup whose last process is still exiting is briefly busy: retry.
  wait_until(
      [this] {
        std::error_code ec;
        if (!fs::exists(cgroup_, ec)) return true;
        remove_cgroup_tree(cgroup_);
        return !fs::exists(cgroup_, ec);
      },
      3s, 20ms);
  cgroup_.clear();
}

}  // namespace hasup::testbed

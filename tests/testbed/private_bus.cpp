#include "tests/testbed/private_bus.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace hasup::testbed {

namespace {

std::string config_text(PrivateBus::Policy policy, const std::string& socket) {
  std::string deny;
  if (policy == PrivateBus::Policy::deny_systemd)
    // Later rules win within a context: this one overrides the allow-all above it.
    deny = "    <deny send_destination=\"org.freedesktop.systemd1\" send_type=\"method_call\"/>\n";
  return "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
         " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
         "<busconfig>\n"
         "  <type>custom</type>\n"
         "  <listen>unix:path=" + socket + "</listen>\n"
         "  <auth>EXTERNAL</auth>\n"
         "  <policy context=\"default\">\n"
         "    <allow user=\"*\"/>\n"
         "    <allow own=\"*\"/>\n"
         "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
         "    <allow receive_sender=\"*\"/>\n"
         "    <allow eavesdrop=\"true\"/>\n" +
         deny +
         "  </policy>\n"
         "</busconfig>\n";
}

}  // namespace

bool unix_socket_accepts(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string PrivateBus::unavailable_reason() {
  if (::access(kDaemon, X_OK) != 0) return std::string(kDaemon) + " is missing (apt-get install dbus-daemon)";
  return {};
}

PrivateBus::PrivateBus(Policy policy, const std::string& tag) : policy_(policy), dir_(make_temp_dir(tag)) {
  config_path_ = dir_ + "/bus.conf";
  write_file(config_path_, config_text(policy_, socket_path()));
}

PrivateBus::~PrivateBus() {
  process_.kill_and_reap();
  remove_tree(dir_);
}

void PrivateBus::start(std::chrono::milliseconds timeout) {
  process_.kill_and_reap();
  // A killed daemon leaves its socket file: bind() would fail on it.
  remove_socket();
  process_ = Process::spawn({kDaemon, "--config-file=" + config_path_, "--nofork", "--nopidfile", "--print-address"},
                            dir_ + "/dbus-daemon.log");
  bool up = wait_until(
      [this] { return !process_.running() || unix_socket_accepts(socket_path()); }, timeout,
      std::chrono::milliseconds(10));
  if (!up || !process_.running())
    throw std::runtime_error("dbus-daemon did not come up on " + socket_path() + ": " +
                             read_file(dir_ + "/dbus-daemon.log"));
}

void PrivateBus::kill() { process_.kill_and_reap(); }

void PrivateBus::remove_socket() {
  std::error_code ec;
  std::filesystem::remove(socket_path(), ec);
}

bool PrivateBus::running() { return process_.running(); }

void PrivateBus::freeze() {
  process_.signal(SIGSTOP);
  process_.wait_stopped(std::chrono::seconds(2));
}

void PrivateBus::thaw() { process_.signal(SIGCONT); }

}  // namespace hasup::testbed

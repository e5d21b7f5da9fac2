// The floating IP as it is, not as it was told: keepalived's state changes
// from its notify FIFO, and whether the address is on this node's interface.
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/read_until.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <istream>

#include "components/keepalived/notify.hpp"
#include "supervisor/loop/engine.hpp"

namespace hasup::loop {

namespace asio = boost::asio;

// The supervisor makes the FIFO (keepalived only opens it) and holds it open
// for reading and writing: the read end never sees EOF when keepalived
// restarts, and keepalived's writes never fail for want of a reader.
void Engine::start_vrrp_notify() {
  if (!config_.vip.enabled()) return;
  const std::string& path = config_.vip.notify_fifo;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISFIFO(st.st_mode)) {
    spdlog::error("floating IP: {} exists and is not a FIFO: keepalived's state will not be reported", path);
    return;
  }
  if (::mkfifo(path.c_str(), 0600) != 0 && errno != EEXIST) {
    spdlog::error("floating IP: cannot create {}: {}", path, std::strerror(errno));
    return;
  }
  int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    spdlog::error("floating IP: cannot open {}: {}", path, std::strerror(errno));
    return;
  }
  vrrp_fifo_ = std::make_unique<asio::posix::stream_descriptor>(io_, fd);
  read_vrrp_notify();
}

void Engine::read_vrrp_notify() {
  asio::async_read_until(*vrrp_fifo_, vrrp_buffer_, '\n', [this](boost::system::error_code ec, std::size_t) {
    if (ec || stopped_) {
      if (ec != asio::error::operation_aborted)
        spdlog::error("floating IP: reading {} failed: {}", config_.vip.notify_fifo, ec.message());
      return;
    }
    std::istream in(&vrrp_buffer_);
    std::string line;
    std::getline(in, line);
    auto event = keepalived::parse_notify_line(line);
    if (!event) {
      spdlog::warn("floating IP: unexpected line from keepalived's notify FIFO ignored: {:.120}", line);
    } else if (event->kind == "INSTANCE" && event->name == keepalived::VrrpModel{}.instance) {
      if (event->state != vrrp_state_)
        spdlog::info("floating IP: keepalived {} -> {} (priority {})", vrrp_state_.empty() ? "?" : vrrp_state_,
                     event->state, event->priority);
      vrrp_state_ = event->state;
      wake();
    }
    read_vrrp_notify();
  });
}

bool Engine::vip_on_interface() const {
  std::string vip = config_.vip.address.substr(0, config_.vip.address.find('/'));
  in_addr wanted{};
  if (::inet_pton(AF_INET, vip.c_str(), &wanted) != 1) return false;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* a = list; a && !found; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || config_.vip.interface != a->ifa_name) continue;
    found = reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr == wanted.s_addr;
  }
  ::freeifaddrs(list);
  return found;
}

}  // namespace hasup::loop

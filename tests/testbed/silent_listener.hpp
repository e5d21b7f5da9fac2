#pragma once
// A TCP port on 127.0.0.1 that takes connections (the kernel does, from the
// backlog) and never says a word: a server that hangs, or, to a client that
// waits for an answer, a crashed host. Counts the connections made to it.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace hasup::testbed {

class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("no silent listener on 127.0.0.1");
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  unsigned short port() const { return port_; }

  // Connections made since the last call (each one closed here).
  int take_connections() {
    int n = 0;
    for (int fd; (fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK)) >= 0; ::close(fd)) ++n;
    return n;
  }

 private:
  int fd_ = -1;
  unsigned short port_ = 0;
};

}  // namespace hasup::testbed

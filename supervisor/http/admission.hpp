#pragma once
// Which connections a server takes: a cap on all of them and a cap per client
// address, so one client cannot take every slot (512 slow uploads from one
// host filled the gate, and the REST service's Consul check through it went
// critical). Thread-safe: the gate accepts on one thread and its sessions end
// on others. Header-only: the REST stand-in links no supervisor library.
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <variant>

namespace hasup::http {

class ConnectionAdmission {
  struct Counts {
    std::mutex mutex;
    std::size_t total = 0;
    std::map<boost::asio::ip::address, std::size_t> per_client;
  };

 public:
  // max_per_client 0: no cap per client.
  ConnectionAdmission(std::size_t max_total, std::size_t max_per_client, std::string total_key = "max_connections",
                      std::string per_client_key = "max_connections_per_client")
      : counts_(std::make_shared<Counts>()),
        max_total_(max_total),
        max_per_client_(max_per_client),
        total_key_(std::move(total_key)),
        per_client_key_(std::move(per_client_key)) {}

  // Held by a connection for its life; gives its slot back when destroyed.
  // It keeps the counts alive, so it may outlive the admission itself.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept : counts_(std::move(other.counts_)), client_(other.client_) {}
    Ticket& operator=(Ticket&& other) noexcept {
      release();
      counts_ = std::move(other.counts_);
      client_ = other.client_;
      return *this;
    }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { release(); }

   private:
    friend class ConnectionAdmission;
    Ticket(std::shared_ptr<Counts> counts, boost::asio::ip::address client)
        : counts_(std::move(counts)), client_(client) {}
    void release() {
      if (!counts_) return;
      std::lock_guard lock(counts_->mutex);
      --counts_->total;
      auto it = counts_->per_client.find(client_);
      if (it != counts_->per_client.end() && --it->second == 0) counts_->per_client.erase(it);
      counts_.reset();
    }
    std::shared_ptr<Counts> counts_;
    boost::asio::ip::address client_;
  };

  // A ticket, or the reason the connection is refused (for the 503 and the log).
  std::variant<Ticket, std::string> admit(const boost::asio::ip::address& client) {
    std::lock_guard lock(counts_->mutex);
    if (counts_->total >= max_total_)
      return "too many open connections (" + std::to_string(counts_->total) + ", " + total_key_ + ")";
    auto& mine = counts_->per_client[client];
    if (max_per_client_ && mine >= max_per_client_) {
      return "too many open connections from " + client.to_string() + " (" + std::to_string(mine) + ", " +
             per_client_key_ + ")";
    }
    ++mine;
    ++counts_->total;
    return Ticket(counts_, client);
  }

  std::size_t open() const {
    std::lock_guard lock(counts_->mutex);
    return counts_->total;
  }

 private:
  std::shared_ptr<Counts> counts_;
  std::size_t max_total_;
  std::size_t max_per_client_;
  std::string total_key_;
  std::string per_client_key_;
};

}  // namespace hasup::http

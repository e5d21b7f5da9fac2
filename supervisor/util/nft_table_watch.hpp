#pragma once
// Notices when a table the supervisor loaded vanishes from the kernel (a
// firewall's `flush ruleset`: nft_table_present): every 10 s, while
// `loaded()` says one is loaded, nft is asked on the worker thread (it
// blocks), and `gone()` runs on the loop's io_context when the table is
// missing, so its driver forgets it was loaded and the next cycle loads it
// again. The VRRP filter and the dead peers' table use it.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string>

namespace hasup {

class NftTableWatch {
 public:
  NftTableWatch(boost::asio::io_context& io, boost::asio::steady_timer& timer, std::string nft, std::string table,
                std::function<bool()> loaded, std::function<void()> gone);
  // The worker must outlive every check: stop() first, then join it.
  void start(boost::asio::thread_pool& workers);
  void stop() { stopped_ = true; }

 private:
  void check_later();

  boost::asio::io_context& io_;
  boost::asio::steady_timer& timer_;
  boost::asio::thread_pool* workers_ = nullptr;
  std::string nft_;
  std::string table_;
  std::function<bool()> loaded_;
  std::function<void()> gone_;
  bool stopped_ = false;
};

}  // namespace hasup

#pragma once
// One nftables table a driver keeps in the kernel (the dead peers' table, the
// members-only ports): each script is loaded on a worker thread (nft blocks),
// the last one loaded and the last one refused are remembered (decide() asks
// for neither again), and a table a firewall flushed is noticed and loaded
// again (NftTableWatch).
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <string>

#include "supervisor/loop/driver.hpp"
#include "supervisor/util/nft_table_watch.hpp"

namespace hasup::loop {

class NftTableKeeper {
 public:
  // `what` names the table in the log ("dead peers", "members-only ports").
  NftTableKeeper(DriverContext& ctx, std::string nft, std::string table, std::string what);

  void start();
  void stop();
  void forget_refused() { refused_.clear(); }  // SIGHUP: the operator may have fixed it

  // Writes `script` to `path` and loads it; on the loop's thread, the state
  // is updated, `done(error)` runs ("" loaded) and `job` is finished.
  void load(std::string path, std::string script, Job job, std::function<void(const std::string& error)> done);

  const std::string& applied() const { return applied_; }
  const std::string& refused() const { return refused_; }
  const std::string& error() const { return error_; }
  const std::string& table() const { return table_; }

 private:
  DriverContext& ctx_;
  std::string nft_;
  std::string table_;
  std::string what_;
  std::string applied_;  // "" nothing yet: a boot empties the kernel's tables
  std::string refused_;
  std::string error_;
  std::unique_ptr<boost::asio::thread_pool> workers_;
  Timers timers_;
  NftTableWatch watch_;  // on a timer from timers_
};

}  // namespace hasup::loop

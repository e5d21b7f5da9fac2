#pragma once
// The calls the gate makes to the local syncthing's REST API, on top of the
// project's one outbound HTTP policy (supervisor/http/client.hpp: a deadline
// for the whole exchange and a body limit). Targets are built here so the
// escaping is in one place.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "supervisor/http/client.hpp"

namespace hasup::upload_gate {

class SyncthingClient {
 public:
  SyncthingClient(boost::asio::io_context& io, unsigned short port, std::string api_key,
                  std::chrono::milliseconds timeout);

  using Done = std::function<void(http::Outcome)>;
  void get(const std::string& target, Done done);
  // A scan hashes what changed before it answers, so it may take longer than
  // a query: its caller gives the bound (what is left of the write's wait).
  void post(const std::string& target, std::chrono::milliseconds timeout, Done done);
  // A long-poll: the deadline is the poll's own timeout plus a margin.
  void long_poll(const std::string& target, std::chrono::seconds poll_timeout, Done done);

  // POST /rest/db/scan: `sub` may repeat (lib/api/api.go, postDBScan reads
  // qs["sub"]) and the call returns once the scan is done, so the index holds
  // the change when it answers. No subs: the whole folder.
  static std::string scan_target(const std::string& folder, const std::vector<std::string>& subs);
  static std::string file_target(const std::string& folder, const std::string& path);
  static std::string remote_need_target(const std::string& folder, const std::string& device, int per_page);
  static std::string completion_target(const std::string& folder, const std::string& device);
  static std::string folder_target(const std::string& folder);
  static std::string events_target(const std::string& events, long long since, std::chrono::seconds timeout);

 private:
  void call(http::Method method, const std::string& target, std::chrono::milliseconds timeout, Done done);
  boost::asio::io_context& io_;
  http::Endpoint endpoint_;
  std::string api_key_;
  std::chrono::milliseconds timeout_;
};

}  // namespace hasup::upload_gate

#pragma once
// syncthing's REST API as the upload gate calls it (and the supervisor can:
// the same endpoint, key and policy), on top of the project's one outbound
// HTTP policy (supervisor/http/client.hpp: a deadline for the whole exchange
// and a body limit). Targets are built here so the escaping is in one place;
// the answers go to the parsers in observe_parse.hpp.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "supervisor/http/client.hpp"

namespace hasup::syncthing {

class Client {
 public:
  // `policy` bounds each call (get); post and long_poll give their own deadline.
  Client(boost::asio::io_context& io, http::Endpoint endpoint, std::string api_key, http::Policy policy);

  void get(const std::string& target, http::Callback done);
  // A scan hashes what changed before it answers, so it may take longer than
  // a query: its caller gives the bound (what is left of the write's wait).
  void post(const std::string& target, std::chrono::milliseconds timeout, http::Callback done);
  // A long-poll: the deadline is the poll's own timeout plus the policy's.
  void long_poll(const std::string& target, std::chrono::seconds poll_timeout, http::Callback done);
  // PUT of a JSON body (the whole config: PUT /rest/config).
  void put_json(const std::string& target, std::string body, std::chrono::milliseconds timeout, http::Callback done);
  // syncthing's key changed (it answered 403): calls from now on carry this one.
  void set_api_key(std::string api_key) { api_key_ = std::move(api_key); }

  // POST /rest/db/scan: `sub` may repeat (lib/api/api.go, postDBScan reads
  // qs["sub"]) and the call returns once the scan is done, so the index holds
  // the change when it answers. No subs: the whole folder.
  static std::string scan_target(const std::string& folder, const std::vector<std::string>& subs);
  static std::string file_target(const std::string& folder, const std::string& path);
  static std::string remote_need_target(const std::string& folder, const std::string& device, int per_page);
  static std::string completion_target(const std::string& folder, const std::string& device);
  static std::string folder_status_target(const std::string& folder);
  static std::string folder_target(const std::string& folder);
  static std::string events_target(const std::string& events, long long since, std::chrono::seconds timeout);
  static constexpr const char* kPingTarget = "/rest/system/ping";

 private:
  void call(http::Method method, const std::string& target, std::chrono::milliseconds timeout, http::Callback done,
            std::string body = {});
  boost::asio::io_context& io_;
  http::Endpoint endpoint_;
  std::string api_key_;
  http::Policy policy_;
};

}  // namespace hasup::syncthing

#pragma once
// syncthing's REST API as the upload gate calls it (and the supervisor can:
// the same endpoint, key and policy), on top of the project's one outbound
// HTTP policy (supervisor/http/client.hpp: a deadline for the whole exchange
// and a body limit). Targets are built here so the escaping is in one place;
// the answers go to the parsers in observe_parse.hpp.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
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
  // PATCH of a JSON body (a part of the config: PATCH /rest/config/gui).
  void patch_json(const std::string& target, std::string body, std::chrono::milliseconds timeout, http::Callback done);
  // The file the key was read from: when syncthing refuses the key (403), the
  // file's first line is read again and, if it holds another key, the call is
  // made once more with it, and the calls after it too. A key rotated by the
  // supervisor (hactl rotate syncthing-key) then costs no request.
  void reread_key_from(std::string path) { key_->file = std::move(path); }
  // The key the calls carry now.
  const std::string& api_key() const { return key_->key; }

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
  // Shared with the calls in flight: a call that outlives the client may still
  // retry with the key it read.
  struct Key {
    std::string key;
    std::string file;  // "" none: a refused key stays refused
  };
  std::shared_ptr<Key> key_;
  http::Policy policy_;
};

}  // namespace hasup::syncthing

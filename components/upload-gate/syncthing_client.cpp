#include "components/upload-gate/syncthing_client.hpp"

namespace hasup::upload_gate {

SyncthingClient::SyncthingClient(boost::asio::io_context& io, unsigned short port, std::string api_key,
                                 std::chrono::milliseconds timeout)
    : io_(io), endpoint_{"127.0.0.1", port}, api_key_(std::move(api_key)), timeout_(timeout) {}

void SyncthingClient::call(http::Method method, const std::string& target, std::chrono::milliseconds timeout,
                           Done done) {
  http::Request request;
  request.method = method;
  request.target = target;
  request.headers.emplace_back("X-API-Key", api_key_);
  http::Policy policy;
  policy.timeout = timeout;
  policy.body_limit = 4 * 1024 * 1024;
  http::async_request(io_, endpoint_, std::move(request), policy, std::move(done));
}

void SyncthingClient::get(const std::string& target, Done done) {
  call(http::Method::get, target, timeout_, std::move(done));
}

void SyncthingClient::post(const std::string& target, std::chrono::milliseconds timeout, Done done) {
  call(http::Method::post, target, timeout, std::move(done));
}

void SyncthingClient::long_poll(const std::string& target, std::chrono::seconds poll_timeout, Done done) {
  call(http::Method::get, target, std::chrono::duration_cast<std::chrono::milliseconds>(poll_timeout) + timeout_,
       std::move(done));
}

std::string SyncthingClient::scan_target(const std::string& folder, const std::vector<std::string>& subs) {
  std::string target = "/rest/db/scan?folder=" + http::url_encode(folder);
  for (const auto& sub : subs) target += "&sub=" + http::url_encode(sub);
  return target;
}

std::string SyncthingClient::file_target(const std::string& folder, const std::string& path) {
  return "/rest/db/file?folder=" + http::url_encode(folder) + "&file=" + http::url_encode(path);
}

std::string SyncthingClient::remote_need_target(const std::string& folder, const std::string& device, int per_page) {
  return "/rest/db/remoteneed?folder=" + http::url_encode(folder) + "&device=" + http::url_encode(device) +
         "&page=1&perpage=" + std::to_string(per_page);
}

std::string SyncthingClient::completion_target(const std::string& folder, const std::string& device) {
  return "/rest/db/completion?folder=" + http::url_encode(folder) + "&device=" + http::url_encode(device);
}

std::string SyncthingClient::folder_target(const std::string& folder) {
  return "/rest/config/folders/" + http::url_encode(folder);
}

std::string SyncthingClient::events_target(const std::string& events, long long since, std::chrono::seconds timeout) {
  return "/rest/events?events=" + http::url_encode(events) + "&since=" + std::to_string(since) +
         "&timeout=" + std::to_string(timeout.count());
}

}  // namespace hasup::upload_gate

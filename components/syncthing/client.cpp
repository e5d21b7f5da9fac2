#include "components/syncthing/client.hpp"

#include "components/syncthing/key_record.hpp"

namespace hasup::syncthing {

Client::Client(boost::asio::io_context& io, http::Endpoint endpoint, std::string api_key, http::Policy policy)
    : io_(io), endpoint_(std::move(endpoint)), key_(std::make_shared<Key>(Key{std::move(api_key), {}})), policy_(policy) {}

void Client::call(http::Method method, const std::string& target, std::chrono::milliseconds timeout,
                  http::Callback done, std::string body) {
  http::Request request;
  request.method = method;
  request.target = target;
  if (!body.empty()) {
    request.body = std::move(body);
    request.content_type = "application/json";
  }
  http::Policy policy = policy_;
  policy.timeout = timeout;
  auto with_key = [](http::Request r, const std::string& key) {
    r.headers.emplace_back("X-API-Key", key);
    return r;
  };
  if (key_->file.empty()) return http::async_request(io_, endpoint_, with_key(std::move(request), key_->key), policy, std::move(done));
  const std::string sent = key_->key;
  http::async_request(io_, endpoint_, with_key(request, sent), policy,
                      [&io = io_, endpoint = endpoint_, request, policy, key = key_, sent, with_key,
                       done = std::move(done)](http::Outcome o) mutable {
                        if (!o.ok || o.response.status != 403) return done(std::move(o));
                        // Another call may have read the new key already.
                        if (key->key == sent) {
                          std::string reread = read_api_key_file(key->file);
                          if (!reread.empty()) key->key = reread;
                        }
                        if (key->key == sent) return done(std::move(o));
                        http::async_request(io, endpoint, with_key(std::move(request), key->key), policy, std::move(done));
                      });
}

void Client::get(const std::string& target, http::Callback done) {
  call(http::Method::get, target, policy_.timeout, std::move(done));
}

void Client::post(const std::string& target, std::chrono::milliseconds timeout, http::Callback done) {
  call(http::Method::post, target, timeout, std::move(done));
}

void Client::long_poll(const std::string& target, std::chrono::seconds poll_timeout, http::Callback done) {
  call(http::Method::get, target, std::chrono::duration_cast<std::chrono::milliseconds>(poll_timeout) + policy_.timeout,
       std::move(done));
}

void Client::put_json(const std::string& target, std::string body, std::chrono::milliseconds timeout,
                      http::Callback done) {
  call(http::Method::put, target, timeout, std::move(done), std::move(body));
}

void Client::patch_json(const std::string& target, std::string body, std::chrono::milliseconds timeout,
                        http::Callback done) {
  call(http::Method::patch, target, timeout, std::move(done), std::move(body));
}

std::string Client::scan_target(const std::string& folder, const std::vector<std::string>& subs) {
  std::string target = "/rest/db/scan?folder=" + http::url_encode(folder);
  for (const auto& sub : subs) target += "&sub=" + http::url_encode(sub);
  return target;
}

std::string Client::file_target(const std::string& folder, const std::string& path) {
  return "/rest/db/file?folder=" + http::url_encode(folder) + "&file=" + http::url_encode(path);
}

std::string Client::remote_need_target(const std::string& folder, const std::string& device, int per_page) {
  return "/rest/db/remoteneed?folder=" + http::url_encode(folder) + "&device=" + http::url_encode(device) +
         "&page=1&perpage=" + std::to_string(per_page);
}

std::string Client::completion_target(const std::string& folder, const std::string& device) {
  return "/rest/db/completion?folder=" + http::url_encode(folder) + "&device=" + http::url_encode(device);
}

std::string Client::folder_status_target(const std::string& folder) {
  return "/rest/db/status?folder=" + http::url_encode(folder);
}

std::string Client::folder_target(const std::string& folder) {
  return "/rest/config/folders/" + http::url_encode(folder);
}

std::string Client::events_target(const std::string& events, long long since, std::chrono::seconds timeout) {
  return "/rest/events?events=" + http::url_encode(events) + "&since=" + std::to_string(since) +
         "&timeout=" + std::to_string(timeout.count());
}

}  // namespace hasup::syncthing

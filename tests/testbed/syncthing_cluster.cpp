#include "tests/testbed/syncthing_cluster.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>

#include "components/syncthing/model.hpp"

namespace hasup::testbed {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// One dialer per pair, as the supervisors do it (syncthing::dials): the side
// that waits is configured first, so no dial reaches a syncthing that does not
// know the dialer yet.
bool dials(const SyncthingNode& self, const SyncthingNode& peer) { return syncthing::dials(self.device_id, peer.device_id); }

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Replaces the text of <tag>...</tag> (its first occurrence).
void set_element(std::string& xml, const std::string& tag, const std::string& value) {
  std::regex element("<" + tag + ">[^<]*</" + tag + ">");
  xml = std::regex_replace(xml, element, "<" + tag + ">" + value + "</" + tag + ">",
                           std::regex_constants::format_first_only);
}

http::Outcome call(const SyncthingNode& n, http::Method method, const std::string& target, const std::string& body) {
  http::Request r;
  r.method = method;
  r.target = target;
  r.body = body;
  if (!body.empty()) r.content_type = "application/json";
  r.headers.emplace_back("X-API-Key", n.api_key);
  http::Policy policy;
  policy.timeout = std::chrono::milliseconds(3000);
  return http::request_sync({"127.0.0.1", n.api_port}, std::move(r), policy);
}

}  // namespace

bool SyncthingCluster::available() { return access(binary().c_str(), X_OK) == 0; }

SyncthingCluster::SyncthingCluster(SyncthingOptions options)
    : options_(std::move(options)), dir_(make_temp_dir(options_.tag)) {
  for (int i = 0; i < options_.nodes; ++i) {
    SyncthingNode n;
    n.name = "n" + std::to_string(i + 1);
    n.home = dir_ + "/" + n.name + "/home";
    n.folder = dir_ + "/" + n.name + "/resources";
    n.log = dir_ + "/" + n.name + ".log";
    n.api_port = free_port();
    n.sync_port = free_port();
    fs::create_directories(n.folder);
    nodes_.push_back(std::move(n));
  }
}

SyncthingCluster::~SyncthingCluster() {
  for (auto& n : nodes_) n.process.reset();
  if (!std::getenv("HASUP_KEEP_TEST_DIRS")) remove_tree(dir_);
}

void SyncthingCluster::generate(int i) {
  auto& n = node(i);
  auto gen = Process::spawn({binary(), "generate", "--home=" + n.home, "--no-default-folder", "--skip-port-probing"},
                            n.log);
  if (gen.wait(std::chrono::seconds(60)) != 0) throw std::runtime_error("syncthing generate failed; see " + n.log);
  std::string id_file = dir_ + "/" + n.name + ".id";
  auto id = Process::spawn({binary(), "serve", "--home=" + n.home, "--device-id"}, id_file);
  if (id.wait(std::chrono::seconds(30)) != 0) throw std::runtime_error("syncthing --device-id failed");
  n.device_id = trim(read_file(id_file));

  std::string config_path = n.home + "/config.xml";
  std::string xml = read_file(config_path);
  std::smatch key;
  if (!std::regex_search(xml, key, std::regex("<apikey>([^<]+)</apikey>")))
    throw std::runtime_error("no API key in " + config_path);
  n.api_key = key[1];
  // Network-facing settings only (see the header for why before the first start).
  std::regex gui_address("(<gui[^>]*>\\s*<address>)[^<]*(</address>)");
  xml = std::regex_replace(xml, gui_address, "$01127.0.0.1:" + std::to_string(n.api_port) + "$2",
                           std::regex_constants::format_first_only);
  set_element(xml, "listenAddress", "tcp://127.0.0.1:" + std::to_string(n.sync_port));
  set_element(xml, "globalAnnounceEnabled", "false");
  set_element(xml, "localAnnounceEnabled", "false");
  set_element(xml, "relaysEnabled", "false");
  set_element(xml, "natEnabled", "false");
  set_element(xml, "urAccepted", "-1");
  set_element(xml, "autoUpgradeIntervalH", "0");
  set_element(xml, "crashReportingEnabled", "false");
  set_element(xml, "startBrowser", "false");
  set_element(xml, "stunServer", "");
  write_file(config_path, xml);
}

void SyncthingCluster::spawn(int i) {
  auto& n = node(i);
  n.process = std::make_unique<Process>(Process::spawn(
      {binary(), "serve", "--home=" + n.home, "--no-browser", "--no-restart", "--no-upgrade"}, n.log,
      {{"STNODEFAULTFOLDER", "1"}, {"STMONITORED", "1"}, {"STNOUPGRADE", "1"}}));
}

bool SyncthingCluster::api_answers(int i) {
  auto o = get(i, "/rest/system/status");
  return o.ok && o.response.status == 200;
}

void SyncthingCluster::configure(int i) {
  auto& n = node(i);
  // Options again through the API (the same values: the API is the source of truth).
  auto options = get(i, "/rest/config/options");
  if (!options.ok || options.response.status != 200) throw std::runtime_error("GET options failed on " + n.name);
  auto o = json::parse(options.response.body);
  o["listenAddresses"] = {"tcp://127.0.0.1:" + std::to_string(n.sync_port)};
  o["globalAnnounceEnabled"] = false;
  o["localAnnounceEnabled"] = false;
  o["relaysEnabled"] = false;
  o["natEnabled"] = false;
  o["urAccepted"] = -1;
  o["autoUpgradeIntervalH"] = 0;
  o["crashReportingEnabled"] = false;
  o["stunServers"] = json::array();
  o["reconnectionIntervalS"] = syncthing::kReconnectionIntervalS;
  http::Request put;
  put.method = http::Method::put;
  put.target = "/rest/config/options";
  put.body = o.dump();
  put.content_type = "application/json";
  put.headers.emplace_back("X-API-Key", n.api_key);
  auto put_result = http::request_sync({"127.0.0.1", n.api_port}, put, {std::chrono::milliseconds(5000)});
  if (!put_result.ok || put_result.response.status != 200)
    throw std::runtime_error("PUT options failed on " + n.name + ": " + put_result.error + put_result.response.body);

  json folder_devices = json::array();
  for (const auto& other : nodes_) {
    json device = {{"deviceID", other.device_id},
                   {"name", other.name},
                   {"addresses", other.device_id == n.device_id || dials(n, other)
                                     ? json::array({"tcp://127.0.0.1:" + std::to_string(other.sync_port)})
                                     : json::array({"dynamic"})},
                   {"autoAcceptFolders", false}};
    auto added = post(i, "/rest/config/devices", device.dump());
    if (!added.ok || added.response.status != 200)
      throw std::runtime_error("adding device " + other.name + " on " + n.name + " failed: " + added.response.body);
    folder_devices.push_back({{"deviceID", other.device_id}});
  }
  json folder = {{"id", options_.folder_id},
                 {"label", options_.folder_id},
                 {"path", n.folder},
                 {"type", "sendreceive"},
                 {"devices", folder_devices},
                 {"fsWatcherEnabled", options_.fs_watcher},
                 {"rescanIntervalS", 3600}};
  auto added = post(i, "/rest/config/folders", folder.dump());
  if (!added.ok || added.response.status != 200)
    throw std::runtime_error("adding the folder on " + n.name + " failed: " + added.response.body);
}

void SyncthingCluster::start(std::chrono::seconds timeout) {
  if (!available()) throw std::runtime_error("syncthing not found at " + binary());
  for (int i = 0; i < size(); ++i) generate(i);
  for (int i = 0; i < size(); ++i) spawn(i);
  for (int i = 0; i < size(); ++i) {
    if (!wait_until([&] { return api_answers(i); }, timeout, std::chrono::milliseconds(100)))
      throw std::runtime_error("syncthing " + node(i).name + " API never answered; see " + node(i).log);
  }
  // Waiters first: the node that dials nobody, then the one that dials only it...
  std::vector<int> order;
  for (int i = 0; i < size(); ++i) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return dials(node(b), node(a)); });
  for (int i : order) configure(i);
  if (!wait_all_connected(std::chrono::duration_cast<std::chrono::milliseconds>(timeout)))
    throw std::runtime_error("syncthing nodes did not all connect; logs in " + dir_);
  // The folder must be running (its first scan done) on every node.
  for (int i = 0; i < size(); ++i) {
    bool idle = wait_until(
        [&] {
          auto o = get(i, "/rest/db/status?folder=" + http::url_encode(options_.folder_id));
          return o.ok && o.response.status == 200 &&
                 json::parse(o.response.body, nullptr, false).value("state", "") == "idle";
        },
        timeout, std::chrono::milliseconds(100));
    if (!idle) throw std::runtime_error("folder never idle on " + node(i).name);
  }
}

void SyncthingCluster::kill_node(int i) {
  auto& n = node(i);
  if (n.process) n.process->kill_and_reap();
  n.process.reset();
}

void SyncthingCluster::restart_node(int i) {
  kill_node(i);
  spawn(i);
  if (!wait_until([&] { return api_answers(i); }, std::chrono::seconds(60), std::chrono::milliseconds(100)))
    throw std::runtime_error("syncthing " + node(i).name + " did not come back; see " + node(i).log);
}

bool SyncthingCluster::node_running(int i) { return node(i).process && node(i).process->running(); }

bool SyncthingCluster::connected(int from, int to) {
  auto o = get(from, "/rest/system/connections");
  if (!o.ok || o.response.status != 200) return false;
  auto j = json::parse(o.response.body, nullptr, false);
  if (j.is_discarded()) return false;
  auto c = j["connections"][node(to).device_id];
  return c.is_object() && c.value("connected", false);
}

bool SyncthingCluster::wait_all_connected(std::chrono::milliseconds timeout) {
  return wait_until(
      [&] {
        for (int a = 0; a < size(); ++a)
          for (int b = 0; b < size(); ++b)
            if (a != b && !connected(a, b)) return false;
        return true;
      },
      timeout, std::chrono::milliseconds(200));
}

bool SyncthingCluster::wait_disconnected(int from, int to, std::chrono::milliseconds timeout) {
  return wait_until([&] { return !connected(from, to); }, timeout, std::chrono::milliseconds(100));
}

http::Outcome SyncthingCluster::get(int i, const std::string& target) {
  return call(node(i), http::Method::get, target, "");
}

http::Outcome SyncthingCluster::post(int i, const std::string& target, const std::string& body) {
  return call(node(i), http::Method::post, target, body);
}

std::string SyncthingCluster::write_api_key_file(int i, const std::string& path) {
  write_file(path, node(i).api_key + "\n");
  chmod(path.c_str(), 0600);
  return path;
}

}  // namespace hasup::testbed

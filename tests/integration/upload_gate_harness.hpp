#pragma once
// What the upload gate's integration tests and its benchmark share, without
// GoogleTest: an HTTP client that streams bodies, deterministic payloads, peak
// memory of a process, and ha-upload-gate run as a process with a config
// written for it.
#include <sys/stat.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <functional>
#include <string>

#include "tests/integration/upload_gate_upstream_double.hpp"
#include "tests/testbed/process.hpp"
#include "tests/testbed/syncthing_cluster.hpp"

namespace hasup::testbed::gate {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

inline fs::path build_dir() { return fs::read_symlink("/proc/self/exe").parent_path().parent_path(); }
inline std::string gate_binary() {
  if (const char* path = std::getenv("HA_UPLOAD_GATE_BIN")) return path;
#ifdef HA_UPLOAD_GATE_BIN
  return HA_UPLOAD_GATE_BIN;
#else
  return (build_dir() / "components/upload-gate/ha-upload-gate").string();
#endif
}

struct Reply {
  int status = 0;  // 0: no answer (connection closed or broken)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// Deterministic bytes for a name and size: the same on every node iff replicated.
inline std::string payload(const std::string& name, std::size_t size) {
  std::string out(size, '\0');
  std::mt19937_64 rng(std::hash<std::string>{}(name) ^ size);
  for (std::size_t i = 0; i < size; i += 8) {
    auto v = rng();
    for (std::size_t b = 0; b < 8 && i + b < size; ++b) out[i + b] = static_cast<char>(v >> (8 * b));
  }
  return out;
}

// One request on a fresh connection; the body is produced in pieces by
// `next_piece` (streaming: nothing of size `length` is held), with a 60 s
// socket timeout so a hung gate fails the test instead of hanging it.
inline Reply exchange(unsigned short port, const std::string& method, const std::string& target,
                      std::uint64_t length, const std::function<std::string(std::uint64_t offset)>& next_piece,
                      const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  Reply reply;
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(120s);
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    bhttp::request<bhttp::empty_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, "gate");
    for (auto& [k, v] : headers) req.set(k, v);
    if (method != "GET" && method != "HEAD") req.content_length(length);
    bhttp::request_serializer<bhttp::empty_body> sr(req);
    bhttp::write_header(stream, sr);
    std::uint64_t sent = 0;
    while (sent < length) {
      std::string piece = next_piece(sent);
      if (piece.empty()) break;
      stream.expires_after(120s);
      asio::write(stream, asio::buffer(piece));
      sent += piece.size();
    }
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(1ull << 32);
    if (method == "HEAD") parser.skip(true);
    stream.expires_after(120s);
    bhttp::read(stream, buffer, parser);
    auto& res = parser.get();
    reply.status = static_cast<int>(res.result_int());
    for (auto& f : res) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[name] = std::string(f.value());
    }
    reply.body = res.body();
  } catch (const std::exception& e) {
    reply.error = e.what();
  }
  return reply;
}

inline Reply send(unsigned short port, const std::string& method, const std::string& target,
                  const std::string& body = "", const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  return exchange(
      port, method, target, body.size(), [&](std::uint64_t offset) { return body.substr(offset, 1 << 20); }, headers);
}

// Raw bytes in, whatever comes back (for malformed requests).
inline std::string raw_exchange(unsigned short port, const std::string& bytes, std::chrono::seconds timeout = 30s) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(timeout);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::write(stream, asio::buffer(bytes));
  std::string got;
  char buf[4096];
  beast::error_code ec;
  while (true) {
    std::size_t n = stream.read_some(asio::buffer(buf), ec);
    got.append(buf, n);
    if (ec) break;
  }
  // The gate never closed: say so, so a test cannot mistake silence for an answer.
  if (ec == beast::error::timeout) got += "<client timeout: the gate did not close>";
  return got;
}

inline std::string file_on(const std::string& folder, const std::string& rel) {
  std::ifstream in(fs::path(folder) / rel, std::ios::binary);
  if (!in) return "<missing>";
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline std::uint64_t vm_hwm_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  return 0;
}

struct GateSettings {
  std::string quorum = "\"all-connected\"";
  int min_peers = 1;
  int timeout_ms = 15000;
  int min_rate_kib_s = 10240;
  std::string on_timeout = "fail";
  std::string durability = "strict";
  int header_timeout_ms = 10000;
  int idle_timeout_ms = 30000;
  int max_connections = 512;
  int max_connections_per_client = 0;  // none: the tests all connect from 127.0.0.1
  int body_grace_ms = 10000;
  int body_min_rate_bytes_s = 1024;
  int held_response_bytes = 4 * 1024 * 1024;
  unsigned short upstream_port = 0;  // 0: the fixture's double
  std::string log_level = "debug";
  int threads = 2;
  // The write hold's files; "": in the test's directory, never /run.
  std::string hold_file, ack_file;
  int hold_max_ms = 15000;
};

class GateProcess {
 public:
  GateProcess(const std::string& dir, const std::string& folder, const std::string& folder_id,
              unsigned short syncthing_port, const std::string& key_file, unsigned short upstream_port,
              const GateSettings& s) {
    port_ = free_port();
    config_ = dir + "/gate-" + std::to_string(port_) + ".conf";
    log_ = dir + "/gate-" + std::to_string(port_) + ".log";
    hold_file_ = s.hold_file.empty() ? dir + "/gate-" + std::to_string(port_) + ".write-hold" : s.hold_file;
    ack_file_ = s.ack_file.empty() ? dir + "/gate-" + std::to_string(port_) + ".write-held" : s.ack_file;
    durability_file_ = dir + "/gate-" + std::to_string(port_) + ".durability";
    write_file(config_, "listen = { address = \"127.0.0.1\"; port = " + std::to_string(port_) +
                            "; };\n"
                            "upstream = { address = \"127.0.0.1\"; port = " + std::to_string(upstream_port) +
                            "; };\n"
                            "folder = { id = \"" + folder_id + "\"; path = \"" + folder +
                            "\"; };\n"
                            "syncthing = { api_url = \"http://127.0.0.1:" + std::to_string(syncthing_port) +
                            "\"; api_key_file = \"" + key_file +
                            "\"; };\n"
                            "replication = { quorum = " + s.quorum + "; min_peers = " + std::to_string(s.min_peers) +
                            "; timeout_ms = " + std::to_string(s.timeout_ms) +
                            "; min_rate_kib_s = " + std::to_string(s.min_rate_kib_s) + "; on_timeout = \"" + s.on_timeout +
                            "\"; durability = \"" + s.durability + "\"; durability_file = \"" + durability_file_ +
                            "\"; poll_interval_ms = 100; retry_after_s = 3; };\n"
                            "limits = { header_timeout_ms = " + std::to_string(s.header_timeout_ms) +
                            "; idle_timeout_ms = " + std::to_string(s.idle_timeout_ms) +
                            "; max_connections = " + std::to_string(s.max_connections) +
                            "; max_connections_per_client = " + std::to_string(s.max_connections_per_client) +
                            "; body_grace_ms = " + std::to_string(s.body_grace_ms) +
                            "; body_min_rate_bytes_s = " + std::to_string(s.body_min_rate_bytes_s) +
                            "; held_response_bytes = " + std::to_string(s.held_response_bytes) +
                            "; };\n"
                            "hold = { file = \"" + hold_file_ + "\"; ack_file = \"" + ack_file_ +
                            "\"; max_ms = " + std::to_string(s.hold_max_ms) + "; };\n"
                            "threads = " + std::to_string(s.threads) + ";\nlog_level = \"" + s.log_level + "\";\n");
    process_ = Process::spawn({gate_binary(), "--config", config_}, log_);
    bool up = wait_until(
        [&] {
          if (!process_.running()) return true;
          try {
            asio::io_context io;
            tcp::socket socket(io);
            socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
            return true;
          } catch (...) {
            return false;
          }
        },
        20s);
    if (!up || !process_.running()) throw std::runtime_error("ha-upload-gate did not start: " + read_file(log_));
  }
  unsigned short port() const { return port_; }
  Process& process() { return process_; }
  std::string log() const { return read_file(log_); }
  const std::string& hold_file() const { return hold_file_; }
  const std::string& ack_file() const { return ack_file_; }
  const std::string& durability_file() const { return durability_file_; }

 private:
  unsigned short port_ = 0;
  std::string config_, log_, hold_file_, ack_file_, durability_file_;
  Process process_;
};

}  // namespace hasup::testbed::gate

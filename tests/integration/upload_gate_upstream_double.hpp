#pragma once
// A test double of the REST service for the upload gate's tests and benchmark
// (not the REST stand-in: no database). Like the REST service it changes files
// in the replicated folder during the request, before it answers:
//   PUT    /files/PATH   body streamed to PATH.upload-tmp, fsync, rename to PATH -> 201 {"size": N}
//   DELETE /files/PATH   removes the file or directory tree -> 204 (404 if none)
//   GET    /files/PATH   the file's bytes
//   GET    /ping         200 "pong"
//   POST   /noop         200, changes nothing
//   POST   /big?bytes=N  writes big.txt, answers 200 with N bytes
//   POST|GET /die        promises 1000 bytes, sends 10, closes (dies mid-body)
//   POST   /slow         answers 200 {} (changing nothing) only once the test
//                        calls release_slow() (or the double stops)
// One thread per connection, plain blocking Beast: simple is what a double needs.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hasup::testbed {

class UpstreamDouble {
 public:
  explicit UpstreamDouble(std::string folder)
      : folder_(std::move(folder)), acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~UpstreamDouble() { stop(); }

  unsigned short port() const { return port_; }
  int requests() const { return requests_.load(); }
  // POST /slow requests received so far (answered or not).
  int slow_arrived() const { return slow_arrived_.load(); }
  // Lets every POST /slow received so far, and any to come, answer.
  void release_slow() {
    std::lock_guard lock(slow_mutex_);
    slow_released_ = true;
    slow_released_cv_.notify_all();
  }

  void stop() {
    release_slow();
    if (stopped_.exchange(true)) return;
    boost::system::error_code ignored;
    // close() alone does not wake a thread blocked in accept() on Linux; shutdown() does.
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    acceptor_.close(ignored);
    {
      std::lock_guard lock(mutex_);
      for (auto& s : sockets_) {
        if (auto socket = s.lock()) {
          socket->shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        }
      }
    }
    if (accept_thread_.joinable()) accept_thread_.join();
    for (auto& t : connection_threads_)
      if (t.joinable()) t.join();
  }

 private:
  using tcp = boost::asio::ip::tcp;

  void accept_loop() {
    while (!stopped_) {
      auto socket = std::make_shared<tcp::socket>(io_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec) return;
      std::lock_guard lock(mutex_);
      sockets_.push_back(socket);
      connection_threads_.emplace_back([this, socket] {
        // A double must not take the test process down with it.
        try {
          serve(socket);
        } catch (const std::exception&) {
        }
      });
    }
  }

  void serve(std::shared_ptr<tcp::socket> socket) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    while (true) {
      http::request_parser<http::buffer_body> parser;
      parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      boost::system::error_code ec;
      http::read_header(*socket, buffer, parser, ec);
      if (ec) return;
      ++requests_;
      auto& req = parser.get();
      std::string target(req.target());
      std::string method(req.method_string());
      bool keep_alive = req.keep_alive();
      http::response<http::string_body> res{http::status::ok, 11};
      res.set(http::field::server, "gate-upstream-double");
      if (target.rfind("/files/", 0) == 0 && method == "PUT") {
        std::string rel = target.substr(7);
        auto path = std::filesystem::path(folder_) / rel;
        std::filesystem::create_directories(path.parent_path());
        std::string temp = path.string() + ".upload-tmp";
        int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        std::vector<char> chunk(256 * 1024);
        std::uint64_t size = 0;
        while (!parser.is_done()) {
          req.body().data = chunk.data();
          req.body().size = chunk.size();
          http::read(*socket, buffer, parser, ec);
          if (ec == http::error::need_buffer) ec = {};
          if (ec) {
            ::close(fd);
            ::unlink(temp.c_str());
            return;
          }
          std::size_t got = chunk.size() - req.body().size;
          if (got && ::write(fd, chunk.data(), got) != static_cast<ssize_t>(got)) break;
          size += got;
        }
        ::fsync(fd);
        ::close(fd);
        std::filesystem::rename(temp, path);
        res.result(http::status::created);
        res.set(http::field::content_type, "application/json");
        res.body() = "{\"size\": " + std::to_string(size) + "}";
      } else {
        if (!drain_body(*socket, buffer, parser)) return;
        if (target.rfind("/files/", 0) == 0 && method == "DELETE") {
          auto path = std::filesystem::path(folder_) / target.substr(7);
          std::error_code fec;
          if (std::filesystem::remove_all(path, fec) > 0) {
            res.result(http::status::no_content);
          } else {
            res.result(http::status::not_found);
            res.body() = "{\"error\": \"no such file\"}";
          }
        } else if (target.rfind("/files/", 0) == 0 && (method == "GET" || method == "HEAD")) {
          auto path = std::filesystem::path(folder_) / target.substr(7);
          std::ifstream in(path, std::ios::binary);
          if (!in) {
            res.result(http::status::not_found);
          } else {
            res.body().assign(std::istreambuf_iterator<char>(in), {});
          }
        } else if (target == "/ping") {
          res.body() = "pong";
        } else if (target == "/noop") {
          res.body() = "{}";
        } else if (target == "/slow") {
          ++slow_arrived_;
          std::unique_lock lock(slow_mutex_);
          slow_released_cv_.wait(lock, [this] { return slow_released_; });
          res.body() = "{}";
        } else if (target.rfind("/big?bytes=", 0) == 0) {
          std::ofstream(std::filesystem::path(folder_) / "big.txt") << "big answer";
          res.body() = std::string(std::stoull(target.substr(11)), 'x');
        } else if (target == "/die") {
          std::string partial = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789";
          boost::asio::write(*socket, boost::asio::buffer(partial), ec);
          socket->shutdown(tcp::socket::shutdown_both, ec);
          socket->close(ec);
          return;
        } else {
          res.result(http::status::not_found);
        }
      }
      res.keep_alive(keep_alive);
      res.prepare_payload();
      http::write(*socket, res, ec);
      if (ec || !keep_alive) return;
    }
  }

  template <class Parser>
  static bool drain_body(tcp::socket& socket, boost::beast::flat_buffer& buffer, Parser& parser) {
    namespace http = boost::beast::http;
    char scratch[16 * 1024];
    while (!parser.is_done()) {
      parser.get().body().data = scratch;
      parser.get().body().size = sizeof scratch;
      boost::system::error_code ec;
      http::read(socket, buffer, parser, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return false;
    }
    return true;
  }

  std::string folder_;
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> slow_arrived_{0};
  std::mutex slow_mutex_;
  std::condition_variable slow_released_cv_;
  bool slow_released_ = false;
  std::thread accept_thread_;
  std::mutex mutex_;
  std::vector<std::weak_ptr<tcp::socket>> sockets_;
  std::vector<std::thread> connection_threads_;
};

}  // namespace hasup::testbed

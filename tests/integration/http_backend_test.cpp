// The nginx tests' stand-ins: HttpBackend (a named application backend) and
// RequestStream (client traffic that counts who answered and what failed).
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "supervisor/http/client.hpp"
#include "tests/testbed/http_backend.hpp"
#include "tests/testbed/process.hpp"
#include "tests/testbed/request_stream.hpp"

namespace hasup::testbed {
namespace {

using namespace std::chrono_literals;

http::Outcome get(int port, const std::string& target) {
  http::Request request;
  request.target = target;
  return http::request_sync({"127.0.0.1", static_cast<unsigned short>(port)}, request, http::Policy{});
}

TEST(HttpBackendTest, AnswersWithItsName) {
  HttpBackend backend("alpha");
  ASSERT_GT(backend.port(), 0);
  auto out = get(backend.port(), "/some/path?x=\"1\"");
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.response.status, 200);
  EXPECT_EQ(out.response.header("x-backend"), "alpha");
  EXPECT_EQ(out.response.body, R"({"backend":"alpha","method":"GET","target":"/some/path?x=\"1\""})");
  EXPECT_EQ(backend.requests(), 1u);
  EXPECT_EQ(backend.status_requests(), 0u);
}

TEST(HttpBackendTest, StatusFollowsHealth) {
  HttpBackend backend("beta");
  auto out = get(backend.port(), "/api/v3.1/status");
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.response.status, 200);
  EXPECT_EQ(out.response.body, R"({"status":"ok"})");

  backend.set_healthy(false);
  EXPECT_EQ(get(backend.port(), "/api/v3.1/status").response.status, 503);
  // Only the status endpoint reports health; traffic is still answered.
  EXPECT_EQ(get(backend.port(), "/other").response.status, 200);

  backend.set_healthy(true);
  EXPECT_EQ(get(backend.port(), "/api/v3.1/status").response.status, 200);
  EXPECT_EQ(backend.requests(), 4u);
  EXPECT_EQ(backend.status_requests(), 3u);
}

// A chunked upload larger than any buffer, then a second request on the same
// connection: the body was drained, and the connection kept alive.
TEST(HttpBackendTest, DrainsChunkedBodiesOnAKeptAliveConnection) {
  namespace beast = boost::beast;
  namespace bhttp = boost::beast::http;
  HttpBackend backend("gamma");
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(backend.port())});

  bhttp::request<bhttp::string_body> upload{bhttp::verb::post, "/upload", 11};
  upload.set(bhttp::field::host, "127.0.0.1");
  upload.body() = std::string(1 << 20, 'x');
  upload.chunked(true);
  bhttp::write(socket, upload);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> first;
  bhttp::read(socket, buffer, first);
  EXPECT_EQ(first.result_int(), 200);
  EXPECT_EQ(first.body(), R"({"backend":"gamma","method":"POST","target":"/upload"})");
  EXPECT_TRUE(first.keep_alive());

  bhttp::request<bhttp::empty_body> again{bhttp::verb::get, "/again", 11};
  again.set(bhttp::field::host, "127.0.0.1");
  bhttp::write(socket, again);
  bhttp::response<bhttp::string_body> second;
  bhttp::read(socket, buffer, second);
  EXPECT_EQ(second.body(), R"({"backend":"gamma","method":"GET","target":"/again"})");
  EXPECT_EQ(backend.requests(), 2u);
}

TEST(RequestStreamTest, CountsTheBackendThenFailuresOnceItIsGone) {
  auto backend = std::make_unique<HttpBackend>("delta");
  const int port = backend->port();
  RequestStream stream(port, "/work");
  ASSERT_TRUE(wait_until([&] { return stream.snapshot().total >= 20; }, 5s, 10ms));
  auto before = stream.reset_backends();
  EXPECT_EQ(before.failures, 0u) << (before.last_failures.empty() ? "" : before.last_failures.back());
  EXPECT_EQ(before.by_backend.size(), 1u);
  EXPECT_GE(before.by_backend["delta"], 20u);

  backend.reset();  // every request from now on is refused
  ASSERT_TRUE(wait_until([&] { return stream.snapshot().failures >= 5; }, 5s, 10ms));
  stream.stop();
  auto after = stream.snapshot();
  EXPECT_GE(after.total, before.total + after.failures);
  EXPECT_LE(after.last_failures.size(), RequestStream::kKeptFailures);
  ASSERT_FALSE(after.last_failures.empty());
  EXPECT_NE(after.last_failures.back().find("connect"), std::string::npos) << after.last_failures.back();
  // Stopped means stopped: nothing is counted any more.
  EXPECT_EQ(stream.snapshot().total, after.total);
}

TEST(RequestStreamTest, CountsServerErrorsAsFailures) {
  HttpBackend backend("epsilon");
  backend.set_healthy(false);
  RequestStream stream(backend.port(), "/api/v3.1/status", 5ms);
  ASSERT_TRUE(wait_until([&] { return stream.snapshot().failures >= 3; }, 5s, 10ms));
  auto tally = stream.snapshot();
  EXPECT_EQ(tally.failures, tally.total);
  EXPECT_EQ(tally.by_backend["epsilon"], tally.total);  // a 503 still names who answered
  EXPECT_EQ(tally.last_failures.back(), "status 503 from epsilon");
}

}  // namespace
}  // namespace hasup::testbed

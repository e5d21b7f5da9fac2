// ha-upload-gate under bad input: oversized header, a slowloris client,
// malformed requests, too many connections (in all and from one address), a
// body that trickles or stops, an upstream that is down or dies mid-answer, a
// held answer over the limit. Each gets its error, and the gate keeps serving
// afterwards.
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/integration/upload_gate_fixture.hpp"
#include "tests/testbed/chunk_extension_flood.hpp"

namespace hasup::testbed::gate {
namespace {

using nlohmann::json;

bool still_serves(unsigned short port) {
  auto r = send(port, "GET", "/ping");
  return r.status == 200 && r.body == "pong";
}

TEST_F(GateTest, OversizedHeaderIs431) {
  auto gate = start_gate();
  auto r = send(gate->port(), "GET", "/ping", "", {{"X-Filler", std::string(40000, 'a')}});
  EXPECT_EQ(r.status, 431) << r.error;
  EXPECT_TRUE(still_serves(gate->port()));
}

TEST_F(GateTest, SlowlorisHeaderGets408) {
  GateSettings s;
  s.header_timeout_ms = 1000;
  auto gate = start_gate(s);
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), gate->port()));
  // A byte every 200 ms keeps each read alive; only a deadline for the whole
  // header stops it. Trickle for up to 20 s: the gate must cut in long before.
  std::string header = "GET /ping HTTP/1.1\r\nHost: gate\r\nX-Slow: " + std::string(100, 's');
  beast::error_code ec;
  for (std::size_t i = 0; i < header.size() && !ec; ++i) {
    asio::write(stream, asio::buffer(&header[i], 1), ec);
    std::this_thread::sleep_for(200ms);
  }
  stream.expires_after(20s);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, buffer, res, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 408u);
  EXPECT_TRUE(still_serves(gate->port()));
}

// A chunk size line that never ends (32 MiB of chunk extension): the gate
// read 200 MB of one before; now its read buffer's cap refuses it with a 400.
TEST_F(GateTest, AnEndlessChunkExtensionIsRefusedNotBuffered) {
  auto gate = start_gate();
  auto out = flood_chunk_extension(gate->port(), "/files/flood", 32u << 20);
  EXPECT_TRUE(refused_the_flood(out)) << "written all: " << out.written_all << ", timed out: " << out.timed_out
                                      << ", answer: " << out.answer.substr(0, 300);
  EXPECT_LT(vm_hwm_kib(gate->process().pid()), 64u * 1024) << "the gate's peak memory";
  EXPECT_TRUE(still_serves(gate->port()));
}

TEST_F(GateTest, MalformedRequestIs400) {
  auto gate = start_gate();
  auto got = raw_exchange(gate->port(), "GARBAGE\x01 / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
  auto bad_length = raw_exchange(gate->port(), "PUT /files/x HTTP/1.1\r\nHost: g\r\nContent-Length: zz\r\n\r\n");
  EXPECT_EQ(bad_length.rfind("HTTP/1.1 400", 0), 0u) << bad_length;
  EXPECT_TRUE(still_serves(gate->port()));
}

TEST_F(GateTest, ConnectionsBeyondTheLimitGet503) {
  GateSettings s;
  s.max_connections = 4;
  auto gate = start_gate(s);
  asio::io_context io;
  std::vector<std::unique_ptr<tcp::socket>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<tcp::socket>(io));
    idle.back()->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), gate->port()));
  }
  // The gate accepts them in its own time: probe until the limit shows (a
  // probe served meanwhile closes at once and frees its slot).
  std::string refused;
  bool limited = wait_until(
      [&] {
        refused = raw_exchange(gate->port(), "GET /ping HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n", 5s);
        return refused.rfind("HTTP/1.1 503", 0) == 0;
      },
      15s, 100ms);
  EXPECT_TRUE(limited) << refused;
  EXPECT_NE(refused.find("too many open connections (4, limits.max_connections)"), std::string::npos) << refused;
  EXPECT_NE(refused.find("Retry-After: 1"), std::string::npos) << refused;
  idle.clear();
  EXPECT_TRUE(wait_until([&] { return still_serves(gate->port()); }, 10s));
}

TEST_F(GateTest, UpstreamDownIs502) {
  GateSettings s;
  s.upstream_port = free_port();  // nothing listens there
  auto gate = start_gate(s);
  auto r = send(gate->port(), "GET", "/ping");
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(json::parse(r.body)["error"].get<std::string>().find("upstream"), std::string::npos) << r.body;
  auto write = send(gate->port(), "PUT", "/files/nowhere.bin", "abc");
  EXPECT_EQ(write.status, 502);
}

TEST_F(GateTest, UpstreamDyingMidAnswer) {
  auto gate = start_gate();
  // A gated write: the answer is held, nothing was sent yet -> 502.
  auto held = send(gate->port(), "POST", "/die");
  EXPECT_EQ(held.status, 502) << held.body << held.error;
  EXPECT_NE(held.body.find("may have been applied"), std::string::npos) << held.body;
  // A read streams: the header already left, so the connection is closed and
  // the client sees a cut-off body, never a complete one.
  auto streamed = send(gate->port(), "GET", "/die");
  EXPECT_EQ(streamed.status, 0) << "a cut-off answer must not look complete";
  EXPECT_FALSE(streamed.error.empty());
  EXPECT_TRUE(still_serves(gate->port()));
}

TEST_F(GateTest, HeldAnswerOverTheLimitIs502) {
  GateSettings s;
  s.held_response_bytes = 4096;
  auto gate = start_gate(s);
  auto r = send(gate->port(), "POST", "/big?bytes=100000");
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(r.body.find("may have been applied"), std::string::npos) << r.body;
  auto small = send(gate->port(), "POST", "/big?bytes=100");
  EXPECT_EQ(small.status, 200) << small.body;
  EXPECT_EQ(small.body, std::string(100, 'x'));
}

TEST_F(GateTest, ClientGoingQuietMidBodyIsCutOff) {
  GateSettings s;
  s.idle_timeout_ms = 1000;
  auto gate = start_gate(s);
  auto got = raw_exchange(gate->port(), "PUT /files/quiet.bin HTTP/1.1\r\nHost: g\r\nContent-Length: 100000\r\n\r\nabc",
                          30s);
  // Answered and closed by the gate within the idle timeout (raw_exchange's own limit is 30 s).
  EXPECT_EQ(got.rfind("HTTP/1.1 408", 0), 0u) << got;
  EXPECT_NE(got.find("request body idle for 1000 ms"), std::string::npos) << got;
  EXPECT_EQ(got.find("<client timeout"), std::string::npos) << "the gate kept a quiet upload open";
  EXPECT_FALSE(fs::exists(fs::path(peer_folder(0)) / "quiet.bin")) << "a cut-off body reached the folder";
  EXPECT_TRUE(still_serves(gate->port()));
}

// A body that trickles, 10 bytes every 100 ms: each read is quick, so the idle
// timeout never fires, and such uploads held the gate's connections for ever.
// Against a floor of 1000 bytes/s after a 1 s grace the gate answers 408
// within seconds, and nothing is written.
TEST_F(GateTest, ABodySlowerThanTheMinimumRateGets408) {
  GateSettings s;
  s.body_grace_ms = 1000;
  s.body_min_rate_bytes_s = 1000;
  auto gate = start_gate(s);
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), gate->port()));
  asio::write(socket, asio::buffer(std::string("PUT /files/trickle.bin HTTP/1.1\r\nHost: g\r\nContent-Length: 100000\r\n\r\n")));
  auto began = std::chrono::steady_clock::now();
  beast::error_code ec;
  // Trickle for up to 20 s, until the gate answers.
  while (std::chrono::steady_clock::now() - began < 20s && socket.available(ec) == 0 && !ec) {
    asio::write(socket, asio::buffer(std::string(10, 'x')), ec);
    std::this_thread::sleep_for(100ms);
  }
  auto answered_after = std::chrono::steady_clock::now() - began;
  std::string got;
  char buf[4096];
  for (;;) {
    std::size_t n = socket.read_some(asio::buffer(buf), ec);
    got.append(buf, n);
    if (ec) break;
  }
  EXPECT_EQ(got.rfind("HTTP/1.1 408", 0), 0u) << got;
  EXPECT_NE(got.find("request body slower than 1000 bytes/s"), std::string::npos) << got;
  EXPECT_LT(answered_after, 10s);
  EXPECT_FALSE(fs::exists(fs::path(peer_folder(0)) / "trickle.bin")) << "a cut-off body reached the folder";
  EXPECT_TRUE(still_serves(gate->port()));
}

// Two connections from 127.0.0.1 are all it may hold; 127.0.0.2 is still served.
TEST_F(GateTest, OneAddressCannotTakeEveryConnection) {
  GateSettings s;
  s.max_connections = 10;
  s.max_connections_per_client = 2;
  auto gate = start_gate(s);
  auto exchange_from = [&](const std::string& from) {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(5s);
    stream.socket().open(tcp::v4());
    stream.socket().bind(tcp::endpoint(asio::ip::make_address(from), 0));
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), gate->port()));
    asio::write(stream, asio::buffer(std::string("GET /ping HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n")));
    std::string got;
    char buf[4096];
    beast::error_code ec;
    for (;;) {
      std::size_t n = stream.read_some(asio::buffer(buf), ec);
      got.append(buf, n);
      if (ec) break;
    }
    return got;
  };
  asio::io_context io;
  std::vector<std::unique_ptr<tcp::socket>> idle;
  for (int i = 0; i < 2; ++i) {
    idle.push_back(std::make_unique<tcp::socket>(io));
    idle.back()->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), gate->port()));
  }
  std::string refused;
  bool limited = wait_until(
      [&] {
        refused = exchange_from("127.0.0.1");
        return refused.rfind("HTTP/1.1 503", 0) == 0;
      },
      15s, 100ms);
  EXPECT_TRUE(limited) << refused;
  EXPECT_NE(refused.find("too many open connections from 127.0.0.1 (2, limits.max_connections_per_client)"),
            std::string::npos)
      << refused;
  EXPECT_NE(refused.find("Retry-After: 1"), std::string::npos) << refused;
  auto other = exchange_from("127.0.0.2");
  EXPECT_EQ(other.rfind("HTTP/1.1 200", 0), 0u) << other;
  idle.clear();
  EXPECT_TRUE(wait_until([&] { return still_serves(gate->port()); }, 10s));
}

}  // namespace
}  // namespace hasup::testbed::gate

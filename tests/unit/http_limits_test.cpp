// The HTTP servers' shared limits: a body's pace, connection admission, the
// refusal's answer, and the chain of limits from nginx to the upload gate to
// the REST stand-in (docs/limits.md), checked on the defaults each one ships.
#include <gtest/gtest.h>

#include "components/rest-service/session.hpp"
#include "components/upload-gate/config.hpp"
#include "supervisor/config/config.hpp"
#include "supervisor/http/admission.hpp"
#include "supervisor/http/body_pace.hpp"
#include "supervisor/http/refusal.hpp"

namespace hasup::http {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

const BodyPace kPace{10000ms, 1000, 3600000ms};

TEST(BodyPace, TheGraceIsGivenBeforeAnyByte) {
  EXPECT_EQ(body_read_allowance(kPace, 0, 0ms, 0ms), 10000ms);
  EXPECT_EQ(body_read_allowance(kPace, 0, 4000ms, 4000ms), 6000ms);
  EXPECT_LE(body_read_allowance(kPace, 0, 10000ms, 10000ms), 0ms) << "nothing in the whole grace";
}

TEST(BodyPace, EachByteEarnsTimeAtTheMinimumRate) {
  // 1000 bytes/s: 5000 bytes earn 5 s on top of the grace.
  EXPECT_EQ(body_read_allowance(kPace, 5000, 12000ms, 12000ms), 3000ms);
  // A client at twice the rate never runs out.
  for (int second = 1; second < 3600; second *= 2)
    EXPECT_GT(body_read_allowance(kPace, 2000ull * second, milliseconds(second * 1000), milliseconds(second * 1000)),
              10000ms)
        << second;
  // At half the rate it runs out once the grace is used up: 10 s grace + t/2 = t at t = 20 s.
  EXPECT_GT(body_read_allowance(kPace, 500 * 19, 19000ms, 19000ms), 0ms);
  EXPECT_LE(body_read_allowance(kPace, 500 * 21, 21000ms, 21000ms), 0ms);
}

TEST(BodyPace, OnlyTheTimeSpentWaitingForTheClientCounts) {
  // 60 s since the body began, 50 of them writing to a slow upstream or disk.
  EXPECT_GT(body_read_allowance(kPace, 1000, 10000ms, 60000ms), 0ms);
}

TEST(BodyPace, TheTotalDeadlineHoldsHoweverFast) {
  EXPECT_EQ(body_read_allowance(kPace, 1ull << 40, 1000ms, 3599000ms), 1000ms);
  EXPECT_LE(body_read_allowance(kPace, 1ull << 40, 1000ms, 3600000ms), 0ms);
  EXPECT_NE(body_too_slow_reason(kPace, 5, 3600000ms).find("not complete within 3600 s"), std::string::npos);
}

TEST(BodyPace, NoRateMeansOnlyTheTotalDeadline) {
  BodyPace none{10000ms, 0, 60000ms};
  EXPECT_EQ(body_read_allowance(none, 0, 50000ms, 50000ms), 10000ms);
}

TEST(BodyPace, HugeCountsDoNotOverflow) {
  EXPECT_GT(body_read_allowance(BodyPace{0ms, 1, 3600000ms}, ~0ull, 0ms, 0ms), 0ms);
}

TEST(BodyPace, TheReasonSaysTheRateAndWhatCame) {
  EXPECT_EQ(body_too_slow_reason(kPace, 1234, 20500ms),
            "request body slower than 1000 bytes/s after the first 10 s (1234 bytes in 20 s)");
}

boost::asio::ip::address ip(const char* text) { return boost::asio::ip::make_address(text); }

TEST(ConnectionAdmission, CapsOneAddressAndAll) {
  ConnectionAdmission admission(3, 2, "limits.max_connections", "limits.max_connections_per_client");
  auto a1 = admission.admit(ip("198.18.0.11"));
  auto a2 = admission.admit(ip("198.18.0.11"));
  ASSERT_TRUE(std::holds_alternative<ConnectionAdmission::Ticket>(a1));
  ASSERT_TRUE(std::holds_alternative<ConnectionAdmission::Ticket>(a2));
  auto a3 = admission.admit(ip("198.18.0.11"));
  ASSERT_TRUE(std::holds_alternative<std::string>(a3));
  EXPECT_EQ(std::get<std::string>(a3),
            "too many open connections from 198.18.0.11 (2, limits.max_connections_per_client)");
  auto b1 = admission.admit(ip("198.18.0.12"));
  ASSERT_TRUE(std::holds_alternative<ConnectionAdmission::Ticket>(b1));
  auto b2 = admission.admit(ip("198.18.0.12"));
  ASSERT_TRUE(std::holds_alternative<std::string>(b2));
  EXPECT_EQ(std::get<std::string>(b2), "too many open connections (3, limits.max_connections)");
  EXPECT_EQ(admission.open(), 3u);
}

TEST(ConnectionAdmission, AClosedConnectionGivesItsSlotBack) {
  ConnectionAdmission admission(10, 1);
  {
    auto first = admission.admit(ip("127.0.0.1"));
    ASSERT_TRUE(std::holds_alternative<ConnectionAdmission::Ticket>(first));
    EXPECT_TRUE(std::holds_alternative<std::string>(admission.admit(ip("127.0.0.1"))));
  }
  EXPECT_EQ(admission.open(), 0u);
  EXPECT_TRUE(std::holds_alternative<ConnectionAdmission::Ticket>(admission.admit(ip("127.0.0.1"))));
}

TEST(ConnectionAdmission, ATicketMayOutliveItsAdmission) {
  std::variant<ConnectionAdmission::Ticket, std::string> kept;
  {
    ConnectionAdmission admission(1, 0);
    kept = admission.admit(ip("127.0.0.1"));
  }
  kept = std::string("released after the admission was gone");  // no use after free (ASan in the fuzz build)
  SUCCEED();
}

TEST(BusyResponse, IsA503WithRetryAfterAndTheReason) {
  auto text = busy_response("ha-upload-gate", "too many open connections (512, limits.max_connections)", 1);
  EXPECT_EQ(text.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u);
  EXPECT_NE(text.find("\r\nRetry-After: 1\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nConnection: close\r\n"), std::string::npos);
  auto body = text.substr(text.find("\r\n\r\n") + 4);
  EXPECT_EQ(body, "{\"error\": \"ha-upload-gate: too many open connections (512, limits.max_connections)\"}\n");
  EXPECT_NE(text.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos);
}

// The chain, on the defaults each part ships with: a request nginx admits is
// admitted by the gate, and one the gate relays by the REST stand-in, so a
// refusal comes from the first part that refuses, with its own answer; and
// nginx waits as long as the gate may hold an upload's answer.
TEST(LimitsChain, EachPartAdmitsWhatThePartBeforeItLetsThrough) {
  const config::NginxConfig nginx;
  const upload_gate::Limits gate;
  const upload_gate::GateConfig gate_config;
  const rest_standin::Limits rest;
  EXPECT_LE(nginx.max_requests_per_client, nginx.max_requests);
  // nginx's connections to a gate come from its node's address, as does the
  // Consul check of the REST service through the gate: room for both.
  EXPECT_LT(static_cast<std::size_t>(nginx.max_requests) + 1, gate.max_connections_per_client);
  EXPECT_LE(gate.max_connections_per_client, gate.max_connections);
  // The gate opens one connection to the REST service per request it relays.
  EXPECT_LE(gate.max_connections, rest.max_connections);
  auto gate_longest_answer = gate.upstream_timeout + gate_config.max_timeout;
  EXPECT_GE(std::chrono::seconds(nginx.upstream_read_timeout_s), gate_longest_answer);
  // The gate gives up on a slow body no later than the REST stand-in would.
  EXPECT_LE(gate.body_pace.max_duration, rest.body_pace.max_duration);
  EXPECT_GE(gate.body_pace.min_rate_bytes_s, rest.body_pace.min_rate_bytes_s);
}

}  // namespace
}  // namespace hasup::http

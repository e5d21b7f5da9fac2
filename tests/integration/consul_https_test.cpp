// The supervisor's Consul client over HTTPS, against a real Consul 1.8.7 whose
// API is HTTPS only, with the certificate components/patroni/generate-secrets
// makes for a real cluster: the token never crosses loopback in clear, and a
// server the cluster's CA did not sign, or that names another host, gets no
// request at all.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <fstream>
#include <optional>

#include "supervisor/consul/client.hpp"
#include "tests/testbed/consul_cluster.hpp"

namespace hasup::testbed {
namespace {

using namespace std::chrono_literals;
using namespace hasup::consul;

class ConsulHttpsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!ConsulCluster::available()) return;
    cluster_ = new ConsulCluster(1, "https", ConsulApi::https);
    cluster_->start();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    if (!cluster_) GTEST_SKIP() << "consul binary missing at " << ConsulCluster::binary() << ": run scripts/setup";
  }

  // A client of the agent through `endpoint`; runs one call to its end.
  template <class T, class Call>
  consul::Result<T> run(const http::Endpoint& endpoint, Call call) {
    boost::asio::io_context io;
    Client client(io, {.agent = endpoint, .token = "", .request_timeout = 2000ms});
    std::optional<consul::Result<T>> out;
    call(client, [&out](consul::Result<T> r) { out.emplace(std::move(r)); });
    io.run();
    EXPECT_TRUE(out.has_value());
    return out ? std::move(*out) : consul::Result<T>(Error{Error::Kind::transport, 0, "no answer"});
  }

  static std::string error_of(const consul::Result<bool>& r) { return r.ok() ? "" : r.error().to_string(); }

  static ConsulCluster* cluster_;
};

ConsulCluster* ConsulHttpsTest::cluster_ = nullptr;

TEST_F(ConsulHttpsTest, WritesAndReadsOverHttpsCheckedAgainstTheClustersCa) {
  const auto endpoint = cluster_->endpoint(0);
  ASSERT_TRUE(endpoint.tls);
  auto put = run<bool>(endpoint, [](Client& c, auto h) { c.kv_put("https-test/a", "over tls", {}, h); });
  ASSERT_TRUE(put.ok()) << error_of(put);
  EXPECT_TRUE(put.value());
  auto got = run<KvRead>(endpoint, [](Client& c, auto h) { c.kv_get("https-test/a", {}, h); });
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  ASSERT_TRUE(got.value().entry.has_value());
  EXPECT_EQ(got.value().entry->value, "over tls");
  // A blocking query that Consul holds to its wait: the deadline covers the
  // handshake and the wait, as over plain HTTP.
  const auto index = got.value().index;
  auto held = run<KvRead>(endpoint, [index](Client& c, auto h) {
    c.kv_get("https-test/a", {.consistency = Consistency::normal, .index = index, .wait = 1s}, h);
  });
  ASSERT_TRUE(held.ok()) << held.error().to_string();
  EXPECT_EQ(held.value().entry->value, "over tls");
}

TEST_F(ConsulHttpsTest, PlainHttpGetsNothingDone) {
  http::Endpoint plain = cluster_->endpoint(0);
  plain.tls = nullptr;
  auto put = run<bool>(plain, [](Client& c, auto h) { c.kv_put("https-test/plain", "x", {}, h); });
  EXPECT_FALSE(put.ok()) << "the API must not answer plain HTTP";
  auto got = run<KvRead>(cluster_->endpoint(0), [](Client& c, auto h) { c.kv_get("https-test/plain", {}, h); });
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_FALSE(got.value().entry.has_value()) << "nothing was written through plain HTTP";
}

TEST_F(ConsulHttpsTest, AnotherClustersCaIsRefusedBeforeAnyRequest) {
  // A second cluster's secrets: a CA the agent's certificate does not chain to.
  const std::string other = cluster_->dir() + "/other";
  const std::string command = "mkdir -p '" + other + "' && cd '" + other + "' && '" + HA_SOURCE_DIR +
                              "/components/patroni/generate-secrets' secrets && "
                              "sed -n s/^consul_tls_ca=//p secrets | base64 -d >ca.pem";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::string error;
  http::Endpoint stranger = cluster_->endpoint(0);
  stranger.tls = http::load_tls_trust(other + "/ca.pem", error);
  ASSERT_TRUE(stranger.tls) << error;
  auto put = run<bool>(stranger, [](Client& c, auto h) { c.kv_put("https-test/stranger", "x", {}, h); });
  ASSERT_FALSE(put.ok());
  EXPECT_NE(error_of(put).find("certificate verify failed"), std::string::npos) << error_of(put);
  auto got = run<KvRead>(cluster_->endpoint(0), [](Client& c, auto h) { c.kv_get("https-test/stranger", {}, h); });
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got.value().entry.has_value());
}

TEST_F(ConsulHttpsTest, ACertificateThatDoesNotNameTheAddressIsRefused) {
  // The same agent, its certificate signed by the right CA, reached on
  // 127.0.0.2 (the test bed's HTTPS agents listen there too): the certificate
  // names 127.0.0.1, localhost and server.dc1.consul, not 127.0.0.2.
  http::Endpoint renamed = cluster_->endpoint(0);
  renamed.host = "127.0.0.2";
  auto put = run<bool>(renamed, [](Client& c, auto h) { c.kv_put("https-test/renamed", "x", {}, h); });
  ASSERT_FALSE(put.ok());
  EXPECT_NE(error_of(put).find("certificate verify failed"), std::string::npos) << error_of(put);
}

// The supervisor calls its agent about 13 times a second: one kept connection
// instead of a TLS handshake per call. A connection the agent closed (here: a
// restart) costs no call an error: the request goes again on a new connection.
TEST_F(ConsulHttpsTest, CallsReuseAKeptConnectionAndOneTheAgentClosedIsReplaced) {
  boost::asio::io_context io;
  Client client(io, {.agent = cluster_->endpoint(0), .token = "", .request_timeout = 2000ms});
  auto get = [&] {
    std::optional<consul::Result<KvRead>> out;
    client.kv_get("https-test/kept", {}, [&out](consul::Result<KvRead> r) { out.emplace(std::move(r)); });
    io.restart();
    io.run();
    return std::move(*out);
  };
  for (int i = 0; i < 20; ++i) {
    auto r = get();
    ASSERT_TRUE(r.ok()) << "call " << i << ": " << r.error().to_string();
  }
  EXPECT_EQ(client.connections().opened(), 1u) << "20 calls, one connection";
  EXPECT_EQ(client.connections().idle(), 1u);

  cluster_->kill_agent(0);
  cluster_->start_agent(0);
  ASSERT_TRUE(wait_until([&] { return !cluster_->raft_leader(0).empty(); }, 30s, 200ms)) << "no leader after restart";
  auto after = get();
  ASSERT_TRUE(after.ok()) << after.error().to_string();
  EXPECT_EQ(client.connections().opened(), 2u) << "the closed connection was replaced, once";
}

TEST(TlsTrust, AFileWithoutACertificateIsRefusedWithItsName) {
  const std::string path = ::testing::TempDir() + "/not-a-ca.pem";
  std::ofstream(path) << "not a certificate\n";
  std::string error;
  EXPECT_FALSE(http::load_tls_trust(path, error));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  error.clear();
  EXPECT_FALSE(http::load_tls_trust(path + ".missing", error));
  EXPECT_NE(error.find("cannot be read"), std::string::npos) << error;
}

}  // namespace
}  // namespace hasup::testbed

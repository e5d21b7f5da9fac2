// ha-upload-gate against three real syncthing 1.19 instances: every 2xx answer
// to a write leaves only once the change is on the peers (bytes compared on
// each peer's disk the moment the answer arrives), deletions included; the
// quorum rule decides when a peer dies mid-upload and the headers say who holds
// the file; with no peer, or no syncthing, writes get a 503 that says so.
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/integration/upload_gate_fixture.hpp"

namespace hasup::testbed::gate {
namespace {

using nlohmann::json;

TEST_F(GateTest, EveryAcknowledgedUploadIsAlreadyOnEveryPeer) {
  auto gate = start_gate();
  const std::vector<std::size_t> sizes{1, 1000, 64 * 1024, 1 << 20, 3 << 20};
  std::atomic<int> acknowledged{0};
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  auto upload_many = [&](int worker) {
    for (int k = 0; k < 8; ++k) {
      std::string name = "mixed/w" + std::to_string(worker) + "/f" + std::to_string(k) + ".bin";
      std::string body = payload(name, sizes[static_cast<std::size_t>(worker + k) % sizes.size()]);
      auto r = send(gate->port(), "PUT", "/files/" + name, body);
      // Checked before anything else happens: the answer is out, so the bytes
      // must already be on both peers.
      std::string on_n2 = file_on(peer_folder(1), name), on_n3 = file_on(peer_folder(2), name);
      std::lock_guard lock(failures_mutex);
      if (r.status != 201) {
        failures.push_back(name + ": status " + std::to_string(r.status) + " " + r.body + r.error);
        continue;
      }
      ++acknowledged;
      if (on_n2 != body) failures.push_back(name + ": not on n2 when the 201 arrived");
      if (on_n3 != body) failures.push_back(name + ": not on n3 when the 201 arrived");
      if (r.header("x-replicated-to") != "n2, n3")
        failures.push_back(name + ": X-Replicated-To '" + r.header("x-replicated-to") + "'");
    }
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) workers.emplace_back(upload_many, w);
  for (auto& t : workers) t.join();
  for (const auto& f : failures) ADD_FAILURE() << f;
  EXPECT_EQ(acknowledged.load(), 32);
  EXPECT_NE(gate->log().find("PUT /files/mixed/w0/f0.bin 201 changed="), std::string::npos) << gate->log();
}

TEST_F(GateTest, ReplacingAFileWaitsForTheNewBytes) {
  auto gate = start_gate();
  for (int round = 0; round < 3; ++round) {
    std::string body = payload("replace" + std::to_string(round), 200000 + round);
    auto r = send(gate->port(), "PUT", "/files/replaced.bin", body);
    ASSERT_EQ(r.status, 201) << r.body << r.error;
    EXPECT_EQ(file_on(peer_folder(1), "replaced.bin"), body) << "round " << round;
    EXPECT_EQ(file_on(peer_folder(2), "replaced.bin"), body) << "round " << round;
  }
}

TEST_F(GateTest, DeletionIsOnThePeersBeforeThe204) {
  auto gate = start_gate();
  std::string body = payload("to-delete", 5000);
  ASSERT_EQ(send(gate->port(), "PUT", "/files/doomed/deep/file.bin", body).status, 201);
  ASSERT_EQ(file_on(peer_folder(2), "doomed/deep/file.bin"), body);

  auto file_gone = send(gate->port(), "DELETE", "/files/doomed/deep/file.bin");
  ASSERT_EQ(file_gone.status, 204) << file_gone.body;
  EXPECT_FALSE(fs::exists(fs::path(peer_folder(1)) / "doomed/deep/file.bin"));
  EXPECT_FALSE(fs::exists(fs::path(peer_folder(2)) / "doomed/deep/file.bin"));
  EXPECT_EQ(file_gone.header("x-replicated-to"), "n2, n3");

  auto tree_gone = send(gate->port(), "DELETE", "/files/doomed");
  ASSERT_EQ(tree_gone.status, 204) << tree_gone.body;
  EXPECT_FALSE(fs::exists(fs::path(peer_folder(1)) / "doomed"));
  EXPECT_FALSE(fs::exists(fs::path(peer_folder(2)) / "doomed"));
}

TEST_F(GateTest, AWriteThatChangesNoFileIsReleasedAtOnce) {
  auto gate = start_gate();
  auto r = send(gate->port(), "POST", "/noop");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-replication"), "no file changed");
  EXPECT_EQ(r.header("x-replicated-to"), "");
  // A refused write (404 from the upstream) passes as is.
  auto missing = send(gate->port(), "DELETE", "/files/never-existed");
  EXPECT_EQ(missing.status, 404);
}

TEST_F(GateTest, ReadsPassThroughUnchanged) {
  auto gate = start_gate();
  std::string body = payload("readable", 5 << 20);
  ASSERT_EQ(send(gate->port(), "PUT", "/files/readable.bin", body).status, 201);
  auto r = send(gate->port(), "GET", "/files/readable.bin");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.body == body) << "bytes differ through the gate";
  EXPECT_EQ(r.header("x-replicated-to"), "");
  auto head = send(gate->port(), "HEAD", "/files/readable.bin");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), std::to_string(body.size()));
}

// n3 dies while the upload streams: under "all-connected" it drops out of the
// quorum, n2 alone holds the file, and the headers say so.
TEST_F(GateTest, PeerKilledMidUploadAllConnectedQuorum) {
  auto gate = start_gate();
  const std::size_t size = 24 << 20;
  std::string body = payload("peer-killed", size);
  std::atomic<bool> killed{false};
  auto r = exchange(gate->port(), "PUT", "/files/peer-killed.bin", size, [&](std::uint64_t offset) {
    if (offset >= size / 2 && !killed.exchange(true)) {
      cluster_->kill_node(2);
      std::this_thread::sleep_for(300ms);
    }
    std::this_thread::sleep_for(5ms);
    return body.substr(offset, 256 * 1024);
  });
  ASSERT_TRUE(killed.load());
  ASSERT_EQ(r.status, 201) << r.body << r.error << "\n" << gate->log();
  EXPECT_EQ(r.header("x-replicated-to"), "n2");
  EXPECT_EQ(r.header("x-replication-missing"), "n3 (not connected)");
  EXPECT_TRUE(file_on(peer_folder(1), "peer-killed.bin") == body) << "n2 does not hold the acknowledged bytes";
}

// quorum = 2 with n3 down: not met; "fail" answers 503 and names who holds it.
TEST_F(GateTest, QuorumOfTwoWithAPeerDownFailsSafely) {
  cluster_->kill_node(2);
  ASSERT_TRUE(cluster_->wait_disconnected(0, 2, 30s));
  GateSettings s;
  s.quorum = "2";
  s.timeout_ms = 1500;
  s.min_rate_kib_s = 1;  // the wait grows with the body: 3000 bytes at 1 KiB/s, +2929 ms
  auto gate = start_gate(s);
  const auto sent = std::chrono::steady_clock::now();
  auto r = send(gate->port(), "PUT", "/files/quorum-two.bin", payload("q2", 3000));
  ASSERT_EQ(r.status, 503) << r.body;
  EXPECT_GE(std::chrono::steady_clock::now() - sent, std::chrono::milliseconds(4429));
  EXPECT_NE(r.body.find("(the bound for this write's size: 4429 ms)"), std::string::npos) << r.body;
  s.min_rate_kib_s = 10240;
  EXPECT_EQ(r.header("retry-after"), "3");
  EXPECT_EQ(r.header("x-replicated-to"), "");
  auto j = json::parse(r.body);
  EXPECT_NE(j["error"].get<std::string>().find("not confirmed"), std::string::npos) << r.body;
  EXPECT_EQ(j["replicated_to"], json::array({"n2"}));
  EXPECT_EQ(j["missing"], json::array({"n3 (not connected)"}));

  // "warn" releases the upstream's answer, with a Warning and who is missing.
  s.on_timeout = "warn";
  auto warned_gate = start_gate(s);
  auto warned = send(warned_gate->port(), "PUT", "/files/quorum-two-warn.bin", payload("q2w", 3000));
  ASSERT_EQ(warned.status, 201) << warned.body;
  EXPECT_EQ(warned.header("x-replicated-to"), "n2");
  EXPECT_EQ(warned.header("x-replication-missing"), "n3 (not connected)");
  EXPECT_NE(warned.header("warning").find("199 ha-upload-gate"), std::string::npos);
}

TEST_F(GateTest, NoPeerReachableIsTheSafeError) {
  cluster_->kill_node(1);
  cluster_->kill_node(2);
  ASSERT_TRUE(cluster_->wait_disconnected(0, 1, 30s));
  ASSERT_TRUE(cluster_->wait_disconnected(0, 2, 30s));
  GateSettings s;
  s.on_timeout = "warn";  // even "warn" never releases a write no peer holds
  s.timeout_ms = 3000;
  auto gate = start_gate(s);
  auto r = send(gate->port(), "PUT", "/files/alone.bin", payload("alone", 2000));
  ASSERT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.header("x-replicated-to"), "");
  auto j = json::parse(r.body);
  EXPECT_NE(j["error"].get<std::string>().find("no peer"), std::string::npos) << r.body;
  EXPECT_EQ(j["replicated_to"], json::array());
}

// Durability "available" (two managers, one down): a node alone acknowledges
// the write with one copy at once, says so, and the file reaches a peer as
// soon as it is back.
TEST_F(GateTest, AvailableAcknowledgesANodeAlonesWriteWithOneCopyAndThePeerGetsItBack) {
  cluster_->kill_node(1);
  cluster_->kill_node(2);
  ASSERT_TRUE(cluster_->wait_disconnected(0, 1, 30s));
  ASSERT_TRUE(cluster_->wait_disconnected(0, 2, 30s));
  GateSettings s;
  s.durability = "available";
  s.timeout_ms = 3000;
  auto gate = start_gate(s);
  EXPECT_EQ(read_file(gate->durability_file()), "available\n") << "the rule it runs by, for hactl status";
  const std::string body = payload("one-copy", 2000);
  auto r = send(gate->port(), "PUT", "/files/one-copy.bin", body);
  ASSERT_EQ(r.status, 201) << r.body << "\n" << gate->log();
  EXPECT_EQ(r.header("x-replication"), "one copy: no peer is reachable");
  EXPECT_NE(r.header("warning").find("acknowledged with one copy (durability available)"), std::string::npos)
      << r.header("warning");
  EXPECT_EQ(r.header("x-replicated-to"), "");

  cluster_->restart_node(1);
  ASSERT_TRUE(wait_until([&] { return file_on(peer_folder(1), "one-copy.bin") == body; }, 60s))
      << "the one-copy upload never reached n2 once it was back";
}

TEST_F(GateTest, SyncthingDownFailsWritesButReadsPass) {
  auto gate = start_gate();
  cluster_->kill_node(0);
  auto r = send(gate->port(), "PUT", "/files/no-syncthing.bin", payload("nst", 2000));
  ASSERT_EQ(r.status, 503) << r.body;
  auto j = json::parse(r.body);
  EXPECT_NE(j["error"].get<std::string>().find("syncthing"), std::string::npos) << r.body;
  EXPECT_EQ(r.header("x-replicated-to"), "");
  auto ping = send(gate->port(), "GET", "/ping");
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body, "pong");
  // Back up: writes are confirmed again.
  cluster_->restart_node(0);
  ASSERT_TRUE(cluster_->wait_all_connected(60s));
  auto again = send(gate->port(), "PUT", "/files/syncthing-back.bin", payload("back", 2000));
  EXPECT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(again.header("x-replicated-to"), "n2, n3");
}

// A 200 MB upload streams through: the gate's peak memory stays far below it.
TEST_F(GateTest, LargeUploadStreamsInBoundedMemory) {
  auto gate = start_gate();
  const std::uint64_t size = 200ull << 20;
  const std::string block = payload("large-block", 1 << 20);
  auto r = exchange(gate->port(), "PUT", "/files/large.bin", size,
                    [&](std::uint64_t) { return block; });
  ASSERT_EQ(r.status, 201) << r.body << r.error;
  EXPECT_EQ(r.header("x-replicated-to"), "n2, n3");
  for (int peer : {1, 2}) EXPECT_EQ(fs::file_size(fs::path(peer_folder(peer)) / "large.bin"), size);
  auto hwm = vm_hwm_kib(gate->process().pid());
  EXPECT_GT(hwm, 0u);
  EXPECT_LT(hwm, 64u * 1024) << "gate VmHWM " << hwm << " KiB after a 200 MB upload";
  EXPECT_EQ(send(gate->port(), "DELETE", "/files/large.bin").status, 204);
}

}  // namespace
}  // namespace hasup::testbed::gate

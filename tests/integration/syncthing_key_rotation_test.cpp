// The rotation of syncthing's API key (components/syncthing/key_rotator.hpp)
// against real syncthing 1.19 instances and a real ha-upload-gate: uploads
// made through the gate while the key rotates are all acknowledged, the gate
// and the supervisor's key file hold the new key at the end, syncthing refuses
// the old one, and a rotation cut short by a crash (its journal left) is
// finished or rolled back by what syncthing answers.
#include <sys/stat.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <thread>

#include "components/syncthing/client.hpp"
#include "components/syncthing/key_record.hpp"
#include "components/syncthing/key_rotator.hpp"
#include "tests/integration/upload_gate_fixture.hpp"

namespace hasup::testbed::gate {
namespace {

std::string first_line(const std::string& path) {
  std::string text = read_file(path);
  return text.substr(0, text.find('\n'));
}

int ping_status(unsigned short port, const std::string& key) {
  boost::asio::io_context io;
  http::Policy policy;
  policy.timeout = std::chrono::milliseconds(3000);
  syncthing::Client client(io, {"127.0.0.1", port}, key, policy);
  int status = 0;
  client.get(syncthing::Client::kPingTarget, [&](http::Outcome o) { status = o.ok ? o.response.status : -1; });
  io.run();
  return status;
}

class KeyRotationTest : public GateTest {
 protected:
  void SetUp() override {
    GateTest::SetUp();
    if (IsSkipped()) return;
    dir_ = cluster_->dir() + "/rotation-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
    paths_ = {dir_ + "/api-key", key_file_, dir_ + "/generation"};
    write_file(paths_.key_file, cluster_->node(0).api_key + "\n");
    ::chmod(paths_.key_file.c_str(), 0600);
  }
  // syncthing's key is the suite's: the node's record of it follows the files.
  void TearDown() override {
    if (!IsSkipped()) cluster_->node(0).api_key = first_line(paths_.key_file);
  }

  // Runs `step` on a rotator of its own io_context until it says it is done.
  std::string run(const std::function<void(syncthing::KeyRotator&, std::function<void(std::string)>)>& step) {
    boost::asio::io_context io;
    http::Policy policy;
    policy.timeout = std::chrono::milliseconds(2000);
    syncthing::KeyRotator rotator(io, {"127.0.0.1", cluster_->node(0).api_port}, policy, paths_);
    std::optional<std::string> said;
    step(rotator, [&](std::string error) { said = std::move(error); });
    io.run();
    generation_ = rotator.generation();
    return said.value_or("the rotator never said it was done");
  }

  std::string dir_;
  syncthing::KeyRotator::Paths paths_;
  std::uint64_t generation_ = 0;
};

TEST_F(KeyRotationTest, AKeyRotatedUnderUploadsCostsNoUploadAndRefusesTheOldKey) {
  auto gate = start_gate();
  const std::string old_key = cluster_->node(0).api_key;
  std::atomic<bool> rotated{false};
  std::atomic<int> acknowledged{0};
  std::vector<std::string> failures;
  std::thread uploads([&] {
    // Through the rotation, and a second past it: the gate's next calls carry the new key.
    auto stop_at = std::chrono::steady_clock::time_point::max();
    for (int k = 0; std::chrono::steady_clock::now() < stop_at; ++k) {
      if (rotated && stop_at == std::chrono::steady_clock::time_point::max())
        stop_at = std::chrono::steady_clock::now() + 1s;
      std::string name = "rotation/f" + std::to_string(k) + ".bin";
      auto r = send(gate->port(), "PUT", "/files/" + name, payload(name, 4096));
      if (r.status == 201)
        ++acknowledged;
      else
        failures.push_back(name + ": " + std::to_string(r.status) + " " + r.body + r.error);
    }
  });
  std::this_thread::sleep_for(500ms);
  const std::string said = run([](auto& rotator, auto done) { rotator.rotate(1, std::move(done)); });
  rotated = true;
  uploads.join();
  EXPECT_EQ(said, "");
  EXPECT_EQ(failures, std::vector<std::string>{}) << "of " << acknowledged + failures.size() << " uploads";
  EXPECT_GT(acknowledged, 5);

  const std::string new_key = first_line(paths_.key_file);
  EXPECT_TRUE(syncthing::usable_api_key(new_key)) << new_key;
  EXPECT_NE(new_key, old_key);
  EXPECT_EQ(first_line(key_file_), new_key) << "the gate's copy";
  EXPECT_EQ(generation_, 1u);
  EXPECT_EQ(first_line(paths_.generation_file), "1");
  EXPECT_FALSE(std::filesystem::exists(paths_.key_file + ".next")) << "the journal is left";
  EXPECT_EQ(ping_status(cluster_->node(0).api_port, new_key), 200);
  EXPECT_EQ(ping_status(cluster_->node(0).api_port, old_key), 403) << "the old key still works";
  struct stat st {};
  ASSERT_EQ(::stat(key_file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the gate's copy";
}

TEST_F(KeyRotationTest, AClientReadsItsKeyFileAgainWhenSyncthingRefusesItsKey) {
  boost::asio::io_context io;
  http::Policy policy;
  policy.timeout = std::chrono::milliseconds(3000);
  const std::string old_key = cluster_->node(0).api_key;
  syncthing::Client rereads(io, {"127.0.0.1", cluster_->node(0).api_port}, old_key, policy);
  rereads.reread_key_from(paths_.key_file);
  syncthing::Client stays(io, {"127.0.0.1", cluster_->node(0).api_port}, old_key, policy);
  ASSERT_EQ(run([](auto& rotator, auto done) { rotator.rotate(2, std::move(done)); }), "");
  int reread_status = 0, stays_status = 0;
  rereads.get(syncthing::Client::kPingTarget, [&](http::Outcome o) { reread_status = o.ok ? o.response.status : -1; });
  stays.get(syncthing::Client::kPingTarget, [&](http::Outcome o) { stays_status = o.ok ? o.response.status : -1; });
  io.run();
  EXPECT_EQ(reread_status, 200);
  EXPECT_EQ(rereads.api_key(), first_line(paths_.key_file));
  EXPECT_EQ(stays_status, 403) << "a client with no key file keeps the refused key";
}

TEST_F(KeyRotationTest, AJournalSyncthingNeverTookIsRolledBack) {
  // A crash after the files got the new key, before syncthing did.
  const std::string old_key = cluster_->node(0).api_key;
  syncthing::PendingKey pending{syncthing::new_api_key(), 7, old_key};
  write_file(paths_.key_file + ".next", syncthing::encode(pending));
  write_file(paths_.key_file, pending.key + "\n");
  write_file(key_file_, pending.key + "\n");
  EXPECT_EQ(run([](auto& rotator, auto done) { rotator.resolve_pending(std::move(done)); }), "");
  EXPECT_EQ(first_line(paths_.key_file), old_key);
  EXPECT_EQ(first_line(key_file_), old_key);
  EXPECT_FALSE(std::filesystem::exists(paths_.key_file + ".next"));
  EXPECT_EQ(generation_, 0u) << "nothing was reached";
  EXPECT_EQ(ping_status(cluster_->node(0).api_port, old_key), 200);
}

TEST_F(KeyRotationTest, AJournalSyncthingTookIsFinished) {
  // A crash after syncthing took the key, before the files and the generation were written.
  const std::string old_key = cluster_->node(0).api_key;
  syncthing::PendingKey pending{syncthing::new_api_key(), 9, old_key};
  write_file(paths_.key_file + ".next", syncthing::encode(pending));
  {
    boost::asio::io_context io;
    http::Policy policy;
    policy.timeout = std::chrono::milliseconds(3000);
    syncthing::Client client(io, {"127.0.0.1", cluster_->node(0).api_port}, old_key, policy);
    int status = 0;
    client.patch_json("/rest/config/gui", "{\"apiKey\":\"" + pending.key + "\"}", 3000ms,
                      [&](http::Outcome o) { status = o.ok ? o.response.status : -1; });
    io.run();
    ASSERT_EQ(status, 200);
  }
  // syncthing restarts its API listener: the journal's key is tried until it answers.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (ping_status(cluster_->node(0).api_port, pending.key) != 200 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  EXPECT_EQ(run([](auto& rotator, auto done) { rotator.resolve_pending(std::move(done)); }), "");
  EXPECT_EQ(first_line(paths_.key_file), pending.key);
  EXPECT_EQ(first_line(key_file_), pending.key);
  EXPECT_EQ(generation_, 9u);
  EXPECT_EQ(first_line(paths_.generation_file), "9");
  EXPECT_FALSE(std::filesystem::exists(paths_.key_file + ".next"));
}

}  // namespace
}  // namespace hasup::testbed::gate

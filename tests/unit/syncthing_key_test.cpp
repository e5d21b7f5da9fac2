// The rotation of syncthing's API keys, pure parts: its record in Consul and
// the node's journal (components/syncthing/key_record.hpp), what a node
// decides, the next generation a request asks for, and where the cluster's
// rotation stands (components/syncthing/key_rotation.hpp).
#include <gtest/gtest.h>

#include "components/syncthing/key_record.hpp"
#include "components/syncthing/key_rotation.hpp"
#include "supervisor/cluster/records.hpp"

namespace hasup {
namespace {

using namespace std::chrono_literals;
using syncthing::KeyRotationRecord;

std::string stored(std::uint64_t generation) { return syncthing::encode(KeyRotationRecord{generation, "api@n2", "2026-12-07T04:00:00Z"}); }

loop::Snapshot rotation_snapshot(std::uint64_t wanted, std::uint64_t mine) {
  loop::Snapshot s;
  s.self = "n1";
  s.kv.known = true;
  if (wanted > 0) s.kv.syncthing_key = loop::KvView::StoredValue{stored(wanted), 17};
  for (const char* name : {"n1", "n2", "n3"}) {
    auto& r = s.kv.members[name];
    r.name = name;
    r.syncthing_device_id = std::string("DEVICE-") + name;
    r.syncthing_key_generation = wanted;
  }
  s.kv.members["n1"].syncthing_key_generation = mine;
  s.files.enabled = true;
  s.files.api_known = true;
  s.files.key_generation = mine;
  return s;
}

TEST(SyncthingKeyRecord, RoundTripsAndRefusesWhatIsNotWhole) {
  KeyRotationRecord r{3, "api@n2", "2026-12-07T04:00:00Z"};
  auto back = syncthing::decode_key_rotation(syncthing::encode(r));
  ASSERT_TRUE(back.record) << back.error;
  EXPECT_EQ(*back.record, r);
  EXPECT_EQ(syncthing::decode_key_rotation("{").error, "malformed JSON");
  EXPECT_EQ(syncthing::decode_key_rotation(R"({"schema":1,"generation":0,"by":"a","at":"b"})").error,
            "generation is missing or not a whole number from 1");
  EXPECT_EQ(syncthing::decode_key_rotation(R"({"schema":1,"generation":"2","by":"a","at":"b"})").error,
            "generation is missing or not a whole number from 1");
  EXPECT_EQ(syncthing::decode_key_rotation(R"({"schema":1,"generation":2,"by":"","at":"b"})").error,
            "by is not 1-128 printable characters");
  EXPECT_FALSE(syncthing::decode_key_rotation(R"({"schema":2,"generation":2,"by":"a","at":"b"})").record);
}

TEST(SyncthingKeyRecord, NewKeysAreLettersAndDigitsAndDiffer) {
  const std::string a = syncthing::new_api_key(), b = syncthing::new_api_key();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_TRUE(syncthing::usable_api_key(a)) << a;
  EXPECT_NE(a, b);
  EXPECT_FALSE(syncthing::usable_api_key("short1"));
  EXPECT_FALSE(syncthing::usable_api_key("abcdefghijklmnopqrstu\"vwxyz"));
  EXPECT_TRUE(syncthing::usable_api_key("abcdefghijklmnopqrst"));
}

TEST(SyncthingKeyJournal, RoundTripsAndACutShortOneIsNotAJournal) {
  syncthing::PendingKey p{syncthing::new_api_key(), 4, syncthing::new_api_key()};
  const std::string text = syncthing::encode(p);
  auto back = syncthing::decode_pending_key(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->key, p.key);
  EXPECT_EQ(back->generation, 4u);
  EXPECT_EQ(back->previous, p.previous);
  EXPECT_FALSE(syncthing::decode_pending_key(text.substr(0, text.size() - 1))) << "no last line end";
  EXPECT_FALSE(syncthing::decode_pending_key(text.substr(0, text.size() / 2)));
  EXPECT_FALSE(syncthing::decode_pending_key(p.key + "\n0\n" + p.previous + "\n")) << "generation 0";
  EXPECT_FALSE(syncthing::decode_pending_key(p.key + "\n4x\n" + p.previous + "\n"));
  EXPECT_FALSE(syncthing::decode_pending_key(p.key + "\n4\n" + p.key + "\n")) << "the same key twice";
  EXPECT_FALSE(syncthing::decode_pending_key(p.key + "\n4\n" + p.previous + "\nmore\n"));
}

TEST(DecideSyncthingKey, ANodeBehindTheGenerationAskedForRotatesItsKey) {
  auto s = rotation_snapshot(2, 1);
  loop::Plan plan;
  EXPECT_EQ(loop::decide_key_rotation(plan, s), "files: syncthing API key rotation 2 (this node's key is from generation 1)");
  auto* rotate = plan.find<loop::RotateSyncthingKey>();
  ASSERT_TRUE(rotate);
  EXPECT_EQ(rotate->generation, 2u);
}

TEST(DecideSyncthingKey, NothingWhenInStepBusyOrSyncthingSilent) {
  {
    auto s = rotation_snapshot(2, 2);
    loop::Plan plan;
    EXPECT_EQ(loop::decide_key_rotation(plan, s), "");
    EXPECT_TRUE(plan.actions.empty());
  }
  {
    auto s = rotation_snapshot(0, 0);  // no rotation ever asked for
    loop::Plan plan;
    EXPECT_EQ(loop::decide_key_rotation(plan, s), "");
    EXPECT_TRUE(plan.actions.empty());
  }
  {
    auto s = rotation_snapshot(2, 1);
    s.busy.insert(loop::Job::rotate_syncthing_key);
    loop::Plan plan;
    EXPECT_EQ(loop::decide_key_rotation(plan, s),
              "files: syncthing API key rotation 2 (this node's key is from generation 1): under way");
    EXPECT_TRUE(plan.actions.empty());
  }
  {
    auto s = rotation_snapshot(2, 1);
    s.busy.insert(loop::Job::apply_syncthing_config);
    loop::Plan plan;
    EXPECT_EQ(loop::decide_key_rotation(plan, s), "files: syncthing API key rotation 2 (this node's key is from "
                                                  "generation 1): after syncthing's config is applied");
    EXPECT_TRUE(plan.actions.empty());
  }
  {
    auto s = rotation_snapshot(2, 1);
    s.files.api_error = "ping: connection refused";
    loop::Plan plan;
    EXPECT_EQ(loop::decide_key_rotation(plan, s),
              "files: syncthing API key rotation 2 (this node's key is from generation 1): waiting for syncthing's API");
    EXPECT_TRUE(plan.actions.empty());
  }
}

TEST(DecideSyncthingKey, AFailedRotationIsTriedAgainAfterItsPause) {
  auto s = rotation_snapshot(2, 1);
  s.files.key_error = "syncthing did not take the new key (HTTP 500 boom)";
  s.files.key_error_ago = 1000ms;
  loop::Plan plan;
  EXPECT_EQ(loop::decide_key_rotation(plan, s),
            "files: syncthing API key rotation 2 (this node's key is from generation 1): failed (syncthing did not "
            "take the new key (HTTP 500 boom)), tried again soon");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_TRUE(plan.wake_after);
  EXPECT_EQ(*plan.wake_after, loop::kKeyRotationRetry - 1000ms);
  s.files.key_error_ago = loop::kKeyRotationRetry;
  loop::Plan later;
  loop::decide_key_rotation(later, s);
  EXPECT_TRUE(later.find<loop::RotateSyncthingKey>());
}

TEST(DecideSyncthingKey, AnUnreadableRecordRotatesNothingAndSaysWhy) {
  auto s = rotation_snapshot(2, 1);
  s.kv.syncthing_key->text = R"({"schema":1,"generation":-1})";
  loop::Plan plan;
  EXPECT_EQ(loop::decide_key_rotation(plan, s),
            "files: the stored rotation of syncthing's API keys is unreadable (generation is missing or not a whole "
            "number from 1): no key rotates until hactl rotate syncthing-key writes a new one");
  EXPECT_TRUE(plan.actions.empty());
}

TEST(SyncthingKeyRequest, CountsPastTheStoredGenerationAndEveryMembersAndWaitsForOneUnderWay) {
  auto none = rotation_snapshot(0, 0);
  EXPECT_EQ(loop::next_key_rotation(none.kv).generation, 1u);
  auto done = rotation_snapshot(3, 3);
  EXPECT_EQ(loop::next_key_rotation(done.kv).generation, 4u);
  // Consul's data lost: no record, but the members' keys are from generation 5.
  auto lost = rotation_snapshot(5, 5);
  lost.kv.syncthing_key.reset();
  EXPECT_EQ(loop::next_key_rotation(lost.kv).generation, 6u);
  auto under_way = rotation_snapshot(3, 2);
  auto refused = loop::next_key_rotation(under_way.kv);
  EXPECT_EQ(refused.generation, 0u);
  EXPECT_EQ(refused.refusal, "rotation 3 of syncthing's API keys is under way (waiting for n1): try again once it "
                             "has ended (hactl rotate shows it)");
}

TEST(SyncthingKeyStatus, SaysWhomItWaitsForThenDoneOrFailed) {
  auto s = rotation_snapshot(3, 2);
  s.kv.members["n3"].syncthing_key_generation.reset();  // a supervisor from before rotation: counted as generation 0
  auto waiting = loop::syncthing_key_status(s);
  EXPECT_EQ(waiting["rotation"]["say"],
            "waiting for n1, n3 to give syncthing a new API key and refuse the previous one");
  EXPECT_EQ(waiting["rotation"]["generation"], 3);
  EXPECT_FALSE(waiting.contains("last"));

  auto s_done = rotation_snapshot(3, 3);
  s_done.kv.members.erase("n2");  // down: it rotates when it returns
  auto done = loop::syncthing_key_status(s_done);
  EXPECT_EQ(done["last"]["outcome"], "done");
  EXPECT_EQ(done["last"]["detail"],
            "every live node's syncthing has a new API key (generation 3); the previous keys are refused");

  s_done.kv.members["n3"].syncthing_key_error = "syncthing still accepts the previous key";
  auto failed = loop::syncthing_key_status(s_done);
  EXPECT_EQ(failed["last"]["outcome"], "failed");
  EXPECT_EQ(failed["last"]["detail"],
            "every live node's syncthing has a new API key, but: n3: syncthing still accepts the previous key");
}

TEST(SyncthingKeyStatus, ThePublishedFieldsRoundTripInTheMemberRecord) {
  cluster::MemberRecord r;
  r.name = "n1";
  r.syncthing_key_generation = 4;
  r.syncthing_key_error = "cannot write the key file: read-only file system";
  auto back = cluster::decode_member(cluster::encode(r));
  ASSERT_TRUE(back.record) << back.error;
  EXPECT_EQ(back.record->syncthing_key_generation, 4u);
  EXPECT_EQ(back.record->syncthing_key_error, r.syncthing_key_error);
  cluster::MemberRecord none;
  none.name = "n1";
  EXPECT_EQ(cluster::encode(none).find("syncthing_key"), std::string::npos) << "absent when not managed";
  EXPECT_NE(cluster::decode_member(R"({"schema":1,"name":"n1","address":"a","role":"follower","health":"ok",)"
                                   R"("since":"x","syncthing_key_generation":"4"})").error, "");
}

}  // namespace
}  // namespace hasup

// A supervisor whose newest member-record schema is 2, as the lab's upgrade
// test builds it (HASUP_MEMBER_SCHEMA=2): it reads the older supervisors'
// schema-1 records, and writes schema 2 only once every node reads it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "supervisor/cluster/member_schema.hpp"
#include "supervisor/cluster/records.hpp"

namespace hasup::cluster {
namespace {

using nlohmann::json;

MemberRecord record_of(const std::string& name, int schema, int reads) {
  MemberRecord r;
  r.name = name;
  r.address = "198.18.0.11";
  r.since = "2026-12-06T06:00:00Z";
  r.schema = schema;
  r.reads_schema = reads;
  return r;
}

TEST(MemberSchemaTwo, ThisBuildReadsSchemasOneAndTwo) {
  ASSERT_EQ(newest_member_schema(), 2);
  // As a supervisor of schema 1 writes it, before reads_schema existed.
  json older = json::parse(encode(record_of("n1", 1, 1)));
  older.erase("reads_schema");
  auto d1 = decode_member(older.dump());
  ASSERT_TRUE(d1.record) << d1.error;
  EXPECT_EQ(d1.record->schema, 1);
  EXPECT_EQ(d1.record->reads_schema, 1);
  auto d2 = decode_member(encode(record_of("n2", 2, 2)));
  ASSERT_TRUE(d2.record) << d2.error;
  EXPECT_EQ(d2.record->schema, 2);
  auto d3 = decode_member(encode(record_of("n3", 3, 3)));
  EXPECT_FALSE(d3.record);
  EXPECT_EQ(d3.error, "written with schema 3, this supervisor reads schema 1 to 2");
}

TEST(MemberSchemaTwo, WritesSchemaTwoOnlyOnceEveryNodeReadsIt) {
  loop::KvView kv;
  kv.registered_reads_schema = {{"n1", 2}, {"n2", 1}, {"n3", 1}};  // n1 upgraded, n2 and n3 not yet
  EXPECT_EQ(member_schema_to_write(kv), 1);
  EXPECT_EQ(member_schema_note(kv),
            "member records written in schema 1, not this supervisor's 2, until every node reads it (n2 reads up to "
            "1, n3 reads up to 1: an upgrade under way?)");
  kv.registered_reads_schema["n2"] = 2;
  kv.members["n3"] = record_of("n3", 1, 1);  // n3 alive, its registration lost: its record speaks for it
  kv.registered_reads_schema.erase("n3");
  EXPECT_EQ(member_schema_to_write(kv), 1);
  kv.registered_reads_schema["n3"] = 2;
  EXPECT_EQ(member_schema_to_write(kv), 1) << "a record saying less than its registration: the lower counts";
  kv.members["n3"] = record_of("n3", 1, 2);
  EXPECT_EQ(member_schema_to_write(kv), 2);
  EXPECT_EQ(member_schema_note(kv), "");
  kv.registered_reads_schema["n4"] = 1;  // a node down, not upgraded: it must read what it finds when it boots
  EXPECT_EQ(member_schema_to_write(kv), 1);
}

}  // namespace
}  // namespace hasup::cluster

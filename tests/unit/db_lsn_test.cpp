// parse_lsn: PostgreSQL's pg_lsn text ("%X/%X") to a byte position, and
// nothing for anything PostgreSQL itself would refuse.
#include <gtest/gtest.h>

#include "components/postgres/probe.hpp"

namespace hasup::db {
namespace {

TEST(DbLsn, ParsesBothHalves) {
  EXPECT_EQ(parse_lsn("0/0"), 0u);
  EXPECT_EQ(parse_lsn("0/3000060"), 0x3000060u);
  EXPECT_EQ(parse_lsn("16/B374D848"), 0x16B374D848u);
  EXPECT_EQ(parse_lsn("16/b374d848"), 0x16B374D848u);  // case does not matter
  EXPECT_EQ(parse_lsn("FFFFFFFF/FFFFFFFF"), 0xFFFFFFFFFFFFFFFFu);
  EXPECT_EQ(parse_lsn("00000001/00000000"), 0x100000000u);  // leading zeros, 8 digits
  // Patroni's xlog_location for this LSN (docs/patroni-3.0.2-findings.md §2).
  EXPECT_EQ(parse_lsn("0/4000050"), 67108944u);
}

TEST(DbLsn, RefusesBadInput) {
  for (const char* bad : {"", "/", "0/", "/0", "0", "3000060", "0/3000060/1", "0//1", "x/1", "1/g", "-1/0", "1/-0",
                          "+1/0", " 0/1", "0/1 ", "0 /1", "0/1\n", "123456789/0", "0/123456789", "0x1/0", "0/0x1"}) {
    EXPECT_EQ(parse_lsn(bad), std::nullopt) << "'" << bad << "'";
  }
}

TEST(DbLsn, OneLineFoldsLibpqMessages) {
  EXPECT_EQ(one_line("connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n"
                     "\tIs the server running on that host and accepting TCP/IP connections?\n"),
            "connection to server at \"127.0.0.1\", port 1 failed: Connection refused Is the server running on that "
            "host and accepting TCP/IP connections?");
  EXPECT_EQ(one_line("WARNING:  canceling wait\r\nDETAIL:  committed locally\n"),
            "WARNING: canceling wait DETAIL: committed locally");
  EXPECT_EQ(one_line(""), "");
  EXPECT_EQ(one_line(" \n\t "), "");
}

TEST(DbLsn, ConnectTimeoutOfConninfo) {
  using std::chrono::milliseconds;
  EXPECT_EQ(conninfo_connect_timeout("host=a connect_timeout=3", milliseconds(1000)), milliseconds(3000));
  EXPECT_EQ(conninfo_connect_timeout("postgresql://a/db?connect_timeout=2", milliseconds(1000)), milliseconds(2000));
  EXPECT_EQ(conninfo_connect_timeout("host=a", milliseconds(1000)), milliseconds(1000));
  EXPECT_EQ(conninfo_connect_timeout("host=a connect_timeout=0", milliseconds(1000)), milliseconds(1000));
  EXPECT_EQ(conninfo_connect_timeout("host=a connect_timeout=x", milliseconds(1000)), milliseconds(1000));
  EXPECT_EQ(conninfo_connect_timeout("not a conninfo", milliseconds(1000)), milliseconds(1000));
}

}  // namespace
}  // namespace hasup::db

// keepalived's notify FIFO lines: the state each node publishes comes from here.
#include <gtest/gtest.h>

#include "components/keepalived/notify.hpp"

namespace hasup::keepalived {
namespace {

TEST(KeepalivedNotify, ParsesInstanceStateLines) {
  auto e = parse_notify_line("INSTANCE \"ha_manager\" MASTER 150");
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, (NotifyEvent{"INSTANCE", "ha_manager", "MASTER", 150}));
  EXPECT_EQ(parse_notify_line("INSTANCE \"ha_manager\" FAULT 0")->state, "FAULT");
  EXPECT_EQ(parse_notify_line("GROUP \"g1\" BACKUP 100")->kind, "GROUP");
}

TEST(KeepalivedNotify, RefusesAnythingElse) {
  for (const char* line : {"", "INSTANCE", "INSTANCE ha_manager MASTER 150", "INSTANCE \"ha_manager\" BOSS 150",
                           "INSTANCE \"ha_manager\" MASTER", "INSTANCE \"ha_manager\" MASTER 150 extra",
                           "INSTANCE \"ha_manager\" MASTER 999", "INSTANCE \"ha_manager\" MASTER -1",
                           "RS [1.2.3.4]:tcp:80 [198.18.0.15]:tcp:80 UP", "INSTANCE \"\" MASTER 1"})
    EXPECT_FALSE(parse_notify_line(line)) << line;
}

}  // namespace
}  // namespace hasup::keepalived

// Matching systemd jobs to requests (components/systemd/job_matcher.hpp),
// including the order the bus does not promise: JobRemoved before the reply.
#include <gtest/gtest.h>

#include "components/systemd/job_matcher.hpp"

namespace hasup::systemd {
namespace {

using namespace std::chrono_literals;
using Clock = JobMatcher::Clock;

const std::string kJob = "/org/freedesktop/systemd1/job/42";

TEST(SystemdJobMatcher, ReplyThenJobRemovedAnswersTheRequest) {
  JobMatcher m;
  auto t = Clock::now();
  EXPECT_FALSE(m.queued(7, kJob, t).has_value());
  EXPECT_EQ(m.waiting(), 1u);
  auto ids = m.removed(kJob, "done", t);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0], 7u);
  EXPECT_EQ(m.waiting(), 0u);
  EXPECT_EQ(m.remembered(), 0u) << "a removal somebody waited for need not be kept";
}

TEST(SystemdJobMatcher, JobRemovedBeforeTheReplyIsRememberedForIt) {
  JobMatcher m;
  auto t = Clock::now();
  EXPECT_TRUE(m.removed(kJob, "failed", t).empty());
  EXPECT_EQ(m.remembered(), 1u);
  auto result = m.queued(7, kJob, t + 5ms);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, "failed");
  EXPECT_EQ(m.waiting(), 0u) << "answered at once, not left waiting";
}

TEST(SystemdJobMatcher, MergedJobsAnswerEveryRequest) {
  JobMatcher m;
  auto t = Clock::now();
  m.queued(1, kJob, t);
  m.queued(2, kJob, t);
  auto ids = m.removed(kJob, "done", t);
  EXPECT_EQ(ids, (std::vector<std::uint64_t>{1, 2}));
}

TEST(SystemdJobMatcher, AForgottenRequestIsNotAnsweredLater) {
  JobMatcher m;
  auto t = Clock::now();
  m.queued(1, kJob, t);
  m.queued(2, kJob, t);
  m.forget(1);  // timed out
  auto ids = m.removed(kJob, "done", t);
  EXPECT_EQ(ids, (std::vector<std::uint64_t>{2}));
  EXPECT_TRUE(m.removed("/org/freedesktop/systemd1/job/43", "done", t).empty());
}

TEST(SystemdJobMatcher, RememberedRemovalsExpireAndAreBounded) {
  JobMatcher m(3, 1000ms);
  auto t = Clock::now();
  m.removed(kJob, "done", t);
  EXPECT_FALSE(m.queued(1, kJob, t + 1500ms).has_value()) << "too old to be this request's job";
  m.forget(1);
  for (int i = 0; i < 10; ++i) m.removed("/j/" + std::to_string(i), "done", t);
  EXPECT_EQ(m.remembered(), 3u);
  EXPECT_TRUE(m.queued(2, "/j/9", t).has_value());
  EXPECT_FALSE(m.queued(3, "/j/0", t).has_value()) << "the oldest went first";
}

TEST(SystemdJobMatcher, ClearForgetsEverything) {
  JobMatcher m;
  auto t = Clock::now();
  m.queued(1, kJob, t);
  m.removed("/j/1", "done", t);
  m.clear();
  EXPECT_EQ(m.waiting(), 0u);
  EXPECT_EQ(m.remembered(), 0u);
  EXPECT_TRUE(m.removed(kJob, "done", t).empty());
}

}  // namespace
}  // namespace hasup::systemd

// The systemd adapter's outcomes (components/systemd/outcome.hpp and
// unit_state.hpp): D-Bus errors sorted into kinds, job results, and the
// sentences that end up in the log and in tests.
#include <gtest/gtest.h>

#include "components/systemd/outcome.hpp"
#include "components/systemd/unit_state.hpp"

namespace hasup::systemd {
namespace {

TEST(SystemdOutcome, ErrorsAreSortedByWhatTheCallerCanDo) {
  auto e = classify_error("org.freedesktop.systemd1.NoSuchUnit", "Unit web.service not found.", "web.service");
  EXPECT_EQ(e.kind, Error::Kind::not_found);
  EXPECT_EQ(e.message, "unit web.service not found");
  EXPECT_EQ(e.to_string(), "unit web.service not found (org.freedesktop.systemd1.NoSuchUnit: Unit web.service not found.)");

  EXPECT_EQ(classify_error("org.freedesktop.DBus.Error.AccessDenied", "Rejected send message").kind,
            Error::Kind::access_denied);
  EXPECT_EQ(classify_error("org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", "").kind,
            Error::Kind::access_denied);
  EXPECT_EQ(classify_error("org.freedesktop.DBus.Error.ServiceUnknown", "not provided").kind, Error::Kind::no_systemd);
  EXPECT_EQ(classify_error("org.freedesktop.DBus.Error.NameHasNoOwner", "").kind, Error::Kind::no_systemd);
  // sd-bus fails pending calls with NoReply "Connection terminated" when the bus goes.
  auto lost = classify_error("org.freedesktop.DBus.Error.NoReply", "Connection terminated");
  EXPECT_EQ(lost.kind, Error::Kind::bus_lost);
  EXPECT_EQ(lost.message, "bus connection lost");
  EXPECT_EQ(classify_error("org.freedesktop.DBus.Error.NoReply", "Method call timed out").kind, Error::Kind::timeout);
  EXPECT_EQ(classify_error("org.freedesktop.DBus.Error.NotConnected", "").kind, Error::Kind::bus_lost);
  EXPECT_EQ(classify_error("org.freedesktop.systemd1.JobTypeNotApplicable", "Job type reload is not applicable").kind,
            Error::Kind::refused);
  EXPECT_EQ(classify_error("org.freedesktop.systemd1.UnitMasked", "", "x.service").message, "unit x.service is masked");
  EXPECT_EQ(classify_error("com.example.Odd", "").kind, Error::Kind::other);
}

TEST(SystemdOutcome, JobResultsMapToStatuses) {
  EXPECT_EQ(job_status_from_result("done"), JobStatus::done);
  EXPECT_EQ(job_status_from_result("failed"), JobStatus::failed);
  EXPECT_EQ(job_status_from_result("canceled"), JobStatus::canceled);
  EXPECT_EQ(job_status_from_result("timeout"), JobStatus::timeout);
  EXPECT_EQ(job_status_from_result("dependency"), JobStatus::dependency);
  EXPECT_EQ(job_status_from_result("skipped"), JobStatus::skipped);
  // The rare ones are failures, never "done".
  for (const char* r : {"assert", "unsupported", "invalid", "once", "frozen", ""})
    EXPECT_EQ(job_status_from_result(r), JobStatus::failed) << r;
  EXPECT_STREQ(manager_method(JobVerb::reload), "ReloadUnit");
}

TEST(SystemdOutcome, SentencesSayWhatHappened) {
  JobOutcome o;
  o.verb = JobVerb::start;
  o.unit = "web.service";
  o.status = JobStatus::failed;
  o.result = "assert";
  o.elapsed = std::chrono::milliseconds(12);
  EXPECT_EQ(o.to_string(), "start web.service: failed (systemd result 'assert') after 12 ms");
  EXPECT_FALSE(o.ok());
  o.status = JobStatus::error;
  o.error = Error{Error::Kind::bus_lost, "bus connection lost", "", "the broker closed the connection"};
  EXPECT_EQ(o.to_string(), "start web.service: bus connection lost (the broker closed the connection) after 12 ms");
  o.status = JobStatus::done;
  o.result = "done";
  o.error.reset();
  EXPECT_TRUE(o.ok());
  EXPECT_EQ(o.to_string(), "start web.service: done after 12 ms");
}

TEST(SystemdUnitState, ComparesAndDescribes) {
  UnitState a{"web.service", "loaded", "active", "running", 1, 4242};
  UnitState b = a;
  EXPECT_EQ(a, b);
  b.main_pid = 4243;
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.running());
  EXPECT_EQ(a.to_string(), "web.service: loaded active/running, main pid 4242, 1 restart(s)");
  EXPECT_FALSE((UnitState{"x.service", "not-found", "inactive", "dead"}.exists()));
  EXPECT_TRUE(is_service("web.service"));
  EXPECT_FALSE(is_service("web.socket"));
  EXPECT_FALSE(is_service(".service"));
}

}  // namespace
}  // namespace hasup::systemd

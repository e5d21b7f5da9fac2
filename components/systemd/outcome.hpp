#pragma once
// Outcomes of the unit manager's calls, as plain values. Header-only and free
// of D-Bus types: the control loop and pure tests use them without the bus.
//
// Two families: a job ran and systemd reported how it ended (done, failed,
// canceled, timeout, dependency, skipped), or we never got that far and the
// reason is an Error (no such unit, access denied, systemd not on the bus, the
// bus connection lost, ...). Nothing here throws.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "supervisor/util/result.hpp"

namespace hasup::systemd {

struct Error {
  enum class Kind {
    not_connected,  // no bus connection right now (connecting, or backing off after a loss)
    bus_lost,       // the connection broke while the call was under way
    no_systemd,     // the bus answers but nobody owns org.freedesktop.systemd1
    not_found,      // no such unit
    access_denied,  // the bus policy or systemd refused us
    timeout,        // no reply within the call's time bound
    refused,        // systemd said no (reload not applicable, unit masked, ...)
    bad_reply,      // a reply we could not read
    other,
  };
  Kind kind = Kind::other;
  std::string message;  // one sentence for people: "unit web.service not found"
  std::string name;     // the D-Bus error name behind it, when there is one
  std::string detail;   // the D-Bus error's own text

  std::string to_string() const {
    std::string out = message;
    if (!name.empty() || !detail.empty()) {
      out += " (";
      out += name;
      if (!name.empty() && !detail.empty()) out += ": ";
      out += detail;
      out += ")";
    }
    return out;
  }
};

inline std::string_view to_string(Error::Kind kind) {
  switch (kind) {
    case Error::Kind::not_connected: return "not_connected";
    case Error::Kind::bus_lost: return "bus_lost";
    case Error::Kind::no_systemd: return "no_systemd";
    case Error::Kind::not_found: return "not_found";
    case Error::Kind::access_denied: return "access_denied";
    case Error::Kind::timeout: return "timeout";
    case Error::Kind::refused: return "refused";
    case Error::Kind::bad_reply: return "bad_reply";
    case Error::Kind::other: return "other";
  }
  return "other";
}

template <class T>
using Result = hasup::Result<T, Error>;

// Turns a D-Bus error (name + text) into a kind and a sentence. `unit` names
// the unit the call was about, for "unit X not found".
inline Error classify_error(const std::string& name, const std::string& text, const std::string& unit = {}) {
  auto is = [&name](std::string_view n) { return name == n; };
  auto starts = [&name](std::string_view prefix) { return name.compare(0, prefix.size(), prefix) == 0; };
  Error e;
  e.name = name;
  e.detail = text;
  if (is("org.freedesktop.systemd1.NoSuchUnit")) {
    e.kind = Error::Kind::not_found;
    e.message = "unit " + (unit.empty() ? std::string("?") : unit) + " not found";
  } else if (is("org.freedesktop.DBus.Error.AccessDenied") || is("org.freedesktop.DBus.Error.AuthFailed") ||
             is("org.freedesktop.DBus.Error.InteractiveAuthorizationRequired") ||
             is("System.Error.EACCES") || is("System.Error.EPERM")) {
    e.kind = Error::Kind::access_denied;
    e.message = "access denied";
  } else if (is("org.freedesktop.DBus.Error.ServiceUnknown") || is("org.freedesktop.DBus.Error.NameHasNoOwner")) {
    e.kind = Error::Kind::no_systemd;
    e.message = "systemd is not on the bus";
  } else if (is("org.freedesktop.DBus.Error.NoReply") && text.find("Connection terminated") != std::string::npos) {
    // sd-bus fails every pending call with this when the connection breaks.
    e.kind = Error::Kind::bus_lost;
    e.message = "bus connection lost";
  } else if (is("org.freedesktop.DBus.Error.NoReply") || is("org.freedesktop.DBus.Error.Timeout") ||
             is("org.freedesktop.DBus.Error.TimedOut") || is("System.Error.ETIMEDOUT")) {
    e.kind = Error::Kind::timeout;
    e.message = "no reply in time";
  } else if (is("org.freedesktop.DBus.Error.Disconnected") || is("org.freedesktop.DBus.Error.NotConnected") ||
             is("System.Error.ENOTCONN") || is("System.Error.ECONNRESET") || is("System.Error.EPIPE") ||
             is("System.Error.ESHUTDOWN")) {
    e.kind = Error::Kind::bus_lost;
    e.message = "bus connection lost";
  } else if (is("org.freedesktop.systemd1.UnitMasked")) {
    e.kind = Error::Kind::refused;
    e.message = "unit " + unit + " is masked";
  } else if (starts("org.freedesktop.systemd1.")) {
    // JobTypeNotApplicable (reload without ExecReload), OnlyByDependency,
    // TransactionIsDestructive, LoadFailed, ...: systemd understood and said no.
    e.kind = Error::Kind::refused;
    e.message = "systemd refused: " + (text.empty() ? name : text);
  } else {
    e.kind = Error::Kind::other;
    e.message = "D-Bus call failed";
  }
  return e;
}

enum class JobVerb { start, stop, restart, reload };

inline std::string_view to_string(JobVerb verb) {
  switch (verb) {
    case JobVerb::start: return "start";
    case JobVerb::stop: return "stop";
    case JobVerb::restart: return "restart";
    case JobVerb::reload: return "reload";
  }
  return "?";
}

// The org.freedesktop.systemd1.Manager method behind each verb.
inline const char* manager_method(JobVerb verb) {
  switch (verb) {
    case JobVerb::start: return "StartUnit";
    case JobVerb::stop: return "StopUnit";
    case JobVerb::restart: return "RestartUnit";
    case JobVerb::reload: return "ReloadUnit";
  }
  return "StartUnit";
}

enum class JobStatus { done, failed, canceled, timeout, dependency, skipped, error };

inline std::string_view to_string(JobStatus status) {
  switch (status) {
    case JobStatus::done: return "done";
    case JobStatus::failed: return "failed";
    case JobStatus::canceled: return "canceled";
    case JobStatus::timeout: return "timeout";
    case JobStatus::dependency: return "dependency";
    case JobStatus::skipped: return "skipped";
    case JobStatus::error: return "error";
  }
  return "error";
}

// JobRemoved's result string (systemd 252: done, canceled, timeout, failed,
// dependency, skipped, invalid, assert, unsupported, collected, once, frozen).
// The rarer ones all mean "the job did not do what was asked": failed.
inline JobStatus job_status_from_result(std::string_view result) {
  if (result == "done") return JobStatus::done;
  if (result == "canceled" || result == "collected") return JobStatus::canceled;
  if (result == "timeout") return JobStatus::timeout;
  if (result == "dependency") return JobStatus::dependency;
  if (result == "skipped") return JobStatus::skipped;
  return JobStatus::failed;
}

// How one start/stop/restart/reload request ended. The handler gets exactly one.
struct JobOutcome {
  JobVerb verb = JobVerb::start;
  std::string unit;
  JobStatus status = JobStatus::error;
  std::string job;     // the job's object path, once systemd created one
  std::string result;  // systemd's JobRemoved result as sent ("done", "failed", "assert", ...)
  std::optional<Error> error;  // set when status == error
  std::string note;            // why, when the manager itself decided (its own timeout)
  std::chrono::milliseconds elapsed{0};

  bool ok() const { return status == JobStatus::done; }

  std::string to_string() const {
    std::string out = std::string(systemd::to_string(verb)) + " " + unit + ": ";
    if (status == JobStatus::error) {
      out += error ? error->to_string() : std::string("error");
    } else {
      out += systemd::to_string(status);
      if (!result.empty() && result != systemd::to_string(status)) out += " (systemd result '" + result + "')";
      if (!note.empty()) out += ": " + note;
    }
    out += " after " + std::to_string(elapsed.count()) + " ms";
    return out;
  }
};

}  // namespace hasup::systemd

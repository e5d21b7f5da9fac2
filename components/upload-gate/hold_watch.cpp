#include "components/upload-gate/hold_watch.hpp"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

namespace hasup::upload_gate {

namespace {

constexpr std::uint32_t kDirectoryMask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE |
                                         IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

std::string errno_text() { return std::strerror(errno); }

}  // namespace

HoldRead read_hold_file(const std::string& path) {
  HoldRead read;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return read;  // no hold
    read.state = HoldRead::State::invalid;
    read.error = "cannot be read: " + errno_text();
    return read;
  }
  struct stat st {};
  std::string text;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    read.error = "not a regular file";
  } else {
    // One byte more than allowed tells a file that is too large, unread beyond.
    text.resize(kMaxHoldFileBytes + 1);
    std::size_t got = 0;
    while (got < text.size()) {
      ssize_t n = ::read(fd, text.data() + got, text.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        read.error = "cannot be read: " + errno_text();
        break;
      }
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    text.resize(got);
  }
  ::close(fd);
  if (read.error.empty()) {
    auto parsed = parse_hold_file(text);
    if (parsed.hold) {
      read.state = HoldRead::State::valid;
      read.file = std::move(*parsed.hold);
      return read;
    }
    read.error = parsed.error;
  }
  read.state = HoldRead::State::invalid;
  return read;
}

HoldWatch::HoldWatch(boost::asio::io_context& io, const HoldConfig& config, std::chrono::milliseconds poll_interval,
                     WriteHold& hold)
    : io_(io), config_(config), poll_interval_(poll_interval), hold_(hold), timer_(io) {
  auto slash = config_.file.rfind('/');
  directory_ = slash == 0 ? "/" : config_.file.substr(0, slash);
  name_ = config_.file.substr(slash + 1);
}

HoldWatch::~HoldWatch() {
  if (events_) {
    boost::system::error_code ignored;
    events_->close(ignored);  // closes fd_
  } else if (fd_ >= 0) {
    ::close(fd_);
  }
}

void HoldWatch::start() {
  // Left by an earlier run: its writes at the upstream are not known to this one.
  if (::unlink(config_.ack_file.c_str()) == 0)
    spdlog::info("write hold: removed {} left by an earlier run", config_.ack_file);
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) {
    spdlog::warn("write hold: inotify_init1: {}: {} is read every {} ms only", errno_text(), config_.file,
                 poll_interval_.count());
  } else {
    events_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd_);
    wait_events();
  }
  hold_.on_drained([this] { boost::asio::post(io_, [this] { sync_ack(); }); });
  // Now, not on the first turn of the loop: a hold in force at start holds the
  // very first write.
  check();
}

void HoldWatch::check() {
  watch_directory();
  auto read = read_hold_file(config_.file);
  report_file_problem(read);
  std::string seen = read.state == HoldRead::State::absent    ? "absent"
                     : read.state == HoldRead::State::invalid ? "does not parse (" + read.error + ")"
                                                              : "id '" + read.file.id + "' until_unix_ms " +
                                                                    std::to_string(read.file.until_unix_ms);
  if (seen != last_read_) spdlog::debug("write hold: {} now: {}", config_.file, seen);
  last_read_ = std::move(seen);
  auto released = hold_.update(read, HoldInstant::now());
  // The acknowledgement goes before the waiting writes do.
  sync_ack();
  for (auto& go : released) go();
  arm_timer();
}

// The directory may appear after the gate started (the supervisor's runtime
// directory): tried again on every check.
void HoldWatch::watch_directory() {
  if (fd_ < 0 || wd_ >= 0) return;
  wd_ = inotify_add_watch(fd_, directory_.c_str(), kDirectoryMask);
  if (wd_ >= 0) {
    if (directory_missing_logged_) spdlog::info("write hold: watching {} now", directory_);
    directory_missing_logged_ = false;
    return;
  }
  if (!directory_missing_logged_)
    spdlog::info("write hold: cannot watch {} ({}): {} is read every {} ms until it can", directory_, errno_text(),
                 config_.file, poll_interval_.count());
  directory_missing_logged_ = true;
}

void HoldWatch::wait_events() {
  events_->async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
    if (ec) return;
    alignas(inotify_event) char buffer[8 * 1024];
    bool relevant = false;
    while (true) {
      ssize_t got = ::read(fd_, buffer, sizeof buffer);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      for (char* p = buffer; p < buffer + got;) {
        auto* event = reinterpret_cast<inotify_event*>(p);
        if (event->mask & IN_IGNORED) wd_ = -1;  // the directory went away: polled until it is back
        if ((event->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_Q_OVERFLOW)) ||
            (event->len && name_ == event->name))
          relevant = true;
        p += sizeof(inotify_event) + event->len;
      }
    }
    if (relevant) check();
    wait_events();
  });
}

// The fallback poll, or the hold's own end if that comes first.
void HoldWatch::arm_timer() {
  auto next = std::chrono::steady_clock::now() + poll_interval_;
  if (auto ends = hold_.ends_at()) next = std::min(next, *ends);
  timer_.expires_at(next);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) check();
  });
}

void HoldWatch::sync_ack() {
  auto due = hold_.ack();
  if (due && ack_written_ == due->id) return;
  if (!due && !ack_written_) return;
  if (!due) {
    if (::unlink(config_.ack_file.c_str()) != 0 && errno != ENOENT)
      return report_ack_problem("cannot remove " + config_.ack_file + ": " + errno_text());
    ack_written_.reset();
    report_ack_problem("");
    spdlog::debug("write hold: {} removed", config_.ack_file);
    return;
  }
  const std::string text = hold_ack_text(due->id, due->since_unix_ms);
  const std::string temp = config_.ack_file + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    bool no_directory = errno == ENOENT;
    return report_ack_problem("cannot write " + temp + ": " + errno_text() +
                              (no_directory ? " (its directory must exist: ha-upload-gate.service makes "
                                              "/run/ha-upload-gate, RuntimeDirectory=ha-upload-gate)"
                                            : ""));
  }
  bool ok = ::fchmod(fd, 0644) == 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  std::string why = ok ? "" : errno_text();
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(temp.c_str(), config_.ack_file.c_str()) != 0) {
    if (why.empty()) why = errno_text();
    ::unlink(temp.c_str());
    return report_ack_problem("cannot write " + config_.ack_file + ": " + why);
  }
  ack_written_ = due->id;
  report_ack_problem("");
  spdlog::info("write hold '{}': no write at the upstream since {} (unix ms): acknowledged in {}", due->id,
               due->since_unix_ms, config_.ack_file);
}

void HoldWatch::report_file_problem(const HoldRead& read) {
  if (read.state != HoldRead::State::invalid) {
    file_problem_.clear();
    return;
  }
  if (read.error == file_problem_) return;
  file_problem_ = read.error;
  spdlog::error("write hold: {}: {}: it counts as no hold, writes pass", config_.file, read.error);
}

// A failed acknowledgement leaves the supervisor waiting (it then switches
// without the drain, or gives up): said once, tried again on every check.
void HoldWatch::report_ack_problem(const std::string& problem) {
  if (problem == ack_problem_) return;
  if (problem.empty()) {
    spdlog::info("write hold: {} can be written again", config_.ack_file);
  } else {
    spdlog::error("write hold: {}", problem);
  }
  ack_problem_ = problem;
}

}  // namespace hasup::upload_gate

#pragma once
// Feeds the write hold (write_hold.hpp) from the supervisor's hold file and
// writes the gate's acknowledgement.
//
// The file is read again on every inotify event in its directory and, as a
// fallback (events can be missed, the directory may not exist yet: then it is
// only polled, and watched once it appears), every poll interval and when the
// hold in force reaches its end. A file that cannot be read or does not parse
// is logged once and counts as no hold.
//
// The acknowledgement ({"id", "since_unix_ms"} in hold.ack_file, written to a
// temporary file and renamed, mode 0644) exists exactly while a hold is in
// force and no write is at the upstream; it is removed before the writes that
// waited go upstream. One left by an earlier run is removed at start.
//
// Runs on one io_context (the tracker's thread); WriteHold is shared with the
// proxy loops.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "components/upload-gate/config.hpp"
#include "components/upload-gate/write_hold.hpp"

namespace hasup::upload_gate {

// The hold file as it is on disk now (absent, unreadable or unparsable, valid).
HoldRead read_hold_file(const std::string& path);

class HoldWatch {
 public:
  HoldWatch(boost::asio::io_context& io, const HoldConfig& config, std::chrono::milliseconds poll_interval,
            WriteHold& hold);
  ~HoldWatch();
  HoldWatch(const HoldWatch&) = delete;
  HoldWatch& operator=(const HoldWatch&) = delete;

  // Removes a stale acknowledgement and reads the file once, then watches on
  // the io_context's thread. Call before that thread runs.
  void start();

 private:
  void check();
  void watch_directory();
  void wait_events();
  void arm_timer();
  void sync_ack();
  void report_file_problem(const HoldRead& read);
  void report_ack_problem(const std::string& problem);

  boost::asio::io_context& io_;
  const HoldConfig& config_;
  std::chrono::milliseconds poll_interval_;
  WriteHold& hold_;
  std::string directory_, name_;
  int fd_ = -1;
  int wd_ = -1;  // the directory's watch; -1: not watched (yet)
  std::unique_ptr<boost::asio::posix::stream_descriptor> events_;
  boost::asio::steady_timer timer_;
  std::optional<std::string> ack_written_;  // the id in hold.ack_file, if any
  std::string file_problem_, ack_problem_;  // the last logged, to log each once
  std::string last_read_;                   // what the file said at the last check (debug log)
  bool directory_missing_logged_ = false;
};

}  // namespace hasup::upload_gate

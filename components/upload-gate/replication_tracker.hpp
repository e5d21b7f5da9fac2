#pragma once
// Holds gated writes until the peers have what changed.
//
// For each write: ask syncthing to scan the changed paths at once (its own
// watcher would wait 10 s), then re-check each path's per-file truth
// (GET /rest/db/file: local version == global version, and which connected
// peers hold that version) whenever a RemoteIndexUpdated event arrives and, as
// a fallback because long-polls can drop events, every poll interval. After an
// inotify overflow the paths are unknown: the whole folder is scanned and each
// peer's completion (needItems, needDeletes, needBytes all 0) is the truth.
//
// Runs on its own io_context and thread: a slow syncthing delays the gated
// answers, never the proxying of other requests. One check round at a time
// serves every waiting write, so 100 concurrent uploads cost one round.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "components/upload-gate/change_log.hpp"
#include "components/upload-gate/config.hpp"
#include "components/upload-gate/quorum.hpp"
#include "components/syncthing/client.hpp"
#include "components/syncthing/observe_parse.hpp"

namespace hasup::upload_gate {

struct ReplicationResult {
  enum class Kind {
    replicated,       // the quorum holds every changed file
    nothing_changed,  // no changed path exists or was ever indexed: nothing to replicate
    timed_out,        // the quorum was not met in time (decision says who holds what)
    no_peer,          // no peer connected and none holds the change
    unavailable       // syncthing down, garbled, or a file it will not index
  };
  Kind kind = Kind::unavailable;
  QuorumDecision decision;
  std::string error;  // for unavailable
  std::size_t files = 0;
  bool whole_folder = false;
  std::chrono::milliseconds waited{0};
  std::chrono::milliseconds bound{0};  // how long it could wait (replication_wait)
};

class ReplicationTracker {
 public:
  ReplicationTracker(boost::asio::io_context& io, const GateConfig& config);
  void start();  // the event long-poll
  // From any thread. `done` runs on the tracker's io_context, exactly once.
  // `body_bytes`: the write's body, which sets how long it may wait.
  void await(WindowChanges changes, std::uint64_t body_bytes, std::function<void(ReplicationResult)> done);
  std::size_t waiting() const { return waiter_count_; }

 private:
  struct FileTrack {
    enum class State { pending, not_required, unindexed } state = State::pending;
    std::string version;
    std::set<std::string> holders;  // peers seen holding `version`
    bool rescanned = false;
  };
  struct Waiter {
    std::vector<std::string> paths;
    bool whole_folder = false;
    bool scanned = false;
    // The first check round whose answers postdate this waiter's scan: an
    // answer fetched before the scan may show an older version as replicated.
    std::uint64_t first_round = 0;
    std::chrono::steady_clock::time_point started, deadline;
    std::chrono::milliseconds bound{0};
    std::function<void(ReplicationResult)> done;
    std::map<std::string, FileTrack> files;
    std::set<std::string> complete_peers;  // whole-folder mode: peers seen complete
  };
  using WaiterList = std::list<Waiter>;

  void add(Waiter waiter);
  void scan(WaiterList::iterator waiter, std::vector<std::string> subs);
  void request_round();
  void arm_timer();
  void start_round();
  void after_topology(std::string error);
  void fetch_files();
  void fetch_next_file();
  void after_file(const std::string& path, http::Outcome outcome);
  void fetch_remote_needs();
  void fetch_completions();
  void after_completions();
  void finish_round(const std::string& error);
  void evaluate(WaiterList::iterator waiter, std::chrono::steady_clock::time_point now);
  void release(WaiterList::iterator waiter, ReplicationResult result);
  void fail_all(const std::string& error);
  // syncthing failed a call: true while it has failed for less than
  // kSyncthingBlip, when the call is made again rather than the write failed.
  bool blip();
  void poll_events();

  boost::asio::io_context& io_;
  const GateConfig& config_;
  syncthing::Client syncthing_;
  boost::asio::steady_timer timer_;
  WaiterList waiters_;
  std::size_t waiter_count_ = 0;

  // One check round: topology, then every pending file once.
  bool ready(const Waiter& w) const { return w.scanned && w.first_round <= round_id_; }
  bool round_running_ = false;
  std::uint64_t round_id_ = 0;  // the round running or last run
  bool round_again_ = false;
  std::string my_id_;
  std::vector<Peer> peers_;
  std::vector<std::string> files_to_fetch_;
  std::size_t next_file_ = 0, files_in_flight_ = 0;
  std::map<std::string, http::Outcome> file_answers_;
  std::map<std::string, std::optional<syncthing::Completion>> completions_;
  std::map<std::string, std::set<std::string>> remote_needs_;  // connected peer -> names it needs
  std::string round_error_;
  std::optional<std::chrono::steady_clock::time_point> failing_since_;  // syncthing's calls failing, since
  long long event_since_ = 0;
};

}  // namespace hasup::upload_gate

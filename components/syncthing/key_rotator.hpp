#pragma once
// The node's side of a rotation of syncthing's API key (key_rotation.hpp says
// when): a new key made here, given to the node's upload gate, to the
// supervisor's key file, then to syncthing. syncthing accepts the one key in
// its config (its environment could add a second: install.sh no longer sets
// one), and its clients read their key file again when it refuses the key
// they hold (client.hpp). So the files change first, and syncthing last:
//   1. a journal beside the key file (KEY.next): the new key, its generation,
//      the old key;
//   2. the gate's copy, then the key file, get the new key (the clients still
//      hold the old one, which syncthing still accepts);
//   3. syncthing gets it (PATCH /rest/config/gui, with the old key): it
//      restarts its API listener and refuses the old key from then on; a
//      client refused reads its file and finds the new key;
//   4. once syncthing answers to the new key: the generation reached is
//      written and the journal removed;
//   5. the old key is tried: it must be refused.
// A failure before 3 puts the old key back in both files. A crash between 1
// and 4 leaves the journal: the next start tries the new key, and finishes
// (syncthing took it) or puts the old key back (it did not).
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "components/syncthing/key_record.hpp"
#include "supervisor/http/client.hpp"

namespace hasup::syncthing {

class KeyRotator {
 public:
  struct Paths {
    std::string key_file;         // the supervisor's (files.api_key_file)
    std::string gate_key_file;    // the upload gate's copy ("" or missing: no gate here)
    std::string generation_file;  // the generation reached (the supervisor's state directory)
  };
  KeyRotator(boost::asio::io_context& io, http::Endpoint endpoint, http::Policy policy, Paths paths);

  void stop();
  // The generation of the node's key as the state file says (0: the install's).
  std::uint64_t generation() const { return generation_; }
  // A rotation cut short: the journal is there.
  bool pending() const;
  // Finishes or drops a cut-short rotation; done("") when settled, done(why)
  // when syncthing did not answer (the journal stays for the next try).
  void resolve_pending(std::function<void(std::string)> done);
  // Steps 1-5, from the key in the key file to a new key of `generation`
  // (a journal left by a cut-short rotation is settled first); done("") or
  // why not. After step 4 the generation is reached even if step 5 fails.
  void rotate(std::uint64_t generation, std::function<void(std::string)> done);

 private:
  std::string journal() const { return paths_.key_file + ".next"; }
  // Both files hold `key`: "" or what went wrong.
  std::string give_files(const std::string& key) const;
  // Step 4, or the rollback of 2: "" or what went wrong.
  std::string finish(const PendingKey& pending);
  std::string roll_back(const PendingKey& pending);
  void rotate_from(std::uint64_t generation, const std::string& current_key, std::function<void(std::string)> done);
  void wait_for_key(const std::string& key, int tries_left, std::function<void(bool)> done);
  void ping(const std::string& key, http::Callback done);

  boost::asio::io_context& io_;
  http::Endpoint endpoint_;
  http::Policy policy_;
  Paths paths_;
  boost::asio::steady_timer retry_;
  std::uint64_t generation_ = 0;
  bool stopped_ = false;
};

}  // namespace hasup::syncthing

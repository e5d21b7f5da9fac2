#include "components/syncthing/key_rotator.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "components/syncthing/client.hpp"
#include "supervisor/util/files.hpp"
#include "supervisor/util/number_from.hpp"

namespace hasup::syncthing {

namespace {

constexpr std::chrono::milliseconds kPatchTimeout{5000};
// syncthing restarts its API listener after a GUI change: the new key is
// tried this often, this many times (10 s in all) before the rotation is
// left to the journal.
constexpr std::chrono::milliseconds kKeyTryEvery{200};
constexpr int kKeyTries = 50;

std::uint64_t read_generation(const std::string& path) {
  std::string text = read_small_file(path).value_or("");
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  auto value = number_from<std::uint64_t>(text);
  if (!value && !text.empty())
    spdlog::error("files: {} does not hold a generation of syncthing's API key: counted as 0", path);
  return value.value_or(0);
}

// The gate's copy belongs to the gate's user: a new copy keeps the owner and
// group of the one it replaces. "" or what went wrong; nothing when there is
// no copy (no gate on this node).
std::string write_gate_copy(const std::string& path, const std::string& key) {
  if (path.empty()) return {};
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return write_file_atomically(path, key + "\n", 0600, st.st_gid, st.st_uid);
}

}  // namespace

KeyRotator::KeyRotator(boost::asio::io_context& io, http::Endpoint endpoint, http::Policy policy, Paths paths)
    : io_(io), endpoint_(std::move(endpoint)), policy_(policy), paths_(std::move(paths)), retry_(io) {
  generation_ = read_generation(paths_.generation_file);
}

void KeyRotator::stop() {
  stopped_ = true;
  retry_.cancel();
}

bool KeyRotator::pending() const {
  std::error_code ec;
  return std::filesystem::exists(journal(), ec);
}

void KeyRotator::ping(const std::string& key, http::Callback done) {
  auto client = std::make_shared<Client>(io_, endpoint_, key, policy_);
  client->get(Client::kPingTarget, [client, done = std::move(done)](http::Outcome o) { done(std::move(o)); });
}

std::string KeyRotator::give_files(const std::string& key) const {
  if (auto error = write_gate_copy(paths_.gate_key_file, key); !error.empty())
    return "cannot write the upload gate's copy of the key: " + error;
  if (auto error = write_file_atomically(paths_.key_file, key + "\n", 0600); !error.empty())
    return "cannot write the key file: " + error;
  return {};
}

std::string KeyRotator::finish(const PendingKey& pending) {
  // Again: a crash may have come between the two files.
  if (auto error = give_files(pending.key); !error.empty()) return error;
  if (auto error = write_file_atomically(paths_.generation_file, std::to_string(pending.generation) + "\n", 0600);
      !error.empty())
    return "cannot write the generation reached: " + error;
  generation_ = pending.generation;
  std::error_code ec;
  std::filesystem::remove(journal(), ec);
  return {};
}

std::string KeyRotator::roll_back(const PendingKey& pending) {
  if (auto error = give_files(pending.previous); !error.empty()) return error;
  std::error_code ec;
  std::filesystem::remove(journal(), ec);
  return {};
}

void KeyRotator::wait_for_key(const std::string& key, int tries_left, std::function<void(bool)> done) {
  ping(key, [this, key, tries_left, done = std::move(done)](http::Outcome o) mutable {
    if (stopped_) return;
    if (o.ok && o.response.status == 200) return done(true);
    if (tries_left <= 1) return done(false);
    retry_.expires_after(kKeyTryEvery);
    retry_.async_wait([this, key, tries_left, done = std::move(done)](boost::system::error_code ec) mutable {
      if (!ec && !stopped_) wait_for_key(key, tries_left - 1, std::move(done));
    });
  });
}

void KeyRotator::resolve_pending(std::function<void(std::string)> done) {
  auto text = read_small_file(journal());
  auto pending = text ? decode_pending_key(*text) : std::nullopt;
  if (!pending) {
    // Cut short while it was written: nothing after it ran, so the files still hold the old key.
    spdlog::error("files: {} is not a whole journal of a key rotation: removed (the key files were not changed yet)",
                  journal());
    std::error_code ec;
    std::filesystem::remove(journal(), ec);
    return done({});
  }
  ping(pending->key, [this, pending = *pending, done = std::move(done)](http::Outcome o) {
    if (stopped_) return;
    if (o.ok && o.response.status == 200) {
      auto error = finish(pending);
      if (error.empty())
        spdlog::info("files: the rotation of syncthing's API key to generation {} cut short before: finished",
                     pending.generation);
      return done(error);
    }
    if (o.ok && o.response.status == 403) {
      auto error = roll_back(pending);
      if (error.empty())
        spdlog::warn("files: the rotation of syncthing's API key to generation {} cut short before syncthing took "
                     "the key: the previous key is back in the key files",
                     pending.generation);
      return done(error);
    }
    done("syncthing does not answer (" + (o.ok ? "HTTP " + std::to_string(o.response.status) : o.error) +
         "): the rotation cut short waits for it");
  });
}

void KeyRotator::rotate(std::uint64_t generation, std::function<void(std::string)> done) {
  auto from_file = [this, generation](std::function<void(std::string)> done) {
    std::string key = read_api_key_file(paths_.key_file);
    if (generation <= generation_) return done({});  // the journal settled reached it
    rotate_from(generation, key, std::move(done));
  };
  if (!pending()) return from_file(std::move(done));
  resolve_pending([this, from_file, done = std::move(done)](std::string error) mutable {
    if (stopped_) return;
    if (!error.empty()) return done(error);
    from_file(std::move(done));
  });
}

void KeyRotator::rotate_from(std::uint64_t generation, const std::string& current_key,
                             std::function<void(std::string)> done) {
  PendingKey pending{new_api_key(), generation, current_key};
  if (pending.key.empty()) return done("no random bytes from the kernel for a new key");
  if (!usable_api_key(current_key)) return done("the key in use is not 20-128 letters and digits: not rotated");
  if (auto error = write_file_atomically(journal(), encode(pending), 0600); !error.empty())
    return done("cannot write the rotation's journal: " + error);
  if (auto error = give_files(pending.key); !error.empty()) {
    auto undone = roll_back(pending);
    return done(error + (undone.empty() ? "" : "; and putting the previous key back: " + undone));
  }
  auto client = std::make_shared<Client>(io_, endpoint_, current_key, policy_);
  client->patch_json("/rest/config/gui", nlohmann::json{{"apiKey", pending.key}}.dump(), kPatchTimeout,
                     [this, client, pending, done = std::move(done)](http::Outcome o) mutable {
    if (stopped_) return;
    if (!o.ok || o.response.status != 200) {
      // A timeout may still have reached it: the journal decides at the next try.
      std::string why = "syncthing did not take the new key (" +
                        (o.ok ? "HTTP " + std::to_string(o.response.status) : o.error) + ")";
      if (o.ok) {
        auto undone = roll_back(pending);
        if (!undone.empty()) why += "; and putting the previous key back: " + undone;
      }
      return done(why);
    }
    wait_for_key(pending.key, kKeyTries, [this, pending, done = std::move(done)](bool answered) mutable {
      if (!answered)
        return done("syncthing took the new key but does not answer to it: the journal " + journal() +
                    " finishes the rotation once it does");
      if (auto error = finish(pending); !error.empty()) return done(error);
      ping(pending.previous, [this, generation = pending.generation, done = std::move(done)](http::Outcome o) {
        if (stopped_) return;
        if (o.ok && o.response.status == 200)
          return done("syncthing still accepts the previous key: its environment sets STGUIAPIKEY (an older "
                      "components/syncthing/install.sh wrote it into /etc/ha-syncthing/env); run that install.sh "
                      "again, which no longer does, and restart ha-syncthing");
        spdlog::info("files: syncthing's API key rotated to generation {}; the previous key is refused", generation);
        done({});
      });
    });
  });
}

}  // namespace hasup::syncthing

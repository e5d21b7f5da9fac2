#pragma once
// The archives on disk, RESOURCES/blueprints/ID/archive. Nothing is reported
// done before it is durable: an upload goes to a temp file in the archive's own
// folder (same file system, so the rename is atomic), is fsynced, renamed into
// place, and the folder is fsynced; only then is the row written (service.cpp).
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "components/rest-service/sha256.hpp"

namespace hasup::rest_standin {

// One mutex per blueprint id, held while an id's files and row change together
// (install + upsert, delete), never while bytes stream in. Without it two PUTs
// of one id could rename in one order and write their rows in the other.
class IdLocks {
 public:
  class Guard {
   public:
    Guard(IdLocks& owner, std::string id, std::shared_ptr<std::mutex> mutex);
    Guard(Guard&& other) noexcept;
    Guard& operator=(Guard&&) = delete;
    ~Guard();

   private:
    IdLocks* owner_;
    std::string id_;
    std::shared_ptr<std::mutex> mutex_;
  };

  Guard acquire(const std::string& id);

 private:
  void release(const std::string& id, std::shared_ptr<std::mutex> mutex);
  std::mutex map_mutex_;
  std::map<std::string, std::shared_ptr<std::mutex>> by_id_;
};

// Every operation stays inside RESOURCES/blueprints: descriptors opened with
// O_NOFOLLOW and *at() calls, so a symbolic link below it is refused, never
// followed (a link planted by a local user or replicated from a peer).
class BlueprintFiles {
 public:
  explicit BlueprintFiles(std::string resources);
  ~BlueprintFiles();
  BlueprintFiles(const BlueprintFiles&) = delete;
  BlueprintFiles& operator=(const BlueprintFiles&) = delete;

  // Creates RESOURCES/blueprints and opens it (refused when it is a link); "" or the error.
  std::string prepare();
  // Removes what uploads cut off by a crash or a stop left behind (temp files,
  // kept previous archives, folders without an archive). Call before serving.
  int sweep();

  const std::string& root() const { return root_; }  // RESOURCES/blueprints
  std::string folder(const std::string& id) const { return root_ + "/" + id; }
  std::string archive(const std::string& id) const { return folder(id) + "/archive"; }
  IdLocks& locks() { return locks_; }

  struct Removal {
    bool had_archive = false;
    std::string error;
  };
  // The archive and its folder, durably; the temp file of an upload still in
  // progress stays (that upload puts the folder back). Caller holds the id's lock.
  Removal remove(const std::string& id);

  // The folder, when nothing is left in it. Caller holds the id's lock.
  void remove_folder_if_empty(const std::string& id);

  // The id's folder as a descriptor (created first when `create`); -1 when it
  // is absent (error empty, unless `create`) or refused (a link: error set).
  int open_folder(const std::string& id, bool create, std::string& error) const;
  // The id's archive, a regular file, for reading; -1 when absent (error
  // empty, errno ENOENT) or refused (error set).
  int open_archive(const std::string& id, std::string& error) const;

 private:
  std::string root_;
  int root_fd_ = -1;
  IdLocks locks_;
};

// An upload in progress: bytes go to folder/archive.upload-XXXXXX, hashed as they
// arrive. An Upload dropped before it was committed leaves nothing behind.
class Upload {
 public:
  // nullptr and `error` set when the temp file cannot be made; `out_of_space`
  // when the filesystem had no room for it (ENOSPC: a 507, not a 500).
  static std::unique_ptr<Upload> start(BlueprintFiles& files, const std::string& id, std::string& error,
                                       bool& out_of_space);
  Upload(const Upload&) = delete;
  Upload& operator=(const Upload&) = delete;
  ~Upload();

  const std::string& id() const { return id_; }
  std::uint64_t size() const { return size_; }
  std::string append(const char* data, std::size_t size);  // "" or the error
  bool out_of_space() const { return out_of_space_; }      // the last append, finish or install failed with ENOSPC
  // fsyncs and closes the temp file and gives the hash; "" or the error.
  std::string finish(std::string& sha256_hex);
  // Caller holds the id's lock from install() through commit() or rollback().
  // Renames the temp file over the archive, keeping a hard link to the archive
  // it replaces, and fsyncs the folders. On error nothing has changed.
  std::string install();
  void commit();    // the row is in: drop the previous archive
  void rollback();  // the row is not: the previous archive back, or none at all

 private:
  Upload(BlueprintFiles& files, std::string id, int dir_fd, std::string temp_name, int fd);
  void discard_temp();
  std::string temp_path() const;  // for messages

  enum class State { streaming, finished, installed, done };
  BlueprintFiles& files_;
  std::string id_;
  int dir_fd_;                 // the id's folder, opened without following links
  std::string temp_name_;
  std::string previous_name_;  // hard link to the replaced archive, while installed
  int fd_;
  State state_ = State::streaming;
  std::uint64_t size_ = 0;
  bool out_of_space_ = false;
  Sha256 hash_;
};

}  // namespace hasup::rest_standin

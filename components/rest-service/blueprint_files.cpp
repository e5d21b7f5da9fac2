#include "components/rest-service/blueprint_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace hasup::rest_standin {

namespace {

constexpr const char* kTempPrefix = "archive.upload-";
constexpr const char* kPreviousPrefix = "archive.prev-";

std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

// A rename or unlink is durable once the folder holding the entry is fsynced.
void fsync_fd(int fd, const std::string& path) {
  if (::fsync(fd) != 0) spdlog::warn("fsync of folder {} failed: {}", path, std::strerror(errno));
}
void fsync_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  fsync_fd(fd, path);
  ::close(fd);
}

}  // namespace

IdLocks::Guard::Guard(IdLocks& owner, std::string id, std::shared_ptr<std::mutex> mutex)
    : owner_(&owner), id_(std::move(id)), mutex_(std::move(mutex)) {}

IdLocks::Guard::Guard(Guard&& other) noexcept
    : owner_(other.owner_), id_(std::move(other.id_)), mutex_(std::move(other.mutex_)) {
  other.owner_ = nullptr;
}

IdLocks::Guard::~Guard() {
  if (owner_ && mutex_) owner_->release(id_, std::move(mutex_));
}

IdLocks::Guard IdLocks::acquire(const std::string& id) {
  std::shared_ptr<std::mutex> mutex;
  {
    std::lock_guard lock(map_mutex_);
    auto& slot = by_id_[id];
    if (!slot) slot = std::make_shared<std::mutex>();
    mutex = slot;
  }
  mutex->lock();
  return Guard(*this, id, std::move(mutex));
}

void IdLocks::release(const std::string& id, std::shared_ptr<std::mutex> mutex) {
  mutex->unlock();
  std::lock_guard lock(map_mutex_);
  // Copies are only taken under map_mutex_: two owners (the map, us) means nobody waits.
  auto it = by_id_.find(id);
  if (it != by_id_.end() && it->second == mutex && mutex.use_count() == 2) by_id_.erase(it);
}

BlueprintFiles::BlueprintFiles(std::string resources) : root_(std::move(resources) + "/blueprints") {}

BlueprintFiles::~BlueprintFiles() {
  if (root_fd_ >= 0) ::close(root_fd_);
}

// Every file operation below goes through descriptors opened with O_NOFOLLOW
// under the blueprints folder (openat, mkdirat, unlinkat, renameat, linkat): a
// symbolic link anywhere below it, planted by a local user or brought by file
// replication from a peer, is refused, never followed out of the folder.
std::string BlueprintFiles::prepare() {
  std::error_code ec;
  std::filesystem::create_directories(root_, ec);
  if (ec) return "cannot create " + root_ + ": " + ec.message();
  root_fd_ = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root_fd_ < 0)
    return errno == ELOOP || errno == ENOTDIR ? root_ + " is a symbolic link or not a folder: refusing to serve it"
                                              : errno_text("cannot open", root_);
  if (::faccessat(root_fd_, ".", W_OK | X_OK, AT_EACCESS) != 0) return errno_text("cannot write in", root_);
  return {};
}

int BlueprintFiles::open_folder(const std::string& id, bool create, std::string& error) const {
  // Group-writable (0775, 0664 below; the service's umask decides): syncthing
  // shares the group and replaces or deletes what was written here.
  if (create && ::mkdirat(root_fd_, id.c_str(), 0775) != 0 && errno != EEXIST) {
    error = errno_text("cannot create", folder(id));
    return -1;
  }
  int fd = ::openat(root_fd_, id.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) return fd;
  if (errno == ELOOP || errno == ENOTDIR)
    error = folder(id) + " is a symbolic link or not a folder: refused";
  else if (errno != ENOENT || create)
    error = errno_text("cannot open", folder(id));
  return -1;
}

int BlueprintFiles::open_archive(const std::string& id, std::string& error) const {
  int dir = open_folder(id, false, error);
  if (dir < 0) return -1;
  int fd = ::openat(dir, "archive", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  const int saved = errno;
  ::close(dir);
  errno = saved;
  if (fd < 0 && errno == ELOOP) error = archive(id) + " is a symbolic link: refused";
  else if (fd < 0 && errno != ENOENT) error = errno_text("cannot open", archive(id));
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      error = archive(id) + " is not a regular file: refused";
      return -1;
    }
  }
  return fd;
}

int BlueprintFiles::sweep() {
  namespace fs = std::filesystem;
  int removed = 0;
  std::error_code ec;
  for (const auto& folder : fs::directory_iterator(root_, ec)) {
    // symlink_status: a link to a folder elsewhere is not one of ours.
    if (!fs::is_directory(folder.symlink_status(ec))) continue;
    std::vector<fs::path> leftovers;
    for (const auto& entry : fs::directory_iterator(folder.path(), ec)) {
      auto name = entry.path().filename().string();
      if (starts_with(name, kTempPrefix) || starts_with(name, kPreviousPrefix)) leftovers.push_back(entry.path());
    }
    for (const auto& path : leftovers) {
      spdlog::info("removing {}: left by an upload that did not finish", path.string());
      if (fs::remove(path, ec)) ++removed;
    }
    if (fs::is_empty(folder.path(), ec) && !ec) {
      spdlog::info("removing empty folder {}", folder.path().string());
      fs::remove(folder.path(), ec);
    }
    fsync_dir(folder.path().string());
  }
  fsync_dir(root_);
  return removed;
}

namespace {

// `name` in the folder `dir`, and everything under it when it is a folder,
// without following a symbolic link: a link is removed, not its target.
void remove_tree_at(int dir, const std::string& name) {
  if (::unlinkat(dir, name.c_str(), 0) == 0 || errno != EISDIR) return;
  int sub = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sub < 0) return;
  std::vector<std::string> names;
  if (DIR* d = ::fdopendir(::dup(sub))) {
    while (dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
    ::closedir(d);
  }
  for (const auto& n : names) remove_tree_at(sub, n);
  ::close(sub);
  ::unlinkat(dir, name.c_str(), AT_REMOVEDIR);
}

}  // namespace

BlueprintFiles::Removal BlueprintFiles::remove(const std::string& id) {
  Removal out;
  int dir = open_folder(id, false, out.error);
  if (dir < 0) return out;  // no folder: nothing to remove (or the error)
  if (::unlinkat(dir, "archive", 0) == 0) {
    out.had_archive = true;
  } else if (errno != ENOENT) {
    out.error = errno_text("cannot remove", archive(id));
    ::close(dir);
    return out;
  }
  std::vector<std::string> names;
  if (DIR* d = ::fdopendir(::dup(dir))) {
    while (dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
    ::closedir(d);
  }
  for (const auto& name : names)
    if (!starts_with(name, kTempPrefix)) remove_tree_at(dir, name);
  ::close(dir);
  remove_folder_if_empty(id);
  fsync_dir(root_);
  return out;
}

void BlueprintFiles::remove_folder_if_empty(const std::string& id) {
  // rmdir refuses a folder that still holds something (another upload's temp
  // file), and a symbolic link (ENOTDIR): only our own empty folder goes.
  if (::unlinkat(root_fd_, id.c_str(), AT_REMOVEDIR) == 0) fsync_dir(root_);
}

std::unique_ptr<Upload> Upload::start(BlueprintFiles& files, const std::string& id, std::string& error,
                                      bool& out_of_space) {
  // Under the id's lock, so a DELETE cannot remove the folder between mkdir and the temp file.
  auto guard = files.locks().acquire(id);
  errno = 0;
  int dir = files.open_folder(id, true, error);
  out_of_space = dir < 0 && errno == ENOSPC;  // still the failing call's: errno_text only formats
  if (dir < 0) return nullptr;
  // A new name of random letters, made here rather than by mkstemp (which
  // takes a path): O_EXCL|O_NOFOLLOW never opens anything that was there.
  static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  for (int attempt = 0; attempt < 16; ++attempt) {
    unsigned char random[6];
    if (::getrandom(random, sizeof random, 0) != static_cast<ssize_t>(sizeof random)) break;
    std::string name = kTempPrefix;
    for (unsigned char r : random) name += letters[r % (sizeof letters - 1)];
    // 0664: read by others (nginx), replaced by the group (file sync).
    int fd = ::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0664);
    if (fd >= 0) return std::unique_ptr<Upload>(new Upload(files, id, dir, name, fd));
    if (errno != EEXIST) break;
  }
  out_of_space = errno == ENOSPC;
  error = errno_text("cannot create a temp file in", files.folder(id));
  ::close(dir);
  files.remove_folder_if_empty(id);
  return nullptr;
}

Upload::Upload(BlueprintFiles& files, std::string id, int dir_fd, std::string temp_name, int fd)
    : files_(files), id_(std::move(id)), dir_fd_(dir_fd), temp_name_(std::move(temp_name)), fd_(fd) {}

std::string Upload::temp_path() const { return files_.folder(id_) + "/" + temp_name_; }

Upload::~Upload() {
  if (state_ == State::installed) {
    auto guard = files_.locks().acquire(id_);
    rollback();
  }
  if (state_ != State::done) {
    discard_temp();
    auto guard = files_.locks().acquire(id_);
    files_.remove_folder_if_empty(id_);
  }
  ::close(dir_fd_);
}

void Upload::discard_temp() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
}

std::string Upload::append(const char* data, std::size_t size) {
  hash_.update(data, size);
  std::size_t written = 0;
  while (written < size) {
    ssize_t n = ::write(fd_, data + written, size - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out_of_space_ = errno == ENOSPC;
      return errno_text("cannot write", temp_path());
    }
    written += static_cast<std::size_t>(n);
  }
  size_ += size;
  return {};
}

std::string Upload::finish(std::string& sha256_hex) {
  // The filesystem may run out of room only now: blocks written through the
  // page cache are allocated at the flush (ext4's delayed allocation).
  if (::fsync(fd_) != 0) {
    out_of_space_ = errno == ENOSPC;
    return errno_text("cannot fsync", temp_path());
  }
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    out_of_space_ = errno == ENOSPC;
    return errno_text("cannot close", temp_path());
  }
  sha256_hex = hash_.hex();
  state_ = State::finished;
  return {};
}

std::string Upload::install() {
  // The temp file's random suffix makes the link's name unique too.
  const auto previous = kPreviousPrefix + temp_name_.substr(std::string(kTempPrefix).size());
  if (::linkat(dir_fd_, "archive", dir_fd_, previous.c_str(), 0) == 0) {
    previous_name_ = previous;
  } else if (errno != ENOENT) {
    out_of_space_ = errno == ENOSPC;
    return errno_text("cannot keep the previous archive as", files_.folder(id_) + "/" + previous);
  }
  if (::renameat(dir_fd_, temp_name_.c_str(), dir_fd_, "archive") != 0) {
    out_of_space_ = errno == ENOSPC;
    auto error = errno_text("cannot rename into", files_.archive(id_));
    if (!previous_name_.empty()) ::unlinkat(dir_fd_, previous_name_.c_str(), 0);
    previous_name_.clear();
    return error;
  }
  fsync_fd(dir_fd_, files_.folder(id_));
  fsync_dir(files_.root());  // the folder itself may be new
  state_ = State::installed;
  return {};
}

void Upload::commit() {
  if (!previous_name_.empty()) ::unlinkat(dir_fd_, previous_name_.c_str(), 0);
  state_ = State::done;
}

void Upload::rollback() {
  if (!previous_name_.empty()) {
    if (::renameat(dir_fd_, previous_name_.c_str(), dir_fd_, "archive") != 0) {
      spdlog::error("{}", errno_text("cannot put the previous archive back from",
                                     files_.folder(id_) + "/" + previous_name_));
    }
  } else {
    ::unlinkat(dir_fd_, "archive", 0);
  }
  fsync_fd(dir_fd_, files_.folder(id_));
  files_.remove_folder_if_empty(id_);
  state_ = State::done;
}

}  // namespace hasup::rest_standin

#include "components/rest-service/blueprint_files.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
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
void fsync_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  if (::fsync(fd) != 0) spdlog::warn("fsync of folder {} failed: {}", path, std::strerror(errno));
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

std::string BlueprintFiles::prepare() {
  std::error_code ec;
  std::filesystem::create_directories(root_, ec);
  if (ec) return "cannot create " + root_ + ": " + ec.message();
  if (::access(root_.c_str(), W_OK | X_OK) != 0) return errno_text("cannot write in", root_);
  return {};
}

int BlueprintFiles::sweep() {
  namespace fs = std::filesystem;
  int removed = 0;
  std::error_code ec;
  for (const auto& folder : fs::directory_iterator(root_, ec)) {
    if (!folder.is_directory(ec)) continue;
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

BlueprintFiles::Removal BlueprintFiles::remove(const std::string& id) {
  namespace fs = std::filesystem;
  Removal out;
  const auto path = archive(id);
  if (::unlink(path.c_str()) == 0) {
    out.had_archive = true;
  } else if (errno != ENOENT) {
    out.error = errno_text("cannot remove", path);
    return out;
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder(id), ec)) {
    auto name = entry.path().filename().string();
    if (!starts_with(name, kTempPrefix)) fs::remove_all(entry.path(), ec);
  }
  remove_folder_if_empty(id);
  fsync_dir(root_);
  return out;
}

void BlueprintFiles::remove_folder_if_empty(const std::string& id) {
  // rmdir refuses a folder that still holds something (another upload's temp file).
  if (::rmdir(folder(id).c_str()) == 0) fsync_dir(root_);
}

std::unique_ptr<Upload> Upload::start(BlueprintFiles& files, const std::string& id, std::string& error) {
  // Under the id's lock, so a DELETE cannot remove the folder between mkdir and mkstemp.
  auto guard = files.locks().acquire(id);
  const auto folder = files.folder(id);
  if (::mkdir(folder.c_str(), 0755) != 0 && errno != EEXIST) {
    error = errno_text("cannot create", folder);
    return nullptr;
  }
  std::string pattern = folder + "/" + kTempPrefix + "XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  int fd = ::mkostemp(buffer.data(), O_CLOEXEC);
  if (fd < 0) {
    error = errno_text("cannot create a temp file in", folder);
    files.remove_folder_if_empty(id);
    return nullptr;
  }
  ::fchmod(fd, 0644);  // mkstemp makes 0600; the archive is read by others (nginx, file sync)
  return std::unique_ptr<Upload>(new Upload(files, id, buffer.data(), fd));
}

Upload::Upload(BlueprintFiles& files, std::string id, std::string temp_path, int fd)
    : files_(files), id_(std::move(id)), temp_path_(std::move(temp_path)), fd_(fd) {}

Upload::~Upload() {
  if (state_ == State::installed) {
    auto guard = files_.locks().acquire(id_);
    rollback();
  }
  if (state_ == State::done) return;
  discard_temp();
  auto guard = files_.locks().acquire(id_);
  files_.remove_folder_if_empty(id_);
}

void Upload::discard_temp() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(temp_path_.c_str());
}

std::string Upload::append(const char* data, std::size_t size) {
  hash_.update(data, size);
  std::size_t written = 0;
  while (written < size) {
    ssize_t n = ::write(fd_, data + written, size - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out_of_space_ = errno == ENOSPC;
      return errno_text("cannot write", temp_path_);
    }
    written += static_cast<std::size_t>(n);
  }
  size_ += size;
  return {};
}

std::string Upload::finish(std::string& sha256_hex) {
  if (::fsync(fd_) != 0) return errno_text("cannot fsync", temp_path_);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return errno_text("cannot close", temp_path_);
  sha256_hex = hash_.hex();
  state_ = State::finished;
  return {};
}

std::string Upload::install() {
  const auto folder = files_.folder(id_);
  const auto archive = files_.archive(id_);
  // The temp file's random suffix makes the link's name unique too.
  const auto suffix = temp_path_.substr(temp_path_.rfind('-') + 1);
  const auto previous = folder + "/" + kPreviousPrefix + suffix;
  if (::link(archive.c_str(), previous.c_str()) == 0) {
    previous_path_ = previous;
  } else if (errno != ENOENT) {
    return errno_text("cannot keep the previous archive as", previous);
  }
  if (::rename(temp_path_.c_str(), archive.c_str()) != 0) {
    auto error = errno_text("cannot rename into", archive);
    if (!previous_path_.empty()) ::unlink(previous_path_.c_str());
    previous_path_.clear();
    return error;
  }
  fsync_dir(folder);
  fsync_dir(files_.root());  // the folder itself may be new
  state_ = State::installed;
  return {};
}

void Upload::commit() {
  if (!previous_path_.empty()) ::unlink(previous_path_.c_str());
  state_ = State::done;
}

void Upload::rollback() {
  const auto archive = files_.archive(id_);
  if (!previous_path_.empty()) {
    if (::rename(previous_path_.c_str(), archive.c_str()) != 0) {
      spdlog::error("{}", errno_text("cannot put the previous archive back from", previous_path_));
    }
  } else {
    ::unlink(archive.c_str());
  }
  fsync_dir(files_.folder(id_));
  files_.remove_folder_if_empty(id_);
  state_ = State::done;
}

}  // namespace hasup::rest_standin

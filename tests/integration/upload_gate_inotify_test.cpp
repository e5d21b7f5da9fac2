// The gate's change watcher when the inotify watch limit is reached: a
// directory it cannot watch must never make a write look like one that
// changed nothing. The limit is a real one, set low in a user namespace of
// the test's own (user.max_inotify_watches; the machine's is untouched).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "components/upload-gate/inotify_watcher.hpp"

namespace hasup::upload_gate {
namespace {

namespace fs = std::filesystem;

constexpr int kSkip = 77;

bool write_text(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

bool set_watch_limit(int limit) { return write_text("/proc/sys/user/max_inotify_watches", std::to_string(limit)); }

// Runs `body` in a child process, in a new user namespace (this uid as its
// root) where the watch limit can be set: its exit status, kSkip when the
// namespace cannot be made here.
int in_user_namespace(const std::function<void()>& body) {
  const uid_t uid = ::getuid();
  const gid_t gid = ::getgid();
  pid_t pid = ::fork();
  if (pid < 0) return kSkip;
  if (pid == 0) {
    if (::unshare(CLONE_NEWUSER) != 0 || !write_text("/proc/self/setgroups", "deny") ||
        !write_text("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
        !write_text("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1"))
      ::_exit(kSkip);
    body();
    ::_exit(::testing::Test::HasFailure() ? 1 : 0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

void write_file(const fs::path& path) { std::ofstream(path) << "bytes"; }

TEST(GateInotify, AnUnwatchedDirectoryMakesEveryWriteCheckTheWholeFolderUntilItIsWatched) {
  const int status = in_user_namespace([] {
    if (!set_watch_limit(3)) ::_exit(kSkip);
    char tmpl[] = "/tmp/gate-inotify-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const fs::path root = tmpl;
    for (const char* dir : {"a", "b", "c", "d"}) fs::create_directory(root / dir);

    InotifyWatcher watcher(root.string());
    boost::asio::io_context io;
    ASSERT_EQ(watcher.start(io), "");
    // Three watches: the root and two of the four directories.
    const auto unwatched = watcher.unwatched_directories();
    ASSERT_EQ(unwatched.size(), 2u);
    const std::string dir = unwatched.begin()->first;
    EXPECT_NE(unwatched.begin()->second.find("fs.inotify.max_user_watches"), std::string::npos)
        << unwatched.begin()->second;

    // A write into it makes no event: the window must not claim to know every change.
    auto window = watcher.open_window();
    write_file(root / dir / "first");
    EXPECT_TRUE(watcher.close_window(window).overflowed) << "a write into " << dir << " would be released at once";

    // Room again: the next closing window adds the watches, and counts what
    // was written into those directories meanwhile.
    ASSERT_TRUE(set_watch_limit(100));
    window = watcher.open_window();
    write_file(root / dir / "second");
    const auto changes = watcher.close_window(window);
    EXPECT_FALSE(changes.overflowed);
    EXPECT_TRUE(watcher.unwatched_directories().empty());
    EXPECT_NE(std::find(changes.paths.begin(), changes.paths.end(), dir + "/second"), changes.paths.end());

    // And from then on, by its own events.
    window = watcher.open_window();
    write_file(root / dir / "third");
    const auto later = watcher.close_window(window);
    EXPECT_FALSE(later.overflowed);
    EXPECT_EQ(later.paths, (std::vector<std::string>{dir + "/third"}));
    fs::remove_all(root);
  });
  if (status == kSkip) GTEST_SKIP() << "no user namespace with its own inotify limit here (unshare or "
                                       "/proc/sys/user/max_inotify_watches refused)";
  EXPECT_EQ(status, 0) << "the child's failures are printed above";
}

}  // namespace
}  // namespace hasup::upload_gate

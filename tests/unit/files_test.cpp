// write_file_atomically (supervisor/util/files.hpp): whole or not at all, the
// mode and group set before anyone can read it, nothing planted beside it
// followed, a crash's debris removed.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "supervisor/util/files.hpp"

namespace hasup {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    char pattern[] = "/tmp/files-test-XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

std::string read(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(TouchFile, MakesTheFileThenMovesItsTimeAndNeverFollowsALink) {
  TempDir dir;
  const std::string path = dir.path + "/alive";
  ASSERT_EQ(touch_file(path), "");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0);
  const struct timespec old_times[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), old_times, 0), 0);
  ASSERT_EQ(touch_file(path), "");
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_GT(st.st_mtim.tv_sec, 1000) << "the time moved to now";
  fs::create_symlink(dir.path + "/elsewhere", dir.path + "/link");
  EXPECT_NE(touch_file(dir.path + "/link"), "");
  EXPECT_FALSE(fs::exists(dir.path + "/elsewhere")) << "nothing made through the link";
  EXPECT_NE(touch_file(dir.path + "/no/such/folder/alive"), "");
}

TEST(WriteFileAtomically, WritesTheWholeTextWithExactlyTheModeWhateverTheUmask) {
  TempDir dir;
  const mode_t old = ::umask(0077);
  const std::string path = dir.path + "/sub/conf";
  ASSERT_EQ(write_file_atomically(path, "a\n", 0644), "");
  ::umask(old);
  EXPECT_EQ(read(path), "a\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u) << "the umask does not narrow it";
  const std::string big(3 << 20, 'x');  // more than one write() may take
  ASSERT_EQ(write_file_atomically(path, big, 0600), "");
  EXPECT_EQ(read(path).size(), big.size());
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(entries(dir.path + "/sub"), std::vector<std::string>{"conf"}) << "no temp file left";
}

TEST(WriteFileAtomically, ACrashsDebrisIsRemovedAndNothingPlantedIsFollowed) {
  TempDir dir;
  const std::string path = dir.path + "/conf";
  const std::string outside = dir.path + "/outside";
  std::ofstream(outside) << "untouched";
  // What the old fixed temp name (PATH.tmp.PID) invited: a link planted there.
  fs::create_symlink(outside, path + ".tmp." + std::to_string(::getpid()));
  std::ofstream(path + ".tmp.12345") << "half a config from a crash";
  ASSERT_EQ(write_file_atomically(path, "new\n", 0644), "");
  EXPECT_EQ(read(path), "new\n");
  EXPECT_EQ(read(outside), "untouched");
  EXPECT_EQ(entries(dir.path), (std::vector<std::string>{"conf", "outside"}));
  // The path itself a link: replaced by the file, the target untouched.
  fs::remove(path);
  fs::create_symlink(outside, path);
  ASSERT_EQ(write_file_atomically(path, "mine\n", 0644), "");
  EXPECT_FALSE(fs::is_symlink(path));
  EXPECT_EQ(read(outside), "untouched");
}

TEST(WriteFileAtomically, TheGroupIsSetBeforeTheFileAppears) {
  if (::geteuid() != 0) GTEST_SKIP() << "changing a file's group to another needs root";
  TempDir dir;
  const std::string path = dir.path + "/secret";
  ASSERT_EQ(write_file_atomically(path, "s\n", 0640, 65534), "");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, 65534u);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(WriteFileAtomically, AFolderThatCannotBeMadeIsAnErrorNotACrash) {
  TempDir dir;
  std::ofstream(dir.path + "/file") << "x";
  auto error = write_file_atomically(dir.path + "/file/conf", "x", 0644);
  EXPECT_NE(error, "");
  EXPECT_NE(error.find("cannot write"), std::string::npos) << error;
}

}  // namespace
}  // namespace hasup

// read_small_file: the one reader of small local files (the config loader's
// and the loop's former copies merged). The loader's rules were kept: regular
// files only, a size limit, a reason; the loop's copy read anything, FIFOs
// (which block) and files of any size included.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "supervisor/util/files.hpp"
#include "tests/unit/temp_dir.hpp"

namespace hasup {
namespace {

using test::TempDir;
using std::filesystem::path;

TEST(ReadSmallFile, AWholeFileUpToTheLimit) {
  TempDir dir;
  const std::string text("line one\nline two\n\0binary too", 28);
  auto read = read_small_file(path(dir.write("a", text)), text.size());
  ASSERT_TRUE(read.ok()) << read.problem;
  EXPECT_EQ(read.content, text);
  EXPECT_EQ(read_small_file(path(dir.write("empty", "")), 0).content, "");
}

TEST(ReadSmallFile, OneByteOverTheLimitIsRefusedWithTheLimit) {
  TempDir dir;
  auto read = read_small_file(path(dir.write("big", std::string(4097, 'x'))), 4096);
  EXPECT_FALSE(read.ok());
  EXPECT_EQ(read.content, "");
  EXPECT_EQ(read.problem, "larger than 4096 bytes");
}

TEST(ReadSmallFile, AMissingFileSaysSo) {
  TempDir dir;
  auto read = read_small_file(path(dir.path()) / "nothing-here", 100);
  EXPECT_FALSE(read.ok());
  EXPECT_NE(read.problem.find("No such file"), std::string::npos) << read.problem;
  EXPECT_FALSE(read_small_file(dir.path() + "/nothing-here").has_value());
}

// The loop's former copy would have blocked here until a writer came.
TEST(ReadSmallFile, AFifoOrADirectoryIsRefusedAtOnce) {
  TempDir dir;
  const auto fifo = path(dir.path()) / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(read_small_file(fifo, 100).problem, "not a regular file");
  EXPECT_FALSE(read_small_file(fifo.string()).has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(read_small_file(path(dir.path()), 100).problem, "not a regular file");
}

// The loop's callers get the content, up to kSmallFileLimit; the loop's former
// copy had no limit.
TEST(ReadSmallFile, TheContentOnlyFormHasTheDefaultLimit) {
  TempDir dir;
  EXPECT_EQ(read_small_file(dir.write("t", "1\n")).value_or("?"), "1\n");
  EXPECT_TRUE(read_small_file(dir.write("at", std::string(kSmallFileLimit, 'x'))).has_value());
  EXPECT_FALSE(read_small_file(dir.write("over", std::string(kSmallFileLimit + 1, 'x'))).has_value());
}

}  // namespace
}  // namespace hasup

#pragma once
// Small local files the loop reads and writes (rendered configs, track files).
#include <sys/types.h>

#include <optional>
#include <string>

namespace hasup {

// The whole file, or nullopt when it cannot be read.
std::optional<std::string> read_small_file(const std::string& path);

// Whole or not at all (temp file, fsync, rename): a reader never sees a
// half-written config. Returns "" or what went wrong.
std::string write_file_atomically(const std::string& path, const std::string& text, mode_t mode);

}  // namespace hasup

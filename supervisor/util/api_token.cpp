#include "supervisor/util/api_token.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "supervisor/util/files.hpp"

namespace hasup {

std::string random_hex(std::size_t size) {
  std::vector<unsigned char> bytes(size);
  std::size_t got = 0;
  while (got < size) {
    ssize_t n = ::getrandom(bytes.data() + got, size - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return {};
    got += static_cast<std::size_t>(n);
  }
  static const char* hex = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) {
    token += hex[b >> 4];
    token += hex[b & 0x0f];
  }
  return token;
}

std::string install_write_token(const std::string& path, const std::string& token) {
  if (token.empty()) return "no random bytes from the kernel for the API token";
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  return write_file_atomically(path, token + "\n", 0600);
}

std::string read_write_token(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read " + path + ": " + std::strerror(errno);
    return {};
  }
  std::string token;
  std::getline(in, token);
  if (token.empty()) error = path + " is empty";
  return token;
}

Proof check_authorization(const std::string& header, const std::string& token) {
  const std::string scheme = "Bearer ";
  if (header.empty()) return Proof::missing;
  if (token.empty() || header.size() != scheme.size() + token.size() || header.compare(0, scheme.size(), scheme) != 0)
    return Proof::wrong;
  // Every byte compared whatever the first difference: the time taken says
  // nothing about how much of a guess was right.
  unsigned char difference = 0;
  for (std::size_t i = 0; i < token.size(); ++i)
    difference |= static_cast<unsigned char>(header[scheme.size() + i] ^ token[i]);
  return difference == 0 ? Proof::ok : Proof::wrong;
}

}  // namespace hasup

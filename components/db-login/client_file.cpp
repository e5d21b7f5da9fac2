#include "components/db-login/client_file.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "supervisor/util/files.hpp"

namespace hasup::db_login {

namespace {

std::string quoted(const std::string& value) {
  std::string out = "'";
  for (char ch : value) {
    if (ch == '\\' || ch == '\'') out += '\\';
    out += ch;
  }
  return out + "'";
}

}  // namespace

std::string client_conninfo(const std::string& base, const std::string& login, const std::string& password) {
  return base + " user=" + quoted(login) + " password=" + quoted(password) + "\n";
}

std::string write_client_file(const std::string& path, const std::string& text) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0)
    return "cannot read the owner of " + path + ": " + std::strerror(errno) + " (install the REST service first)";
  if (!S_ISREG(st.st_mode)) return path + " is not a regular file";
  return write_file_atomically(path, text, 0400, st.st_gid, st.st_uid);
}

}  // namespace hasup::db_login

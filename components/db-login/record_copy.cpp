#include "components/db-login/record_copy.hpp"

#include "supervisor/util/files.hpp"

namespace hasup::db_login {

std::string record_copy_path(const std::string& known_nodes_file, LoginSecret secret) {
  return path_beside(known_nodes_file, secret == LoginSecret::db_password ? "db-login.json" : "replication-login.json");
}

CopyRead read_record_copy(const std::string& path, const std::string& base_user) {
  FileRead read = read_small_file(path, kSmallFileLimit);
  std::error_code ec;
  if (!read.ok() && !std::filesystem::exists(path, ec)) return {};
  if (!read.ok()) return {std::nullopt, "the copy " + path + " cannot be read: " + read.problem};
  auto decoded = decode_login_record(read.content);
  if (!decoded.record) return {std::nullopt, "the copy " + path + " is unreadable: " + decoded.error};
  if (auto why = record_problem(*decoded.record, base_user); !why.empty())
    return {std::nullopt, "the copy " + path + " is refused: " + why};
  return {decoded.record, {}};
}

std::string keep_record_copy(const std::string& path, const LoginRecord& record) {
  return write_file_atomically(path, encode(record), 0600);
}

}  // namespace hasup::db_login

#include "components/postgres/model.hpp"

namespace hasup::db {

std::string to_string(DbRole role) {
  switch (role) {
    case DbRole::primary: return "primary";
    case DbRole::sync_standby: return "sync";
    case DbRole::replica: return "replica";
    case DbRole::unknown: break;
  }
  return "unknown";
}

}  // namespace hasup::db

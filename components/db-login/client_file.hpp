#pragma once
// The REST service's connection string (db.rest_conninfo_file): the
// configured one (db.rest_conninfo: hosts, database, timeouts; no user, no
// password) with the login of the generation in force.
#include <string>

namespace hasup::db_login {

// libpq's keyword=value text: the login's user= and password= quoted as
// libpq reads them ('...' with \ and ' escaped), appended to `base`.
std::string client_conninfo(const std::string& base, const std::string& login, const std::string& password);

// The file written whole, owned as the file it replaces (the REST service's
// user: it reads the file, nothing else may), mode 0400. It must exist: the
// REST service's install made it, and only its owner says who may read it.
// "" or what went wrong (never the content: it holds the password).
std::string write_client_file(const std::string& path, const std::string& text);

}  // namespace hasup::db_login

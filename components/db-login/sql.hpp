#pragma once
// The rotation's two statements on the primary (the leader's steps), as the
// superuser (the supervisor's passfile). Blocking: run on a worker thread.
// Both are safe to repeat: a leader that takes over mid-way runs them again.
#include <string>

#include "components/db-login/record.hpp"

namespace hasup::db_login {

// `login` gets `password`, sent as its SCRAM verifier (computed here by
// libpq), so the password itself never reaches the server or its logs. The
// alternate login is created on first use: for the database password a
// member of the manager's role (`base_user`) that acts as it (SET ROLE at
// login), so what it creates the manager owns; for the replication password
// a role with REPLICATION, as the base role has (either replication login
// is made when missing; the manager's role never is). "" or what went wrong.
std::string set_login_password(const std::string& conninfo, LoginSecret secret, const std::string& base_user,
                               const std::string& login, const std::string& password);

// How many sessions of `login` are open now (streaming replication's
// included); -1 and `error` set when the primary cannot tell.
int open_sessions(const std::string& conninfo, const std::string& login, std::string& error);

// `login` is refused from now on (NOLOGIN, no password), and its sessions
// still open are ended (a client that switched retries on a new session).
// "" or what went wrong; `ended`: how many sessions were ended.
std::string retire_login(const std::string& conninfo, const std::string& login, int& ended);

}  // namespace hasup::db_login

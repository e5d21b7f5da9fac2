#pragma once
// The rotation's two statements on the primary (the leader's steps), as the
// superuser (the supervisor's passfile). Blocking: run on a worker thread.
// Both are safe to repeat: a leader that takes over mid-way runs them again.
#include <string>

namespace hasup::db_login {

// `login` gets `password`, sent as its SCRAM verifier (computed here by
// libpq), so the password itself never reaches the server or its logs. The
// alternate login is created on first use: a member of the manager's role
// that acts as it (SET ROLE at login), so what it creates the manager owns.
// "" or what went wrong.
std::string set_login_password(const std::string& conninfo, const std::string& manager_user,
                               const std::string& login, const std::string& password);

// `login` is refused from now on (NOLOGIN, no password), and its sessions
// still open are ended (a client that switched retries on a new session).
// "" or what went wrong; `ended`: how many sessions were ended.
std::string retire_login(const std::string& conninfo, const std::string& login, int& ended);

}  // namespace hasup::db_login

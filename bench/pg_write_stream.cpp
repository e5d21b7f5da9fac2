// pg_write_stream: a stream of one-row commits through a libpq conninfo, for
// the failover test and benchmark. `write` logs each acknowledged id, `verify`
// checks that every logged id is in the table, `gaps` measures the write
// outage from the log. Only libpq and the standard library (it also runs in a
// lab's network namespaces); the libpq session is components/postgres/probe's.
//
// What "acknowledged" means here, and why ids are never reused:
// - acknowledged = the INSERT's transaction ended with ReadyForQuery, no error
//   and no WARNING. A commit whose synchronous-replication wait was cancelled
//   is reported as success plus "WARNING: canceling wait for synchronous
//   replication": committed on this server only, so not acknowledged.
// - an id is used up once its INSERT was sent: after a timeout, a lost
//   connection or such a WARNING its outcome is unknown (it may have
//   committed), so the next attempt takes the next id. An id that was never
//   sent (no connection) is kept.
// - attempts are dropped at their deadline (PQfinish), never cancelled: a
//   cancel would end a synchronous-replication wait with that WARNING.
#include <libpq-fe.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "components/postgres/host_list.hpp"
#include "components/postgres/probe.hpp"

namespace {

using hasup::db::PgReply;
using hasup::db::PgSession;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kUsage =
    "usage:\n"
    "  pg_write_stream write  --conninfo CI --table T --log FILE [--interval-ms 20]\n"
    "                         [--duration-s N] [--attempt-timeout-ms 2000]\n"
    "      Creates T(id bigint primary key, at timestamptz default now()) if missing, then\n"
    "      inserts ids after the table's largest, one transaction each, every interval,\n"
    "      until N seconds passed or SIGTERM/SIGINT. Each acknowledged id (committed, no\n"
    "      error, no WARNING) is appended to FILE as `ID EPOCH_MS SERVER`. Prints\n"
    "      `acked N errors E` at the end. Connects with the conninfo's connect_timeout\n"
    "      (default 1 s); each INSERT is dropped (not cancelled) after the attempt timeout.\n"
    "  pg_write_stream verify --conninfo CI --table T --log FILE\n"
    "      Prints `acked N present P lost L`; exits 1 when L > 0, listing up to 20 lost ids.\n"
    "  pg_write_stream gaps   --log FILE [--after-ms EPOCH_MS]\n"
    "      Prints the longest gap between consecutive acknowledged writes, or with\n"
    "      --after-ms the gap that spans that moment:\n"
    "      `outage_ms X last_before EPOCH first_after EPOCH server_before S server_after S`.\n"
    "exit status: 0 fine, 1 failed (lost ids, no gap, cannot reach the database), 2 bad arguments\n";

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop = true; }

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct UsageError {
  std::string message;
};

template <typename Number>
std::optional<Number> parse_number(std::string_view text) {
  Number value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// [schema.]table, plain lower/upper-case identifiers only: it goes into SQL as is.
bool valid_table_name(const std::string& name) {
  std::size_t parts = 0;
  std::size_t start = 0;
  while (true) {
    auto dot = name.find('.', start);
    auto part = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty() || part.size() > 63 || std::isdigit(static_cast<unsigned char>(part[0]))) return false;
    for (char c : part) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    }
    ++parts;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts <= 2;
}

struct Options {
  std::string mode;
  std::string conninfo;
  std::string table;
  std::string log;
  milliseconds interval{20};
  std::optional<std::chrono::seconds> duration;
  milliseconds attempt_timeout{2000};
  std::optional<std::int64_t> after_ms;
};

Options parse_options(int argc, char** argv) {
  Options o;
  o.mode = argv[1];
  if (o.mode != "write" && o.mode != "verify" && o.mode != "gaps") throw UsageError{"unknown mode '" + o.mode + "'"};
  std::set<std::string> seen;
  for (int i = 2; i < argc; ++i) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0) throw UsageError{"unexpected argument '" + key + "'"};
    if (i + 1 >= argc) throw UsageError{key + " needs a value"};
    std::string value = argv[++i];
    if (!seen.insert(key).second) throw UsageError{key + " given twice"};
    auto positive = [&](std::int64_t min) {
      auto n = parse_number<std::int64_t>(value);
      if (!n || *n < min) throw UsageError{key + " wants a whole number >= " + std::to_string(min) + ", not '" + value + "'"};
      return *n;
    };
    if (key == "--conninfo" && o.mode != "gaps") {
      o.conninfo = value;
    } else if (key == "--table" && o.mode != "gaps") {
      if (!valid_table_name(value)) throw UsageError{"--table wants [schema.]name of letters, digits and _"};
      o.table = value;
    } else if (key == "--log") {
      o.log = value;
    } else if (key == "--interval-ms" && o.mode == "write") {
      o.interval = milliseconds(positive(0));
    } else if (key == "--duration-s" && o.mode == "write") {
      o.duration = std::chrono::seconds(positive(1));
    } else if (key == "--attempt-timeout-ms" && o.mode == "write") {
      o.attempt_timeout = milliseconds(positive(1));
    } else if (key == "--after-ms" && o.mode == "gaps") {
      o.after_ms = positive(0);
    } else {
      throw UsageError{"unknown option " + key + " for " + o.mode};
    }
  }
  if (o.log.empty()) throw UsageError{"--log is required"};
  if (o.mode != "gaps" && o.conninfo.empty()) throw UsageError{"--conninfo is required"};
  if (o.mode != "gaps" && o.table.empty()) throw UsageError{"--table is required"};
  if (o.mode != "gaps") {
    char* error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(o.conninfo.c_str(), &error);
    if (error) PQfreemem(error);  // it quotes the conninfo, password and all
    if (!parsed) throw UsageError{"--conninfo does not parse as a libpq conninfo (not shown: it may hold a password)"};
    PQconninfoFree(parsed);
  }
  return o;
}

// Sleeps until `until` or a stop signal, in short steps.
void pause_until(Clock::time_point until) {
  while (!g_stop && Clock::now() < until) {
    std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), milliseconds(20)));
  }
}

// Errors go to stderr, each kind once in a row (an outage repeats the same one
// every interval).
class ErrorLog {
 public:
  void note(const std::string& message) {
    ++count_;
    if (message == last_) return;
    std::fprintf(stderr, "%lld %s\n", static_cast<long long>(epoch_ms()), message.c_str());
    last_ = message;
  }
  void reset() { last_.clear(); }
  std::uint64_t count() const { return count_; }

 private:
  std::string last_;
  std::uint64_t count_ = 0;
};

std::string why(const PgReply& reply, milliseconds timeout) {
  if (reply.status == PgReply::Status::timeout) {
    return "no answer within " + std::to_string(timeout.count()) + " ms (dropped, not cancelled)";
  }
  if (reply.ok() && !reply.warnings.empty()) {
    std::string out = "committed with a warning, not acknowledged:";
    for (const auto& w : reply.warnings) out += " " + w;
    return out;
  }
  return reply.error;
}

int run_write(const Options& o) {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::FILE* log = std::fopen(o.log.c_str(), "w");
  if (!log) {
    std::fprintf(stderr, "pg_write_stream: cannot write %s: %s\n", o.log.c_str(), std::strerror(errno));
    return 1;
  }
  // libpq's own bound: connect_timeout for each host of the list.
  const auto connect_timeout = hasup::db::connect_budget(o.conninfo, milliseconds(1000));
  const auto end = o.duration ? Clock::now() + *o.duration : Clock::time_point::max();
  auto running = [&] { return !g_stop && Clock::now() < end; };
  PgSession session;
  ErrorLog errors;
  auto connected = [&] {
    if (session.connected()) return true;
    auto error = session.connect(o.conninfo, "pg_write_stream", Clock::now() + connect_timeout);
    if (error.empty()) return true;
    errors.note("connect: " + error);
    return false;
  };

  // The table, and where its ids end (a rerun must not collide with old rows).
  std::uint64_t next_id = 0;
  const std::string create = "CREATE TABLE IF NOT EXISTS " + o.table +
                             " (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now()); "
                             "SELECT coalesce(max(id), 0) FROM " + o.table;
  while (running() && next_id == 0) {
    if (connected()) {
      auto reply = session.run(create, {}, Clock::now() + o.attempt_timeout);
      std::optional<std::int64_t> max_id;
      if (reply.ok() && !reply.rows.empty() && reply.rows[0].size() == 1 && reply.rows[0][0]) {
        max_id = parse_number<std::int64_t>(*reply.rows[0][0]);
      }
      if (max_id) {
        next_id = static_cast<std::uint64_t>(std::max<std::int64_t>(*max_id, 0)) + 1;
        break;
      }
      errors.note("create table: " + (reply.ok() ? std::string("no max(id)") : why(reply, o.attempt_timeout)));
      session.drop();
    }
    pause_until(Clock::now() + std::max(o.interval, milliseconds(100)));
  }

  const std::string insert = "INSERT INTO " + o.table + " (id) VALUES ($1)";
  std::uint64_t acked = 0;
  std::uint64_t unknown = 0;  // sent, outcome unknown (timeout, lost, warning)
  bool log_failed = false;
  auto next_start = Clock::now();
  while (next_id != 0 && running() && !log_failed) {
    pause_until(next_start);
    if (!running()) break;
    // Keep the pace, but after a long attempt start afresh rather than burst.
    next_start = std::max(next_start + o.interval, Clock::now());
    if (!connected()) continue;  // nothing was sent: the id stays unused
    const std::uint64_t id = next_id++;
    const std::string server = session.server();
    auto reply = session.run(insert, {std::to_string(id)}, Clock::now() + o.attempt_timeout);
    if (reply.ok() && reply.warnings.empty()) {
      ++acked;
      errors.reset();
      if (std::fprintf(log, "%llu %lld %s\n", static_cast<unsigned long long>(id),
                       static_cast<long long>(epoch_ms()), server.c_str()) < 0 ||
          std::fflush(log) != 0) {
        std::fprintf(stderr, "pg_write_stream: cannot write %s: %s\n", o.log.c_str(), std::strerror(errno));
        log_failed = true;
      }
      continue;
    }
    if (reply.status != PgReply::Status::error) ++unknown;
    errors.note("insert " + std::to_string(id) + " on " + server + ": " + why(reply, o.attempt_timeout));
    session.drop();
  }
  session.drop();
  if (std::fclose(log) != 0) log_failed = true;
  std::fprintf(stderr, "pg_write_stream: next id %llu, %llu id(s) with an unknown outcome\n",
               static_cast<unsigned long long>(next_id), static_cast<unsigned long long>(unknown));
  std::printf("acked %llu errors %llu\n", static_cast<unsigned long long>(acked),
              static_cast<unsigned long long>(errors.count()));
  std::fflush(stdout);
  return log_failed ? 1 : 0;
}

struct Ack {
  std::uint64_t id = 0;
  std::int64_t at_ms = 0;
  std::string server;
};

// The acknowledged log. A last line without its newline is a write cut short
// (the writer was killed): skipped. Any other bad line is an error.
std::optional<std::vector<Ack>> read_log(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "pg_write_stream: cannot read %s\n", path.c_str());
    return std::nullopt;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<Ack> acks;
  std::size_t line_number = 0;
  for (std::size_t start = 0; start < text.size();) {
    auto newline = text.find('\n', start);
    bool complete = newline != std::string::npos;
    std::string line = text.substr(start, complete ? newline - start : std::string::npos);
    start = complete ? newline + 1 : text.size();
    ++line_number;
    auto first = line.find(' ');
    auto second = first == std::string::npos ? first : line.find(' ', first + 1);
    std::optional<std::uint64_t> id;
    std::optional<std::int64_t> at;
    if (second != std::string::npos) {
      id = parse_number<std::uint64_t>(std::string_view(line).substr(0, first));
      at = parse_number<std::int64_t>(std::string_view(line).substr(first + 1, second - first - 1));
    }
    if (!id || !at || second + 1 >= line.size()) {
      if (!complete) {
        std::fprintf(stderr, "pg_write_stream: %s:%zu: skipped a last line cut short\n", path.c_str(), line_number);
        break;
      }
      std::fprintf(stderr, "pg_write_stream: %s:%zu: not `ID EPOCH_MS SERVER`\n", path.c_str(), line_number);
      return std::nullopt;
    }
    acks.push_back({*id, *at, line.substr(second + 1)});
  }
  return acks;
}

int run_verify(const Options& o) {
  auto acks = read_log(o.log);
  if (!acks) return 1;
  std::set<std::uint64_t> acked;
  for (const auto& a : acks.value()) acked.insert(a.id);

  // Right after a failover the database may need a moment: try to reach it for a while.
  // libpq's own bound: connect_timeout for each host of the list.
  const auto connect_timeout = hasup::db::connect_budget(o.conninfo, milliseconds(1000));
  const auto give_up = Clock::now() + std::chrono::seconds(30);
  PgSession session;
  PgReply reply;
  std::string last_error;
  while (true) {
    last_error = session.connect(o.conninfo, "pg_write_stream", Clock::now() + connect_timeout);
    if (last_error.empty()) {
      reply = session.run("SELECT id FROM " + o.table, {}, Clock::now() + std::chrono::seconds(60));
      if (reply.ok()) break;
      last_error = why(reply, std::chrono::seconds(60));
      session.drop();
      if (reply.status == PgReply::Status::error) {  // the server said no: asking again will not help
        std::fprintf(stderr, "pg_write_stream: cannot read %s: %s\n", o.table.c_str(), last_error.c_str());
        return 1;
      }
    }
    if (Clock::now() >= give_up) {
      std::fprintf(stderr, "pg_write_stream: cannot read %s: %s\n", o.table.c_str(), last_error.c_str());
      return 1;
    }
    std::this_thread::sleep_for(milliseconds(500));
  }
  std::set<std::uint64_t> present_in_table;
  for (const auto& row : reply.rows) {
    if (!row.empty() && row[0]) {
      if (auto id = parse_number<std::uint64_t>(*row[0])) present_in_table.insert(*id);
    }
  }
  std::vector<std::uint64_t> lost;
  for (auto id : acked) {
    if (!present_in_table.count(id)) lost.push_back(id);
  }
  std::printf("acked %zu present %zu lost %zu\n", acked.size(), acked.size() - lost.size(), lost.size());
  if (!lost.empty()) {
    std::printf("lost ids:");
    for (std::size_t i = 0; i < lost.size() && i < 20; ++i) std::printf(" %llu", static_cast<unsigned long long>(lost[i]));
    std::printf("%s\n", lost.size() > 20 ? " ..." : "");
  }
  return lost.empty() ? 0 : 1;
}

int run_gaps(const Options& o) {
  auto read = read_log(o.log);
  if (!read) return 1;
  const auto& acks = *read;
  if (acks.size() < 2) {
    std::fprintf(stderr, "pg_write_stream: fewer than two acknowledged writes in %s\n", o.log.c_str());
    return 1;
  }
  std::optional<std::size_t> at;  // the gap between acks[*at] and acks[*at + 1]
  for (std::size_t i = 0; i + 1 < acks.size(); ++i) {
    if (o.after_ms) {
      if (acks[i].at_ms <= *o.after_ms && *o.after_ms < acks[i + 1].at_ms) {
        at = i;
        break;
      }
    } else if (!at || acks[i + 1].at_ms - acks[i].at_ms > acks[*at + 1].at_ms - acks[*at].at_ms) {
      at = i;
    }
  }
  if (!at) {
    std::fprintf(stderr, "pg_write_stream: no gap between acknowledged writes spans %lld\n",
                 static_cast<long long>(*o.after_ms));
    return 1;
  }
  const auto& before = acks[*at];
  const auto& after = acks[*at + 1];
  std::printf("outage_ms %lld last_before %lld first_after %lld server_before %s server_after %s\n",
              static_cast<long long>(after.at_ms - before.at_ms), static_cast<long long>(before.at_ms),
              static_cast<long long>(after.at_ms), before.server.c_str(), after.server.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h" || (i == 1 && a == "help")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  Options options;
  try {
    options = parse_options(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "pg_write_stream: %s\n(see pg_write_stream --help)\n", e.message.c_str());
    return 2;
  }
  if (options.mode == "write") return run_write(options);
  if (options.mode == "verify") return run_verify(options);
  return run_gaps(options);
}

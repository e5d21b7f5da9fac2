// nginx templating benchmark (issue 7), against the nginx test bed of
// tests/testbed/nginx_stack.hpp: a real Consul, a real systemd node sharing
// this host's loopback, the ha-nginx unit and template of the repository and
// an ha-supervisor that renders nginx's config from Consul's passing
// rest-service instances and reloads nginx over D-Bus. Two HTTP backends, b1
// and b2, are the instances; a client thread sends GETs through nginx, one new
// connection each, and keeps the time and X-Backend of every answer.
//   (c) convergence: from just before the PUT /v1/agent/check/fail|pass of b2
//       to nginx serving the new upstream set (runs alternate fail and pass)
//   (s) storm: 50 flaps of b2 in 5 s; reloads against the debounce budget,
//       failed requests, and the time until nginx serves both again
// Prints numbers; asserts nothing.
// usage: bench_nginx [--runs N] [--cases cs] [--storms N] [--pause-ms N]
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/testbed/http_backend.hpp"
#include "tests/testbed/nginx_stack.hpp"
#include "tests/testbed/process.hpp"

using namespace std::chrono_literals;
using namespace hasup::testbed;
using Clock = std::chrono::steady_clock;
using Wall = std::chrono::system_clock;
using std::chrono::milliseconds;

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// One answer (or failure) seen by the client.
struct Event {
  Clock::time_point sent;
  Clock::time_point done;
  std::string backend;  // X-Backend, "" when none
  bool failed = false;
  std::string failure;
};

// RequestStream's loop (tests/testbed/request_stream.cpp), keeping every
// event with its timestamps instead of a tally: a GET per new connection,
// failed on connect error, 2 s timeout or status >= 500.
class TimedClient {
 public:
  TimedClient(int port, std::string target, milliseconds pause) : port_(port), target_(std::move(target)), pause_(pause) {
    thread_ = std::thread([this] { run(); });
  }
  ~TimedClient() { stop(); }

  void stop() {
    stopping_ = true;
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  // Events whose answer came in [from, to].
  std::vector<Event> between(Clock::time_point from, Clock::time_point to) const {
    std::lock_guard lock(mutex_);
    std::vector<Event> out;
    // Events are appended in order of `done`.
    auto first = std::lower_bound(events_.begin(), events_.end(), from,
                                  [](const Event& e, Clock::time_point t) { return e.done < t; });
    for (auto it = first; it != events_.end() && it->done <= to; ++it) out.push_back(*it);
    return out;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return events_.size();
  }

 private:
  void run() {
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_));
    bhttp::request<bhttp::empty_body> request{bhttp::verb::get, target_, 11};
    request.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port_));
    request.set(bhttp::field::user_agent, "hasup-bench-nginx");
    request.set(bhttp::field::connection, "close");
    while (!stopping_) {
      io_.restart();
      beast::tcp_stream stream(io_);
      beast::flat_buffer buffer;
      bhttp::response<bhttp::string_body> response;
      std::string failure;
      bool answered = false;
      stream.expires_after(std::chrono::seconds(2));
      auto fail = [&failure](const char* phase, beast::error_code ec) {
        failure = std::string(phase) + ": " + (ec == beast::error::timeout ? "timeout (2 s)" : ec.message());
      };
      Event e;
      e.sent = Clock::now();
      stream.async_connect(endpoint, [&](beast::error_code ec) {
        if (ec) return fail("connect", ec);
        bhttp::async_write(stream, request, [&](beast::error_code ec, std::size_t) {
          if (ec) return fail("send", ec);
          bhttp::async_read(stream, buffer, response, [&](beast::error_code ec, std::size_t) {
            if (ec) return fail("read", ec);
            answered = true;
          });
        });
      });
      io_.run();
      e.done = Clock::now();
      if (stopping_) return;
      if (answered) {
        e.backend = std::string(response["X-Backend"]);
        if (response.result_int() >= 500) failure = "status " + std::to_string(response.result_int());
        beast::error_code ignored;  // RST, not FIN: no TIME_WAIT pile-up on this side
        stream.socket().set_option(asio::socket_base::linger(true, 0), ignored);
      }
      const bool failed = !answered || !failure.empty();
      e.failed = failed;
      e.failure = failure;
      {
        std::lock_guard lock(mutex_);
        events_.push_back(std::move(e));
      }
      // A refused connect returns at once: at least 1 ms after a failure.
      auto pause = failed ? std::max(pause_, milliseconds(1)) : pause_;
      if (pause.count() > 0) std::this_thread::sleep_for(pause);
    }
  }

  const int port_;
  const std::string target_;
  const milliseconds pause_;
  std::atomic<bool> stopping_{false};
  asio::io_context io_;
  mutable std::mutex mutex_;
  std::vector<Event> events_;
  std::thread thread_;
};

struct Stats {
  std::size_t n = 0;
  double median = 0, p95 = 0, min = 0, max = 0;
};

Stats stats(std::vector<double> v) {
  Stats s;
  std::sort(v.begin(), v.end());
  s.n = v.size();
  if (v.empty()) return s;
  s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  // Nearest rank.
  s.p95 = v[static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(v.size()))) - 1];
  s.min = v.front();
  s.max = v.back();
  return s;
}

void report(const char* what, const std::vector<double>& samples, std::size_t attempted) {
  std::vector<double> ok;
  for (double s : samples)
    if (s >= 0) ok.push_back(s);
  if (ok.empty()) {
    std::printf("%-46s no successful run of %zu\n", what, attempted);
    return;
  }
  Stats s = stats(ok);
  std::printf("%-46s runs %2zu/%-2zu median %6.0f ms  p95 %6.0f ms  min %6.0f ms  max %6.0f ms\n", what, s.n,
              attempted, s.median, s.p95, s.min, s.max);
  std::fflush(stdout);
}

// The supervisor's log lines ("%Y-%m-%dT%H:%M:%S.%e level text", local time).
struct LogLine {
  Wall::time_point at;
  std::string text;
};

std::vector<LogLine> parse_log(const std::string& log) {
  std::vector<LogLine> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    std::tm tm{};
    int ms = 0;
    if (std::sscanf(line.c_str(), "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                    &tm.tm_min, &tm.tm_sec, &ms) != 7)
      continue;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_isdst = -1;
    std::time_t t = std::mktime(&tm);
    if (t == -1) continue;
    out.push_back({Wall::from_time_t(t) + milliseconds(ms), line});
  }
  return out;
}

// Milliseconds from `from` to the first line at or after it (ms precision:
// a line up to 1 ms earlier counts) containing `part`; -1 when none before `until`.
double first_line_after(const std::vector<LogLine>& lines, Wall::time_point from, Wall::time_point until,
                        const std::string& part) {
  for (const auto& l : lines) {
    if (l.at + 1ms < from || l.at > until) continue;
    if (l.text.find(part) != std::string::npos)
      return std::max(0.0, std::chrono::duration<double, std::milli>(l.at - from).count());
  }
  return -1;
}

std::size_t count_lines(const std::vector<LogLine>& lines, Wall::time_point from, Wall::time_point until,
                        const std::string& part) {
  std::size_t n = 0;
  for (const auto& l : lines)
    if (l.at + 1ms >= from && l.at <= until && l.text.find(part) != std::string::npos) ++n;
  return n;
}

struct Failures {
  std::size_t total = 0, failed = 0;
  std::vector<std::string> last;
};

Failures failures(const std::vector<Event>& events) {
  Failures f;
  for (const auto& e : events) {
    ++f.total;
    if (!e.failed) continue;
    ++f.failed;
    f.last.push_back(e.failure + (e.backend.empty() ? "" : " from " + e.backend));
    if (f.last.size() > 5) f.last.erase(f.last.begin());
  }
  return f;
}

void print_failures(const char* indent, const Failures& f) {
  for (const auto& why : f.last) std::printf("%s  e.g. %s\n", indent, why.c_str());
}

// Runs of at least this many consecutive answers without b2 mean nginx's
// config has no b2: with b2 in it, round robin sends every other request there.
constexpr int kNoB2Run = 4;

struct Bench {
  NginxStackOptions options;
  milliseconds pause{1};
  std::unique_ptr<HttpBackend> b1, b2;
  std::unique_ptr<NginxStack> stack;
  std::unique_ptr<TimedClient> client;
  Clock::time_point last_change = Clock::now();  // the last health change the supervisor converged on

  void start() {
    b1 = std::make_unique<HttpBackend>("b1");
    b2 = std::make_unique<HttpBackend>("b2");
    stack = std::make_unique<NginxStack>("nginx-bench", options);
    stack->start_consul();
    stack->register_instance("b1", "127.0.0.1", b1->port());
    stack->register_instance("b2", "127.0.0.1", b2->port());
    stack->start();
    last_change = Clock::now();
    client = std::make_unique<TimedClient>(stack->nginx_port(), "/api/bench", pause);
    if (!wait_serving(true, 10s)) throw std::runtime_error("nginx does not route to both backends:\n" + stack->logs());
  }

  // Whether the last 30 answers show b2 in nginx's config (both) or not (b1 only).
  bool serving(bool both) {
    auto now = Clock::now();
    auto events = client->between(now - 2s, now);
    if (events.size() < 30) return false;
    std::size_t from = events.size() - 30, b1n = 0, b2n = 0;
    for (std::size_t i = from; i < events.size(); ++i) {
      if (events[i].failed) continue;
      if (events[i].backend == "b1") ++b1n;
      if (events[i].backend == "b2") ++b2n;
    }
    return both ? (b1n > 0 && b2n > 0) : (b1n >= 25 && b2n == 0);
  }
  bool wait_serving(bool both, milliseconds timeout) {
    return wait_until([&] { return serving(both); }, timeout, 20ms);
  }

  // Next change no sooner than reload_interval + margin after the last
  // convergence, so the rate limit adds nothing to the figure.
  void space_from_last(milliseconds margin) {
    std::this_thread::sleep_until(last_change + milliseconds(options.reload_interval_ms) + margin);
  }
};

struct Run {
  bool fail = false;
  Clock::time_point t0;
  Wall::time_point wall0;
  double put_ms = 0;
  double converged_ms = -1;
};

// (c) one run: b2 failed (or passed) in Consul at t0; milliseconds until nginx serves the new set.
Run convergence_run(Bench& b, bool fail) {
  Run r;
  r.fail = fail;
  r.wall0 = Wall::now();
  r.t0 = Clock::now();
  b.stack->set_passing("b2", !fail);
  r.put_ms = ms_between(r.t0, Clock::now());
  const auto deadline = r.t0 + 10s;
  if (fail) {
    // Converged: the last answer from b2 after which none comes for 300 ms
    // (and b1 keeps answering: the client is not just stalled).
    while (Clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
      auto now = Clock::now();
      auto events = b.client->between(r.t0, now);
      std::optional<Clock::time_point> last_b2;
      for (const auto& e : events)
        if (e.backend == "b2") last_b2 = e.done;
      Clock::time_point quiet_from = last_b2.value_or(r.t0);
      if (now - quiet_from < 300ms) continue;
      int b1_after = 0;
      for (const auto& e : events)
        if (e.done > quiet_from && e.backend == "b1" && !e.failed) ++b1_after;
      if (b1_after < 20) continue;
      r.converged_ms = ms_between(r.t0, quiet_from);
      b.last_change = quiet_from;
      break;
    }
  } else {
    // Converged: the first answer from b2 after t0.
    while (Clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
      auto events = b.client->between(r.t0, Clock::now());
      auto it = std::find_if(events.begin(), events.end(), [](const Event& e) { return e.backend == "b2"; });
      if (it == events.end()) continue;
      r.converged_ms = ms_between(r.t0, it->done);
      b.last_change = it->done;
      break;
    }
  }
  if (r.converged_ms < 0) b.last_change = Clock::now();
  return r;
}

void convergence_case(Bench& b, int runs) {
  std::printf("\n(c) convergence: t0 just before the PUT /v1/agent/check/fail|pass of b2 (NginxStack::set_passing),\n"
              "    end when nginx serves the new upstream set: for a fail, the last answer from b2 after which\n"
              "    none comes for 300 ms; for a pass, the first answer from b2. Runs alternate fail, pass.\n"
              "    Runs are spaced by reload_interval %d ms + 500 ms after the previous convergence: the\n"
              "    rate limit adds nothing; the debounce wait_min (%d ms) is part of every figure.\n",
              b.options.reload_interval_ms, b.options.wait_min_ms);
  std::fflush(stdout);
  std::vector<Run> done;
  // Both served and b2 passing: the first run fails it.
  if (!b.wait_serving(true, 10s)) std::fprintf(stderr, "(c) b2 is not served before the first run\n");
  b.space_from_last(500ms);
  auto phase_start = Clock::now();
  auto wall_start = Wall::now();
  auto reloads_before = b.stack->reloads();
  for (int i = 0; i < runs; ++i) {
    bool fail = i % 2 == 0;
    Run r = convergence_run(b, fail);
    std::printf("    run %2d  %-4s  %6.0f ms%s\n", i + 1, fail ? "fail" : "pass", r.converged_ms,
                r.converged_ms < 0 ? " (not converged within 10 s)" : "");
    std::fflush(stdout);
    done.push_back(r);
    if (r.converged_ms < 0) {
      // Back to a known state before the next run.
      b.wait_serving(!fail, 10s);
      b.last_change = Clock::now();
    }
    b.space_from_last(500ms);
  }
  // End state: b2 passing, as at the start.
  if (runs % 2 == 1) {
    b.stack->set_passing("b2", true);
    b.wait_serving(true, 10s);
    b.last_change = Clock::now();
  }
  auto phase_end = Clock::now();
  auto wall_end = Wall::now();
  auto reloads_after = b.stack->reloads();

  std::vector<double> all, fails, passes, put;
  for (const auto& r : done) {
    all.push_back(r.converged_ms);
    (r.fail ? fails : passes).push_back(r.converged_ms);
    put.push_back(r.put_ms);
  }
  std::printf("\n");
  report("(c) health change -> nginx serves new set", all, done.size());
  report("    fail b2 -> last answer from b2", fails, fails.size());
  report("    pass b2 -> first answer from b2", passes, passes.size());
  std::printf("    (the two directions differ by ~100 ms, see the note below: the combined median can fall between\n"
              "    them; p95 is nearest-rank, with 10 runs it is the maximum)\n");
  std::printf("    reloads during these runs: %llu -> %llu = %llu for %zu runs (one each expected)\n",
              static_cast<unsigned long long>(reloads_before), static_cast<unsigned long long>(reloads_after),
              static_cast<unsigned long long>(reloads_after - reloads_before), done.size());

  // Where the time goes, from the supervisor's log (ms timestamps, wall clock).
  auto lines = parse_log(b.stack->supervisor().log());
  std::vector<double> watch, reloaded, after_reload;
  for (std::size_t i = 0; i < done.size(); ++i) {
    const Run& r = done[i];
    auto until = i + 1 < done.size() ? done[i + 1].wall0 : wall_end;
    double w = first_line_after(lines, r.wall0, until, "rest-service passing instances");
    double rl = first_line_after(lines, r.wall0, until, " reloaded (");
    if (w >= 0) watch.push_back(w);
    if (rl >= 0) reloaded.push_back(rl);
    if (rl >= 0 && r.converged_ms >= 0) after_reload.push_back(r.converged_ms - rl);
  }
  std::printf("    where the time goes (medians; supervisor log, 1 ms resolution):\n");
  std::printf("      PUT to Consul returns                     %6.1f ms\n", stats(put).median);
  std::printf("      supervisor sees the new passing set       %6.0f ms  (Consul blocking query returns)\n",
              stats(watch).median);
  std::printf("      supervisor logs \"reloaded\"                %6.0f ms  (incl. debounce wait_min %d ms, nginx -t,\n"
              "                                                           rename, D-Bus reload job = kill -HUP)\n",
              stats(reloaded).median, b.options.wait_min_ms);
  std::printf("      nginx serves it, after \"reloaded\"         %6.0f ms  (nginx master re-reads, new worker)\n",
              stats(after_reload).median);
  std::printf("      note: on a reload the nginx master starts the new worker, sleeps 100 ms, then tells the old\n"
              "      one to quit (ngx_process_cycle.c); the old worker still accepts meanwhile, so a fail figure\n"
              "      holds up to ~100 ms of that overlap, a pass figure (first answer of the new worker) none\n");
  std::printf("      of the median %.0f ms, the debounce wait_min is %d ms (%.0f%%)\n", stats(all).median,
              b.options.wait_min_ms, stats(all).median > 0 ? 100.0 * b.options.wait_min_ms / stats(all).median : 0.0);
  std::size_t limited = count_lines(lines, wall_start, wall_end, "change pending (reload interval");
  std::printf("      rate-limited by reload_interval during these runs: %zu time(s)%s\n", limited,
              limited ? " (the spacing was not enough: those figures include the limit)" : "");
  Failures f = failures(b.client->between(phase_start, phase_end));
  std::printf("    failed requests during all runs (status >= 500, connect/read errors, 2 s timeouts): %zu of %zu "
              "(%.0f requests/s)\n",
              f.failed, f.total, f.total / std::max(1e-9, ms_between(phase_start, phase_end) / 1000.0));
  print_failures("   ", f);
  std::fflush(stdout);
}

struct StormResult {
  std::uint64_t reloads_before = 0, reloads_after = 0;
  double duration_ms = 0;     // first flap to last flap
  double settle_ms = -1;      // last flap -> nginx serves both again
  double last_reload_ms = -1; // last flap -> the supervisor's last "reloaded" (can be < 0: before it)
  std::size_t logged_reloads = 0;
  Failures failed;
};

// (s) one storm: 50 flaps of b2, every 100 ms, fail first, ending passing.
StormResult storm(Bench& b, int flaps, milliseconds every) {
  StormResult s;
  b.wait_serving(true, 10s);
  b.space_from_last(500ms);
  s.reloads_before = b.stack->reloads();
  auto wall_start = Wall::now();
  auto start = Clock::now();
  Clock::time_point last_flap;
  Wall::time_point wall_last;
  for (int k = 0; k < flaps; ++k) {
    std::this_thread::sleep_until(start + k * every);
    last_flap = Clock::now();
    wall_last = Wall::now();
    b.stack->set_passing("b2", k % 2 == 1 || k == flaps - 1);
  }
  s.duration_ms = ms_between(start, last_flap);
  // Settled for sure: a pending change waits at most wait_max, then at most reload_interval.
  auto window = milliseconds(b.options.wait_max_ms + b.options.reload_interval_ms + 1500);
  std::this_thread::sleep_until(last_flap + window);
  auto end = Clock::now();
  auto events = b.client->between(start, end);
  s.failed = failures(events);
  // Settle: the first answer from b2 after the last run of kNoB2Run answers without b2
  // (nginx's config had no b2 then); 0 when b2 was already served throughout after the last flap.
  std::optional<std::size_t> after_gap;
  int without = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].failed) continue;
    if (events[i].backend == "b2") {
      if (without >= kNoB2Run) after_gap = i;
      without = 0;
    } else {
      ++without;
    }
  }
  bool b2_at_end = without < kNoB2Run;
  if (b2_at_end) {
    if (after_gap && events[*after_gap].done > last_flap)
      s.settle_ms = ms_between(last_flap, events[*after_gap].done);
    else
      s.settle_ms = 0;
  }
  b.last_change = Clock::now();
  s.reloads_after = b.stack->reloads();
  auto lines = parse_log(b.stack->supervisor().log());
  auto wall_end = Wall::now();
  s.logged_reloads = count_lines(lines, wall_start, wall_end, " reloaded (");
  for (const auto& l : lines)
    if (l.at + 1ms >= wall_start && l.at <= wall_end && l.text.find(" reloaded (") != std::string::npos)
      s.last_reload_ms = std::chrono::duration<double, std::milli>(l.at - wall_last).count();
  return s;
}

void storm_case(Bench& b, int storms) {
  const int flaps = 50;
  const milliseconds every = 100ms;
  const double storm_ms = flaps * every.count();
  const double budget = 1 + std::floor(storm_ms / b.options.reload_interval_ms);
  std::printf("\n(s) storm: %d health flaps of b2 in %.0f s (fail/pass alternating every %lld ms, ending passing),\n"
              "    %d storm(s), each started reload_interval + 500 ms after the last change. Reloads are the\n"
              "    supervisor's status counter `reloads` before the storm and once it settled (%d ms after the last\n"
              "    flap); budget 1 + storm/reload_interval = 1 + %.0f/%d = %.0f. Settle: from the last flap until\n"
              "    nginx serves both backends again (0: it did already).\n",
              flaps, storm_ms / 1000, static_cast<long long>(every.count()), storms,
              b.options.wait_max_ms + b.options.reload_interval_ms + 1500, storm_ms, b.options.reload_interval_ms,
              budget);
  std::fflush(stdout);
  std::vector<double> reloads, settle;
  std::size_t failed = 0, total = 0;
  for (int i = 0; i < storms; ++i) {
    StormResult s = storm(b, flaps, every);
    auto n = s.reloads_after - s.reloads_before;
    reloads.push_back(static_cast<double>(n));
    settle.push_back(s.settle_ms);
    failed += s.failed.failed;
    total += s.failed.total;
    std::printf("    storm %d: %.0f ms first to last flap; reloads %llu -> %llu = %llu (budget %.0f, log: %zu)%s;\n"
                "             failed requests %zu of %zu; settle %s; last reload %+.0f ms from the last flap\n",
                i + 1, s.duration_ms, static_cast<unsigned long long>(s.reloads_before),
                static_cast<unsigned long long>(s.reloads_after), static_cast<unsigned long long>(n), budget,
                s.logged_reloads, n > budget ? " OVER BUDGET" : "", s.failed.failed, s.failed.total,
                s.settle_ms < 0 ? "b2 not served at the end" : (std::to_string(std::lround(s.settle_ms)) + " ms").c_str(),
                s.last_reload_ms);
    print_failures("            ", s.failed);
    std::fflush(stdout);
  }
  std::printf("\n");
  Stats r = stats(reloads);
  std::printf("%-46s storms %zu  median %4.1f  p95 %4.0f  min %4.0f  max %4.0f   (budget %.0f)\n",
              "(s) reloads per 50-flap storm", r.n, r.median, r.p95, r.min, r.max, budget);
  report("(s) last flap -> nginx serves both again", settle, settle.size());
  std::printf("    failed requests during the storms: %zu of %zu\n", failed, total);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 20;
  int storms = 3;
  int pause_ms = 1;
  std::string cases = "cs";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--runs") == 0) runs = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--cases") == 0) cases = argv[i + 1];
    else if (std::strcmp(argv[i], "--storms") == 0) storms = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--pause-ms") == 0) pause_ms = std::atoi(argv[i + 1]);
    else {
      std::cerr << "usage: bench_nginx [--runs N] [--cases cs] [--storms N] [--pause-ms N]\n";
      return 2;
    }
  }
  auto want = [&cases](char c) { return cases.find(c) != std::string::npos; };
  if (auto why = NginxStack::unavailable_reason(); !why.empty()) {
    std::cerr << "cannot run the nginx stack here: " << why << "\n";
    return 1;
  }
  Bench b;
  b.pause = milliseconds(pause_ms);
  std::printf("nginx templating through Consul: Consul 1.8.7 (1 server), systemd node on the host's loopback, the\n"
              "ha-nginx unit and template, nginx reloaded over D-Bus by ha-supervisor; 2 backends b1, b2 (TTL checks\n"
              "driven by this program). Client: 1 thread, GET /api/bench through nginx, new connection each, %d ms pause.\n",
              pause_ms);
  std::printf("settings: supervisor nginx wait_min %d ms, wait_max %d ms, reload_interval %d ms (defaults)\n",
              b.options.wait_min_ms, b.options.wait_max_ms, b.options.reload_interval_ms);
  std::fflush(stdout);
  try {
    b.start();
    if (want('c')) convergence_case(b, runs);
    if (want('s')) storm_case(b, storms);
  } catch (const std::exception& e) {
    std::cerr << "bench_nginx: " << e.what() << "\n";
    if (b.stack) std::cerr << b.stack->logs() << "\n";
    if (b.client) b.client->stop();
    return 1;
  }
  b.client->stop();
  return 0;
}

// Leadership handover benchmark, against a real 3-server Consul 1.8.7 on
// loopback and three ha-supervisor processes. Prints numbers; asserts nothing.
//   (a) SIGTERM of the leader        -> another node answers /leader 200
//   (b) SIGKILL of the leader, not restarted -> idem (its session TTL must
//       expire: a supervisor dead for good; systemd restarts a killed one,
//       which adopts its session and stays leader)
//   (c) the leader's Consul agent killed -> idem (serf must declare it failed)
//   (d) Consul's Raft leader killed (not the supervisor leader): how long the
//       surviving supervisors report no quorum (what quorum_loss_timeout must cover)
// Then the supervisor's RSS and idle CPU.
// usage: bench_handover [--runs N] [--cases abcd]
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <thread>
#include <vector>

#include "supervisor/config/config.hpp"
#include "tests/testbed/consul_cluster.hpp"
#include "tests/testbed/supervisor_process.hpp"

using namespace std::chrono_literals;
using namespace hasup::testbed;
using Clock = std::chrono::steady_clock;

namespace {

struct Bench {
  std::unique_ptr<ConsulCluster> consul;
  std::vector<std::unique_ptr<SupervisorProcess>> sups;

  void start() {
    consul = std::make_unique<ConsulCluster>(3, "bench");
    consul->start();
    for (int i = 0; i < 3; ++i) {
      SupervisorOptions o;
      o.name = "n" + std::to_string(i + 1);
      o.consul_http = consul->agent(i).http;
      o.extra_config = "";
      sups.push_back(std::make_unique<SupervisorProcess>(o, consul->dir()));
      sups.back()->start();
    }
    if (!settled(30s)) throw std::runtime_error("cluster did not settle");
  }

  int leader() {
    int found = -1;
    for (int i = 0; i < 3; ++i) {
      if (!sups[i]->running()) continue;
      if (sups[i]->is_leader()) {
        if (found >= 0) return -2;
        found = i;
      }
    }
    return found;
  }

  // One leader, every supervisor healthy and listing three members.
  bool settled(std::chrono::milliseconds timeout) {
    return wait_until([&] {
      if (leader() < 0) return false;
      for (auto& s : sups) {
        auto doc = s->cluster();
        if (!doc || live_members(*doc) != 3 || !s->is_healthy()) return false;
      }
      return true;
    }, timeout, 100ms);
  }

  // Milliseconds from t0 until a node other than `old` answers /leader 200.
  double wait_new_leader(int old, Clock::time_point t0, std::chrono::seconds timeout) {
    while (Clock::now() - t0 < timeout) {
      for (int i = 0; i < 3; ++i)
        if (i != old && sups[i]->is_leader())
          return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }
};

int raft_leader_agent(ConsulCluster& c) {
  std::string leader = c.raft_leader(0);
  for (int i = 0; i < c.size(); ++i)
    if (leader == "127.0.0.1:" + std::to_string(c.agent(i).server)) return i;
  return -1;
}

void report(const char* what, std::vector<double> samples) {
  std::vector<double> ok;
  for (double s : samples)
    if (s >= 0) ok.push_back(s);
  std::sort(ok.begin(), ok.end());
  if (ok.empty()) {
    std::printf("%-44s no successful run\n", what);
    return;
  }
  double median = ok.size() % 2 ? ok[ok.size() / 2] : (ok[ok.size() / 2 - 1] + ok[ok.size() / 2]) / 2;
  std::printf("%-44s runs %zu/%zu  median %7.0f ms  max %7.0f ms  min %7.0f ms\n", what, ok.size(), samples.size(),
              median, ok.back(), ok.front());
  std::fflush(stdout);
}

long rss_kb(pid_t pid) {
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

double cpu_seconds(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  std::istringstream in(stat.substr(close + 2));
  std::vector<std::string> fields;
  std::string f;
  while (in >> f) fields.push_back(f);
  // After "pid (comm) ": field 3 is index 0; utime is field 14, stime 15.
  double ticks = std::stod(fields[11]) + std::stod(fields[12]);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 10;
  std::string cases = "abcd";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--runs") == 0) runs = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--cases") == 0) cases = argv[i + 1];
  }
  auto want = [&cases](char c) { return cases.find(c) != std::string::npos; };
  if (!ConsulCluster::available()) {
    std::cerr << "consul missing at " << ConsulCluster::binary() << ": run scripts/setup\n";
    return 1;
  }
  const hasup::config::Config defaults;
  const auto& c = defaults.consul;
  std::printf("settings: supervisor defaults: lock_delay %d ms, check_ttl %d ms, quorum_loss_timeout %d ms,\n"
              "          probe_interval %d ms, session ttl %d s; Consul 1.8.7 configured by\n"
              "          components/consul/consul-config (raft_multiplier 1, its gossip timings), 3 servers on loopback\n",
              c.lock_delay_ms, c.check_ttl_ms, c.quorum_loss_timeout_ms, c.probe_interval_ms, c.session_ttl_s);
  Bench b;
  b.start();

  std::vector<double> sigterm, sigkill, agent_killed, no_quorum;
  for (int r = 0; r < runs && want('a'); ++r) {
    int old = b.leader();
    auto t0 = Clock::now();
    b.sups[old]->signal(SIGTERM);
    sigterm.push_back(b.wait_new_leader(old, t0, 30s));
    b.sups[old]->wait_exit(10s);
    b.sups[old]->start();
    b.settled(30s);
  }
  if (want('a')) report("(a) SIGTERM of the leader -> new leader", sigterm);

  for (int r = 0; r < runs && want('b'); ++r) {
    int old = b.leader();
    auto t0 = Clock::now();
    b.sups[old]->kill();
    sigkill.push_back(b.wait_new_leader(old, t0, 60s));
    // Wait for the dead session to be gone before restarting, so it is not adopted.
    wait_until([&] { auto d = b.sups[(old + 1) % 3]->cluster(); return d && live_members(*d) == 2; }, 60s);
    b.sups[old]->start();
    b.settled(30s);
  }
  if (want('b')) report("(b) SIGKILL of the leader, not restarted -> new leader", sigkill);

  for (int r = 0; r < runs && want('c'); ++r) {
    int old = b.leader();
    auto t0 = Clock::now();
    b.consul->kill_agent(old);
    agent_killed.push_back(b.wait_new_leader(old, t0, 60s));
    b.consul->start_agent(old);
    if (!b.settled(60s)) std::fprintf(stderr, "run %d: cluster did not settle after restarting the agent\n", r);
  }
  if (want('c')) report("(c) leader's Consul agent killed -> new leader", agent_killed);

  for (int r = 0; r < runs && want('d'); ++r) {
    // Kill Consul's Raft leader (it is usually the supervisor leader's own
    // agent: that node wins lock races) and watch a surviving node.
    int raft = raft_leader_agent(*b.consul);
    if (raft < 0) {
      no_quorum.push_back(-1);
      continue;
    }
    int observer = (raft + 1) % 3;
    auto t0 = Clock::now();
    b.consul->kill_agent(raft);
    double worst = 0;
    while (Clock::now() - t0 < 20s) {
      auto doc = b.sups[observer]->cluster();
      if (doc) {
        bool reachable = (*doc)["self"]["quorum"]["reachable"].get<bool>();
        double since = (*doc)["self"]["quorum"]["since_contact_ms"].get<double>();
        worst = std::max(worst, since);
        if (reachable && since < 600 && Clock::now() - t0 > 6s) break;
      }
      std::this_thread::sleep_for(20ms);
    }
    no_quorum.push_back(worst);
    b.consul->start_agent(raft);
    b.settled(60s);
  }
  if (want('d')) {
    report("(d) Consul Raft leader killed: longest time", no_quorum);
    std::printf("    without a confirmed quorum seen by a surviving node (quorum_loss_timeout must exceed this)\n");
  }

  std::this_thread::sleep_for(5s);
  pid_t pid = b.sups[0]->pid();
  double cpu0 = cpu_seconds(pid);
  auto t0 = Clock::now();
  std::this_thread::sleep_for(20s);
  double cpu1 = cpu_seconds(pid);
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("supervisor idle: RSS %ld kB, CPU %.2f%% of one core over %.0f s\n", rss_kb(pid),
              100.0 * (cpu1 - cpu0) / wall, wall);
  return 0;
}

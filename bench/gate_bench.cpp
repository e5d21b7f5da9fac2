// gate_bench: what ha-upload-gate costs. Three real syncthing instances on
// loopback, the upstream test double writing into node 1's folder, the gate in
// front of it. Prints:
//  (a) a gated upload's latency against the same upload straight to the
//      upstream (which then is not replicated), p50/p99, for 1 KB, 1 MB, 100 MB;
//  (b) passthrough GET throughput and latency through the gate against straight
//      and against nginx as a reference proxy, with wrk;
//  (c) the gate's peak RSS (VmHWM) over 100 concurrent 1 MB uploads.
// Usage: gate_bench [--quick | --passthrough]   (--quick: fewer runs; --passthrough: (b) only)
// GATE_THREADS=N in the environment sets the gate's `threads` (default 2), to
// compare event-loop counts.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <regex>
#include <thread>

#include "tests/integration/upload_gate_harness.hpp"

using namespace hasup::testbed;
using namespace hasup::testbed::gate;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto index = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(index, v.size() - 1)];
}

// One upload, body streamed from a 1 MiB block; milliseconds, or -1 on a non-201.
double timed_upload(unsigned short port, const std::string& name, std::uint64_t size, const std::string& block) {
  auto start = Clock::now();
  auto r = exchange(port, "PUT", "/files/" + name, size, [&](std::uint64_t offset) {
    return block.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), size - offset)));
  });
  double ms = ms_since(start);
  if (r.status != 201) {
    std::fprintf(stderr, "upload %s: status %d %s %s\n", name.c_str(), r.status, r.body.c_str(), r.error.c_str());
    return -1;
  }
  return ms;
}

// gap: pause between runs. syncthing 1.19's index sender sleeps 250 ms after
// each index it sends (lib/model/indexhandler.go), so a peer's confirmation of
// an upload that follows the previous one within 250 ms waits for that sleep.
void latency(unsigned short gate, unsigned short straight, const char* label, std::uint64_t size, int runs,
             std::chrono::milliseconds gap = std::chrono::milliseconds(0)) {
  std::string block = payload(label, static_cast<std::size_t>(std::min<std::uint64_t>(size, 1 << 20)));
  std::vector<double> gated, direct;
  int failed = 0;
  for (int i = 0; i < runs; ++i) {
    // Alternate so both see the same machine load.
    double d = timed_upload(straight, std::string("bench/direct-") + label + "-" + std::to_string(i), size, block);
    double g = timed_upload(gate, std::string("bench/gated-") + label + "-" + std::to_string(i), size, block);
    std::this_thread::sleep_for(gap);
    if (d < 0 || g < 0) {
      ++failed;
      continue;
    }
    direct.push_back(d);
    gated.push_back(g);
  }
  std::printf("%-7s gap %3lld ms runs %3d  straight p50 %8.1f p99 %8.1f ms | gated p50 %8.1f p99 %8.1f ms | added p50 %7.1f p99 %7.1f ms%s\n",
              label, static_cast<long long>(gap.count()), runs, percentile(direct, 50), percentile(direct, 99), percentile(gated, 50), percentile(gated, 99),
              percentile(gated, 50) - percentile(direct, 50), percentile(gated, 99) - percentile(direct, 99),
              failed ? (" (" + std::to_string(failed) + " failed)").c_str() : "");
}

struct WrkResult {
  double requests_per_second = 0;
  double mean_latency_us = 0;
};

double to_microseconds(double value, const std::string& unit) {
  if (unit == "ms") return value * 1000;
  if (unit == "s") return value * 1000000;
  return value;  // "us"
}

WrkResult wrk(unsigned short port, const std::string& path, int connections) {
  std::string log = "/tmp/gate-bench-wrk-" + std::to_string(port) + ".txt";
  std::remove(log.c_str());
  auto p = Process::spawn({"/usr/bin/wrk", connections > 1 ? "-t2" : "-t1", "-c" + std::to_string(connections), "-d10s",
                           "http://127.0.0.1:" + std::to_string(port) + path},
                          log);
  p.wait(std::chrono::seconds(60));
  std::smatch m;
  std::string out = read_file(log);
  WrkResult result;
  if (std::regex_search(out, m, std::regex("Requests/sec:\\s+([0-9.]+)"))) result.requests_per_second = std::stod(m[1]);
  if (std::regex_search(out, m, std::regex("Latency\\s+([0-9.]+)(us|ms|s)")))
    result.mean_latency_us = to_microseconds(std::stod(m[1]), m[2]);
  if (result.requests_per_second == 0) std::fprintf(stderr, "wrk said: %s\n", out.c_str());
  return result;
}

// nginx 1.22 as a reverse proxy to the same upstream (upstream keepalive, one
// worker per core, access log off): what a well-known proxy costs on this
// machine, so the gate's figure has a scale.
class ReferenceNginx {
 public:
  ReferenceNginx(const std::string& dir, unsigned short upstream_port) : port_(free_port()) {
    std::string conf = dir + "/reference-nginx.conf";
    write_file(conf, "daemon off;\nworker_processes auto;\npid " + dir + "/reference-nginx.pid;\nerror_log " + dir +
                         "/reference-nginx.log warn;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n"
                         "  upstream up { server 127.0.0.1:" + std::to_string(upstream_port) +
                         "; keepalive 64; }\n  server {\n    listen 127.0.0.1:" + std::to_string(port_) +
                         ";\n    location / { proxy_pass http://up; proxy_http_version 1.1; "
                         "proxy_set_header Connection \"\"; proxy_buffering off; }\n  }\n}\n");
    process_ = Process::spawn({"/usr/sbin/nginx", "-e", dir + "/reference-nginx.log", "-c", conf}, dir + "/reference-nginx.out");
    if (!wait_until([&] { return send(port_, "GET", "/ping").status == 200; }, std::chrono::seconds(10)))
      throw std::runtime_error("reference nginx did not start: " + read_file(dir + "/reference-nginx.out") +
                               read_file(dir + "/reference-nginx.log"));
  }
  unsigned short port() const { return port_; }

 private:
  unsigned short port_;
  Process process_;
};

void passthrough(unsigned short gate, unsigned short straight, unsigned short nginx, const std::string& path) {
  auto s = wrk(straight, path, 32), g = wrk(gate, path, 32), n = wrk(nginx, path, 32);
  std::printf("GET %-22s -c32 req/s: straight %7.0f | gate %7.0f (%5.1f%%) | nginx %7.0f (%5.1f%%)\n", path.c_str(),
              s.requests_per_second, g.requests_per_second,
              s.requests_per_second > 0 ? 100.0 * g.requests_per_second / s.requests_per_second : 0.0,
              n.requests_per_second,
              s.requests_per_second > 0 ? 100.0 * n.requests_per_second / s.requests_per_second : 0.0);
  auto s1 = wrk(straight, path, 1), g1 = wrk(gate, path, 1), n1 = wrk(nginx, path, 1);
  std::printf("GET %-22s -c1 mean latency: straight %6.0f us | gate %6.0f us (+%4.0f) | nginx %6.0f us (+%4.0f)\n",
              path.c_str(), s1.mean_latency_us, g1.mean_latency_us, g1.mean_latency_us - s1.mean_latency_us,
              n1.mean_latency_us, n1.mean_latency_us - s1.mean_latency_us);
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (!mode.empty() && mode != "--quick" && mode != "--passthrough") {
    std::fprintf(stderr, "usage: gate_bench [--quick | --passthrough]\n");
    return 2;
  }
  bool quick = mode == "--quick";
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each result line as soon as it is known
  SyncthingCluster cluster(SyncthingOptions{3, "resources", false, "gate-bench"});
  cluster.start();
  auto key = cluster.write_api_key_file(0, cluster.dir() + "/n1-api-key");
  UpstreamDouble upstream(cluster.node(0).folder);
  GateSettings settings;
  settings.log_level = "info";
  if (const char* threads = std::getenv("GATE_THREADS")) settings.threads = std::atoi(threads);
  GateProcess gate(cluster.dir(), cluster.node(0).folder, cluster.folder_id(), cluster.node(0).api_port, key,
                   upstream.port(), settings);
  std::printf("gate_bench: 3 syncthing 1.19.2 on 127.0.0.1, upstream test double, gate threads=2, %u cores\n",
              std::thread::hardware_concurrency());

  if (mode != "--passthrough") {
    std::printf("\n(a) upload latency, gated (held until on n2 and n3) vs straight to the upstream\n");
    latency(gate.port(), upstream.port(), "1KB", 1000, quick ? 50 : 200);
    latency(gate.port(), upstream.port(), "1MB", 1 << 20, quick ? 20 : 100);
    const std::chrono::milliseconds spaced(400);
    latency(gate.port(), upstream.port(), "1KB", 1000, quick ? 30 : 100, spaced);
    latency(gate.port(), upstream.port(), "1MB", 1 << 20, quick ? 20 : 50, spaced);
    latency(gate.port(), upstream.port(), "100MB", 100ull << 20, quick ? 2 : 5);
  }

  std::printf("\n(b) passthrough GET (wrk -d10s): throughput with 32 connections (-t2), mean latency with one (-t1)\n");
  ReferenceNginx nginx(cluster.dir(), upstream.port());
  auto block = payload("get-target", 16 * 1024);
  send(gate.port(), "PUT", "/files/bench/get16k.bin", block);
  for (const std::string path : {"/ping", "/files/bench/get16k.bin"}) passthrough(gate.port(), upstream.port(), nginx.port(), path);
  if (mode == "--passthrough") return 0;

  std::printf("\n(c) gate RSS over 100 concurrent 1 MB uploads\n");
  auto before = vm_hwm_kib(gate.process().pid());
  std::string mb = payload("concurrent", 1 << 20);
  std::atomic<int> ok{0};
  auto start = Clock::now();
  std::vector<std::thread> uploads;
  for (int i = 0; i < 100; ++i) {
    uploads.emplace_back([&, i] {
      if (send(gate.port(), "PUT", "/files/bench/concurrent-" + std::to_string(i) + ".bin", mb).status == 201) ++ok;
    });
  }
  for (auto& t : uploads) t.join();
  std::printf("100 concurrent 1 MB uploads: %d acknowledged in %.0f ms; gate VmHWM %llu KiB before, %llu KiB after\n",
              ok.load(), ms_since(start), static_cast<unsigned long long>(before),
              static_cast<unsigned long long>(vm_hwm_kib(gate.process().pid())));
  return 0;
}

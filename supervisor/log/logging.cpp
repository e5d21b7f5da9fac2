#include "supervisor/log/logging.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cstdio>
#include <mutex>
#include <vector>

namespace hasup::log {

namespace {

std::mutex secrets_mutex;
std::vector<std::string> secrets;

class RedactingSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::string line = redact(fmt::to_string(formatted));
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

}  // namespace

void init(const std::string& level) {
  auto logger = std::make_shared<spdlog::logger>("ha-supervisor", std::make_shared<RedactingSink>());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  set_level(level);
  spdlog::flush_on(spdlog::level::info);
}

bool set_level(const std::string& level) {
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") return false;
  spdlog::set_level(parsed);
  return true;
}

void add_secret(const std::string& secret) {
  if (secret.empty()) return;
  std::lock_guard lock(secrets_mutex);
  secrets.push_back(secret);
}

void clear_secrets() {
  std::lock_guard lock(secrets_mutex);
  secrets.clear();
}

// One left-to-right pass, longest secret first at each position: a secret that
// contains another is hidden whole, and "[redacted]" itself is never searched
// again (a secret like "act" would otherwise be replaced forever).
std::string redact(const std::string& text) {
  std::lock_guard lock(secrets_mutex);
  if (secrets.empty()) return text;
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t longest = 0;
    for (const auto& secret : secrets)
      if (secret.size() > longest && text.compare(i, secret.size(), secret) == 0) longest = secret.size();
    if (longest > 0) {
      out += "[redacted]";
      i += longest;
    } else {
      out += text[i++];
    }
  }
  return out;
}

}  // namespace hasup::log

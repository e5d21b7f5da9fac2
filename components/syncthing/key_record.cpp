#include "components/syncthing/key_record.hpp"

#include <sys/random.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <vector>

#include "supervisor/util/files.hpp"
#include "supervisor/util/json_fields.hpp"
#include "supervisor/util/json_text.hpp"
#include "supervisor/util/printable.hpp"
#include "supervisor/util/number_from.hpp"

namespace hasup::syncthing {

using nlohmann::json;

namespace {

constexpr int kSchema = 1;
constexpr std::size_t kKeyLength = 32;
constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

}  // namespace

std::string encode(const KeyRotationRecord& r) {
  return json_text(json{{"schema", kSchema}, {"generation", r.generation}, {"by", r.by}, {"at", r.at}});
}

KeyRotationDecode decode_key_rotation(const std::string& text) {
  std::string error;
  auto o = parse_object(text, error);
  if (!o || !schema_ok(*o, kSchema, error)) return {std::nullopt, error};
  KeyRotationRecord r;
  auto generation = o->find("generation");
  if (generation == o->end() || !generation->is_number_unsigned() || generation->get<std::uint64_t>() == 0)
    return {std::nullopt, "generation is missing or not a whole number from 1"};
  r.generation = generation->get<std::uint64_t>();
  if (!get_string(*o, "by", r.by, error) || !get_string(*o, "at", r.at, error)) return {std::nullopt, error};
  if (r.by.empty() || !printable_ascii(r.by, 128)) return {std::nullopt, "by is not 1-128 printable characters"};
  if (r.at.empty() || !printable_ascii(r.at, 128)) return {std::nullopt, "at is not 1-128 printable characters"};
  return {r, {}};
}

// Bytes at or above the largest multiple of the alphabet's size are drawn
// again, so every character is equally likely.
std::string new_api_key() {
  const unsigned limit = 256 - 256 % kAlphabet.size();
  std::string key;
  unsigned char bytes[64];
  while (key.size() < kKeyLength) {
    ssize_t n = ::getrandom(bytes, sizeof bytes, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return {};
    for (ssize_t i = 0; i < n && key.size() < kKeyLength; ++i)
      if (bytes[i] < limit) key += kAlphabet[bytes[i] % kAlphabet.size()];
  }
  return key;
}

bool usable_api_key(const std::string& key) {
  if (key.size() < 20 || key.size() > 128) return false;
  return key.find_first_not_of(kAlphabet) == std::string::npos;
}

std::string read_api_key_file(const std::string& path) {
  std::string text = read_small_file(path).value_or("");
  text = text.substr(0, text.find('\n'));
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) text.pop_back();
  return text;
}

std::string encode(const PendingKey& p) {
  return p.key + "\n" + std::to_string(p.generation) + "\n" + p.previous + "\n";
}

std::optional<PendingKey> decode_pending_key(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t at = 0;
  while (at < text.size()) {
    auto end = text.find('\n', at);
    if (end == std::string::npos) return std::nullopt;  // cut short: not a whole journal
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  if (lines.size() != 3) return std::nullopt;
  PendingKey p;
  p.key = lines[0];
  p.previous = lines[2];
  auto generation = number_from<std::uint64_t>(lines[1]);
  if (!generation || *generation == 0 || !usable_api_key(p.key) || !usable_api_key(p.previous) || p.key == p.previous)
    return std::nullopt;
  p.generation = *generation;
  return p;
}

}  // namespace hasup::syncthing

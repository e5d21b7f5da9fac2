#include "supervisor/util/base64.hpp"

#include <boost/beast/core/detail/base64.hpp>

namespace hasup {

std::string base64_encode(const std::string& bytes) {
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::encoded_size(bytes.size()), '\0');
  out.resize(b64::encode(out.data(), bytes.data(), bytes.size()));
  return out;
}

Result<std::string, Base64Error> base64_decode(const std::string& text) {
  namespace b64 = boost::beast::detail::base64;
  for (char c : text) {
    bool valid = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                 c == '/' || c == '=';
    if (!valid) return Base64Error{"not base64"};
  }
  if (text.size() % 4 != 0) return Base64Error{"not base64 (length)"};
  // Padding only at the very end: Beast's decoder stops at the first '=' and
  // would hand back a silently truncated value.
  auto pad = text.find('=');
  if (pad != std::string::npos && (text.size() - pad > 2 || text.find_first_not_of('=', pad) != std::string::npos))
    return Base64Error{"not base64 (padding)"};
  std::string out(b64::decoded_size(text.size()), '\0');
  auto [written, read] = b64::decode(out.data(), text.data(), text.size());
  out.resize(written);
  return out;
}

}  // namespace hasup

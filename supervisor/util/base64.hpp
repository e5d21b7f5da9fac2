#pragma once
// Base64 with the standard alphabet and '=' padding (RFC 4648 section 4): how
// Consul carries KV values, and how the secrets file and the store carry key
// bytes (util/store_key.hpp). Strict: a text that is not exactly that is an
// error, never a partly decoded value.
#include <string>

#include "supervisor/util/result.hpp"

namespace hasup {

std::string base64_encode(const std::string& bytes);

// Why a text is not base64: "not base64", "not base64 (length)", "not base64
// (padding)". Never quotes the text (it may be a secret).
struct Base64Error {
  std::string message;
};
Result<std::string, Base64Error> base64_decode(const std::string& text);

}  // namespace hasup

#pragma once
// Incremental SHA-256 (OpenSSL EVP), so an upload is hashed while it streams.
#include <cstddef>
#include <string>

struct evp_md_ctx_st;

namespace hasup::rest_standin {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t size);
  std::string hex();  // finishes; call once

 private:
  evp_md_ctx_st* context_;
};

}  // namespace hasup::rest_standin

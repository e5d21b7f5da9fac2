#pragma once
// What every HTTP server here (the status API, the upload gate, the REST
// stand-in) shares when it reads a request: the cap on what it holds of the
// request that the parser has not consumed yet, and how a malformed request
// is told from a dropped connection.
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <cstddef>
#include <string>

namespace hasup::http {

// The read buffer's size limit (beast::flat_buffer's max_size). Beast buffers
// a chunk's size line, with its extensions, and the trailer whole, and sets
// no limit of its own on either: one request sent the gate 200 MB of chunk
// extension and it read all of it. Capped here, such a request fails with
// buffer_overflow (answered 400, kReadBufferOverflowReason). Above every
// server's header limit (8-16 KB), so a header meets its own limit first.
inline constexpr std::size_t kReadBufferLimit = 64 * 1024;
inline const std::string kReadBufferOverflowReason =
    "a chunk's size line (with its extensions) or the trailer is over " + std::to_string(kReadBufferLimit) + " bytes";

// Beast's HTTP errors (a malformed message) as opposed to the socket's.
inline bool is_http_error(const boost::beast::error_code& ec) {
  namespace bhttp = boost::beast::http;
  return ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category();
}

}  // namespace hasup::http

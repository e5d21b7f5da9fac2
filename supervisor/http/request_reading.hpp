#pragma once
// What every HTTP server here (the status API, the upload gate, the REST
// stand-in) shares when it reads a request: the parser's limits, the cap on
// what it holds of the request that the parser has not consumed yet, and how
// a malformed request is told from a dropped connection. tests/fuzz/http_request.cpp
// reads requests through the same limits.
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
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

// A fresh parser's limits. body_limit: nullopt for a server that streams the
// body and checks its size itself once the route is known (the gate relays
// any size; the stand-in answers 413 for uploads only).
template <bool isRequest, class Body>
void set_parser_limits(boost::beast::http::parser<isRequest, Body>& parser, std::uint32_t header_limit,
                       std::optional<std::uint64_t> body_limit) {
  parser.header_limit(header_limit);
  // Not boost::none for "no limit": Beast 1.74 compares a length with an empty limit as "over".
  parser.body_limit(body_limit.value_or(std::numeric_limits<std::uint64_t>::max()));
}

// Beast's HTTP errors (a malformed message) as opposed to the socket's.
inline bool is_http_error(const boost::beast::error_code& ec) {
  namespace bhttp = boost::beast::http;
  return ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category();
}

}  // namespace hasup::http

// HTTP requests as the three servers read them: the status API
// (supervisor/http/server.cpp), the upload gate (components/upload-gate) and
// the REST stand-in (components/rest-service). Each reads through Beast's
// parser with its own limits, set by the one function they share
// (supervisor/http/request_reading.hpp), from the same defaults, and into a
// buffer of the same cap; then the pure handling that follows the read: the
// query string, the gate's write rules, the stand-in's routes.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <vector>

#include "components/rest-service/routes.hpp"
#include "components/rest-service/session.hpp"
#include "components/upload-gate/config.hpp"
#include "components/upload-gate/write_rules.hpp"
#include "supervisor/http/request_reading.hpp"
#include "supervisor/http/server.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace hasup;
using fuzz::must_hold;

// The input as a socket hands it over, in reads of at most `read_size` bytes:
// a request arrives split anywhere, a byte at a time at worst. Then EOF.
class InputStream {
 public:
  InputStream(std::string_view bytes, std::size_t read_size) : bytes_(bytes), read_size_(read_size) {}

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, beast::error_code& ec) {
    if (bytes_.empty()) {
      ec = asio::error::eof;
      return 0;
    }
    ec = {};
    auto n = asio::buffer_copy(buffers, asio::buffer(bytes_.data(), std::min(bytes_.size(), read_size_)));
    bytes_.remove_prefix(n);
    return n;
  }
  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers) {
    beast::error_code ec;
    auto n = read_some(buffers, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }

 private:
  std::string_view bytes_;
  std::size_t read_size_;
};

// A body read into a fixed chunk, emptied each time, as the gate relays it and
// the stand-in writes an upload to disk.
template <class Parser>
void read_body_in_chunks(InputStream& in, beast::flat_buffer& buffer, Parser& parser, std::size_t chunk_size) {
  std::vector<char> chunk(chunk_size);
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    beast::error_code ec;
    bhttp::read(in, buffer, parser, ec);
    if (ec && ec != bhttp::error::need_buffer) return;
  }
}

void read_as_status_api(InputStream& in) {
  const http::ServerLimits limits;
  beast::flat_buffer buffer{http::kReadBufferLimit};
  bhttp::request_parser<bhttp::string_body> parser;
  http::set_parser_limits(parser, limits.header_limit, limits.body_limit);
  beast::error_code ec;
  bhttp::read(in, buffer, parser, ec);
  if (ec) return;
  must_hold(parser.get().body().size() <= limits.body_limit);
  std::string target(parser.get().target());
  if (auto question = target.find('?'); question != std::string::npos) http::parse_query(target.substr(question + 1));
}

void read_as_gate(InputStream& in) {
  const upload_gate::Limits limits;
  beast::flat_buffer buffer{http::kReadBufferLimit};
  bhttp::request_parser<bhttp::buffer_body> parser;
  http::set_parser_limits(parser, limits.header_bytes, std::nullopt);
  beast::error_code ec;
  bhttp::read_header(in, buffer, parser, ec);
  if (ec) return;
  // As the gate keeps them (Beast 1.74's string_view is Boost's).
  const std::string method(parser.get().method_string()), target(parser.get().target());
  upload_gate::is_gated_write(upload_gate::default_write_rules(), method, target);
  read_body_in_chunks(in, buffer, parser, limits.relay_chunk_bytes);
}

void read_as_rest_standin(InputStream& in) {
  const rest_standin::Limits limits;
  beast::flat_buffer buffer{http::kReadBufferLimit};
  bhttp::request_parser<bhttp::empty_body> header_parser;
  http::set_parser_limits(header_parser, limits.header_limit, std::nullopt);
  beast::error_code ec;
  bhttp::read_header(in, buffer, header_parser, ec);
  if (ec) return;
  const std::string method(header_parser.get().method_string()), target(header_parser.get().target());
  auto route = rest_standin::route(method, target);
  // A matched blueprint's id names a folder: it must be a valid one (routes.hpp).
  if (route.refusal == 0 && route.resource != rest_standin::Resource::status) must_hold(rest_standin::valid_id(route.id));
  if (route.refusal != 0 || method != "PUT" || header_parser.is_done()) return;
  bhttp::request_parser<bhttp::buffer_body> body_parser(std::move(header_parser));
  body_parser.body_limit(limits.max_body);
  read_body_in_chunks(in, buffer, body_parser, limits.chunk_size);
}

enum Server : std::uint8_t { status_api, gate, rest_standin_server, count };

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto [server, bytes] = fuzz::pick(data, size, Server::count);
  // The first byte's other bits pick how the bytes arrive.
  static constexpr std::size_t kReadSizes[] = {65536, 4096, 97, 1};
  InputStream in(bytes, size == 0 ? kReadSizes[0] : kReadSizes[(data[0] / Server::count) % 4]);
  switch (server) {
    case status_api: read_as_status_api(in); break;
    case gate: read_as_gate(in); break;
    case rest_standin_server: read_as_rest_standin(in); break;
  }
  return 0;
}

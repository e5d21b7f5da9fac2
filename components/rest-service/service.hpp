#pragma once
// What each call does, with files and rows together. Every method blocks (libpq,
// fsync) and runs on a request thread, never anywhere else (see session.hpp).
#include <boost/beast/http/file_body.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "components/rest-service/blueprint_files.hpp"
#include "components/rest-service/database.hpp"

namespace hasup::rest_standin {

struct Reply {
  int status = 200;
  nlohmann::json body;  // null: no body (204)
  std::vector<std::pair<std::string, std::string>> headers;
};

Reply error_reply(int status, const std::string& message);
// A file that could not be written: 507 Insufficient Storage when the
// filesystem had no room (the client may learn that this node is full),
// else 500.
Reply file_error_reply(bool out_of_space, const std::string& message);

// An archive to stream back: the file, opened together with reading its row
// (under the id's lock), so the bytes sent are the ones the row describes.
struct ArchiveReply {
  boost::beast::http::file_body::value_type file;
  BlueprintRow row;
};

class Service {
 public:
  Service(BlueprintFiles& files, Databases& databases);

  // 200 only when the database is writable right now: a primary that accepts a write.
  Reply status();
  Reply get_blueprint(const std::string& id);
  std::variant<Reply, ArchiveReply> get_archive(const std::string& id);
  Reply delete_blueprint(const std::string& id);

  // Before any byte of an upload is read: the database must be writable (else
  // 503 with nothing written), then a temp file is made for the bytes.
  std::variant<Reply, std::unique_ptr<Upload>> begin_upload(const std::string& id);
  // All bytes are in: make them durable, then the row, then 201. If the row
  // cannot be written the archive is put back as it was.
  Reply finish_upload(Upload& upload);

  // At start: one connection, so the log says at once whether the database is there.
  void warm_up();

 private:
  Database& db() { return databases_.for_this_thread(); }
  BlueprintFiles& files_;
  Databases& databases_;
};

}  // namespace hasup::rest_standin

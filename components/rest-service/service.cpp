#include "components/rest-service/service.hpp"

#include <spdlog/spdlog.h>

namespace hasup::rest_standin {

namespace {

nlohmann::json row_json(const BlueprintRow& row) {
  return {{"id", row.id}, {"sha256", row.sha256}, {"size", row.size}, {"created_at", row.created_at}};
}

Reply db_error_reply(const DbError& error) { return error_reply(error.unavailable ? 503 : 500, error.message); }

}  // namespace

Reply error_reply(int status, const std::string& message) { return Reply{status, {{"error", message}}, {}}; }

Reply file_error_reply(bool out_of_space, const std::string& message) {
  return error_reply(out_of_space ? 507 : 500, message);
}

Service::Service(BlueprintFiles& files, Databases& databases) : files_(files), databases_(databases) {}

void Service::warm_up() {
  auto recovery = db().in_recovery();
  if (!recovery.ok()) {
    spdlog::warn("{}; /status answers 503 until it is reachable", recovery.error->message);
  } else if (recovery.value) {
    spdlog::warn("database is a standby (in recovery); /status answers 503 until a primary is reached");
  }
}

Reply Service::status() {
  auto& database = db();
  auto recovery = database.in_recovery();
  if (!recovery.ok()) {
    return Reply{503, {{"status", "unavailable"}, {"db", "unreachable"}, {"error", recovery.error->message}}, {}};
  }
  if (recovery.value) {
    return Reply{503,
                 {{"status", "unavailable"}, {"db", "read-only"}, {"error", "the database is a standby (in recovery)"}},
                 {}};
  }
  auto probe = database.write_probe();
  if (!probe.ok()) {
    return Reply{503, {{"status", "unavailable"}, {"db", "not-writable"}, {"error", probe.error->message}}, {}};
  }
  return Reply{200, {{"status", "ok"}, {"db", "writable"}}, {}};
}

Reply Service::get_blueprint(const std::string& id) {
  auto found = db().find(id);
  if (!found.ok()) return db_error_reply(*found.error);
  if (!found.value) return error_reply(404, "no blueprint '" + id + "'");
  return Reply{200, row_json(*found.value), {}};
}

std::variant<Reply, ArchiveReply> Service::get_archive(const std::string& id) {
  auto guard = files_.locks().acquire(id);
  // The row says whether the blueprint exists; a file without a row is an
  // upload that never finished and is not served.
  auto found = db().find(id);
  if (!found.ok()) return db_error_reply(*found.error);
  if (!found.value) return error_reply(404, "no blueprint '" + id + "'");
  ArchiveReply archive{{}, *found.value};
  std::string error;
  int fd = files_.open_archive(id, error);
  if (fd < 0 && error.empty()) {
    // The row came (by replication) before the file did, or the file was lost.
    return error_reply(404, "blueprint '" + id + "' has a row but no archive file on this node");
  }
  if (fd < 0) return error_reply(500, error);
  boost::beast::file file;
  file.native_handle(fd);  // the file owns the descriptor now
  boost::beast::error_code ec;
  archive.file.reset(std::move(file), ec);
  if (ec) return error_reply(500, "cannot read " + files_.archive(id) + ": " + ec.message());
  return archive;
}

Reply Service::delete_blueprint(const std::string& id) {
  auto guard = files_.locks().acquire(id);
  // Row first: once it is gone the blueprint is gone for every reader; a crash
  // before the files follow leaves only an unreachable folder.
  auto removed = db().remove(id);
  if (!removed.ok()) return db_error_reply(*removed.error);
  auto files = files_.remove(id);
  if (!files.error.empty()) return error_reply(500, files.error);
  if (!removed.value && !files.had_archive) return error_reply(404, "no blueprint '" + id + "'");
  return Reply{204, nullptr, {}};
}

std::variant<Reply, std::unique_ptr<Upload>> Service::begin_upload(const std::string& id) {
  auto recovery = db().in_recovery(Database::Connect::now);
  if (!recovery.ok()) return db_error_reply(*recovery.error);
  if (recovery.value) return error_reply(503, "the database is a standby (in recovery): uploads need a primary");
  std::string error;
  bool out_of_space = false;
  auto upload = Upload::start(files_, id, error, out_of_space);
  if (!upload) return file_error_reply(out_of_space, error);
  return upload;
}

Reply Service::finish_upload(Upload& upload) {
  std::string sha256;
  if (auto error = upload.finish(sha256); !error.empty()) return file_error_reply(upload.out_of_space(), error);
  auto guard = files_.locks().acquire(upload.id());
  if (auto error = upload.install(); !error.empty()) return file_error_reply(upload.out_of_space(), error);
  auto row = db().upsert(upload.id(), sha256, upload.size());
  if (!row.ok()) {
    upload.rollback();
    return db_error_reply(*row.error);
  }
  upload.commit();
  return Reply{201, row_json(row.value), {}};
}

}  // namespace hasup::rest_standin

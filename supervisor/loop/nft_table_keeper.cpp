#include "supervisor/loop/nft_table_keeper.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "supervisor/util/nft.hpp"

namespace hasup::loop {

namespace asio = boost::asio;

NftTableKeeper::NftTableKeeper(DriverContext& ctx, std::string nft, std::string table, std::string what)
    : ctx_(ctx),
      nft_(std::move(nft)),
      table_(std::move(table)),
      what_(std::move(what)),
      timers_(ctx.io),
      watch_(ctx.io, timers_.make(), nft_, table_, [this] { return !applied_.empty(); },
             [this] {
               spdlog::warn("{}: the table ip {} is gone from the kernel (a firewall reload?): loading it again",
                            what_, table_);
               applied_.clear();
               ctx_.wake();
             }) {}

void NftTableKeeper::start() {
  workers_ = std::make_unique<asio::thread_pool>(1);
  watch_.start(*workers_);
}

void NftTableKeeper::stop() {
  watch_.stop();
  timers_.cancel_all();
  if (workers_) workers_->join();
}

void NftTableKeeper::load(std::string path, std::string script, Job job,
                          std::function<void(const std::string& error)> done) {
  asio::post(*workers_, [this, nft = nft_, path = std::move(path), script = std::move(script), job,
                         done = std::move(done)] {
    std::string error = load_nft_script(nft, path, script);
    asio::post(ctx_.io, [this, script, job, done, error] {
      if (error.empty()) {
        applied_ = script;
        refused_.clear();
        error_.clear();
      } else {
        refused_ = script;
        error_ = error;
      }
      done(error);
      ctx_.finish_job(job);
    });
  });
}

}  // namespace hasup::loop

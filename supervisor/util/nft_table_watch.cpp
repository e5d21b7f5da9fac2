#include "supervisor/util/nft_table_watch.hpp"

#include <boost/asio/post.hpp>

#include "supervisor/util/nft.hpp"

namespace hasup {

namespace asio = boost::asio;

NftTableWatch::NftTableWatch(asio::io_context& io, asio::steady_timer& timer, std::string nft, std::string table,
                             std::function<bool()> loaded, std::function<void()> gone)
    : io_(io),
      timer_(timer),
      nft_(std::move(nft)),
      table_(std::move(table)),
      loaded_(std::move(loaded)),
      gone_(std::move(gone)) {}

void NftTableWatch::start(asio::thread_pool& workers) {
  workers_ = &workers;
  check_later();
}

void NftTableWatch::check_later() {
  timer_.expires_after(std::chrono::seconds(10));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    if (!loaded_()) return check_later();
    asio::post(*workers_, [this] {
      const bool present = nft_table_present(nft_, table_);
      asio::post(io_, [this, present] {
        if (stopped_) return;
        if (!present && loaded_()) gone_();
        check_later();
      });
    });
  });
}

}  // namespace hasup

#pragma once
// The message broker as the loop sees it: its part of the snapshot (snapshot.hpp).
#include <chrono>
#include <optional>
#include <string>

#include "components/rabbitmq/model.hpp"
#include "components/rabbitmq/render.hpp"

namespace hasup::loop {

struct BrokerView {
  bool enabled = false;
  std::string unit;                      // ha-rabbitmq.service
  std::string template_text;
  std::string template_error;
  rabbitmq::BrokerConfModel conf_model;  // from config
  std::optional<std::string> conf_file;  // what rabbitmq.conf holds now; nullopt: no file
  // Whether the broker answers: its local health check
  // (/api/health/checks/local-alarms, which asks no other node). "" answers;
  // else why not. `refused`: nothing listens (the broker is down or paused
  // in a minority, which stops its listeners), unlike a slow answer.
  std::string read_error;
  bool refused = false;
  std::string local_alarm;  // the check's words when an alarm is in effect here; ""
  // Since the check last answered, or since the unit last started, whichever
  // is later: how long the broker has been silent.
  std::chrono::milliseconds silent_for{0};
  // The cluster as the broker saw it at the last whole read (nodes, quorum
  // queues). That read asks the other nodes and waits on one that just
  // crashed: its failure (facts_error) is a stale view, not a silent broker.
  // Decisions that change the cluster need a fresh one: both errors empty.
  std::optional<rabbitmq::BrokerFacts> facts;
  std::string facts_error;
  // The queues' read failed: facts' queues and message count are the last
  // good read's, its membership is fresh. /api/queues waits on a queue's
  // member whose host vanished; the membership must not.
  std::string queues_error;
  // The cluster's founder as kept in Consul: known once Consul answered.
  bool seed_known = false;
  std::optional<rabbitmq::BrokerSeed> seed;
  std::string seed_error;                // the key holds something that is not a seed
  std::string cookie_fingerprint;        // of this node's Erlang cookie (install.sh writes it)
  std::string files_error;               // install.sh's files for the supervisor that cannot be read
  // The newest failed join or forget, and how long ago: retried after retry_after.
  std::string join_error;
  std::optional<std::chrono::milliseconds> since_join_failed;
  std::string forget_error;
  std::optional<std::chrono::milliseconds> since_forget_failed;
  // Silent this long, it makes the node unfit: one slow answer (the API waits
  // on a peer that just crashed) is not a broker that stopped answering.
  std::chrono::milliseconds unfit_after{5000};
  std::chrono::milliseconds start_grace{30000};  // a starting broker may be silent this long
  std::chrono::milliseconds stuck_after{60000};  // silent this long with its unit up: restarted
  std::chrono::milliseconds retry_after{30000};
  // How long this broker's fresh views have listed a partition (0: none), and
  // how long pause_minority gets to end one by itself before the untrusted
  // side is restarted (it did within seconds in the lab, when it did at all).
  std::chrono::milliseconds partitioned_for{0};
  std::chrono::milliseconds partition_grace{15000};
  std::string last_error;                // the newest failure of a job
};

}  // namespace hasup::loop

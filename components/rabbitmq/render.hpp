#pragma once
// rabbitmq.conf from templates/rabbitmq.conf.mustache and a BrokerConfModel.
// Pure: the driver reads the template and writes the file. Every value is a
// bare config token (no newline or '#' can add a line to the file).
#include <string>

#include "supervisor/util/config_template.hpp"

namespace hasup::rabbitmq {

struct BrokerConfModel {
  std::string amqp_address;   // where clients connect: 0.0.0.0 takes the floating IP as it comes and goes
  int amqp_port = 5672;
  int management_port = 15672;  // on 127.0.0.1 only: the supervisor's reads
  std::string partition_handling = "pause_minority";
  std::string definitions_file;  // users and quorum queues (components/rabbitmq/install.sh)
  std::string memory_high_watermark = "0.4";  // of the machine's memory
};

RenderedConfig render_broker_conf(const std::string& template_text, const BrokerConfModel& model);

}  // namespace hasup::rabbitmq

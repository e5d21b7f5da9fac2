#include "components/rabbitmq/render.hpp"

namespace hasup::rabbitmq {

using kainjow::mustache::data;

RenderedConfig render_broker_conf(const std::string& template_text, const BrokerConfModel& m) {
  for (const auto& [what, value] : {std::pair{"amqp_address", m.amqp_address},
                                    std::pair{"partition_handling", m.partition_handling},
                                    std::pair{"definitions_file", m.definitions_file},
                                    std::pair{"memory_high_watermark", m.memory_high_watermark}})
    if (!is_config_token(value)) return {.text = {}, .error = std::string(what) + " is not a plain value"};
  for (int port : {m.amqp_port, m.management_port})
    if (port < 1 || port > 65535) return {.text = {}, .error = "a port is outside 1..65535"};
  data d;
  d.set("amqp_address", m.amqp_address);
  d.set("amqp_port", std::to_string(m.amqp_port));
  d.set("management_port", std::to_string(m.management_port));
  d.set("partition_handling", m.partition_handling);
  d.set("definitions_file", m.definitions_file);
  d.set("memory_high_watermark", m.memory_high_watermark);
  return render_config(template_text, d);
}

}  // namespace hasup::rabbitmq

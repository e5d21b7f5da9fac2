#include "supervisor/cluster/kv_view.hpp"

#include "supervisor/util/host_name.hpp"
#include "supervisor/util/node_name.hpp"
#include "supervisor/util/printable.hpp"

namespace hasup::cluster {

namespace {

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.size() > prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

// A name from a key (members/NAME, nodes/NAME, intent/maintenance/NAME) goes
// into HTTP headers (the gate's X-Replicated-To), configs and terminals: only
// a node name counts ("" when it is one, else why not).
std::string key_name_problem(const std::string& name) {
  const std::string why = node_name_problem(name);
  return why.empty() ? why : "the key's node name " + quoted_printable(name) + " " + why;
}

std::string address_problem(const std::string& address) {
  const std::string why = host_problem(address);
  return why.empty() ? why : "address " + quoted_printable(address) + " " + why;
}

}  // namespace

loop::KvView build_kv_view(const std::vector<consul::KvEntry>& entries, const Keys& keys) {
  loop::KvView view;
  view.known = true;
  const consul::KvEntry* leader_entry = nullptr;
  for (const auto& entry : entries) {
    if (entry.key == keys.leader()) {
      leader_entry = &entry;
    } else if (entry.key == keys.settings()) {
      view.settings = loop::KvView::StoredValue{entry.value, entry.modify_index};
    } else if (entry.key == keys.db_login()) {
      view.db_login = loop::KvView::StoredValue{entry.value, entry.modify_index};
    } else if (entry.key == keys.replication_login()) {
      view.replication_login = loop::KvView::StoredValue{entry.value, entry.modify_index};
    } else if (entry.key == keys.cold_start()) {
      view.cold_start = loop::KvView::StoredValue{entry.value, entry.modify_index};
    } else if (entry.key == keys.switchover()) {
      view.switchover = loop::KvView::StoredValue{entry.value, entry.modify_index};
    } else if (entry.key == keys.pause()) {
      view.pause = loop::KvView::StoredValue{entry.value, entry.modify_index};
    } else if (entry.key == keys.syncthing_key()) {
      view.syncthing_key = loop::KvView::StoredValue{entry.value, entry.modify_index};
    } else if (starts_with(entry.key, keys.members_dir())) {
      std::string name = entry.key.substr(keys.members_dir().size());
      if (auto why = key_name_problem(name); !why.empty()) {
        view.unreadable.push_back({entry.key, why});
        continue;
      }
      if (entry.session.empty()) {
        // Member keys are only ever written under a session; one without is
        // debris (written by hand, or by a session-less tool): not a member.
        view.unreadable.push_back({entry.key, "not held by any session: not a live member"});
        continue;
      }
      auto decoded = decode_member(entry.value);
      if (!decoded.record) {
        view.unreadable.push_back({entry.key, decoded.error});
        view.member_sessions[name] = entry.session;
        continue;
      }
      if (decoded.record->name != name) {
        view.unreadable.push_back(
            {entry.key, "record names " + quoted_printable(decoded.record->name) + ", key names '" + name + "'"});
        view.member_sessions[name] = entry.session;
        continue;
      }
      if (auto why = address_problem(decoded.record->address); !why.empty()) {
        view.unreadable.push_back({entry.key, why});
        view.member_sessions[name] = entry.session;
        continue;
      }
      view.member_sessions[name] = entry.session;
      view.members[name] = std::move(*decoded.record);
    } else if (starts_with(entry.key, keys.nodes_dir())) {
      auto node = decode_node(entry.value);
      std::string name = entry.key.substr(keys.nodes_dir().size());
      if (auto why = key_name_problem(name); !why.empty()) {
        view.unreadable.push_back({entry.key, why});
        continue;
      }
      if (!node || node->name != name) {
        view.unreadable.push_back({entry.key, "node registration is not {schema 1, name, address} for this name"});
        continue;
      }
      if (auto why = address_problem(node->address); !why.empty()) {
        view.unreadable.push_back({entry.key, why});
        continue;
      }
      view.registered[name] = node->address;
      if (!node->syncthing_device_id.empty()) view.registered_devices[name] = node->syncthing_device_id;
      view.registered_reads_schema[name] = node->reads_member_schema;
    } else if (starts_with(entry.key, keys.forgotten_dir())) {
      std::string name = entry.key.substr(keys.forgotten_dir().size());
      if (auto why = key_name_problem(name); !why.empty()) {
        view.unreadable.push_back({entry.key, why});
        continue;
      }
      auto forgotten = decode_forgotten(entry.value);
      if (!forgotten || forgotten->name != name) {
        view.unreadable.push_back({entry.key, "forgotten-node tombstone is not {schema 1, name, at} for this name"});
        continue;
      }
      view.forgotten.insert(name);
    } else if (starts_with(entry.key, keys.maintenance_dir())) {
      auto intent = decode_maintenance(entry.value);
      if (auto why = key_name_problem(entry.key.substr(keys.maintenance_dir().size())); !why.empty()) {
        view.unreadable.push_back({entry.key, why});
        continue;
      }
      if (!intent) {
        view.unreadable.push_back({entry.key, "maintenance intent is not {\"enabled\": bool, ...}"});
        continue;
      }
      if (intent->enabled) {
        const std::string name = entry.key.substr(keys.maintenance_dir().size());
        view.maintenance.insert(name);
        view.maintenance_requested_by[name] = intent->requested_by;
      }
    } else if (entry.key == keys.cluster_state()) {
      auto decoded = decode_cluster_state(entry.value);
      if (decoded.state)
        view.cluster_state = std::move(decoded.state);
      else
        view.unreadable.push_back({entry.key, decoded.error});
    }
    // Other keys under the prefix belong to other versions or later features: ignored.
  }
  if (leader_entry && !leader_entry->session.empty()) {
    loop::LeaderLock lock;
    lock.session = leader_entry->session;
    lock.epoch = leader_entry->modify_index;
    if (auto value = decode_leader_value(leader_entry->value)) lock.name = value->name;
    // The lock value is only for display; the session is the truth. Prefer the
    // name of the member record held by the same session when there is one.
    for (const auto& [name, session] : view.member_sessions)
      if (session == lock.session) lock.name = name;
    view.leader = lock;
  }
  return view;
}

}  // namespace hasup::cluster

#pragma once
// One JSON shape for a message, used by the stdout and file sinks and by the
// json processor's render mode, so what one writes another can read back.
//   {"id": 7, "priority": 0, "attributes": {"kind": "email_send"}, "payload": "..."}

#include <weir/message.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace weir::stdp {

// Attribute order is the message's own, which keeps output diffable.
using Json = nlohmann::ordered_json;

inline Json attributes_to_json(const Attributes& attributes) {
  Json object = Json::object();
  for (const auto& [key, value] : attributes) object[key] = value;
  return object;
}

inline Json message_to_json(const Message& message) {
  Json object = Json::object();
  object["id"] = message.id;
  object["priority"] = message.priority;
  object["attributes"] = attributes_to_json(message.attributes);
  object["payload"] = message.payload;
  return object;
}

// Payloads are bytes, not necessarily UTF-8: invalid sequences become U+FFFD
// instead of throwing in the middle of a batch.
inline std::string dump_json(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Appends one output line in the chosen format.
inline void append_line(std::string& out, const Message& message, bool as_json) {
  if (as_json)
    out += dump_json(message_to_json(message));
  else
    out += message.payload;
  out += '\n';
}

}  // namespace weir::stdp

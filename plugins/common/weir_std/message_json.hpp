#pragma once
// One JSON shape for a message, used by the stdout and file sinks and by the
// json processor's render mode, so what one writes another can read back.
//   {"id": 7, "priority": 0, "attributes": {"kind": "email_send"}, "payload": "..."}
// JSON strings are UTF-8, payloads and attribute values are bytes. A value
// that is not valid UTF-8 is written base64-encoded under its name with
// `_base64` added ("payload_base64", "attributes_base64": {...}), so the bytes
// come back exactly as they were: the json processor's parse mode decodes
// such fields again.

#include <weir/message.hpp>
#include <weir/options.hpp>
#include <weir/utf8.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weir::weir_std {

// Attribute order is the message's own, which keeps output diffable.
using Json = nlohmann::ordered_json;

// The `format` option of the sinks that write lines (stdout, file): one
// declaration, so the two cannot drift apart.
enum class LineFormat { raw, json };
inline const Option<LineFormat> line_format{
    .name = "format",
    .description = "`raw` writes the payload; `json` writes id, priority, attributes and payload as one JSON object "
                   "(a value that is not UTF-8 as NAME_base64, base64-encoded)",
    .default_value = "raw",
    .choices = {{"raw", LineFormat::raw}, {"json", LineFormat::json}}};

inline constexpr std::string_view base64_suffix = "_base64";

inline std::string base64_encode(std::string_view bytes) {
  static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  const auto at = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])); };
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    for (int shift : {18, 12, 6, 0}) out += digits[n >> shift & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    const std::uint32_t n = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
    out += digits[n >> 18 & 63];
    out += digits[n >> 12 & 63];
    out += rest == 2 ? digits[n >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

// The bytes, or nothing when `text` is not padded standard base64.
inline std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  const auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const int padding = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    if (last && padding == 1 && text[i + 2] == '=') return std::nullopt;
    std::uint32_t n = 0;
    for (int k = 0; k < 4; ++k) {
      const int v = k >= 4 - padding ? 0 : value(text[i + k]);
      if (v < 0) return std::nullopt;
      n = n << 6 | static_cast<std::uint32_t>(v);
    }
    out += static_cast<char>(n >> 16 & 0xFF);
    if (padding < 2) out += static_cast<char>(n >> 8 & 0xFF);
    if (padding < 1) out += static_cast<char>(n & 0xFF);
  }
  return out;
}

// object[name] = value; or, when the value is not UTF-8,
// object[name + "_base64"] = its base64.
inline void put_bytes(Json& object, const std::string& name, const std::string& value) {
  if (is_utf8(value))
    object[name] = value;
  else
    object[name + std::string(base64_suffix)] = base64_encode(value);
}

// Values that are not UTF-8 go, encoded, to `base64` when it is given.
inline Json attributes_to_json(const Attributes& attributes, Json* base64 = nullptr) {
  Json object = Json::object();
  for (const auto& [key, value] : attributes) {
    if (base64 && !is_utf8(value))
      (*base64)[key] = base64_encode(value);
    else
      object[key] = value;
  }
  return object;
}

inline Json message_to_json(const Message& message) {
  Json object = Json::object();
  object["id"] = message.id;
  object["priority"] = message.priority;
  Json encoded = Json::object();
  object["attributes"] = attributes_to_json(message.attributes, &encoded);
  if (!encoded.empty()) object["attributes" + std::string(base64_suffix)] = std::move(encoded);
  put_bytes(object, "payload", message.payload);
  return object;
}

// How deeply the JSON a plugin parses from a message may nest. nlohmann's
// parser is iterative, but walking the result (dump, copies) recurses once
// per level, so a 180 KB line of '[' would overflow a thread's stack.
inline constexpr std::size_t max_json_depth = 128;

// The byte offset of the first '[' or '{' that nests deeper than `max_depth`,
// or npos. A linear scan that knows only strings and brackets, so it runs
// before any parser sees the text.
inline std::size_t json_too_deep_at(std::string_view text, std::size_t max_depth = max_json_depth) noexcept {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

// What put_bytes() wrote is UTF-8; anything else that is not (a key, say)
// becomes U+FFFD instead of throwing in the middle of a batch.
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

}  // namespace weir::weir_std

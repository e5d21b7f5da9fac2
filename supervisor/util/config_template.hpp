#pragma once
// Renders a config file (keepalived.conf, nginx.conf, ...) from a kainjow
// mustache template. Header-only: the component renderers build the data and
// check every value first; this is the part they share.
#include <kainjow/mustache.hpp>

#include <algorithm>
#include <string>
#include <string_view>

namespace hasup {

struct RenderedConfig {
  std::string text;   // set when error is empty
  std::string error;  // template syntax error, or a value that must not reach the file
};

// A value that may stand in a rendered config file as one bare word
// (keepalived.conf, nginx.conf): [A-Za-z0-9.:/_@+-]+. No whitespace, ';',
// braces, quotes, '#' or '$': nothing that would change what the file says.
// Values were checked where they came from; renderers check again with this.
inline bool is_config_token(std::string_view value) {
  return !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == ':' ||
           c == '/' || c == '_' || c == '-' || c == '@' || c == '+';
  });
}

inline RenderedConfig render_config(const std::string& template_text, const kainjow::mustache::data& data) {
  RenderedConfig out;
  kainjow::mustache::mustache tmpl(template_text);
  // A config file, not HTML: values were checked by the caller and go in as they are.
  tmpl.set_custom_escape([](const std::string& s) { return s; });
  if (tmpl.is_valid()) out.text = tmpl.render(data);
  if (!tmpl.is_valid()) {
    out.text.clear();
    out.error = "template: " + tmpl.error_message();
  }
  return out;
}

}  // namespace hasup

#pragma once
// Renders a config file (keepalived.conf, nginx.conf, ...) from a kainjow
// mustache template. Header-only: the component renderers build the data and
// check every value first; this is the part they share.
#include <kainjow/mustache.hpp>

#include <algorithm>
#include <map>
#include <memory>
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
  // Parsing is most of rendering, and the loop renders the same few templates
  // every cycle: the parsed form is kept, per thread, keyed by the text (a
  // changed template is a new key). An object that fails is not kept.
  thread_local std::map<std::string, std::unique_ptr<kainjow::mustache::mustache>> parsed;
  auto found = parsed.find(template_text);
  if (found == parsed.end()) {
    if (parsed.size() >= 16) parsed.clear();  // bounded: templates change rarely
    auto tmpl = std::make_unique<kainjow::mustache::mustache>(template_text);
    // A config file, not HTML: values were checked by the caller and go in as they are.
    tmpl->set_custom_escape([](const std::string& s) { return s; });
    found = parsed.emplace(template_text, std::move(tmpl)).first;
  }
  kainjow::mustache::mustache& tmpl = *found->second;
  RenderedConfig out;
  if (tmpl.is_valid()) out.text = tmpl.render(data);
  if (!tmpl.is_valid()) {
    out.text.clear();
    out.error = "template: " + tmpl.error_message();
    parsed.erase(found);
  }
  return out;
}

}  // namespace hasup

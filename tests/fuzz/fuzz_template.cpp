// Fuzzes the template language of the standard plugins: any text compiles
// (a template has no syntax errors, only literals and fields), renders in
// time linear in its length, and a template without fields renders as its
// text with {{ and }} unescaped.
//   input: TEMPLATE

#include <weir_std/template.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto compiled = weir::stdp::Template::compile(text, {"seq", "replica"});
  weir::Message message{"the payload"};
  message.attributes.set("kind", "email");
  message.attributes.set("a.b-c:d", "dotted");
  const std::string values[] = {"17", "0"};
  const std::string out = compiled.render(message, values);
  if (compiled.is_literal()) {
    std::string expected;
    for (std::size_t i = 0; i < text.size(); ++i) {
      expected += text[i];
      if ((text[i] == '{' || text[i] == '}') && i + 1 < text.size() && text[i + 1] == text[i]) ++i;
    }
    if (out != expected) std::abort();
  }
  return 0;
}

// Fuzzes the template language (weir/template.hpp): any text either compiles
// or is refused with a TemplateError whose column lies inside the text (or
// just past its end, where a missing '}' was due); what
// compiles renders in time linear in its length, and a template without
// fields renders as its text with {{ and }} unescaped.
//   input: TEMPLATE

#include <weir/template.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  weir::Template compiled;
  try {
    compiled = weir::Template::compile(text, {"seq", "replica"});
  } catch (const weir::TemplateError& error) {
    if (error.column() < 1 || static_cast<std::size_t>(error.column()) > size + 1) std::abort();
    return 0;
  }
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

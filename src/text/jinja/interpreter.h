#pragma once
// Renders a parsed template against a context of variables, with the
// filters, tests, methods and globals Hugging Face chat templates use.

#include <map>
#include <string>

#include "text/jinja/ast.h"

namespace arle::text::jinja {

// Variables visible to the template (messages, tools, bos_token, ...).
using Context = std::map<std::string, Value>;

// Throws arle::Error with the template line and column on a render error
// (unknown filter, bad operand types, raise_exception(...)).
std::string render(const Template& tmpl, const Context& globals);

}  // namespace arle::text::jinja

#pragma once
// Template text -> syntax tree, with Hugging Face's environment settings
// (trim_blocks, lstrip_blocks, loop controls). Errors are arle::Error with
// the line and column of the problem.

#include <string_view>

#include "text/jinja/ast.h"

namespace arle::text::jinja {

Template parse_template(std::string_view source);

}  // namespace arle::text::jinja

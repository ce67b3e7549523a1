#pragma once
// The operators, filters, tests, methods and globals of the Jinja subset,
// with Python's semantics (jinja2 runs on Python).

#include <functional>
#include <map>
#include <stdexcept>
#include <string>

#include "text/jinja/value.h"

namespace arle::text::jinja {

// Raised by builtins; the renderer adds the template location.
class BuiltinError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::map<std::string, Value> builtin_globals();  // namespace, range, dict, raise_exception

Value get_attribute(const Value& object, const std::string& name);  // obj.name: methods, then keys
Value get_item(const Value& object, const Value& key);              // obj[key]
Value slice(const Value& object, const Value& start, const Value& stop, const Value& step);
Value binary_op(const std::string& op, const Value& a, const Value& b);

using TestFn = std::function<bool(const std::string& test, const Value& value, Args& args)>;
Value apply_filter(const std::string& name, const Value& input, Args& args, const TestFn& test);
bool apply_test(const std::string& name, const Value& input, Args& args);

List string_chars(const std::string& s);  // one string per code point
// Python iteration: list items, dict keys, string characters; undefined is empty.
List iterate(const Value& v);

}  // namespace arle::text::jinja

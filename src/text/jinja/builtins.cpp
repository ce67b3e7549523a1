#include "text/jinja/builtins.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "text/unicode.h"

namespace arle::text::jinja {
namespace {

std::int64_t length_of(const Value& v) {
  if (v.is_string()) return static_cast<std::int64_t>(string_chars(v.as_string()).size());
  if (v.is_list()) return static_cast<std::int64_t>(v.as_list().size());
  if (v.is_dict()) return static_cast<std::int64_t>(v.as_dict().items.size());
  if (v.is_undefined()) return 0;
  throw BuiltinError("object of type '" + v.type_name() + "' has no len()");
}

const std::string& need_string(const Value& v, const char* what) {
  if (!v.is_string()) throw BuiltinError(std::string(what) + " needs a string, got " + v.type_name());
  return v.as_string();
}

bool is_space_char(char32_t c) { return is_whitespace(c); }

// Python str.strip / lstrip / rstrip with optional characters.
std::string strip(const std::string& s, const Value& chars, bool left, bool right) {
  List set = chars.is_string() ? string_chars(chars.as_string()) : List{};
  auto strip_char = [&](const std::string& ch) {
    if (!chars.is_string()) {
      std::size_t i = 0;
      return is_space_char(next_codepoint(ch, i));
    }
    for (const auto& c : set) {
      if (c.as_string() == ch) return true;
    }
    return false;
  };
  List cs = string_chars(s);
  std::size_t b = 0, e = cs.size();
  if (left) {
    while (b < e && strip_char(cs[b].as_string())) ++b;
  }
  if (right) {
    while (e > b && strip_char(cs[e - 1].as_string())) --e;
  }
  std::string out;
  for (std::size_t i = b; i < e; ++i) out += cs[i].as_string();
  return out;
}

List split(const std::string& s, const Value& sep, std::int64_t maxsplit) {
  List out;
  if (!sep.is_string() || sep.is_none()) {  // whitespace runs, no empty strings
    List cs = string_chars(s);
    std::string cur;
    bool in_word = false;
    std::size_t i = 0;
    for (; i < cs.size(); ++i) {
      std::size_t k = 0;
      bool space = is_space_char(next_codepoint(cs[i].as_string(), k));
      if (space) {
        if (in_word) {
          out.emplace_back(cur);
          cur.clear();
          in_word = false;
          if (maxsplit >= 0 && static_cast<std::int64_t>(out.size()) >= maxsplit) {
            ++i;
            while (i < cs.size()) {
              std::size_t q = 0;
              if (!is_space_char(next_codepoint(cs[i].as_string(), q))) break;
              ++i;
            }
            std::string rest;
            for (; i < cs.size(); ++i) rest += cs[i].as_string();
            if (!rest.empty()) out.emplace_back(rest);
            return out;
          }
        }
      } else {
        cur += cs[i].as_string();
        in_word = true;
      }
    }
    if (in_word) out.emplace_back(cur);
    return out;
  }
  const std::string& d = sep.as_string();
  if (d.empty()) throw BuiltinError("empty separator");
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(d, start);
    if (pos == std::string::npos || (maxsplit >= 0 && static_cast<std::int64_t>(out.size()) >= maxsplit)) break;
    out.emplace_back(s.substr(start, pos - start));
    start = pos + d.size();
  }
  out.emplace_back(s.substr(start));
  return out;
}

std::string replace(const std::string& s, const std::string& from, const std::string& to, std::int64_t count) {
  std::string out;
  std::size_t start = 0;
  std::int64_t done = 0;
  if (from.empty()) return s;
  while (count < 0 || done < count) {
    std::size_t pos = s.find(from, start);
    if (pos == std::string::npos) break;
    out += s.substr(start, pos - start) + to;
    start = pos + from.size();
    ++done;
  }
  return out + s.substr(start);
}

std::string capitalize(const std::string& s) {
  std::string lower = to_lower(s);
  if (lower.empty()) return lower;
  std::size_t i = 0;
  char32_t first = next_codepoint(lower, i);
  std::string out;
  append_utf8(out, first < 128 ? static_cast<char32_t>(std::toupper(static_cast<int>(first))) : first);
  return out + lower.substr(i);
}

std::string upper(const std::string& s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Python ordering for sort and comparisons.
int compare(const Value& a, const Value& b) {
  if ((a.is_number() || a.is_bool()) && (b.is_number() || b.is_bool())) {
    double x = a.as_number(), y = b.as_number();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) return a.as_string().compare(b.as_string()) < 0 ? -1 : a.as_string() == b.as_string() ? 0 : 1;
  if (a.is_list() && b.is_list()) {
    const List &x = a.as_list(), &y = b.as_list();
    for (std::size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
      int c = compare(x[i], y[i]);
      if (c) return c;
    }
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  throw BuiltinError("'<' not supported between instances of '" + a.type_name() + "' and '" + b.type_name() + "'");
}

Value bound(std::function<Value(Args&)> f) { return Value(Function(std::move(f))); }

std::int64_t int_arg(const Value& v, const char* what) {
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return v.as_bool();
  throw BuiltinError(std::string(what) + " must be an integer");
}

Value string_method(const std::string& s, const std::string& name) {
  if (name == "startswith" || name == "endswith") {
    bool start = name == "startswith";
    return bound([s, start](Args& a) {
      Value p = a.get(0, "prefix");
      List options = p.is_list() ? p.as_list() : List{p};
      for (const auto& o : options) {
        const std::string& x = need_string(o, start ? "startswith" : "endswith");
        if (start ? s.compare(0, x.size(), x) == 0 : (s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0)) {
          return Value(true);
        }
      }
      return Value(false);
    });
  }
  if (name == "split") return bound([s](Args& a) { return Value(split(s, a.get(0, "sep"), a.get(1, "maxsplit", Value(-1)).as_int())); });
  if (name == "strip") return bound([s](Args& a) { return Value(strip(s, a.get(0, "chars"), true, true)); });
  if (name == "lstrip") return bound([s](Args& a) { return Value(strip(s, a.get(0, "chars"), true, false)); });
  if (name == "rstrip") return bound([s](Args& a) { return Value(strip(s, a.get(0, "chars"), false, true)); });
  if (name == "upper") return bound([s](Args&) { return Value(upper(s)); });
  if (name == "lower") return bound([s](Args&) { return Value(to_lower(s)); });
  if (name == "capitalize") return bound([s](Args&) { return Value(capitalize(s)); });
  if (name == "title") {
    return bound([s](Args&) {
      std::string out;
      bool word_start = true;
      for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        out += static_cast<char>(word_start ? std::toupper(u) : std::tolower(u));
        word_start = !std::isalnum(u);
      }
      return Value(out);
    });
  }
  if (name == "replace") {
    return bound([s](Args& a) {
      return Value(replace(s, need_string(a.get(0, "old"), "replace"), need_string(a.get(1, "new"), "replace"),
                           a.get(2, "count", Value(-1)).as_int()));
    });
  }
  if (name == "find") {
    return bound([s](Args& a) {
      auto pos = s.find(need_string(a.get(0, "sub"), "find"));
      return Value(pos == std::string::npos ? std::int64_t{-1} : static_cast<std::int64_t>(string_chars(s.substr(0, pos)).size()));
    });
  }
  if (name == "count") {
    return bound([s](Args& a) {
      const std::string& sub = need_string(a.get(0, "sub"), "count");
      std::int64_t n = 0;
      for (std::size_t p = s.find(sub); !sub.empty() && p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      return Value(n);
    });
  }
  if (name == "join") {
    return bound([s](Args& a) {
      std::string out;
      List items = iterate(a.get(0, "iterable"));
      for (std::size_t i = 0; i < items.size(); ++i) out += (i ? s : "") + need_string(items[i], "join");
      return Value(out);
    });
  }
  if (name == "splitlines") {
    return bound([s](Args&) {
      List out;
      std::size_t start = 0;
      for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\n' || s[i] == '\r') {
          out.emplace_back(s.substr(start, i - start));
          if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
          start = i + 1;
        }
      }
      if (start < s.size()) out.emplace_back(s.substr(start));
      return Value(out);
    });
  }
  return Value::undefined(name);
}

Value dict_method(const Value& d, const std::string& name) {
  if (name == "items") {
    return bound([d](Args&) {
      List out;
      for (const auto& [k, v] : d.as_dict().items) out.emplace_back(List{Value(k), v});
      return Value(out);
    });
  }
  if (name == "keys") {
    return bound([d](Args&) {
      List out;
      for (const auto& [k, _] : d.as_dict().items) out.emplace_back(k);
      return Value(out);
    });
  }
  if (name == "values") {
    return bound([d](Args&) {
      List out;
      for (const auto& [_, v] : d.as_dict().items) out.push_back(v);
      return Value(out);
    });
  }
  if (name == "get") {
    return bound([d](Args& a) {
      Value key = a.get(0, "key");
      const Value* v = key.is_string() ? d.as_dict().find(key.as_string()) : nullptr;
      return v ? *v : a.get(1, "default", Value(None{}));
    });
  }
  return Value::undefined(name);
}

std::string escape_html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

List iterate(const Value& v) {
  if (v.is_list()) return v.as_list();
  if (v.is_string()) return string_chars(v.as_string());
  if (v.is_dict()) {
    List keys;
    for (const auto& [k, _] : v.as_dict().items) keys.emplace_back(k);
    return keys;
  }
  if (v.is_undefined()) return {};  // jinja2's Undefined iterates as empty
  throw BuiltinError("'" + v.type_name() + "' object is not iterable");
}

List string_chars(const std::string& s) {
  List out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t start = i;
    next_codepoint(s, i);
    out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

std::map<std::string, Value> builtin_globals() {
  std::map<std::string, Value> g;
  g["namespace"] = bound([](Args& a) {
    Dict d;
    if (!a.positional.empty() && a.positional[0].is_dict()) d = a.positional[0].as_dict();
    for (const auto& [k, v] : a.keyword) d.set(k, v);
    return Value(std::move(d), /*is_namespace=*/true);
  });
  g["dict"] = bound([](Args& a) {
    Dict d;
    for (const auto& [k, v] : a.keyword) d.set(k, v);
    return Value(std::move(d));
  });
  g["range"] = bound([](Args& a) {
    std::int64_t start = 0, stop, step = 1;
    if (a.positional.size() == 1) {
      stop = int_arg(a.positional[0], "range()");
    } else if (a.positional.size() >= 2) {
      start = int_arg(a.positional[0], "range()");
      stop = int_arg(a.positional[1], "range()");
      if (a.positional.size() > 2) step = int_arg(a.positional[2], "range()");
    } else {
      throw BuiltinError("range() needs arguments");
    }
    if (step == 0) throw BuiltinError("range() step must not be zero");
    List out;
    for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
      if (out.size() > 1000000) throw BuiltinError("range() is too long");
      out.emplace_back(i);
    }
    return Value(out);
  });
  g["raise_exception"] = bound([](Args& a) -> Value { throw BuiltinError(a.get(0, "message").str()); });
  return g;
}

Value get_attribute(const Value& object, const std::string& name) {
  if (object.is_undefined()) throw BuiltinError("'" + object.undefined_name() + "' is undefined");
  if (object.is_none()) throw BuiltinError("'None' has no attribute '" + name + "'");
  if (object.is_string()) return string_method(object.as_string(), name);
  if (object.is_dict()) {
    if (!object.is_namespace() && (name == "items" || name == "keys" || name == "values" || name == "get")) {
      return dict_method(object, name);
    }
    const Value* v = object.as_dict().find(name);
    return v ? *v : Value::undefined(name);
  }
  if (object.is_list() && (name == "append" || name == "pop" || name == "insert" || name == "extend")) {
    throw BuiltinError("lists are immutable in the template sandbox");
  }
  return Value::undefined(name);
}

Value get_item(const Value& object, const Value& key) {
  if (object.is_undefined()) throw BuiltinError("'" + object.undefined_name() + "' is undefined");
  if (object.is_dict()) {
    if (!key.is_string()) return Value::undefined(key.str());
    const Value* v = object.as_dict().find(key.as_string());
    return v ? *v : Value::undefined(key.as_string());
  }
  if (object.is_list() || object.is_string()) {
    if (!key.is_int()) {
      if (key.is_string()) return get_attribute(object, key.as_string());
      throw BuiltinError("indices must be integers, not " + key.type_name());
    }
    List items = object.is_list() ? object.as_list() : string_chars(object.as_string());
    std::int64_t i = key.as_int();
    if (i < 0) i += static_cast<std::int64_t>(items.size());
    if (i < 0 || i >= static_cast<std::int64_t>(items.size())) return Value::undefined(key.str());
    return items[static_cast<std::size_t>(i)];
  }
  if (key.is_string()) return get_attribute(object, key.as_string());
  throw BuiltinError("'" + object.type_name() + "' object is not subscriptable");
}

Value slice(const Value& object, const Value& start_v, const Value& stop_v, const Value& step_v) {
  if (!object.is_list() && !object.is_string()) throw BuiltinError("cannot slice " + object.type_name());
  List items = object.is_list() ? object.as_list() : string_chars(object.as_string());
  auto n = static_cast<std::int64_t>(items.size());
  std::int64_t step = step_v.is_int() ? step_v.as_int() : 1;
  if (step == 0) throw BuiltinError("slice step cannot be zero");
  auto clamp = [&](const Value& v, std::int64_t fallback) {
    if (!v.is_int()) return fallback;
    std::int64_t i = v.as_int();
    if (i < 0) i += n;
    if (step > 0) return std::clamp<std::int64_t>(i, 0, n);
    return std::clamp<std::int64_t>(i, -1, n - 1);
  };
  std::int64_t start = clamp(start_v, step > 0 ? 0 : n - 1);
  std::int64_t stop = clamp(stop_v, step > 0 ? n : -1);
  List out;
  for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(items[static_cast<std::size_t>(i)]);
  if (object.is_list()) return Value(out);
  std::string s;
  for (const auto& c : out) s += c.as_string();
  return Value(s);
}

Value binary_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") return Value(a == b);
  if (op == "!=") return Value(!(a == b));
  if (op == "<") return Value(compare(a, b) < 0);
  if (op == ">") return Value(compare(a, b) > 0);
  if (op == "<=") return Value(compare(a, b) <= 0);
  if (op == ">=") return Value(compare(a, b) >= 0);
  if (op == "~") return Value(a.str() + b.str());
  if (op == "in") {
    if (b.is_string()) return Value(b.as_string().find(need_string(a, "'in <string>'")) != std::string::npos);
    if (b.is_list()) {
      for (const auto& item : b.as_list()) {
        if (item == a) return Value(true);
      }
      return Value(false);
    }
    if (b.is_dict()) return Value(a.is_string() && b.as_dict().find(a.as_string()) != nullptr);
    if (b.is_undefined()) return Value(false);  // jinja2's Undefined iterates as empty
    throw BuiltinError("argument of type '" + b.type_name() + "' is not iterable");
  }
  if (a.is_undefined() || b.is_undefined()) {
    throw BuiltinError("'" + (a.is_undefined() ? a.undefined_name() : b.undefined_name()) + "' is undefined");
  }
  auto numeric = [](const Value& v) { return v.is_number() || v.is_bool(); };
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      // Python's Markup.__add__ / __radd__ escape the plain operand.
      if (a.is_markup() || b.is_markup()) {
        return Value::markup((a.is_markup() ? a.as_string() : escape_html(a.as_string())) +
                             (b.is_markup() ? b.as_string() : escape_html(b.as_string())));
      }
      return Value(a.as_string() + b.as_string());
    }
    if (a.is_list() && b.is_list()) {
      List l = a.as_list();
      l.insert(l.end(), b.as_list().begin(), b.as_list().end());
      return Value(l);
    }
  }
  if (op == "*" && (a.is_string() || b.is_string()) && (a.is_int() || b.is_int())) {
    const std::string& s = a.is_string() ? a.as_string() : b.as_string();
    std::int64_t n = a.is_int() ? a.as_int() : b.as_int();
    if (n > 0 && s.size() * static_cast<std::size_t>(n) > (1u << 26)) throw BuiltinError("string repetition is too large");
    std::string out;
    for (std::int64_t i = 0; i < n; ++i) out += s;
    return Value(out);
  }
  if (!numeric(a) || !numeric(b)) {
    throw BuiltinError("unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" + b.type_name() + "'");
  }
  bool ints = !a.is_float() && !b.is_float();
  auto ia = static_cast<std::int64_t>(a.as_number()), ib = static_cast<std::int64_t>(b.as_number());
  double x = a.as_number(), y = b.as_number();
  if (op == "+") return ints ? Value(ia + ib) : Value(x + y);
  if (op == "-") return ints ? Value(ia - ib) : Value(x - y);
  if (op == "*") return ints ? Value(ia * ib) : Value(x * y);
  if (op == "/") {
    if (y == 0) throw BuiltinError("division by zero");
    return Value(x / y);
  }
  if (op == "//" || op == "%") {
    if (y == 0) throw BuiltinError(op == "//" ? "integer division by zero" : "modulo by zero");
    if (ints) {
      std::int64_t q = ia / ib, r = ia % ib;
      if (r != 0 && ((r < 0) != (ib < 0))) --q, r += ib;  // Python floors
      return op == "//" ? Value(q) : Value(r);
    }
    double q = std::floor(x / y);
    return op == "//" ? Value(q) : Value(x - q * y);
  }
  if (op == "**") {
    if (ints && ib >= 0) {
      std::int64_t r = 1;
      for (std::int64_t i = 0; i < ib && i < 64; ++i) r *= ia;
      return Value(r);
    }
    return Value(std::pow(x, y));
  }
  throw BuiltinError("unknown operator " + op);
}

bool apply_test(const std::string& name, const Value& v, Args& args) {
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "iterable") return v.is_list() || v.is_dict() || v.is_string();
  if (name == "sequence") return v.is_list() || v.is_dict() || v.is_string();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "callable") return v.is_callable();
  if (name == "odd" || name == "even") return v.is_int() && (v.as_int() % 2 != 0) == (name == "odd");
  if (name == "divisibleby") return v.is_int() && int_arg(args.get(0, "num"), "divisibleby") != 0 && v.as_int() % int_arg(args.get(0, "num"), "divisibleby") == 0;
  if (name == "eq" || name == "equalto" || name == "==") return v == args.get(0, "other");
  if (name == "ne" || name == "!=") return !(v == args.get(0, "other"));
  if (name == "lt" || name == "lessthan") return compare(v, args.get(0, "other")) < 0;
  if (name == "le") return compare(v, args.get(0, "other")) <= 0;
  if (name == "gt" || name == "greaterthan") return compare(v, args.get(0, "other")) > 0;
  if (name == "ge") return compare(v, args.get(0, "other")) >= 0;
  if (name == "in") return binary_op("in", v, args.get(0, "seq")).truthy();
  if (name == "sameas") return v == args.get(0, "other") && v.type_name() == args.get(0, "other").type_name();
  if (name == "lower") return v.is_string() && to_lower(v.as_string()) == v.as_string();
  if (name == "upper") return v.is_string() && upper(v.as_string()) == v.as_string();
  throw BuiltinError("unknown test '" + name + "'");
}

Value apply_filter(const std::string& name, const Value& input, Args& args, const TestFn& test) {
  if (name == "tojson") {
    Value indent = args.get(0, "indent");
    return Value(input.to_json(indent.is_int() ? static_cast<int>(indent.as_int()) : -1, args.get(99, "sort_keys", Value(false)).truthy()));
  }
  if (name == "length" || name == "count") return Value(length_of(input));
  if (name == "string") return Value(input.str());
  if (name == "safe") return Value::markup(input.str());
  if (name == "e" || name == "escape") return input.is_markup() ? input : Value::markup(escape_html(input.str()));
  if (name == "trim") return Value(strip(input.str(), args.get(0, "chars"), true, true));
  if (name == "upper") return Value(upper(input.str()));
  if (name == "lower") return Value(to_lower(input.str()));
  if (name == "capitalize") return Value(capitalize(input.str()));
  if (name == "title") return string_method(input.str(), "title").as_function()(args);
  if (name == "replace") {
    return Value(replace(input.str(), args.get(0, "old").str(), args.get(1, "new").str(), args.get(2, "count", Value(-1)).as_int()));
  }
  if (name == "default" || name == "d") {
    bool use_default = input.is_undefined() || (args.get(1, "boolean", Value(false)).truthy() && !input.truthy());
    return use_default ? args.get(0, "default_value", Value("")) : input;
  }
  if (name == "int") {
    if (input.is_number() || input.is_bool()) return Value(static_cast<std::int64_t>(input.as_number()));
    try {
      return Value(static_cast<std::int64_t>(std::stoll(input.str())));
    } catch (...) {
      return args.get(0, "default", Value(0));
    }
  }
  if (name == "float") {
    if (input.is_number() || input.is_bool()) return Value(input.as_number());
    try {
      return Value(std::stod(input.str()));
    } catch (...) {
      return args.get(0, "default", Value(0.0));
    }
  }
  if (name == "abs") return input.is_int() ? Value(static_cast<std::int64_t>(std::llabs(input.as_int()))) : Value(std::fabs(input.as_number()));
  if (name == "first" || name == "last") {
    List items = iterate(input);
    if (items.empty()) return Value::undefined(name);
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") return Value(iterate(input));
  if (name == "items") {
    if (!input.is_dict()) throw BuiltinError("items filter needs a mapping");
    List out;
    for (const auto& [k, v] : input.as_dict().items) out.emplace_back(List{Value(k), v});
    return Value(out);
  }
  if (name == "join") {
    List items = iterate(input);
    Value attribute = args.get(1, "attribute");
    std::string sep = args.get(0, "d", Value("")).str(), out;
    for (std::size_t i = 0; i < items.size(); ++i) {
      Value item = attribute.is_undefined() ? items[i] : get_item(items[i], attribute);
      out += (i ? sep : "") + item.str();
    }
    return Value(out);
  }
  if (name == "unique") {
    List out;
    for (const auto& item : iterate(input)) {
      if (std::none_of(out.begin(), out.end(), [&](const Value& o) { return o == item; })) out.push_back(item);
    }
    return Value(out);
  }
  if (name == "reverse") {
    if (input.is_string()) return slice(input, Value(), Value(), Value(-1));
    List items = iterate(input);
    std::reverse(items.begin(), items.end());
    return Value(items);
  }
  if (name == "sort") {
    List items = iterate(input);
    bool reverse = args.get(0, "reverse", Value(false)).truthy();
    Value attribute = args.get(2, "attribute");
    auto key = [&](const Value& v) { return attribute.is_undefined() ? v : get_item(v, attribute); };
    std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
      int c = compare(key(a), key(b));
      return reverse ? c > 0 : c < 0;
    });
    return Value(items);
  }
  if (name == "map") {
    List out;
    if (!input.truthy()) return Value(out);  // jinja2 skips falsy sequences here
    Value attribute = args.get(99, "attribute");
    for (const auto& item : iterate(input)) {
      if (!attribute.is_undefined()) {
        Value v = get_item(item, attribute);
        out.push_back(v.is_undefined() ? args.get(99, "default", v) : v);
      } else {
        Args rest;
        rest.positional.assign(args.positional.begin() + (args.positional.empty() ? 0 : 1), args.positional.end());
        out.push_back(apply_filter(args.get(0, "filter").str(), item, rest, test));
      }
    }
    return Value(out);
  }
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    bool by_attr = name == "selectattr" || name == "rejectattr";
    bool want = name == "select" || name == "selectattr";
    std::size_t test_index = by_attr ? 1 : 0;
    Args rest;
    if (args.positional.size() > test_index + 1) rest.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(test_index) + 1, args.positional.end());
    List out;
    if (!input.truthy()) return Value(out);  // jinja2 skips falsy sequences here
    for (const auto& item : iterate(input)) {
      Value subject = by_attr ? get_item(item, args.get(0, "attribute")) : item;
      bool pass = args.positional.size() > test_index ? test(args.positional[test_index].str(), subject, rest) : subject.truthy();
      if (pass == want) out.push_back(item);
    }
    return Value(out);
  }
  if (name == "indent") {
    std::int64_t width = args.get(0, "width", Value(4)).as_int();
    bool first = args.get(1, "first", Value(false)).truthy();
    std::string pad(static_cast<std::size_t>(std::max<std::int64_t>(0, width)), ' '), out;
    const std::string s = input.str();
    bool line_start = first;
    for (char c : s) {
      if (line_start && c != '\n') out += pad;
      line_start = false;
      out += c;
      if (c == '\n') line_start = true;
    }
    return Value(out);
  }
  if (name == "round") {
    std::int64_t precision = args.get(0, "precision", Value(0)).as_int();
    double scale = std::pow(10.0, static_cast<double>(precision));
    return Value(std::round(input.as_number() * scale) / scale);
  }
  throw BuiltinError("unknown filter '" + name + "'");
}

}  // namespace arle::text::jinja

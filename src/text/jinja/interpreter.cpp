#include "text/jinja/interpreter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "text/jinja/builtins.h"

namespace arle::text::jinja {
namespace {

enum class Flow { kNormal, kBreak, kContinue };

class Renderer {
 public:
  explicit Renderer(const Context& globals) {
    scopes_.emplace_back(globals);
    for (auto& [name, value] : builtin_globals()) {
      if (!scopes_[0].count(name)) scopes_[0][name] = value;
    }
  }

  std::string run(const Body& body) {
    std::string out;
    exec(body, out);
    return out;
  }

 private:
  [[noreturn]] static void fail(Location at, const std::string& message) {
    throw_error(ErrorCode::kInvalidArgument, "chat template error at line {}, column {}: {}", at.line, at.column, message);
  }

  Value lookup(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      if (auto found = it->find(name); found != it->end()) return found->second;
    }
    return Value::undefined(name);
  }

  Flow exec(const Body& body, std::string& out) {
    for (const auto& s : body) {
      Flow f = exec(*s, out);
      if (f != Flow::kNormal) return f;
    }
    return Flow::kNormal;
  }

  Flow exec(const Stmt& s, std::string& out) {
    try {
      switch (s.kind) {
        case Stmt::Kind::kText: out += s.text; return Flow::kNormal;
        case Stmt::Kind::kOutput: {
          Value v = eval(*s.expr);
          out += v.str();
          return Flow::kNormal;
        }
        case Stmt::Kind::kIf:
          for (const auto& [condition, body] : s.branches) {
            if (!condition || eval(*condition).truthy()) return exec(body, out);
          }
          return Flow::kNormal;
        case Stmt::Kind::kFor: return exec_for(s, out);
        case Stmt::Kind::kSet: assign(s, eval(*s.expr)); return Flow::kNormal;
        case Stmt::Kind::kSetBlock: {
          std::string captured;
          scopes_.emplace_back();
          exec(s.body, captured);
          scopes_.pop_back();
          assign(s, Value(captured));
          return Flow::kNormal;
        }
        case Stmt::Kind::kMacro: scopes_.back()[s.targets[0]] = make_macro(s); return Flow::kNormal;
        case Stmt::Kind::kCallBlock: {
          Value caller = make_macro(s);
          const Expr& call = *s.expr;
          if (call.kind != Expr::Kind::kCall) fail(s.where, "{% call %} needs a macro call");
          Args args = evaluate_args(call);
          args.keyword.emplace_back("caller", caller);
          Value fn = eval(*call.children[0]);
          if (!fn.is_callable()) fail(s.where, "{% call %} target is not callable");
          out += fn.as_function()(args).str();
          return Flow::kNormal;
        }
        case Stmt::Kind::kBreak: return Flow::kBreak;
        case Stmt::Kind::kContinue: return Flow::kContinue;
        case Stmt::Kind::kScope: return exec(s.body, out);
      }
    } catch (const BuiltinError& e) {
      fail(s.where, e.what());
    }
    return Flow::kNormal;
  }

  void assign(const Stmt& s, Value v) {
    const std::string& name = s.targets[0];
    const std::string& attr = s.targets[1];
    if (attr.empty()) {
      scopes_.back()[name] = std::move(v);
      return;
    }
    Value target = lookup(name);
    if (!target.is_namespace()) fail(s.where, "cannot set attribute '" + attr + "' of " + target.type_name() + " (only namespace() objects)");
    target.as_dict().set(attr, std::move(v));
  }

  Flow exec_for(const Stmt& s, std::string& out) {
    Value iterable = eval(*s.expr);
    List items = iterate(iterable);
    if (s.condition) {  // the "if" filter runs before loop.* is computed
      List kept;
      for (auto& item : items) {
        scopes_.emplace_back();
        bind_targets(s, item);
        bool keep = eval(*s.condition).truthy();
        scopes_.pop_back();
        if (keep) kept.push_back(item);
      }
      items = std::move(kept);
    }
    if (items.empty()) return exec(s.else_body, out);
    const auto n = static_cast<std::int64_t>(items.size());
    for (std::int64_t i = 0; i < n; ++i) {
      scopes_.emplace_back();
      Dict loop;
      loop.set("index", Value(i + 1));
      loop.set("index0", Value(i));
      loop.set("revindex", Value(n - i));
      loop.set("revindex0", Value(n - i - 1));
      loop.set("first", Value(i == 0));
      loop.set("last", Value(i == n - 1));
      loop.set("length", Value(n));
      loop.set("previtem", i > 0 ? items[static_cast<std::size_t>(i - 1)] : Value::undefined("previtem"));
      loop.set("nextitem", i + 1 < n ? items[static_cast<std::size_t>(i + 1)] : Value::undefined("nextitem"));
      loop.set("cycle", Value(Function([i](Args& a) {
                 if (a.positional.empty()) throw BuiltinError("loop.cycle needs arguments");
                 return a.positional[static_cast<std::size_t>(i) % a.positional.size()];
               })));
      scopes_.back()["loop"] = Value(std::move(loop));
      bind_targets(s, items[static_cast<std::size_t>(i)]);
      Flow f = exec(s.body, out);
      scopes_.pop_back();
      if (f == Flow::kBreak) break;
    }
    return Flow::kNormal;
  }

  void bind_targets(const Stmt& s, const Value& item) {
    if (s.targets.size() == 1) {
      scopes_.back()[s.targets[0]] = item;
      return;
    }
    List parts = iterate(item);
    if (parts.size() != s.targets.size()) {
      fail(s.where, fmt::format("cannot unpack {} values into {} loop variables", parts.size(), s.targets.size()));
    }
    for (std::size_t k = 0; k < parts.size(); ++k) scopes_.back()[s.targets[k]] = parts[k];
  }

  Value make_macro(const Stmt& s) {
    const Stmt* def = &s;
    return Value(Function([this, def](Args& args) {
      std::map<std::string, Value> frame;
      for (std::size_t k = 0; k < def->params.size(); ++k) {
        const auto& [name, fallback] = def->params[k];
        Value v = args.get(k, name);
        if (v.is_undefined() && fallback) v = eval(*fallback);
        frame[name] = v;
      }
      for (const auto& [key, value] : args.keyword) {
        if (key == "caller") frame["caller"] = value;
      }
      // Macros see the template's globals and their arguments, not the caller's locals.
      std::vector<std::map<std::string, Value>> saved(scopes_.begin() + 1, scopes_.end());
      scopes_.resize(1);
      scopes_.push_back(std::move(frame));
      std::string out;
      try {
        exec(def->body, out);
      } catch (...) {
        scopes_.resize(1);
        scopes_.insert(scopes_.end(), saved.begin(), saved.end());
        throw;
      }
      scopes_.resize(1);
      scopes_.insert(scopes_.end(), saved.begin(), saved.end());
      return Value(out);
    }));
  }

  Args evaluate_args(const Expr& e) {
    Args args;
    for (const auto& a : e.args) args.positional.push_back(eval(*a));
    for (const auto& [k, v] : e.kwargs) args.keyword.emplace_back(k, eval(*v));
    return args;
  }

  Value eval(const Expr& e) {
    try {
      return eval_inner(e);
    } catch (const BuiltinError& err) {
      fail(e.where, err.what());
    }
  }

  Value eval_inner(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kLiteral: return e.literal;
      case Expr::Kind::kName: return lookup(e.name);
      case Expr::Kind::kList: {
        List l;
        for (const auto& c : e.children) l.push_back(eval(*c));
        return Value(std::move(l));
      }
      case Expr::Kind::kDict: {
        Dict d;
        for (std::size_t k = 0; k + 1 < e.children.size(); k += 2) {
          Value key = eval(*e.children[k]);
          d.set(key.str(), eval(*e.children[k + 1]));
        }
        return Value(std::move(d));
      }
      case Expr::Kind::kAttr: return get_attribute(eval(*e.children[0]), e.name);
      case Expr::Kind::kIndex: return get_item(eval(*e.children[0]), eval(*e.children[1]));
      case Expr::Kind::kSlice: {
        Value target = eval(*e.children[0]);
        Value parts[3];
        for (int k = 0; k < 3; ++k) {
          if (e.children[static_cast<std::size_t>(k) + 1]) parts[k] = eval(*e.children[static_cast<std::size_t>(k) + 1]);
        }
        return slice(target, parts[0], parts[1], parts[2]);
      }
      case Expr::Kind::kCall: {
        Value fn = eval(*e.children[0]);
        if (fn.is_undefined()) throw BuiltinError("'" + fn.undefined_name() + "' is undefined");
        if (!fn.is_callable()) throw BuiltinError("'" + fn.type_name() + "' object is not callable");
        Args args = evaluate_args(e);
        return fn.as_function()(args);
      }
      case Expr::Kind::kFilter: {
        Value input = eval(*e.children[0]);
        Args args = evaluate_args(e);
        return apply_filter(e.name, input, args, [this](const std::string& test, const Value& v, Args& a) {
          return apply_test(test, v, a);
        });
      }
      case Expr::Kind::kTest: {
        Value input = eval(*e.children[0]);
        Args args = evaluate_args(e);
        return Value(apply_test(e.name, input, args) != e.negated);
      }
      case Expr::Kind::kNot: return Value(!eval(*e.children[0]).truthy());
      case Expr::Kind::kNeg: {
        Value v = eval(*e.children[0]);
        if (v.is_int()) return Value(-v.as_int());
        if (v.is_float()) return Value(-v.as_number());
        throw BuiltinError("bad operand type for unary -: '" + v.type_name() + "'");
      }
      case Expr::Kind::kAnd: {
        Value a = eval(*e.children[0]);
        return a.truthy() ? eval(*e.children[1]) : a;
      }
      case Expr::Kind::kOr: {
        Value a = eval(*e.children[0]);
        return a.truthy() ? a : eval(*e.children[1]);
      }
      case Expr::Kind::kConditional: {
        if (eval(*e.children[0]).truthy()) return eval(*e.children[1]);
        return e.children[2] ? eval(*e.children[2]) : Value::undefined("else");
      }
      case Expr::Kind::kBinary: {
        Value a = eval(*e.children[0]);
        Value b = eval(*e.children[1]);
        Value r = binary_op(e.name, a, b);
        return e.negated ? Value(!r.truthy()) : r;
      }
    }
    return Value();
  }

  std::vector<std::map<std::string, Value>> scopes_;
};

}  // namespace

std::string render(const Template& tmpl, const Context& globals) {
  Renderer r(globals);
  return r.run(tmpl.body);
}

}  // namespace arle::text::jinja

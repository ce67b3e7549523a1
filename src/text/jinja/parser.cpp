#include "text/jinja/parser.h"

#include <cctype>

#include "common/error.h"

namespace arle::text::jinja {
namespace {

// ---- Splitting the source into text and tags --------------------------------

struct Piece {
  enum class Kind { kText, kOutput, kStatement } kind;
  std::string text;  // text, or the tag's inside
  Location where;
};

[[noreturn]] void fail(Location at, const std::string& message) {
  throw_error(ErrorCode::kInvalidArgument, "chat template error at line {}, column {}: {}", at.line, at.column, message);
}

class Splitter {
 public:
  explicit Splitter(std::string_view src) : src_(src) {}

  std::vector<Piece> run() {
    std::vector<Piece> pieces;
    std::size_t pos = 0;
    bool trim_next = false;  // strip leading whitespace of the next text ("-%}")
    bool newline_next = false;  // trim_blocks: drop one newline after a block tag
    while (pos <= src_.size()) {
      std::size_t open = find_tag(pos);
      std::string text(src_.substr(pos, (open == std::string_view::npos ? src_.size() : open) - pos));
      char kind = open == std::string_view::npos ? '\0' : src_[open + 1];
      char modifier = open != std::string_view::npos && open + 2 < src_.size() ? src_[open + 2] : '\0';
      // Whitespace before a tag first (on the raw text, as Jinja's lexer does) ...
      if (modifier == '-') {
        while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
      } else if (open != std::string_view::npos && kind != '{' && modifier != '+') {
        // lstrip_blocks: spaces between a line start and a block tag go.
        std::size_t k = text.size();
        while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == '\t')) --k;
        bool line_start = k > 0 ? text[k - 1] == '\n' : (pos == 0 || src_[pos - 1] == '\n');
        if (line_start) text.erase(k);
      }
      // ... then whitespace after the previous tag.
      if (trim_next) {
        std::size_t k = 0;
        while (k < text.size() && std::isspace(static_cast<unsigned char>(text[k]))) ++k;
        text.erase(0, k);
      } else if (newline_next) {
        if (text.rfind("\r\n", 0) == 0) {
          text.erase(0, 2);
        } else if (!text.empty() && text[0] == '\n') {
          text.erase(0, 1);
        }
      }
      trim_next = newline_next = false;
      if (open == std::string_view::npos) {
        if (!text.empty()) pieces.push_back({Piece::Kind::kText, text, location(pos)});
        break;
      }
      if (!text.empty()) pieces.push_back({Piece::Kind::kText, text, location(pos)});

      std::size_t inner = open + 2 + ((modifier == '-' || modifier == '+') ? 1 : 0);
      const char* close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
      std::size_t end = find_close(inner, close, kind);
      if (end == std::string_view::npos) fail(location(open), std::string("unclosed tag, expected '") + close + "'");
      bool right_trim = end > inner && src_[end - 1] == '-';
      bool keep_newline = end > inner && src_[end - 1] == '+';
      std::string body(src_.substr(inner, end - inner - ((right_trim || keep_newline) ? 1 : 0)));
      pos = end + 2;
      trim_next = right_trim;
      newline_next = kind != '{' && !right_trim && !keep_newline;
      if (kind == '#') continue;
      Location where = location(open);
      if (kind == '%' && is_raw(body)) {
        std::size_t raw_end = find_endraw(pos);
        if (raw_end == std::string_view::npos) fail(where, "{% raw %} without {% endraw %}");
        pieces.push_back({Piece::Kind::kText, std::string(src_.substr(pos, raw_end - pos)), where});
        pos = src_.find("%}", raw_end) + 2;
        continue;
      }
      pieces.push_back({kind == '{' ? Piece::Kind::kOutput : Piece::Kind::kStatement, body, where});
    }
    return pieces;
  }

 private:
  Location location(std::size_t offset) const {
    Location l;
    for (std::size_t i = 0; i < offset && i < src_.size(); ++i) {
      if (src_[i] == '\n') {
        ++l.line;
        l.column = 1;
      } else {
        ++l.column;
      }
    }
    return l;
  }
  std::size_t find_tag(std::size_t from) const {
    for (std::size_t i = from; i + 1 < src_.size(); ++i) {
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string_view::npos;
  }
  // The closing delimiter, skipping string literals inside expressions.
  std::size_t find_close(std::size_t from, const char* close, char kind) const {
    char quote = 0;
    for (std::size_t i = from; i + 1 < src_.size(); ++i) {
      char c = src_[i];
      if (kind != '#') {
        if (quote) {
          if (c == '\\') {
            ++i;
          } else if (c == quote) {
            quote = 0;
          }
          continue;
        }
        if (c == '\'' || c == '"') {
          quote = c;
          continue;
        }
      }
      if (c == close[0] && src_[i + 1] == close[1]) return i;
    }
    return std::string_view::npos;
  }
  static bool is_raw(const std::string& body) {
    std::size_t b = body.find_first_not_of(" \t\n");
    return b != std::string::npos && body.compare(b, 3, "raw") == 0 && body.find_first_not_of(" \t\n", b + 3) == std::string::npos;
  }
  std::size_t find_endraw(std::size_t from) const {
    for (std::size_t i = src_.find("{%", from); i != std::string_view::npos; i = src_.find("{%", i + 2)) {
      std::size_t j = i + 2;
      if (j < src_.size() && (src_[j] == '-' || src_[j] == '+')) ++j;
      while (j < src_.size() && std::isspace(static_cast<unsigned char>(src_[j]))) ++j;
      if (src_.compare(j, 6, "endraw") == 0) return i;
    }
    return std::string_view::npos;
  }

  std::string_view src_;
};

// ---- Tokens inside a tag ------------------------------------------------------

struct Token {
  enum class Kind { kName, kString, kInt, kFloat, kOp, kEnd } kind;
  std::string text;
  Value value;
};

std::vector<Token> lex(const std::string& s, Location where) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      tokens.push_back({Token::Kind::kName, s.substr(i, j - i), {}});
      i = j;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      std::size_t j = i;
      bool is_float = false;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      if (j + 1 < s.size() && s[j] == '.' && std::isdigit(static_cast<unsigned char>(s[j + 1]))) {
        is_float = true;
        ++j;
        while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      }
      if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
        std::size_t k = j + 1;
        if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
        if (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) {
          is_float = true;
          j = k;
          while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
        }
      }
      std::string digits;
      for (std::size_t k = i; k < j; ++k) {
        if (s[k] != '_') digits += s[k];
      }
      try {
        tokens.push_back(is_float ? Token{Token::Kind::kFloat, digits, Value(std::stod(digits))}
                                  : Token{Token::Kind::kInt, digits, Value(static_cast<std::int64_t>(std::stoll(digits)))});
      } catch (const std::exception&) {
        fail(where, "number '" + digits + "' is out of range");
      }
      i = j;
      continue;
    }
    if (c == '\'' || c == '"') {
      std::string value;
      std::size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (s[j] != '\\' || j + 1 >= s.size()) {
          value += s[j];
          continue;
        }
        char e = s[++j];
        switch (e) {
          case 'n': value += '\n'; break;
          case 't': value += '\t'; break;
          case 'r': value += '\r'; break;
          case '\\': value += '\\'; break;
          case '\'': value += '\''; break;
          case '"': value += '"'; break;
          case '\n': break;
          default: value += '\\', value += e;
        }
      }
      if (j >= s.size()) fail(where, "unterminated string literal");
      tokens.push_back({Token::Kind::kString, value, Value(value)});
      i = j + 1;
      continue;
    }
    static const char* const kOps[] = {"**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">",
                                       "(", ")", "[", "]", "{", "}", ",", ".", ":", "|", "="};
    bool matched = false;
    for (const char* op : kOps) {
      std::size_t n = std::char_traits<char>::length(op);
      if (s.compare(i, n, op) == 0) {
        tokens.push_back({Token::Kind::kOp, op, {}});
        i += n;
        matched = true;
        break;
      }
    }
    if (!matched) fail(where, std::string("unexpected character '") + c + "'");
  }
  tokens.push_back({Token::Kind::kEnd, "", {}});
  return tokens;
}

// ---- Expressions --------------------------------------------------------------

class ExprParser {
 public:
  ExprParser(std::vector<Token> tokens, Location where) : t_(std::move(tokens)), where_(where) {}

  const Token& peek(std::size_t ahead = 0) const { return t_[std::min(pos_ + ahead, t_.size() - 1)]; }
  bool at_end() const { return peek().kind == Token::Kind::kEnd; }
  bool is_op(const char* op, std::size_t ahead = 0) const { return peek(ahead).kind == Token::Kind::kOp && peek(ahead).text == op; }
  bool is_name(const char* name, std::size_t ahead = 0) const {
    return peek(ahead).kind == Token::Kind::kName && peek(ahead).text == name;
  }
  bool accept_op(const char* op) {
    if (!is_op(op)) return false;
    ++pos_;
    return true;
  }
  bool accept_name(const char* name) {
    if (!is_name(name)) return false;
    ++pos_;
    return true;
  }
  void expect_op(const char* op) {
    if (!accept_op(op)) fail(where_, std::string("expected '") + op + "' but found '" + peek().text + "'");
  }
  std::string expect_name() {
    if (peek().kind != Token::Kind::kName) fail(where_, "expected a name but found '" + peek().text + "'");
    return t_[pos_++].text;
  }
  void expect_end() {
    if (!at_end()) fail(where_, "unexpected '" + peek().text + "'");
  }

  ExprPtr expression() {  // conditional
    ExprPtr value = or_expr();
    if (accept_name("if")) {
      auto e = node(Expr::Kind::kConditional);
      ExprPtr condition = or_expr();
      ExprPtr otherwise = accept_name("else") ? expression() : nullptr;
      e->children.push_back(std::move(condition));
      e->children.push_back(std::move(value));
      e->children.push_back(std::move(otherwise));
      return e;
    }
    return value;
  }

  ExprPtr or_expr() {
    ExprPtr left = and_expr();
    while (accept_name("or")) left = binary(Expr::Kind::kOr, "or", std::move(left), and_expr());
    return left;
  }
  ExprPtr and_expr() {
    ExprPtr left = not_expr();
    while (accept_name("and")) left = binary(Expr::Kind::kAnd, "and", std::move(left), not_expr());
    return left;
  }
  ExprPtr not_expr() {
    if (accept_name("not")) {
      auto e = node(Expr::Kind::kNot);
      e->children.push_back(not_expr());
      return e;
    }
    return compare();
  }
  ExprPtr compare() {
    ExprPtr left = math1();
    while (true) {
      for (const char* op : {"==", "!=", "<=", ">=", "<", ">"}) {
        if (accept_op(op)) {
          left = binary(Expr::Kind::kBinary, op, std::move(left), math1());
          goto next;
        }
      }
      if (accept_name("in")) {
        left = binary(Expr::Kind::kBinary, "in", std::move(left), math1());
        continue;
      }
      if (is_name("not") && is_name("in", 1)) {
        pos_ += 2;
        left = binary(Expr::Kind::kBinary, "in", std::move(left), math1());
        left->negated = true;
        continue;
      }
      return left;
    next:;
    }
  }
  ExprPtr math1() {
    ExprPtr left = concat();
    while (is_op("+") || is_op("-")) {
      std::string op = t_[pos_++].text;
      left = binary(Expr::Kind::kBinary, op, std::move(left), concat());
    }
    return left;
  }
  ExprPtr concat() {
    ExprPtr left = math2();
    while (accept_op("~")) left = binary(Expr::Kind::kBinary, "~", std::move(left), math2());
    return left;
  }
  ExprPtr math2() {
    ExprPtr left = power();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = t_[pos_++].text;
      left = binary(Expr::Kind::kBinary, op, std::move(left), power());
    }
    return left;
  }
  ExprPtr power() {
    ExprPtr left = unary();
    while (accept_op("**")) left = binary(Expr::Kind::kBinary, "**", std::move(left), unary());
    return left;
  }
  ExprPtr unary() {
    if (accept_op("-")) {
      auto e = node(Expr::Kind::kNeg);
      e->children.push_back(unary());
      return e;
    }
    if (accept_op("+")) return unary();
    return filters(postfix(primary()));
  }

  ExprPtr primary() {
    const Token& tok = peek();
    if (tok.kind == Token::Kind::kString) {
      // Adjacent string literals concatenate, as in Python.
      std::string s;
      while (peek().kind == Token::Kind::kString) s += t_[pos_++].text;
      return literal(Value(s));
    }
    if (tok.kind == Token::Kind::kInt || tok.kind == Token::Kind::kFloat) {
      ++pos_;
      return literal(tok.value);
    }
    if (tok.kind == Token::Kind::kName) {
      ++pos_;
      if (tok.text == "true" || tok.text == "True") return literal(Value(true));
      if (tok.text == "false" || tok.text == "False") return literal(Value(false));
      if (tok.text == "none" || tok.text == "None") return literal(Value(None{}));
      auto e = node(Expr::Kind::kName);
      e->name = tok.text;
      return e;
    }
    if (accept_op("(")) {
      if (accept_op(")")) return node(Expr::Kind::kList);  // empty tuple
      ExprPtr first = expression();
      if (!is_op(",")) {
        expect_op(")");
        return first;
      }
      auto tuple = node(Expr::Kind::kList);
      tuple->children.push_back(std::move(first));
      while (accept_op(",") && !is_op(")")) tuple->children.push_back(expression());
      expect_op(")");
      return tuple;
    }
    if (accept_op("[")) {
      auto list = node(Expr::Kind::kList);
      while (!is_op("]")) {
        list->children.push_back(expression());
        if (!accept_op(",")) break;
      }
      expect_op("]");
      return list;
    }
    if (accept_op("{")) {
      auto dict = node(Expr::Kind::kDict);
      while (!is_op("}")) {
        dict->children.push_back(expression());
        expect_op(":");
        dict->children.push_back(expression());
        if (!accept_op(",")) break;
      }
      expect_op("}");
      return dict;
    }
    fail(where_, "unexpected '" + (tok.kind == Token::Kind::kEnd ? std::string("end of tag") : tok.text) + "'");
  }

  ExprPtr postfix(ExprPtr e) {
    while (true) {
      if (accept_op(".")) {
        auto a = node(Expr::Kind::kAttr);
        a->name = peek().kind == Token::Kind::kInt ? t_[pos_++].text : expect_name();
        a->children.push_back(std::move(e));
        e = std::move(a);
      } else if (accept_op("[")) {
        e = subscript(std::move(e));
      } else if (is_op("(")) {
        auto c = node(Expr::Kind::kCall);
        c->children.push_back(std::move(e));
        call_arguments(*c);
        e = std::move(c);
      } else {
        return e;
      }
    }
  }

  ExprPtr subscript(ExprPtr target) {
    ExprPtr parts[3];
    bool slice = false;
    for (int i = 0; i < 3; ++i) {
      if (!is_op(":") && !is_op("]")) parts[i] = expression();
      if (i < 2 && accept_op(":")) {
        slice = true;
        continue;
      }
      break;
    }
    expect_op("]");
    auto e = node(slice ? Expr::Kind::kSlice : Expr::Kind::kIndex);
    e->children.push_back(std::move(target));
    for (auto& p : parts) {
      if (slice || p) e->children.push_back(std::move(p));
    }
    return e;
  }

  void call_arguments(Expr& e) {
    expect_op("(");
    while (!is_op(")")) {
      if (peek().kind == Token::Kind::kName && is_op("=", 1)) {
        std::string key = t_[pos_].text;
        pos_ += 2;
        e.kwargs.emplace_back(key, expression());
      } else {
        e.args.push_back(expression());
      }
      if (!accept_op(",")) break;
    }
    expect_op(")");
  }

  ExprPtr filters(ExprPtr e) {
    while (true) {
      if (accept_op("|")) {
        auto f = node(Expr::Kind::kFilter);
        f->name = expect_name();
        f->children.push_back(std::move(e));
        if (is_op("(")) call_arguments(*f);
        e = postfix(std::move(f));
      } else if (accept_name("is")) {
        auto t = node(Expr::Kind::kTest);
        t->negated = accept_name("not");
        t->name = expect_name();
        t->children.push_back(std::move(e));
        if (is_op("(")) {
          call_arguments(*t);
        } else if (peek().kind == Token::Kind::kString || peek().kind == Token::Kind::kInt ||
                   peek().kind == Token::Kind::kFloat ||
                   (peek().kind == Token::Kind::kName && !is_name("and") && !is_name("or") && !is_name("else") &&
                    !is_name("if") && !is_name("is") && !is_name("in") && !is_name("not"))) {
          t->args.push_back(primary());  // "is divisibleby 3", "is sameas none"
        }
        e = std::move(t);
      } else {
        return e;
      }
    }
  }

 private:
  ExprPtr node(Expr::Kind kind) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->where = where_;
    return e;
  }
  ExprPtr literal(Value v) {
    auto e = node(Expr::Kind::kLiteral);
    e->literal = std::move(v);
    return e;
  }
  ExprPtr binary(Expr::Kind kind, std::string op, ExprPtr a, ExprPtr b) {
    auto e = node(kind);
    e->name = std::move(op);
    e->children.push_back(std::move(a));
    e->children.push_back(std::move(b));
    return e;
  }

  std::vector<Token> t_;
  std::size_t pos_ = 0;
  Location where_;
};

// ---- Statements ---------------------------------------------------------------

class StmtParser {
 public:
  explicit StmtParser(std::vector<Piece> pieces) : pieces_(std::move(pieces)) {}

  Body parse_until(const std::vector<std::string>& enders, std::string* found) {
    Body body;
    while (pos_ < pieces_.size()) {
      Piece& p = pieces_[pos_];
      if (p.kind == Piece::Kind::kText) {
        auto s = make(Stmt::Kind::kText, p.where);
        s->text = std::move(p.text);
        body.push_back(std::move(s));
        ++pos_;
        continue;
      }
      if (p.kind == Piece::Kind::kOutput) {
        ExprParser e(lex(p.text, p.where), p.where);
        auto s = make(Stmt::Kind::kOutput, p.where);
        s->expr = e.expression();
        e.expect_end();
        body.push_back(std::move(s));
        ++pos_;
        continue;
      }
      ExprParser e(lex(p.text, p.where), p.where);
      std::string keyword = e.at_end() ? "" : e.peek().text;
      for (const auto& ender : enders) {
        if (keyword == ender) {
          if (found) *found = ender;
          return body;
        }
      }
      ++pos_;
      body.push_back(statement(keyword, e, p.where));
    }
    if (!enders.empty()) fail(pieces_.empty() ? Location{} : pieces_.back().where, "missing {% " + enders.back() + " %}");
    return body;
  }

 private:
  StmtPtr make(Stmt::Kind kind, Location where) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->where = where;
    return s;
  }

  // The closing tag's parser, already past its keyword.
  ExprParser close_tag(const std::string& keyword) {
    Piece& p = pieces_[pos_++];
    ExprParser e(lex(p.text, p.where), p.where);
    if (e.expect_name() != keyword) fail(p.where, "expected " + keyword);
    return e;
  }

  StmtPtr statement(const std::string& keyword, ExprParser& e, Location where) {
    e.expect_name();
    if (keyword == "if") {
      auto s = make(Stmt::Kind::kIf, where);
      ExprPtr condition = e.expression();
      e.expect_end();
      while (true) {
        std::string found;
        Body body = parse_until({"elif", "else", "endif"}, &found);
        s->branches.emplace_back(std::move(condition), std::move(body));
        ExprParser closing = close_tag(found);
        if (found == "endif") break;
        if (found == "else") {
          closing.expect_end();
          s->branches.emplace_back(nullptr, parse_until({"endif"}, nullptr));
          close_tag("endif");
          break;
        }
        condition = closing.expression();
        closing.expect_end();
      }
      return s;
    }
    if (keyword == "for") {
      auto s = make(Stmt::Kind::kFor, where);
      s->targets.push_back(e.expect_name());
      while (e.accept_op(",")) s->targets.push_back(e.expect_name());
      if (!e.accept_name("in")) fail(where, "expected 'in' in for loop");
      s->expr = e.or_expr();
      if (e.accept_name("if")) s->condition = e.expression();
      e.accept_name("recursive");
      e.expect_end();
      std::string found;
      s->body = parse_until({"else", "endfor"}, &found);
      close_tag(found);
      if (found == "else") {
        s->else_body = parse_until({"endfor"}, nullptr);
        close_tag("endfor");
      }
      return s;
    }
    if (keyword == "set") {
      std::string name = e.expect_name();
      std::string attr = e.accept_op(".") ? e.expect_name() : "";
      if (e.at_end()) {  // {% set x %}...{% endset %}
        auto s = make(Stmt::Kind::kSetBlock, where);
        s->targets = {name, attr};
        s->body = parse_until({"endset"}, nullptr);
        close_tag("endset");
        return s;
      }
      auto s = make(Stmt::Kind::kSet, where);
      s->targets = {name, attr};
      e.expect_op("=");
      s->expr = e.expression();
      e.expect_end();
      return s;
    }
    if (keyword == "macro") {
      auto s = make(Stmt::Kind::kMacro, where);
      s->targets.push_back(e.expect_name());
      parameters(e, *s);
      e.expect_end();
      s->body = parse_until({"endmacro"}, nullptr);
      close_tag("endmacro");
      return s;
    }
    if (keyword == "call") {
      auto s = make(Stmt::Kind::kCallBlock, where);
      if (e.is_op("(")) parameters(e, *s);
      s->expr = e.expression();
      e.expect_end();
      s->body = parse_until({"endcall"}, nullptr);
      close_tag("endcall");
      return s;
    }
    if (keyword == "break" || keyword == "continue") {
      e.expect_end();
      return make(keyword == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue, where);
    }
    if (keyword == "generation") {  // transformers' assistant-mask marker: renders its body
      e.expect_end();
      auto s = make(Stmt::Kind::kScope, where);
      s->body = parse_until({"endgeneration"}, nullptr);
      close_tag("endgeneration");
      return s;
    }
    fail(where, "unknown statement '" + keyword + "'");
  }

  void parameters(ExprParser& e, Stmt& s) {
    e.expect_op("(");
    while (!e.is_op(")")) {
      std::string name = e.expect_name();
      ExprPtr fallback = e.accept_op("=") ? e.expression() : nullptr;
      s.params.emplace_back(name, std::move(fallback));
      if (!e.accept_op(",")) break;
    }
    e.expect_op(")");
  }

  std::vector<Piece> pieces_;
  std::size_t pos_ = 0;
};

}  // namespace

Template parse_template(std::string_view source) {
  StmtParser parser(Splitter(source).run());
  Template t;
  t.body = parser.parse_until({}, nullptr);
  return t;
}

}  // namespace arle::text::jinja

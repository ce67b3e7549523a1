#pragma once
// The syntax tree of a parsed template. Every node keeps its line and column
// so that render errors point at the template source.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "text/jinja/value.h"

namespace arle::text::jinja {

struct Location {
  int line = 1, column = 1;
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral, kName, kList, kDict, kAttr, kIndex, kSlice, kCall, kFilter, kTest,
    kNot, kNeg, kBinary, kAnd, kOr, kConditional,
  };
  Kind kind;
  Location where;
  Value literal;                 // kLiteral
  std::string name;              // kName, kAttr, kFilter, kTest, kBinary operator
  bool negated = false;          // "is not", "not in"
  std::vector<ExprPtr> children; // operands; list items; dict key/value pairs; slice start/stop/step (may be null)
  std::vector<ExprPtr> args;     // call / filter / test arguments
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  enum class Kind { kText, kOutput, kIf, kFor, kSet, kSetBlock, kMacro, kCallBlock, kBreak, kContinue, kScope };
  Kind kind;
  Location where;
  std::string text;                             // kText
  ExprPtr expr;                                 // kOutput; kFor iterable; kSet value; kCallBlock call
  std::vector<std::pair<ExprPtr, Body>> branches;  // kIf (null condition = else)
  std::vector<std::string> targets;             // kFor loop variables; kSet/kSetBlock name (+ attribute)
  ExprPtr condition;                            // kFor "if" filter
  Body body;                                    // kFor, kSetBlock, kMacro, kCallBlock, kScope
  Body else_body;                               // kFor
  std::vector<std::pair<std::string, ExprPtr>> params;  // kMacro, kCallBlock caller params
};

struct Template {
  Body body;
};

}  // namespace arle::text::jinja

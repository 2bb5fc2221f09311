#ifndef STRATA_CLI_TEMPLATE_AST_H_
#define STRATA_CLI_TEMPLATE_AST_H_

// The parsed form of a template (cli/template.h), shared by its parser and its evaluator.

#include <memory>
#include <string>
#include <vector>

#include "cli/template.h"

namespace strata::cli::template_internal {

struct Pipeline;

// One argument of a command.
struct Operand {
  enum Kind { kDot, kField, kVariable, kString, kNumber, kBool, kNil, kFunction, kPipeline };
  Kind kind = kDot;
  std::string name;                // variable ("$x", "$"), function name
  std::vector<std::string> chain;  // fields after it: .A.B
  Json literal;                    // string, number, bool
  std::shared_ptr<Pipeline> pipeline;
  size_t pos = 0;
  std::string text;  // as written, for errors: <.Config.Foo>
};

struct Command {
  std::vector<Operand> args;
  size_t pos = 0;
  std::string text;
};

struct Pipeline {
  std::vector<std::string> declarations;  // "$i", "$v" of `$i, $v :=`
  bool assign = false;                    // `=` rather than `:=`
  std::vector<Command> commands;
  size_t pos = 0;
};

struct Node {
  enum Kind { kList, kText, kAction, kIf, kRange, kWith };
  Kind kind = kList;
  std::string text;
  Pipeline pipeline;
  std::vector<std::shared_ptr<Node>> list;
  std::shared_ptr<Node> else_list;  // a kList, or null
  size_t pos = 0;
};

// Errors: INVALID_ARGUMENT with Go's parse errors.
absl::StatusOr<std::shared_ptr<Node>> ParseTemplate(absl::string_view text);

// The functions the parser accepts.
bool IsFunction(const std::string& name);

}  // namespace strata::cli::template_internal

#endif  // STRATA_CLI_TEMPLATE_AST_H_

// The evaluator of cli/template.h: walks the parsed template over a JSON value, with Go's
// rules for fields, truth, range and variables, and its words for errors.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "cli/template.h"
#include "cli/template_ast.h"
#include "cli/template_funcs.h"

namespace strata::cli {
namespace {

using template_internal::Command;
using template_internal::Node;
using template_internal::Operand;
using template_internal::Pipeline;

// What a nil printed on its own shows. docker evaluates its typed structs first: there a nil
// slice prints "[]", a nil map "map[]", a nil pointer "<nil>".
std::string NullText(const std::string& field) {
  static const char* kMaps[] = {"Labels", "Volumes", "ExposedPorts", "Data", "Options",
                                "PortBindings", "Networks", "Ports", "DriverOpts"};
  static const char* kPointers[] = {"Healthcheck", "Health", "ContainerConfig", "Metadata",
                                    "Config", "State", "NetworkSettings", "HostConfig"};
  for (const char* name : kMaps) {
    if (field == name) return "map[]";
  }
  for (const char* name : kPointers) {
    if (field == name) return "<nil>";
  }
  return "[]";
}

class Executor {
 public:
  Executor(absl::string_view source, const Json& root, const TemplateOptions& options)
      : source_(source), root_(root), options_(options) {}

  absl::StatusOr<std::string> Run(const Node& node) {
    vars_.push_back({"$", root_});
    if (absl::Status walked = Walk(node, root_); !walked.ok()) return walked;
    return std::move(out_);
  }

 private:
  absl::Status Error(size_t pos, const std::string& context, const std::string& message) const {
    const size_t line_start = source_.rfind('\n', pos == 0 ? 0 : pos - 1);
    const size_t column = line_start == absl::string_view::npos || pos == 0 ? pos
                                                                             : pos - line_start - 1;
    const int line = 1 + static_cast<int>(std::count(source_.begin(), source_.begin() + pos, '\n'));
    return absl::InvalidArgumentError(absl::StrCat("template: :", line, ":", column,
                                                   ": executing \"\" at <", context, ">: ",
                                                   message));
  }

  absl::Status Walk(const Node& node, const Json& dot) {
    switch (node.kind) {
      case Node::kList:
        for (const auto& child : node.list) {
          if (absl::Status walked = Walk(*child, dot); !walked.ok()) return walked;
        }
        return absl::OkStatus();
      case Node::kText:
        out_ += node.text;
        return absl::OkStatus();
      case Node::kAction: {
        absl::StatusOr<Json> value = EvalPipeline(node.pipeline, dot);
        if (!value.ok()) return value.status();
        if (!node.pipeline.declarations.empty()) return absl::OkStatus();
        if (value->is_null()) {
          const Command& last = node.pipeline.commands.back();
          const Operand& operand = last.args.back();
          if (options_.header) return absl::OkStatus();
          // A function's nil result, or a nil given by name, is Go's "<no value>".
          if (last.args.size() > 1 || operand.kind == Operand::kFunction ||
              operand.kind == Operand::kNil) {
            out_ += "<no value>";
          } else {
            out_ += NullText(operand.chain.empty() ? "" : operand.chain.back());
          }
          return absl::OkStatus();
        }
        out_ += GoPrint(*value);
        return absl::OkStatus();
      }
      case Node::kIf:
      case Node::kWith: {
        const size_t depth = vars_.size();
        absl::StatusOr<Json> value = EvalPipeline(node.pipeline, dot);
        if (!value.ok()) return value.status();
        absl::Status walked = absl::OkStatus();
        if (template_internal::Truth(*value)) {
          Node body;
          body.list = node.list;
          walked = Walk(body, node.kind == Node::kWith ? *value : dot);
        } else if (node.else_list != nullptr) {
          walked = Walk(*node.else_list, dot);
        }
        vars_.resize(depth);
        return walked;
      }
      case Node::kRange:
        return Range(node, dot);
    }
    return absl::OkStatus();
  }

  absl::Status Range(const Node& node, const Json& dot) {
    const size_t depth = vars_.size();
    Pipeline pipeline = node.pipeline;
    std::vector<std::string> names = pipeline.declarations;
    pipeline.declarations.clear();
    absl::StatusOr<Json> value = EvalPipeline(pipeline, dot);
    if (!value.ok()) return value.status();
    std::vector<std::pair<Json, Json>> elements;
    if (value->is_array()) {
      for (size_t i = 0; i < value->size(); ++i) elements.push_back({Json(i), (*value)[i]});
    } else if (value->is_object()) {
      std::vector<std::string> keys;
      for (const auto& item : value->items()) keys.push_back(item.key());
      std::sort(keys.begin(), keys.end());  // Go ranges over a map in key order
      for (const std::string& key : keys) elements.push_back({Json(key), (*value)[key]});
    } else if (!value->is_null()) {
      return Error(node.pipeline.pos, node.pipeline.commands.back().text,
                   absl::StrCat("range can't iterate over ", GoPrint(*value)));
    }
    Node body;
    body.list = node.list;
    for (const auto& [key, element] : elements) {
      if (names.size() == 1) vars_.push_back({names[0], element});
      if (names.size() >= 2) {
        vars_.push_back({names[0], key});
        vars_.push_back({names[1], element});
      }
      absl::Status walked = Walk(body, element);
      vars_.resize(depth);
      if (!walked.ok()) return walked;
    }
    if (elements.empty() && node.else_list != nullptr) return Walk(*node.else_list, dot);
    return absl::OkStatus();
  }

  absl::StatusOr<Json> EvalPipeline(const Pipeline& pipeline, const Json& dot) {
    Json value;
    bool piped = false;
    for (const Command& command : pipeline.commands) {
      absl::StatusOr<Json> result = EvalCommand(command, dot, piped ? &value : nullptr);
      if (!result.ok()) return result.status();
      value = *std::move(result);
      piped = true;
    }
    for (const std::string& name : pipeline.declarations) {
      if (pipeline.assign) {
        auto found = std::find_if(vars_.rbegin(), vars_.rend(),
                                  [&name](const auto& var) { return var.first == name; });
        if (found == vars_.rend()) {
          return Error(pipeline.pos, name, absl::StrCat("undefined variable: ", name));
        }
        found->second = value;
      } else {
        vars_.push_back({name, value});
      }
    }
    return value;
  }

  absl::StatusOr<Json> EvalCommand(const Command& command, const Json& dot, const Json* piped) {
    const Operand& first = command.args[0];
    if (first.kind != Operand::kFunction) {
      // docker's methods with an argument, as {{.Label "key"}}: a map field given one string.
      if (first.kind == Operand::kField && command.args.size() == 2 && piped == nullptr &&
          command.args[1].kind == Operand::kString) {
        absl::StatusOr<Json> map = EvalOperand(first, dot);
        if (map.ok() && map->is_object()) {
          if (options_.header) return Json("");
          auto found = map->find(command.args[1].literal.get<std::string>());
          return found == map->end() ? Json("") : Json(*found);
        }
      }
      if (command.args.size() > 1 || piped != nullptr) {
        return Error(first.pos, first.text,
                     absl::StrCat("can't give argument to non-function ", first.text));
      }
      return EvalOperand(first, dot);
    }
    std::vector<Json> args;
    for (size_t i = 1; i < command.args.size(); ++i) {
      absl::StatusOr<Json> arg = EvalOperand(command.args[i], dot);
      if (!arg.ok()) return arg.status();
      args.push_back(*std::move(arg));
    }
    if (piped != nullptr) args.push_back(*piped);
    absl::StatusOr<Json> result =
        template_internal::CallFunction(first.name, args, options_.header);
    if (!result.ok()) return Error(first.pos, command.text, std::string(result.status().message()));
    return result;
  }

  absl::StatusOr<Json> EvalOperand(const Operand& operand, const Json& dot) {
    switch (operand.kind) {
      case Operand::kDot:
        return dot;
      case Operand::kField:
        return EvalChain(dot, operand, &dot == &root_);
      case Operand::kVariable: {
        auto found = std::find_if(vars_.rbegin(), vars_.rend(),
                                  [&operand](const auto& var) { return var.first == operand.name; });
        if (found == vars_.rend()) {
          return Error(operand.pos, operand.text,
                       absl::StrCat("undefined variable: ", operand.name));
        }
        return EvalChain(found->second, operand, operand.name == "$");
      }
      case Operand::kPipeline: {
        absl::StatusOr<Json> value = EvalPipeline(*operand.pipeline, dot);
        if (!value.ok()) return value;
        return EvalChain(*value, operand, false);
      }
      case Operand::kNil:
        return Json();
      case Operand::kFunction:
        return template_internal::CallFunction(operand.name, {}, options_.header);
      default:
        return operand.literal;
    }
  }

  absl::StatusOr<Json> EvalChain(Json value, const Operand& operand, bool at_root) {
    for (size_t i = 0; i < operand.chain.size(); ++i) {
      const std::string& name = operand.chain[i];
      if (value.is_object()) {
        auto found = value.find(name);
        if (found != value.end()) {
          Json next = *found;
          value = std::move(next);
          at_root = false;
          continue;
        }
        if (options_.header) return Json();
        if (at_root && !options_.type_name.empty()) {
          return Error(operand.pos, operand.text,
                       absl::StrCat("can't evaluate field ", name, " in type ",
                                    options_.type_name));
        }
        return Error(operand.pos, operand.text,
                     absl::StrCat("map has no entry for key \"", name, "\""));
      }
      if (options_.header) return Json();
      if (value.is_null()) {
        return Error(operand.pos, operand.text,
                     absl::StrCat("nil pointer evaluating interface {}.", name));
      }
      return Error(operand.pos, operand.text,
                   absl::StrCat("can't evaluate field ", name, " in type ",
                                template_internal::GoTypeName(value)));
    }
    return value;
  }

  absl::string_view source_;
  const Json& root_;
  const TemplateOptions& options_;
  std::vector<std::pair<std::string, Json>> vars_;
  std::string out_;
};

}  // namespace

absl::StatusOr<Template> Template::Parse(absl::string_view text) {
  absl::StatusOr<std::shared_ptr<template_internal::Node>> root =
      template_internal::ParseTemplate(text);
  if (!root.ok()) return root.status();
  Template parsed;
  parsed.text_ = std::string(text);
  parsed.root_ = *std::move(root);
  return parsed;
}

absl::StatusOr<std::string> Template::Execute(const Json& data,
                                              const TemplateOptions& options) const {
  return Executor(text_, data, options).Run(*root_);
}

}  // namespace strata::cli

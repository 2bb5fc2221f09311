// The parser of cli/template.h: Go's text/template grammar, the part docker users write.

#include <algorithm>
#include <cstdlib>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/template_ast.h"

namespace strata::cli::template_internal {
namespace {

struct Token {
  enum Kind { kIdent, kField, kDot, kVariable, kString, kNumber, kLParen, kRParen, kPipe,
              kDeclare, kAssign, kComma };
  Kind kind;
  std::string text;  // the name (without "." for fields), or the literal's value
  Json literal;
  size_t pos = 0;
  size_t end = 0;
  bool adjacent = false;  // no space before it (".A.B" is one operand, ".A .B" two)
};

// A piece of the template: text, or an action's tokens.
struct Item {
  bool action = false;
  std::string text;
  std::vector<Token> tokens;
  size_t pos = 0;
  bool comment = false;
};

class Parser {
 public:
  explicit Parser(absl::string_view source) : source_(source) {}

  absl::StatusOr<std::shared_ptr<Node>> Run() {
    if (absl::Status split = Split(); !split.ok()) return split;
    auto root = std::make_shared<Node>();
    std::string terminator;
    if (absl::Status parsed = ParseList(*root, &terminator); !parsed.ok()) return parsed;
    if (!terminator.empty()) {
      return Error(stop_pos_, absl::StrCat("unexpected {{", terminator, "}}"));
    }
    return root;
  }

 private:
  int LineOf(size_t pos) const {
    return 1 + static_cast<int>(std::count(source_.begin(),
                                           source_.begin() + std::min(pos, source_.size()), '\n'));
  }
  absl::Status Error(size_t pos, absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat("template: :", LineOf(pos), ": ", message));
  }

  // Cuts the source into text and actions, applying the {{- and -}} trim markers.
  absl::Status Split() {
    size_t pos = 0;
    bool trim_next = false;
    while (pos <= source_.size()) {
      const size_t open = source_.find("{{", pos);
      std::string text(source_.substr(pos, open == absl::string_view::npos ? absl::string_view::npos
                                                                           : open - pos));
      if (trim_next) text = std::string(absl::StripLeadingAsciiWhitespace(text));
      trim_next = false;
      size_t start = open == absl::string_view::npos ? 0 : open + 2;
      if (open != absl::string_view::npos && start + 1 < source_.size() &&
          source_[start] == '-' && absl::ascii_isspace(source_[start + 1])) {
        text = std::string(absl::StripTrailingAsciiWhitespace(text));
        start += 2;
      }
      if (!text.empty()) items_.push_back({false, text, {}, pos});
      if (open == absl::string_view::npos) break;
      Item item{true, "", {}, open};
      size_t close = 0;
      if (absl::Status lexed = Lex(start, &item, &close, &trim_next); !lexed.ok()) return lexed;
      items_.push_back(std::move(item));
      pos = close;
    }
    return absl::OkStatus();
  }

  // Lexes one action from start; *close is just past its "}}".
  absl::Status Lex(size_t start, Item* item, size_t* close, bool* trim_next) {
    size_t i = start;
    while (i < source_.size() && absl::ascii_isspace(source_[i])) ++i;
    if (source_.substr(i, 2) == "/*") {
      const size_t end = source_.find("*/", i + 2);
      if (end == absl::string_view::npos) return Error(i, "unclosed comment");
      i = end + 2;
      while (i < source_.size() && absl::ascii_isspace(source_[i])) ++i;
      if (source_.substr(i, 3) == "-}}") {
        *trim_next = true;
        i += 1;
      }
      if (source_.substr(i, 2) != "}}") return Error(i, "comment ends before closing delimiter");
      item->comment = true;
      *close = i + 2;
      return absl::OkStatus();
    }
    bool spaced = true;
    for (;;) {
      if (i >= source_.size()) return Error(item->pos, "unclosed action");
      const char c = source_[i];
      if (source_.substr(i, 2) == "}}") {
        *close = i + 2;
        return absl::OkStatus();
      }
      if (absl::ascii_isspace(c)) {
        if (source_.substr(i + 1, 3) == "-}}") {
          *trim_next = true;
          *close = i + 4;
          return absl::OkStatus();
        }
        ++i;
        spaced = true;
        continue;
      }
      Token token{Token::kIdent, "", nullptr, i, i, !spaced};
      spaced = false;
      auto is_name = [](char ch) { return absl::ascii_isalnum(ch) || ch == '_'; };
      if (c == '.' && !(i + 1 < source_.size() && absl::ascii_isdigit(source_[i + 1]))) {
        size_t end = i + 1;
        while (end < source_.size() && is_name(source_[end])) ++end;
        token.kind = end == i + 1 ? Token::kDot : Token::kField;
        token.text = std::string(source_.substr(i + 1, end - i - 1));
        i = end;
      } else if (c == '$') {
        size_t end = i + 1;
        while (end < source_.size() && is_name(source_[end])) ++end;
        token.kind = Token::kVariable;
        token.text = std::string(source_.substr(i, end - i));
        i = end;
      } else if (c == '"' || c == '`') {
        absl::StatusOr<size_t> end = LexString(i, &token);
        if (!end.ok()) return end.status();
        i = *end;
      } else if (absl::ascii_isdigit(c) || c == '-' || c == '+' || c == '.') {
        size_t end = i + 1;
        while (end < source_.size() &&
               (absl::ascii_isalnum(source_[end]) || source_[end] == '.' ||
                ((source_[end] == '-' || source_[end] == '+') &&
                 (source_[end - 1] == 'e' || source_[end - 1] == 'E')))) {
          ++end;
        }
        const std::string number(source_.substr(i, end - i));
        int64_t integer = 0;
        double real = 0;
        if (absl::SimpleAtoi(number, &integer)) {
          token.literal = integer;
        } else if (number.find_first_of("xX") == std::string::npos &&
                   absl::SimpleAtod(number, &real)) {
          token.literal = real;
        } else {
          return Error(i, absl::StrCat("bad number syntax: \"", number, "\""));
        }
        token.kind = Token::kNumber;
        i = end;
      } else if (is_name(c)) {
        size_t end = i;
        while (end < source_.size() && is_name(source_[end])) ++end;
        token.text = std::string(source_.substr(i, end - i));
        i = end;
      } else if (source_.substr(i, 2) == ":=") {
        token.kind = Token::kDeclare;
        i += 2;
      } else if (c == '=' || c == '(' || c == ')' || c == '|' || c == ',') {
        token.kind = c == '='   ? Token::kAssign
                     : c == '(' ? Token::kLParen
                     : c == ')' ? Token::kRParen
                     : c == '|' ? Token::kPipe
                                : Token::kComma;
        ++i;
      } else {
        return Error(i, absl::StrCat("unexpected \"", std::string(1, c), "\" in command"));
      }
      token.end = i;
      item->tokens.push_back(std::move(token));
    }
  }

  // A "quoted" (with Go's escapes) or `raw` string at i; returns the position after it.
  absl::StatusOr<size_t> LexString(size_t i, Token* token) {
    const char quote = source_[i];
    std::string value;
    size_t j = i + 1;
    for (;; ++j) {
      if (j >= source_.size() || (quote == '"' && source_[j] == '\n')) {
        return Error(i, "unterminated quoted string");
      }
      const char c = source_[j];
      if (c == quote) break;
      if (c != '\\' || quote == '`') {
        value.push_back(c);
        continue;
      }
      if (++j >= source_.size()) return Error(i, "unterminated quoted string");
      switch (source_[j]) {
        case 'n': value.push_back('\n'); break;
        case 't': value.push_back('\t'); break;
        case 'r': value.push_back('\r'); break;
        case '\\': value.push_back('\\'); break;
        case '"': value.push_back('"'); break;
        case '\'': value.push_back('\''); break;
        case 'x': {
          int byte = 0;
          if (j + 2 >= source_.size() ||
              !absl::SimpleHexAtoi(source_.substr(j + 1, 2), &byte)) {
            return Error(i, "invalid syntax");
          }
          value.push_back(static_cast<char>(byte));
          j += 2;
          break;
        }
        default:
          return Error(i, "invalid syntax");
      }
    }
    token->kind = Token::kString;
    token->literal = value;
    return j + 1;
  }

  // Parses items into list until {{end}} or {{else...}}, which is named in *terminator (empty
  // at the end of the template).
  absl::Status ParseList(Node& list, std::string* terminator) {
    while (next_ < items_.size()) {
      const Item& item = items_[next_++];
      if (!item.action) {
        auto text = std::make_shared<Node>();
        text->kind = Node::kText;
        text->text = item.text;
        list.list.push_back(text);
        continue;
      }
      if (item.comment) continue;
      const std::vector<Token>& tokens = item.tokens;
      if (tokens.empty()) return Error(item.pos, "missing value for command");
      const std::string keyword = tokens[0].kind == Token::kIdent ? tokens[0].text : "";
      if (keyword == "end" || keyword == "else") {
        *terminator = keyword;
        stop_pos_ = item.pos;
        else_tokens_.assign(tokens.begin() + 1, tokens.end());
        if (keyword == "end" && tokens.size() > 1) {
          return Error(item.pos, "unexpected tokens after end");
        }
        return absl::OkStatus();
      }
      if (keyword == "if" || keyword == "range" || keyword == "with") {
        absl::StatusOr<std::shared_ptr<Node>> control =
            ParseControl(keyword, {tokens.begin() + 1, tokens.end()}, item.pos);
        if (!control.ok()) return control.status();
        list.list.push_back(*control);
        continue;
      }
      if (keyword == "define" || keyword == "template" || keyword == "block" ||
          keyword == "break" || keyword == "continue") {
        return Error(item.pos, absl::StrCat("{{", keyword, "}} is not supported"));
      }
      auto action = std::make_shared<Node>();
      action->kind = Node::kAction;
      action->pos = item.pos;
      absl::StatusOr<Pipeline> pipeline = ParsePipeline(tokens, 0, tokens.size(), true);
      if (!pipeline.ok()) return pipeline.status();
      action->pipeline = *std::move(pipeline);
      list.list.push_back(action);
    }
    terminator->clear();
    return absl::OkStatus();
  }

  absl::StatusOr<std::shared_ptr<Node>> ParseControl(const std::string& keyword,
                                                     std::vector<Token> tokens, size_t pos) {
    auto node = std::make_shared<Node>();
    node->kind = keyword == "if" ? Node::kIf : keyword == "range" ? Node::kRange : Node::kWith;
    node->pos = pos;
    if (tokens.empty()) return Error(pos, absl::StrCat("missing value for ", keyword));
    absl::StatusOr<Pipeline> pipeline =
        ParsePipeline(tokens, 0, tokens.size(), /*declarations=*/true);
    if (!pipeline.ok()) return pipeline.status();
    node->pipeline = *std::move(pipeline);
    auto body = std::make_shared<Node>();
    std::string terminator;
    if (absl::Status parsed = ParseList(*body, &terminator); !parsed.ok()) return parsed;
    node->list = std::move(body->list);
    if (terminator.empty()) return Error(source_.size(), "unexpected EOF");
    if (terminator == "else") {
      std::vector<Token> rest = else_tokens_;
      node->else_list = std::make_shared<Node>();
      if (!rest.empty()) {
        // {{else if X}} / {{else with X}}: a control of its own, ended by the same {{end}}.
        if (rest[0].kind != Token::kIdent || (rest[0].text != "if" && rest[0].text != "with")) {
          return Error(stop_pos_, "unexpected tokens after else");
        }
        const std::string inner = rest[0].text;
        absl::StatusOr<std::shared_ptr<Node>> chained =
            ParseControl(inner, {rest.begin() + 1, rest.end()}, stop_pos_);
        if (!chained.ok()) return chained.status();
        node->else_list->list.push_back(*chained);
        return node;
      }
      if (absl::Status parsed = ParseList(*node->else_list, &terminator); !parsed.ok()) {
        return parsed;
      }
      if (terminator.empty()) return Error(source_.size(), "unexpected EOF");
      if (terminator != "end") return Error(stop_pos_, "expected end; found {{else}}");
    }
    return node;
  }

  absl::StatusOr<Pipeline> ParsePipeline(const std::vector<Token>& tokens, size_t begin,
                                         size_t end, bool declarations) {
    Pipeline pipeline;
    pipeline.pos = begin < tokens.size() ? tokens[begin].pos : 0;
    size_t i = begin;
    if (declarations && i < end && tokens[i].kind == Token::kVariable) {
      size_t j = i;
      std::vector<std::string> names;
      while (j < end && tokens[j].kind == Token::kVariable) {
        names.push_back(tokens[j].text);
        if (j + 1 < end && tokens[j + 1].kind == Token::kComma) {
          j += 2;
        } else {
          ++j;
          break;
        }
      }
      if (j < end && (tokens[j].kind == Token::kDeclare || tokens[j].kind == Token::kAssign)) {
        pipeline.declarations = names;
        pipeline.assign = tokens[j].kind == Token::kAssign;
        i = j + 1;
      }
    }
    while (i < end) {
      Command command;
      command.pos = tokens[i].pos;
      while (i < end && tokens[i].kind != Token::kPipe) {
        absl::StatusOr<Operand> operand = ParseOperand(tokens, &i, end);
        if (!operand.ok()) return operand.status();
        command.args.push_back(*std::move(operand));
      }
      if (command.args.empty()) return Error(command.pos, "missing value for command");
      command.text = std::string(
          source_.substr(command.pos, tokens[i - 1].end - command.pos));
      pipeline.commands.push_back(std::move(command));
      if (i < end) {
        ++i;  // "|"
        if (i == end) return Error(tokens[i - 1].pos, "missing command after |");
      }
    }
    if (pipeline.commands.empty()) return Error(pipeline.pos, "missing value for command");
    return pipeline;
  }

  absl::StatusOr<Operand> ParseOperand(const std::vector<Token>& tokens, size_t* i, size_t end) {
    const Token& token = tokens[*i];
    Operand operand;
    operand.pos = token.pos;
    ++*i;
    switch (token.kind) {
      case Token::kDot: operand.kind = Operand::kDot; break;
      case Token::kField:
        operand.kind = Operand::kField;
        operand.chain.push_back(token.text);
        break;
      case Token::kVariable:
        operand.kind = Operand::kVariable;
        operand.name = token.text;
        break;
      case Token::kString:
        operand.kind = Operand::kString;
        operand.literal = token.literal;
        break;
      case Token::kNumber:
        operand.kind = Operand::kNumber;
        operand.literal = token.literal;
        break;
      case Token::kIdent:
        if (token.text == "true" || token.text == "false") {
          operand.kind = Operand::kBool;
          operand.literal = token.text == "true";
        } else if (token.text == "nil") {
          operand.kind = Operand::kNil;
        } else if (IsFunction(token.text)) {
          operand.kind = Operand::kFunction;
          operand.name = token.text;
        } else {
          return Error(token.pos, absl::StrCat("function \"", token.text, "\" not defined"));
        }
        break;
      case Token::kLParen: {
        int depth = 1;
        size_t close = *i;
        for (; close < end; ++close) {
          if (tokens[close].kind == Token::kLParen) ++depth;
          if (tokens[close].kind == Token::kRParen && --depth == 0) break;
        }
        if (close >= end) return Error(token.pos, "unclosed left paren");
        absl::StatusOr<Pipeline> inner = ParsePipeline(tokens, *i, close, false);
        if (!inner.ok()) return inner.status();
        operand.kind = Operand::kPipeline;
        operand.pipeline = std::make_shared<Pipeline>(*std::move(inner));
        *i = close + 1;
        break;
      }
      default:
        return Error(token.pos, absl::StrCat("unexpected \"", source_.substr(token.pos, token.end - token.pos),
                                             "\" in operand"));
    }
    // Fields right after (no space): .A.B, $v.A, (pipeline).A.
    while (*i < end && tokens[*i].kind == Token::kField && tokens[*i].adjacent &&
           (operand.kind == Operand::kField || operand.kind == Operand::kVariable ||
            operand.kind == Operand::kPipeline || operand.kind == Operand::kDot)) {
      if (operand.kind == Operand::kDot) operand.kind = Operand::kField;
      operand.chain.push_back(tokens[*i].text);
      ++*i;
    }
    operand.text = std::string(source_.substr(token.pos, tokens[*i - 1].end - token.pos));
    return operand;
  }

  absl::string_view source_;
  std::vector<Item> items_;
  size_t next_ = 0;
  size_t stop_pos_ = 0;
  std::vector<Token> else_tokens_;
};

}  // namespace

bool IsFunction(const std::string& name) {
  static const std::set<std::string> kFunctions = {
      "json", "split", "join", "title", "lower", "upper", "pad", "truncate", "index", "len",
      "print", "printf", "println", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not",
      "slice"};
  return kFunctions.count(name) > 0;
}

absl::StatusOr<std::shared_ptr<Node>> ParseTemplate(absl::string_view text) {
  return Parser(text).Run();
}

}  // namespace strata::cli::template_internal

// strata history: an image's steps, newest first, in docker's table or a --format template.

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/core/gateway.h"
#include "cli/format.h"
#include "cli/template.h"
#include "cli/util.h"
#include "lib/rpc/time.h"

namespace strata::cli {
namespace {

namespace ig = ::strata::imagegraph::v1;

struct HistoryOptions {
  bool no_trunc = false;
  bool human = true;
  bool quiet = false;
  std::string format;
};

// One step, as the placeholders of --format name its fields.
struct Row {
  std::string id, created_since, created_at, created_by, size, comment, author;
};

std::vector<Row> Rows(const ig::HistoryResponse& history, const HistoryOptions& options) {
  const absl::Time now = absl::Now();
  std::vector<Row> rows;
  for (const ig::HistoryEntry& entry : history.entries()) {
    Row row;
    row.id = entry.image_id().empty() ? "<missing>"
             : options.no_trunc       ? entry.image_id()
                                      : ShortId(entry.image_id());
    const absl::Time created = rpc::FromTimestamp(entry.created());
    row.created_since = TimeAgo(created, now);
    // Go's time.RFC3339: "Z" for UTC, else the offset.
    row.created_at = created == absl::InfinitePast()
                         ? "N/A"
                         : absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", created, absl::LocalTimeZone());
    if (absl::EndsWith(row.created_at, "+00:00")) {
      row.created_at = row.created_at.substr(0, row.created_at.size() - 6) + "Z";
    }
    std::string created_by = absl::StrReplaceAll(entry.created_by(), {{"\t", " "}, {"\n", " "}});
    row.created_by = options.no_trunc ? created_by : Ellipsis(created_by, 45);
    row.size = options.human ? HumanSize(entry.size()) : std::to_string(entry.size());
    row.comment = entry.comment();
    row.author = entry.author();
    rows.push_back(std::move(row));
  }
  return rows;
}

void PrintTable(const std::vector<Row>& rows, bool human) {
  Table table({"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"});
  for (const Row& row : rows) {
    table.Add({row.id, human ? row.created_since : row.created_at, row.created_by, row.size,
               row.comment});
  }
  std::fputs(table.Render().c_str(), stdout);
}

// --format: docker's table, json or template forms (cli/command/image/formatter_history.go).
int PrintFormatted(const std::vector<Row>& rows, const std::string& flag) {
  static const Json* headers = new Json{
      {"ID", "IMAGE"},          {"CreatedSince", "CREATED"}, {"CreatedAt", "CREATED AT"},
      {"CreatedBy", "CREATED BY"}, {"Size", "SIZE"},          {"Comment", "COMMENT"},
      {"Author", "AUTHOR"}};
  std::vector<Json> objects;
  for (const Row& row : rows) {
    objects.push_back({{"ID", row.id},
                       {"CreatedSince", row.created_since},
                       {"CreatedAt", row.created_at},
                       {"CreatedBy", row.created_by},
                       {"Size", row.size},
                       {"Comment", row.comment},
                       {"Author", row.author}});
  }
  absl::StatusOr<std::string> text =
      RenderList(ParseListFormat(flag), objects, *headers, "*image.historyContext");
  if (!text.ok()) return FailPlain(std::string(text.status().message()));
  std::fputs(text->c_str(), stdout);
  return 0;
}

int History(Globals& globals, const std::string& ref, const HistoryOptions& options) {
  gateway::Gateway gateway(globals.Endpoints());
  ASSIGN_OR_FAIL(ig::HistoryResponse history, gateway.History(ref));
  const std::vector<Row> rows = Rows(history, options);
  if (options.quiet) {
    for (const Row& row : rows) std::printf("%s\n", row.id.c_str());
  } else if (ParseListFormat(options.format).text.empty() && !ParseListFormat(options.format).json) {
    PrintTable(rows, options.human);
  } else {
    return PrintFormatted(rows, options.format);
  }
  return 0;
}

}  // namespace

void RegisterHistoryCommand(CLI::App& app, Globals& globals, int* exit_code) {
  CLI::App* command = app.add_subcommand("history", "Show the history of an image");
  auto options = std::make_shared<HistoryOptions>();
  auto ref = std::make_shared<std::string>();
  auto not_human = std::make_shared<bool>(false);
  command->add_flag("--no-trunc", options->no_trunc, "Don't truncate output");
  command->add_flag("-H,--human", options->human,
                    "Sizes and dates in human readable format (default; -H=false for raw)");
  command->add_flag("--human-off", *not_human)->group("");
  command->add_flag("-q,--quiet", options->quiet, "Only show image IDs");
  command->add_option("--format", options->format,
                      "Template: {{.ID}} {{.CreatedSince}} {{.CreatedAt}} {{.CreatedBy}} "
                      "{{.Size}} {{.Comment}} {{.Author}}; \"table ...\" for a table");
  command->add_option("image", *ref, "IMAGE")->required();
  command->callback([=, &globals] {
    if (*not_human) options->human = false;
    *exit_code = History(globals, *ref, *options);
  });
}

}  // namespace strata::cli

// Image commands: images, tag, rmi, history.

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/gateway.h"
#include "cli/util.h"
#include "lib/base/errors.h"
#include "lib/oci/image_config.h"
#include "lib/reference/reference.h"

namespace strata::cli {
namespace {

std::string DisplayId(const std::string& id, bool no_trunc) {
  return no_trunc ? id : ShortId(id);
}

int Images(Globals& globals, bool all, bool quiet, bool no_trunc, const std::string& filter) {
  Gateway gateway(globals);
  ig::ListImagesRequest request;
  request.set_all(all);
  std::string tag_filter;
  if (!filter.empty()) {
    absl::StatusOr<Reference> reference = ParseReference(filter);
    if (!reference.ok()) return Fail(reference.status());
    request.set_repository(reference->name);
    // "app" lists every tag of app; "app:1" only that one.
    if (filter.find(':', filter.rfind('/') == std::string::npos ? 0 : filter.rfind('/')) !=
        std::string::npos) {
      tag_filter = reference->tag;
    }
  }
  absl::StatusOr<std::vector<ig::Image>> images = gateway.ListImages(request);
  if (!images.ok()) return Fail(images.status());
  Table table({"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"});
  std::set<std::string> printed_ids;
  const absl::Time now = absl::Now();
  for (const ig::Image& image : *images) {
    std::vector<std::pair<std::string, std::string>> names;
    for (const std::string& tag : image.tags()) {
      const size_t colon = tag.rfind(':');
      std::string repository = tag.substr(0, colon);
      std::string tag_name = tag.substr(colon + 1);
      if (!filter.empty() && repository != request.repository()) continue;
      if (!tag_filter.empty() && tag_name != tag_filter) continue;
      names.emplace_back(std::move(repository), std::move(tag_name));
    }
    if (names.empty()) {
      if (!filter.empty()) continue;
      names.emplace_back("<none>", "<none>");
    }
    if (quiet) {
      if (printed_ids.insert(image.id()).second) {
        std::printf("%s\n", DisplayId(image.id(), no_trunc).c_str());
      }
      continue;
    }
    for (const auto& [repository, tag] : names) {
      table.Add({repository, tag, DisplayId(image.id(), no_trunc),
                 TimeAgo(FromTimestamp(image.created()), now), HumanSize(image.size())});
    }
  }
  if (!quiet) std::fputs(table.Render().c_str(), stdout);
  return 0;
}

int Tag(Globals& globals, const std::string& source, const std::string& target) {
  Gateway gateway(globals);
  absl::StatusOr<ig::ImageGraph::Stub*> images = gateway.Images();
  if (!images.ok()) return Fail(images.status());
  ig::TagRequest request;
  request.set_image(source);
  request.set_target(target);
  ig::TagResponse response;
  grpc::Status status = (*images)->Tag(Gateway::Unary().get(), request, &response);
  if (!status.ok()) return Fail(gateway.ImagesError(status));
  return 0;
}

// The containers of this node created from an image.
std::vector<rt::Container> ContainersUsing(const std::vector<rt::Container>& containers,
                                           const std::string& image_id) {
  std::vector<rt::Container> users;
  for (const rt::Container& container : containers) {
    if (container.image_id() == image_id) users.push_back(container);
  }
  return users;
}

// docker rmi for one reference; prints what was untagged and deleted.
absl::Status RemoveImage(Gateway& gateway, const std::string& ref, bool force) {
  ASSIGN_OR_RETURN(ig::Image image, gateway.GetImage(ref));
  ASSIGN_OR_RETURN(std::vector<rt::Container> containers, gateway.ListContainers(true));
  ASSIGN_OR_RETURN(ig::ImageGraph::Stub * images, gateway.Images());

  // Naming one of several tags only untags: no container can be in the way. (A reference
  // resolves as a tag first, so a ref that names one of the image's tags is that tag.)
  absl::StatusOr<Reference> as_tag = ParseReference(ref);
  const bool by_tag =
      as_tag.ok() && std::find(image.tags().begin(), image.tags().end(), as_tag->ToString()) !=
                         image.tags().end();
  const bool deletes_image = !by_tag || image.tags_size() <= 1;
  if (deletes_image) {
    for (const rt::Container& container : ContainersUsing(containers, image.id())) {
      const bool running = container.state() == rt::RUNNING || container.state() == rt::PAUSED;
      if (running || !force) {
        return absl::FailedPreconditionError(absl::StrCat(
            "conflict: unable to remove image \"", ref, "\" (", ShortId(image.id()),
            "): container ", ShortId(container.id()), " (", container.name(), ") ",
            running ? "is running from it: stop and remove it first"
                    : "uses it: remove the container first, or force"));
      }
    }
  }
  ig::DeleteImageRequest request;
  request.set_ref(ref);
  request.set_force(force);
  // Parents are pruned here, so that those a container still uses are kept.
  request.set_no_prune(true);
  ig::DeleteImageResponse response;
  grpc::Status status = images->DeleteImage(Gateway::Unary().get(), request, &response);
  if (!status.ok()) return gateway.ImagesError(status);
  for (const std::string& untagged : response.untagged()) std::printf("Untagged: %s\n", untagged.c_str());
  for (const std::string& deleted : response.deleted()) std::printf("Deleted: %s\n", deleted.c_str());
  if (response.deleted_size() == 0) return absl::OkStatus();

  // Untagged parents left without children go too, unless a container uses them.
  std::string parent = image.parent_id();
  while (!parent.empty()) {
    absl::StatusOr<ig::Image> parent_image = gateway.GetImage(parent);
    if (!parent_image.ok()) break;
    if (parent_image->tags_size() > 0 || parent_image->child_count() > 0 ||
        !ContainersUsing(containers, parent_image->id()).empty()) {
      break;
    }
    ig::DeleteImageRequest prune;
    prune.set_ref(parent_image->id());
    prune.set_no_prune(true);
    ig::DeleteImageResponse pruned;
    if (!images->DeleteImage(Gateway::Unary().get(), prune, &pruned).ok()) break;
    for (const std::string& deleted : pruned.deleted()) {
      std::printf("Deleted: %s\n", deleted.c_str());
    }
    parent = parent_image->parent_id();
  }
  return absl::OkStatus();
}

struct HistoryOptions {
  bool no_trunc = false;
  bool human = true;
  bool quiet = false;
  std::string format;
};

int History(Globals& globals, const std::string& ref, const HistoryOptions& options) {
  Gateway gateway(globals);
  absl::StatusOr<ig::ImageGraph::Stub*> images = gateway.Images();
  if (!images.ok()) return Fail(images.status());
  ig::HistoryRequest request;
  request.set_ref(ref);
  ig::HistoryResponse response;
  grpc::Status status = (*images)->History(Gateway::Unary().get(), request, &response);
  if (!status.ok()) return Fail(gateway.ImagesError(status));
  const absl::Time now = absl::Now();

  struct Row {
    std::string id, created_since, created_at, created_by, size, comment, author;
  };
  std::vector<Row> rows;
  for (const ig::HistoryEntry& entry : response.entries()) {
    Row row;
    row.id = entry.image_id().empty() ? "<missing>" : DisplayId(entry.image_id(), options.no_trunc);
    const absl::Time created = FromTimestamp(entry.created());
    row.created_since = TimeAgo(created, now);
    row.created_at = created == absl::InfinitePast()
                         ? "N/A"
                         : absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", created, absl::LocalTimeZone());
    std::string created_by = absl::StrReplaceAll(entry.created_by(), {{"\t", " "}, {"\n", " "}});
    row.created_by = options.no_trunc ? created_by : Ellipsis(created_by, 45);
    row.size = options.human ? HumanSize(entry.size()) : std::to_string(entry.size());
    row.comment = entry.comment();
    row.author = entry.author();
    rows.push_back(std::move(row));
  }
  if (options.quiet) {
    for (const Row& row : rows) std::printf("%s\n", row.id.c_str());
    return 0;
  }
  if (options.format.empty()) {
    Table table({"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"});
    for (const Row& row : rows) {
      table.Add({row.id, options.human ? row.created_since : row.created_at, row.created_by,
                 row.size, row.comment});
    }
    std::fputs(table.Render().c_str(), stdout);
    return 0;
  }
  // --format: docker's template placeholders, "table " for an aligned table with a header,
  // and \t \n escapes.
  std::string format = options.format;
  const bool as_table = absl::StartsWith(format, "table ");
  if (as_table) format = format.substr(6);
  format = absl::StrReplaceAll(format, {{"\\t", "\t"}, {"\\n", "\n"}});
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"{{.ID}}", "IMAGE"},          {"{{.CreatedSince}}", "CREATED"},
      {"{{.CreatedAt}}", "CREATED AT"}, {"{{.CreatedBy}}", "CREATED BY"},
      {"{{.Size}}", "SIZE"},         {"{{.Comment}}", "COMMENT"},
      {"{{.Author}}", "AUTHOR"}};
  std::vector<std::string> lines;
  if (as_table) {
    std::string header = format;
    for (const auto& [field, name] : headers) header = absl::StrReplaceAll(header, {{field, name}});
    lines.push_back(header);
  }
  for (const Row& row : rows) {
    lines.push_back(absl::StrReplaceAll(format, {{"{{.ID}}", row.id},
                                                 {"{{.CreatedSince}}", row.created_since},
                                                 {"{{.CreatedAt}}", row.created_at},
                                                 {"{{.CreatedBy}}", row.created_by},
                                                 {"{{.Size}}", row.size},
                                                 {"{{.Comment}}", row.comment},
                                                 {"{{.Author}}", row.author}}));
  }
  if (as_table) {
    std::vector<std::string> header = absl::StrSplit(lines[0], '\t');
    Table table(header);
    for (size_t i = 1; i < lines.size(); ++i) table.Add(absl::StrSplit(lines[i], '\t'));
    std::fputs(table.Render().c_str(), stdout);
  } else {
    for (const std::string& line : lines) std::printf("%s\n", line.c_str());
  }
  return 0;
}

}  // namespace

void RegisterImageCommands(CLI::App& app, Globals& globals, int* exit_code) {
  {
    CLI::App* command = app.add_subcommand("images", "List images");
    auto all = std::make_shared<bool>(false);
    auto quiet = std::make_shared<bool>(false);
    auto no_trunc = std::make_shared<bool>(false);
    auto filter = std::make_shared<std::string>();
    command->add_flag("-a,--all", *all, "Show all images (default hides intermediate images)");
    command->add_flag("-q,--quiet", *quiet, "Only show image IDs");
    command->add_flag("--no-trunc", *no_trunc, "Don't truncate output");
    command->add_option("repository", *filter, "Only this REPOSITORY[:TAG]");
    command->callback([=, &globals] {
      *exit_code = Images(globals, *all, *quiet, *no_trunc, *filter);
    });
  }
  {
    CLI::App* command = app.add_subcommand("tag", "Create a tag TARGET that refers to SOURCE");
    auto source = std::make_shared<std::string>();
    auto target = std::make_shared<std::string>();
    command->add_option("source", *source, "SOURCE_IMAGE[:TAG] or image id")->required();
    command->add_option("target", *target, "TARGET_IMAGE[:TAG]")->required();
    command->callback([=, &globals] { *exit_code = Tag(globals, *source, *target); });
  }
  {
    CLI::App* command = app.add_subcommand("rmi", "Remove one or more images");
    auto force = std::make_shared<bool>(false);
    auto refs = std::make_shared<std::vector<std::string>>();
    command->add_flag("-f,--force", *force, "Untag every tag of an image named by id");
    command->add_option("images", *refs, "IMAGE...")->required();
    command->callback([=, &globals] {
      Gateway gateway(globals);
      int code = 0;
      for (const std::string& ref : *refs) {
        absl::Status status = RemoveImage(gateway, ref, *force);
        if (!status.ok()) code = Fail(status);
      }
      *exit_code = code;
    });
  }
  {
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
}

}  // namespace strata::cli

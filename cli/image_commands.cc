// Image commands: images, tag, rmi.

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/core/gateway.h"
#include "cli/core/list_filters.h"
#include "cli/format.h"
#include "cli/template.h"
#include "cli/util.h"
#include "lib/base/errors.h"
#include "lib/reference/reference.h"
#include "lib/rpc/time.h"

namespace strata::cli {
namespace {

namespace ig = ::strata::imagegraph::v1;

std::string DisplayId(const std::string& id, bool no_trunc) { return no_trunc ? id : ShortId(id); }

// The rows of one image as docker's `images` makes them (cli/command/formatter/image.go): a
// row per tag of each repository (per tag and digest with --digests, "<none>" where the
// repository has no digest), then a "<none>" tag row for a repository named by digest only.
struct ImageRow {
  std::string repository;
  std::string tag;
  std::string digest;
};

std::vector<ImageRow> ImageRows(const ig::Image& image, bool digests) {
  std::map<std::string, std::vector<std::string>> repo_tags;
  std::map<std::string, std::vector<std::string>> repo_digests;
  for (const std::string& tag : image.tags()) {
    const size_t colon = tag.rfind(':');
    repo_tags[tag.substr(0, colon)].push_back(tag.substr(colon + 1));
  }
  for (const std::string& digest : image.repo_digests()) {
    const size_t at = digest.rfind('@');
    if (at == std::string::npos) continue;
    repo_digests[digest.substr(0, at)].push_back(digest.substr(at + 1));
  }
  std::vector<ImageRow> rows;
  if (repo_tags.empty() && repo_digests.empty()) return {{"<none>", "<none>", "<none>"}};
  for (const auto& [repository, tags] : repo_tags) {
    std::vector<std::string> of_repository;
    auto found = repo_digests.find(repository);
    if (found != repo_digests.end()) {
      of_repository = found->second;
      repo_digests.erase(found);
    }
    for (const std::string& tag : tags) {
      if (!digests || of_repository.empty()) {
        rows.push_back({repository, tag, "<none>"});
        continue;
      }
      for (const std::string& digest : of_repository) rows.push_back({repository, tag, digest});
    }
  }
  for (const auto& [repository, list] : repo_digests) {
    if (!digests) {
      rows.push_back({repository, "<none>", ""});
      continue;
    }
    for (const std::string& digest : list) rows.push_back({repository, "<none>", digest});
  }
  return rows;
}

struct ImagesOptions {
  bool all = false;
  bool quiet = false;
  bool no_trunc = false;
  bool digests = false;
  std::string repository;
  std::vector<std::string> filters;
  std::string format;
};

// A row as docker's --format templates see it (cli/command/formatter/image.go).
Json ImageRowJson(const ig::Image& image, const ImageRow& row, bool no_trunc, absl::Time now) {
  const absl::Time created = rpc::FromTimestamp(image.created());
  Json out = Json::object();
  out["Containers"] = "N/A";
  out["CreatedAt"] = absl::FormatTime("%Y-%m-%d %H:%M:%S %z %Z", created, absl::LocalTimeZone());
  out["CreatedSince"] = TimeAgo(created, now);
  out["Digest"] = row.digest.empty() ? "<none>" : row.digest;
  out["ID"] = DisplayId(image.id(), no_trunc);
  out["Repository"] = row.repository;
  out["SharedSize"] = "N/A";
  out["Size"] = HumanSize(image.size());
  out["Tag"] = row.tag;
  out["UniqueSize"] = "N/A";
  out["VirtualSize"] = HumanSize(image.size());
  return out;
}

const Json& ImageHeaders() {
  static const Json* headers = new Json{
      {"Containers", "CONTAINERS"}, {"CreatedAt", "CREATED AT"}, {"CreatedSince", "CREATED"},
      {"Digest", "DIGEST"},         {"ID", "IMAGE ID"},          {"Repository", "REPOSITORY"},
      {"SharedSize", "SHARED SIZE"}, {"Size", "SIZE"},           {"Tag", "TAG"},
      {"UniqueSize", "UNIQUE SIZE"}, {"VirtualSize", "VIRTUAL SIZE"}};
  return *headers;
}

int Images(Globals& globals, ImagesOptions options) {
  gateway::Gateway gateway(globals.Endpoints());
  ASSIGN_OR_FAIL_DAEMON(gateway::Filters filters,
                        gateway::ParseFilters(options.filters, {"dangling", "reference", "before",
                                                                "since", "label"}));
  ASSIGN_OR_FAIL_DAEMON(gateway::ImageFilter filter,
                        gateway::ImageFilter::Make(filters, [&gateway](const std::string& ref) {
                          return gateway.InspectImage(ref);
                        }));
  const ListFormat format = ParseListFormat(options.format);
  // A template that shows digests lists a row per digest, as --digests does.
  if (absl::StrContains(format.text, ".Digest")) options.digests = true;
  ig::ListImagesRequest request;
  request.set_all(options.all);
  if (filter.dangling().has_value()) request.set_dangling(*filter.dangling());
  std::string tag_filter;
  const std::string& repository = options.repository;
  if (!repository.empty()) {
    ASSIGN_OR_FAIL(Reference reference, ParseReference(repository));
    request.set_repository(reference.name);
    // "app" lists every tag of app; "app:1" only that one.
    if (repository.find(':', repository.rfind('/') == std::string::npos ? 0 : repository.rfind('/')) !=
        std::string::npos) {
      tag_filter = reference.tag;
    }
  }
  ASSIGN_OR_FAIL(std::vector<ig::Image> images, gateway.ListAllImages(request));
  std::vector<std::string> header = {"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"};
  if (options.digests) header.insert(header.begin() + 2, "DIGEST");
  Table table(header);
  std::vector<Json> json_rows;
  std::set<std::string> printed_ids;
  const absl::Time now = absl::Now();
  for (const ig::Image& image : images) {
    if (!filter.MatchesImage(image)) continue;
    std::vector<ImageRow> rows;
    for (ImageRow& row : ImageRows(image, options.digests)) {
      if (!repository.empty() && row.repository != request.repository()) continue;
      if (!tag_filter.empty() && row.tag != tag_filter) continue;
      if (filter.has_reference()) {
        // docker lists only the references that match.
        const std::string familiar =
            row.tag != "<none>" ? absl::StrCat(row.repository, ":", row.tag)
                                : absl::StrCat(row.repository, "@", row.digest);
        if (row.repository == "<none>" || !filter.MatchesReference(familiar)) continue;
      }
      rows.push_back(std::move(row));
    }
    if (rows.empty()) continue;
    if (options.quiet) {
      if (printed_ids.insert(image.id()).second) {
        std::printf("%s\n", DisplayId(image.id(), options.no_trunc).c_str());
      }
      continue;
    }
    for (const ImageRow& row : rows) {
      if (!format.text.empty() || format.json) {
        json_rows.push_back(ImageRowJson(image, row, options.no_trunc, now));
        continue;
      }
      std::vector<std::string> cells = {row.repository, row.tag,
                                        DisplayId(image.id(), options.no_trunc),
                                        TimeAgo(rpc::FromTimestamp(image.created()), now),
                                        HumanSize(image.size())};
      if (options.digests) cells.insert(cells.begin() + 2, row.digest);
      table.Add(cells);
    }
  }
  if (options.quiet) return 0;
  if (format.text.empty() && !format.json) {
    std::fputs(table.Render().c_str(), stdout);
    return 0;
  }
  absl::StatusOr<std::string> text =
      RenderList(format, json_rows, ImageHeaders(), "*formatter.imageContext");
  if (!text.ok()) return FailPlain(std::string(text.status().message()));
  std::fputs(text->c_str(), stdout);
  return 0;
}

int Tag(Globals& globals, const std::string& source, const std::string& target) {
  gateway::Gateway gateway(globals.Endpoints());
  ig::TagRequest request;
  request.set_image(source);
  request.set_target(target);
  ASSIGN_OR_FAIL(ig::TagResponse tagged, gateway.TagImage(request));
  return 0;
}

// docker rmi, image by image: prints what was untagged and deleted.
int RemoveImages(Globals& globals, const std::vector<std::string>& refs, bool force) {
  gateway::Gateway gateway(globals.Endpoints());
  int code = 0;
  for (const std::string& ref : refs) {
    ig::DeleteImageRequest request;
    request.set_ref(ref);
    request.set_force(force);
    absl::StatusOr<ig::DeleteImageResponse> removed = gateway.RemoveImage(request);
    if (!removed.ok()) {
      code = Fail(removed.status());
      continue;
    }
    for (const std::string& untagged : removed->untagged()) {
      std::printf("Untagged: %s\n", untagged.c_str());
    }
    for (const std::string& deleted : removed->deleted()) {
      std::printf("Deleted: %s\n", deleted.c_str());
    }
  }
  return code;
}

}  // namespace

void RegisterImageCommands(CLI::App& app, Globals& globals, int* exit_code) {
  {
    CLI::App* command = app.add_subcommand("images", "List images");
    auto options = std::make_shared<ImagesOptions>();
    command->add_flag("-a,--all", options->all,
                      "Show all images (default hides intermediate images)");
    command->add_flag("--digests", options->digests, "Show digests");
    command->add_option("-f,--filter", options->filters,
                        "Filter output based on conditions provided (dangling=true|false, "
                        "reference=PATTERN, before=IMAGE, since=IMAGE, label=KEY[=VALUE])")
        ->allow_extra_args(false);
    command->add_option("--format", options->format,
                        "Format output using a Go template: 'table', 'table TEMPLATE', "
                        "'json' or 'TEMPLATE'");
    command->add_flag("-q,--quiet", options->quiet, "Only show image IDs");
    command->add_flag("--no-trunc", options->no_trunc, "Don't truncate output");
    command->add_option("repository", options->repository, "Only this REPOSITORY[:TAG]");
    command->callback([=, &globals] { *exit_code = Images(globals, *options); });
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
    command->add_flag("-f,--force", *force,
                      "Remove every tag of an image named by id (an image a container uses "
                      "keeps existing, untagged, until the container is removed)");
    command->add_option("images", *refs, "IMAGE...")->required();
    command->callback([=, &globals] { *exit_code = RemoveImages(globals, *refs, *force); });
  }
}

}  // namespace strata::cli

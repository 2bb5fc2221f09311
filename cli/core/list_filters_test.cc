#include "cli/core/list_filters.h"

#include "gtest/gtest.h"
#include "lib/rpc/time.h"

namespace strata::gateway {
namespace {

namespace ig = ::strata::imagegraph::v1;
namespace rt = ::strata::runtime::v1;

ig::Image MakeImage(const std::string& id, int created_seconds, std::vector<std::string> tags,
                    const std::string& labels = "{}", const std::string& parent = "") {
  ig::Image image;
  image.set_id(id);
  image.set_parent_id(parent);
  for (const std::string& tag : tags) image.add_tags(tag);
  rpc::ToTimestamp(absl::FromUnixSeconds(created_seconds), image.mutable_created());
  image.set_config(R"({"config":{"Labels":)" + labels + "}}");
  return image;
}

const std::vector<ig::Image>& Images() {
  static const auto* images = new std::vector<ig::Image>{
      MakeImage("sha256:old", 100, {"busybox:latest", "busybox:1"}),
      MakeImage("sha256:mid", 200, {"app:1", "registry.example/team/app:2"},
                R"({"tier":"web","v":"1"})", "sha256:old"),
      MakeImage("sha256:new", 300, {}, R"({"tier":"db"})", "sha256:mid")};
  return *images;
}

absl::StatusOr<ig::Image> Resolve(const std::string& ref) {
  for (const ig::Image& image : Images()) {
    if (image.id() == ref) return image;
    for (const std::string& tag : image.tags()) {
      if (tag == ref || tag == ref + ":latest") return image;
    }
  }
  return absl::NotFoundError("No such image: " + ref);
}

absl::StatusOr<ImageFilter> ImageFilterOf(const std::vector<std::string>& flags) {
  absl::StatusOr<Filters> filters =
      ParseFilters(flags, {"dangling", "reference", "before", "since", "label"});
  if (!filters.ok()) return filters.status();
  return ImageFilter::Make(*filters, Resolve);
}

std::vector<std::string> Ids(const ImageFilter& filter) {
  std::vector<std::string> ids;
  for (const ig::Image& image : Images()) {
    if (!filter.MatchesImage(image)) continue;
    bool any = !filter.has_reference();
    for (const std::string& tag : image.tags()) any = any || filter.MatchesReference(tag);
    if (any) ids.push_back(image.id());
  }
  return ids;
}

using Strings = std::vector<std::string>;

TEST(ListFiltersTest, ParseRefusesWhatDockerRefuses) {
  EXPECT_EQ(ParseFilters({"foo=1"}, {"label"}).status().message(), "invalid filter 'foo'");
  EXPECT_EQ(ParseFilters({"label"}, {"label"}).status().message(),
            "bad format of filter (expected name=value)");
  EXPECT_EQ(ImageFilterOf({"dangling=maybe"}).status().message(),
            "invalid filter 'dangling=[maybe]'");
  EXPECT_EQ(ImageFilterOf({"before=nothing"}).status().code(), absl::StatusCode::kNotFound);
}

TEST(ListFiltersTest, PathMatchIsGos) {
  EXPECT_TRUE(*PathMatch("busy*", "busybox"));
  EXPECT_FALSE(*PathMatch("*", "team/app"));  // '*' stops at '/'
  EXPECT_TRUE(*PathMatch("*/*/app", "registry.example/team/app"));
  EXPECT_TRUE(*PathMatch("b?sybox:[0-9]", "busybox:1"));
  EXPECT_FALSE(*PathMatch("b?sybox:[^0-9]", "busybox:1"));
  EXPECT_TRUE(*PathMatch("a\\*", "a*"));
  EXPECT_FALSE(PathMatch("[a-", "a").ok());
}

TEST(ListFiltersTest, ImagesAsDockerFiltersThem) {
  EXPECT_EQ(Ids(*ImageFilterOf({"dangling=true"})), Strings{"sha256:new"});
  EXPECT_EQ(Ids(*ImageFilterOf({"dangling=false"})), (Strings{"sha256:old", "sha256:mid"}));
  EXPECT_EQ(Ids(*ImageFilterOf({"reference=busy*"})), Strings{"sha256:old"});
  EXPECT_EQ(Ids(*ImageFilterOf({"reference=*:2"})), Strings{});  // '*' stops at '/'
  EXPECT_EQ(Ids(*ImageFilterOf({"reference=*/*/app:2"})), Strings{"sha256:mid"});
  // Values of one key are alternatives.
  EXPECT_EQ(Ids(*ImageFilterOf({"reference=busybox", "reference=app"})),
            (Strings{"sha256:old", "sha256:mid"}));
  EXPECT_EQ(Ids(*ImageFilterOf({"before=app:1"})), Strings{"sha256:old"});
  EXPECT_EQ(Ids(*ImageFilterOf({"since=busybox"})), (Strings{"sha256:mid", "sha256:new"}));
  EXPECT_EQ(Ids(*ImageFilterOf({"label=tier"})), (Strings{"sha256:mid", "sha256:new"}));
  EXPECT_EQ(Ids(*ImageFilterOf({"label=tier=db"})), Strings{"sha256:new"});
  // Labels must all match; different keys must all match.
  EXPECT_EQ(Ids(*ImageFilterOf({"label=tier", "label=v=1"})), Strings{"sha256:mid"});
  EXPECT_EQ(Ids(*ImageFilterOf({"label=tier", "dangling=true"})), Strings{"sha256:new"});
  const ImageFilter only_one = *ImageFilterOf({"reference=busybox:1"});
  EXPECT_TRUE(only_one.MatchesReference("busybox:1"));
  EXPECT_FALSE(only_one.MatchesReference("busybox:latest"));
}

rt::Container MakeContainer(const std::string& id, const std::string& name, rt::ContainerState state,
                            const std::string& image, int exit_code = 0) {
  rt::Container container;
  container.set_id(id);
  container.set_name(name);
  container.set_state(state);
  container.set_image_id(image);
  container.set_exit_code(exit_code);
  if (name == "web") (*container.mutable_config()->mutable_labels())["tier"] = "web";
  return container;
}

std::vector<std::string> Names(const std::vector<std::string>& flags) {
  static const std::vector<rt::Container> containers = {
      MakeContainer("aaa1", "web", rt::RUNNING, "sha256:mid"),
      MakeContainer("bbb2", "db", rt::EXITED, "sha256:new", 3),
      MakeContainer("ccc3", "webby", rt::CREATED, "sha256:old")};
  absl::StatusOr<Filters> filters =
      ParseFilters(flags, {"status", "name", "id", "ancestor", "label", "exited"});
  if (!filters.ok()) return {std::string(filters.status().message())};
  absl::StatusOr<ContainerFilter> filter =
      ContainerFilter::Make(*filters, Resolve, [](const std::string& id) {
        for (const ig::Image& image : Images()) {
          if (image.id() == id) return image.parent_id();
        }
        return std::string();
      });
  if (!filter.ok()) return {std::string(filter.status().message())};
  std::vector<std::string> names;
  for (const rt::Container& container : containers) {
    if (filter->Matches(container)) names.push_back(container.name());
  }
  return names;
}

TEST(ListFiltersTest, ContainersAsDockerFiltersThem) {
  EXPECT_EQ(Names({"status=exited"}), Strings{"db"});
  EXPECT_EQ(Names({"status=exited", "status=created"}), (Strings{"db", "webby"}));
  EXPECT_EQ(Names({"status=bogus"}), Strings{"Unrecognised filter value for status"});
  EXPECT_EQ(Names({"name=web"}), (Strings{"web", "webby"}));
  EXPECT_EQ(Names({"name=^/web$"}), Strings{"web"});
  EXPECT_EQ(Names({"id=bb"}), Strings{"db"});
  // ancestor: the image or any image built on it.
  EXPECT_EQ(Names({"ancestor=app:1"}), (Strings{"web", "db"}));
  EXPECT_EQ(Names({"ancestor=busybox"}), (Strings{"web", "db", "webby"}));
  EXPECT_EQ(Names({"label=tier=web"}), Strings{"web"});
  EXPECT_EQ(Names({"name=web", "status=created"}), Strings{"webby"});
  EXPECT_EQ(Names({"exited=3"}), Strings{"db"});
  EXPECT_EQ(Names({"foo=bar"}), Strings{"invalid filter 'foo'"});
}

}  // namespace
}  // namespace strata::gateway

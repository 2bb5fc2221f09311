#include "cli/inspect_json.h"

#include "gtest/gtest.h"

namespace strata::cli {
namespace {

std::string Format(const std::string& text, const Json& data) {
  absl::StatusOr<Template> parsed = Template::Parse(text);
  if (!parsed.ok()) return std::string(parsed.status().message());
  absl::StatusOr<std::string> out = parsed->Execute(data);
  return out.ok() ? *out : std::string(out.status().message());
}

imagegraph::v1::Image Image() {
  imagegraph::v1::Image image;
  image.set_id("sha256:aaaa");
  image.add_tags("app:1");
  image.set_size(5200000);
  image.set_config(R"({"architecture":"amd64","os":"linux","author":"me",
    "created":"2024-01-02T03:04:05Z",
    "config":{"Cmd":["sh","-c","echo"],"Env":["PATH=/bin"],"Labels":{"b":"2","a":"1"},
              "OnBuild":["RUN true"],"ExposedPorts":{"80/tcp":{}}},
    "rootfs":{"type":"layers","diff_ids":["sha256:d1","sha256:d2"]},
    "history":[{"created_by":"import"},{"created_by":"sh","comment":"second"}]})");
  auto* layer = image.add_layers();
  layer->set_digest("sha256:b1");
  layer->set_diff_id("sha256:d1");
  image.add_chain_ids("sha256:d1");
  return image;
}

TEST(InspectJsonTest, ImageHasDockersKeysInDockersOrder) {
  absl::StatusOr<Json> image = ImageInspectJson(Image());
  ASSERT_TRUE(image.ok()) << image.status();
  std::vector<std::string> keys;
  for (const auto& item : image->items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"Id", "RepoTags", "RepoDigests", "Parent", "Comment",
                                            "Created", "ContainerConfig", "DockerVersion",
                                            "Author", "Config", "Architecture", "Os", "Size",
                                            "GraphDriver", "RootFS", "Metadata", "Strata"}));
  EXPECT_EQ(Format("{{.RootFS.Type}} {{.RootFS.Layers}}", *image), "layers [sha256:d1 sha256:d2]");
  EXPECT_EQ(Format("{{.Config.Cmd}}|{{.Config.Entrypoint}}|{{json .Config.Entrypoint}}", *image),
            "[sh -c echo]|[]|null");
  EXPECT_EQ(Format("{{.Config.Labels}} {{index .Config.Labels \"a\"}}", *image), "map[a:1 b:2] 1");
  EXPECT_EQ(Format("{{json .Config.Labels}}", *image), R"({"a":"1","b":"2"})");
  EXPECT_EQ(Format("{{.Config.OnBuild}} {{.Config.ExposedPorts}}", *image),
            "[RUN true] map[80/tcp:{}]");
  EXPECT_EQ(Format("{{.Comment}} {{.Author}} {{.Metadata.LastTagTime}}", *image),
            "second me 0001-01-01T00:00:00Z");
  EXPECT_EQ(Format("{{(index .Strata.Layers 0).ChainID}}", *image), "sha256:d1");
  EXPECT_EQ(Format("{{.Config.Hostname}}|{{.ContainerConfig.Cmd}}", *image), "|[]");
}

TEST(InspectJsonTest, ABrokenConfigIsDataLoss) {
  imagegraph::v1::Image image = Image();
  image.set_config("not json");
  EXPECT_EQ(ImageInspectJson(image).status().code(), absl::StatusCode::kDataLoss);
}

TEST(InspectJsonTest, ContainerStateAndConfig) {
  runtime::v1::Container container;
  container.set_id("c0ffee");
  container.set_name("web");
  container.set_state(runtime::v1::EXITED);
  container.set_exit_code(3);
  container.add_args("sh");
  container.add_args("-c");
  container.add_args("exit 3");
  container.mutable_config()->add_cmd("sh");
  (*container.mutable_config()->mutable_labels())["k"] = "v";
  auto* mount = container.add_mounts();
  mount->set_type("bind");
  mount->set_source("/host");
  mount->set_target("/data");
  mount->set_readonly(true);
  const Json json = ContainerInspectJson(container);
  EXPECT_EQ(json.begin().key(), "Id");
  EXPECT_EQ(Format("{{.State.Status}} {{.State.ExitCode}} {{.State.Running}} {{.Name}}", json),
            "exited 3 false /web");
  EXPECT_EQ(Format("{{.Path}} {{.Args}} {{.Config.Entrypoint}} {{.Config.Labels}}", json),
            "sh [-c exit 3] [] map[k:v]");
  EXPECT_EQ(Format("{{range .Mounts}}{{.Type}} {{.Source}}:{{.Destination}} {{.RW}}{{end}}", json),
            "bind /host:/data false");
  EXPECT_EQ(Format("{{.HostConfig.Binds}}", json), "[/host:/data:ro]");
  EXPECT_EQ(Format("{{json .State}}", json),
            R"({"Status":"exited","Running":false,"Paused":false,"Restarting":false,)"
            R"("OOMKilled":false,"Dead":false,"Pid":0,"ExitCode":3,"Error":"",)"
            R"("StartedAt":"0001-01-01T00:00:00Z","FinishedAt":"0001-01-01T00:00:00Z"})");
}

}  // namespace
}  // namespace strata::cli

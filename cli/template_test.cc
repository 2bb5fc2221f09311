#include "cli/template.h"

#include "gtest/gtest.h"

namespace strata::cli {
namespace {

// An image as `strata inspect` gives it (docker's keys), trimmed.
Json Image() {
  return Json::parse(R"({
    "Id": "sha256:abc",
    "RepoTags": ["app:1", "app:latest"],
    "Config": {"Cmd": ["sh", "-c", "echo"], "Entrypoint": null, "Env": ["PATH=/bin", "A=b"],
               "Labels": {"z": "last", "a": "first"}, "ExposedPorts": {"80/tcp": {}}},
    "RootFS": {"Type": "layers", "Layers": ["sha256:1", "sha256:2"]},
    "Size": 5200000,
    "NetworkSettings": {"Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}}
  })");
}

std::string Eval(const std::string& text, const Json& data = Image(),
                const TemplateOptions& options = {}) {
  absl::StatusOr<Template> parsed = Template::Parse(text);
  if (!parsed.ok()) return "PARSE: " + std::string(parsed.status().message());
  absl::StatusOr<std::string> out = parsed->Execute(data, options);
  if (!out.ok()) return "EXEC: " + std::string(out.status().message());
  return *out;
}

TEST(TemplateTest, FieldsPrintAsGoPrintsThem) {
  EXPECT_EQ(Eval("{{.Id}}"), "sha256:abc");
  EXPECT_EQ(Eval("{{.Config.Cmd}}"), "[sh -c echo]");
  EXPECT_EQ(Eval("{{.RootFS.Layers}}"), "[sha256:1 sha256:2]");
  EXPECT_EQ(Eval("{{.Config.Labels}}"), "map[a:first z:last]");
  EXPECT_EQ(Eval("{{.Size}}"), "5200000");
  EXPECT_EQ(Eval("{{.Config.Entrypoint}}"), "[]");  // docker's nil slice
  EXPECT_EQ(Eval("{{.}}", Json::parse(R"({"b":[1,true],"a":null})")), "map[a:<nil> b:[1 true]]");
  EXPECT_EQ(Eval("text only\n"), "text only\n");
}

TEST(TemplateTest, JsonIndexAndFunctions) {
  EXPECT_EQ(Eval("{{json .Config.Cmd}}"), R"(["sh","-c","echo"])");
  EXPECT_EQ(Eval("{{json .Config.Labels}}"), R"({"z":"last","a":"first"})");
  EXPECT_EQ(Eval("{{json .Config.Entrypoint}}"), "null");
  EXPECT_EQ(Eval("{{json \"<a&b>\"}}", Json::object()), R"("<a&b>")");  // no HTML escaping
  EXPECT_EQ(Eval(R"({{index .Config.Labels "a"}})"), "first");
  EXPECT_EQ(Eval(R"({{index .Config.Labels "none"}})"), "");
  EXPECT_EQ(Eval(R"({{.Config.Labels "z"}})"), "last");  // docker's {{.Label "k"}} method
  EXPECT_EQ(Eval("{{index .RepoTags 1}}"), "app:latest");
  EXPECT_EQ(Eval(R"({{(index .NetworkSettings.Ports "80/tcp" 0).HostPort}})"), "8080");
  EXPECT_EQ(Eval(R"({{join .Config.Cmd " "}})"), "sh -c echo");
  EXPECT_EQ(Eval(R"({{split "a:b" ":"}})"), "[a b]");
  EXPECT_EQ(Eval("{{.Id | upper}} {{lower \"AB\"}} {{title \"ab cd\"}}"), "SHA256:ABC ab Ab Cd");
  EXPECT_EQ(Eval("{{len .RepoTags}} {{truncate .Id 3}} [{{pad \"x\" 1 2}}]"), "2 sha [ x  ]");
  EXPECT_EQ(Eval(R"({{printf "%s=%d" "n" 3}}|{{println "a" 1}})"), "n=3|a 1\n");
}

TEST(TemplateTest, RangeIfWithAndVariables) {
  EXPECT_EQ(Eval("{{range .RepoTags}}<{{.}}>{{end}}"), "<app:1><app:latest>");
  EXPECT_EQ(Eval("{{range $i, $t := .RepoTags}}{{$i}}={{$t}} {{end}}"), "0=app:1 1=app:latest ");
  EXPECT_EQ(Eval("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}},{{end}}"), "a:first,z:last,");
  EXPECT_EQ(Eval("{{range .Config.Entrypoint}}x{{else}}none{{end}}"), "none");
  EXPECT_EQ(Eval("{{range $p, $conf := .NetworkSettings.Ports}}{{$p}} -> "
                "{{(index $conf 0).HostPort}}{{end}}"),
            "80/tcp -> 8080");
  EXPECT_EQ(Eval("{{if .Config.Entrypoint}}yes{{else}}no{{end}}"), "no");
  EXPECT_EQ(Eval("{{if eq .RootFS.Type \"layers\"}}L{{else if .Size}}S{{else}}N{{end}}"), "L");
  EXPECT_EQ(Eval("{{if eq .RootFS.Type \"x\"}}L{{else if gt .Size 5}}S{{end}}"), "S");
  EXPECT_EQ(Eval("{{if and .Size (not .Config.Entrypoint)}}ok{{end}}"), "ok");
  EXPECT_EQ(Eval("{{with .RootFS}}{{.Type}}{{end}}"), "layers");
  EXPECT_EQ(Eval("{{$id := .Id}}{{range .RepoTags}}{{$id}} {{end}}"), "sha256:abc sha256:abc ");
  EXPECT_EQ(Eval("{{range .RepoTags}}{{$.Size}} {{end}}"), "5200000 5200000 ");
  EXPECT_EQ(Eval("a  {{- \" b \" -}}  c{{/* gone */}}"), "a b c");
}

TEST(TemplateTest, ErrorsInGoWords) {
  EXPECT_EQ(Eval("{{.Foo}}"),
            "EXEC: template: :1:2: executing \"\" at <.Foo>: map has no entry for key \"Foo\"");
  EXPECT_EQ(Eval("x {{.Config.Nope}}"),
            "EXEC: template: :1:4: executing \"\" at <.Config.Nope>: map has no entry for key "
            "\"Nope\"");
  EXPECT_EQ(Eval("{{.Foo}}", Image(), {.type_name = "*formatter.imageContext"}),
            "EXEC: template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo in type "
            "*formatter.imageContext");
  EXPECT_EQ(Eval("{{.Id.X}}"),
            "EXEC: template: :1:2: executing \"\" at <.Id.X>: can't evaluate field X in type "
            "string");
  EXPECT_EQ(Eval("{{index .RepoTags 5}}"),
            "EXEC: template: :1:2: executing \"\" at <index .RepoTags 5>: error calling index: "
            "index out of range: 5");
  EXPECT_EQ(Eval("{{foo .Id}}"), "PARSE: template: :1: function \"foo\" not defined");
  EXPECT_EQ(Eval("{{.Id"), "PARSE: template: :1: unclosed action");
  EXPECT_EQ(Eval("{{if .Id}}x"), "PARSE: template: :1: unexpected EOF");
  EXPECT_EQ(Eval("x\n{{end}}"), "PARSE: template: :2: unexpected {{end}}");
}

TEST(TemplateTest, ListFormatsAsDocker) {
  const Json headers = {{"Repository", "REPOSITORY"}, {"Tag", "TAG"}, {"ID", "IMAGE ID"}};
  const std::vector<Json> rows = {{{"Repository", "busybox"}, {"Tag", "latest"}, {"ID", "1"}},
                                  {{"Repository", "a-much-longer-name"}, {"Tag", "v1"}, {"ID", "2"}}};
  ListFormat table = ParseListFormat("table {{.Repository}}\\t{{.Tag}}");
  EXPECT_TRUE(table.table);
  EXPECT_EQ(*RenderList(table, rows, headers, "*formatter.imageContext"),
            "REPOSITORY           TAG\n"
            "busybox              latest\n"
            "a-much-longer-name   v1\n");
  // Columns are at least 10 wide (docker's tabwriter minwidth).
  EXPECT_EQ(*RenderList(ParseListFormat("table {{.Tag}}\t{{.ID}}"), rows, headers, ""),
            "TAG       IMAGE ID\nlatest    1\nv1        2\n");
  EXPECT_EQ(*RenderList(ParseListFormat("{{.ID}}: {{.Repository}}"), rows, headers, ""),
            "1: busybox\n2: a-much-longer-name\n");
  EXPECT_EQ(*RenderList(ParseListFormat("json"), {rows[0]}, headers, ""),
            R"({"ID":"1","Repository":"busybox","Tag":"latest"})"
            "\n");
  // The header alone when nothing matches, as docker prints it.
  EXPECT_EQ(*RenderList(table, {}, headers, ""), "REPOSITORY   TAG\n");
  absl::StatusOr<std::string> bad = RenderList(ParseListFormat("{{.Nope}}"), rows, headers,
                                               "*formatter.imageContext");
  EXPECT_EQ(bad.status().message(),
            "template parsing error: template: :1:2: executing \"\" at <.Nope>: can't evaluate "
            "field Nope in type *formatter.imageContext");
}

}  // namespace
}  // namespace strata::cli

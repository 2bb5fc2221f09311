// docker's formats, filters, commit changes and words, against the real stack: each expected
// text is what docker prints for the same case (docs.docker.com "Format command and log
// output", "docker image ls --filter", "docker ps --filter", "docker commit --change").

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/stack.h"

namespace strata::e2e {
namespace {

class FormatsTest : public BaseImageSuite {
 protected:
  static void SetUpTestSuite() {
    BaseImageSuite::SetUpTestSuite();
    if (stack_ == nullptr) return;
    // app:1 = base + one layer, with docker's -c changes; a dangling image beside it.
    ASSERT_EQ(stack_->Strata({"run", "--name", "src", "base", "sh", "-c", "echo hi > /f"}).exit_code,
              0);
    CommandResult committed = stack_->Strata(
        {"commit", "-c", R"(CMD ["sh","-c","echo"])", "-c", R"(LABEL a=1 "b c"="two words")",
         "-c", "ONBUILD RUN echo hi", "-c", "EXPOSE 80/tcp", "-c", "ENV K=v L=w", "-c",
         "VOLUME /data", "src", "app:1"});
    ASSERT_EQ(committed.exit_code, 0) << committed.error_output;
    CommandResult dangling = stack_->Strata({"commit", "-c", "LABEL dangling=yes", "src"});
    ASSERT_EQ(dangling.exit_code, 0) << dangling.error_output;
    dangling_id_ = std::string(absl::StripAsciiWhitespace(dangling.output));
  }

  std::string Ok(const std::vector<std::string>& args) {
    CommandResult result = stack_->Strata(args);
    EXPECT_EQ(result.exit_code, 0) << "strata " << absl::StrJoin(args, " ")
                                   << "\nstderr: " << result.error_output;
    return result.output;
  }

  // Expects exit 1 and exactly this stderr.
  void ExpectFailure(const std::vector<std::string>& args, const std::string& error) {
    CommandResult result = stack_->Strata(args);
    EXPECT_EQ(result.exit_code, 1) << absl::StrJoin(args, " ");
    EXPECT_EQ(result.error_output, error) << absl::StrJoin(args, " ");
  }

  static inline std::string dangling_id_;
};

TEST_F(FormatsTest, InspectTemplatesAsDocker) {
  EXPECT_EQ(Ok({"inspect", "-f", "{{.Config.Cmd}}", "app:1"}), "[sh -c echo]\n");
  EXPECT_EQ(Ok({"inspect", "--format", "{{json .Config.Labels}}", "app:1"}),
            "{\"a\":\"1\",\"b c\":\"two words\"}\n");
  EXPECT_EQ(Ok({"inspect", "-f", R"({{index .Config.Labels "b c"}})", "app:1"}), "two words\n");
  EXPECT_EQ(Ok({"inspect", "-f", "{{.Config.OnBuild}} {{.Config.ExposedPorts}} {{.Config.Volumes}}",
                "app:1"}),
            "[RUN echo hi] map[80/tcp:{}] map[/data:{}]\n");
  EXPECT_EQ(Ok({"inspect", "-f", "{{range .Config.Env}}{{if eq . \"K=v\"}}{{.}}{{end}}{{end}}",
                "app:1"}),
            "K=v\n");
  EXPECT_EQ(Ok({"inspect", "-f", "{{.RootFS.Type}} {{len .RootFS.Layers}} {{json .Config.Entrypoint}}",
                "app:1"}),
            "layers 2 null\n");
  EXPECT_EQ(Ok({"inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.Name}}", "src"}),
            "exited 0 /src\n");
  // One line per object.
  EXPECT_EQ(Ok({"inspect", "-f", "{{.RepoTags}}", "app:1", "base"}), "[app:1]\n[base:latest]\n");

  ExpectFailure({"inspect", "-f", "{{.Foo}}", "app:1"},
                "template parsing error: template: :1:2: executing \"\" at <.Foo>: map has no "
                "entry for key \"Foo\"\n");
  ExpectFailure({"inspect", "-f", "{{nope .Id}}", "app:1"},
                "template parsing error: template: :1: function \"nope\" not defined\n");
  CommandResult missing = stack_->Strata({"inspect", "no-such-thing"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.output, "[]\n");
  EXPECT_EQ(missing.error_output, "Error: No such object: no-such-thing\n");

  // The JSON has docker's keys, Strata's own under "Strata".
  nlohmann::json image = nlohmann::json::parse(Ok({"inspect", "app:1"}))[0];
  for (const char* key : {"Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created",
                          "ContainerConfig", "DockerVersion", "Author", "Config", "Architecture",
                          "Os", "Size", "GraphDriver", "RootFS", "Metadata", "Strata"}) {
    EXPECT_TRUE(image.contains(key)) << key;
  }
  EXPECT_EQ(image["Strata"]["Layers"].size(), 2u);
  // Metadata.LastTagTime: when app:1 was tagged (RFC 3339, not docker's zero time); the
  // dangling image never was.
  const std::string tagged = image["Metadata"]["LastTagTime"].get<std::string>();
  EXPECT_NE(tagged, "0001-01-01T00:00:00Z");
  EXPECT_EQ(tagged.substr(0, 2), "20") << tagged;
  EXPECT_EQ(Ok({"inspect", "-f", "{{.Metadata.LastTagTime}}", dangling_id_}),
            "0001-01-01T00:00:00Z\n");
}

TEST_F(FormatsTest, ImagesFormatAndFilters) {
  // docs: docker images --format "table {{.Repository}}\t{{.Tag}}"
  EXPECT_EQ(Ok({"images", "--format", "table {{.Repository}}\\t{{.Tag}}", "--filter",
                "reference=app"}),
            "REPOSITORY   TAG\n"
            "app          1\n");
  EXPECT_EQ(Ok({"images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "label=a=1"}),
            "app:1\n");
  EXPECT_EQ(Ok({"images", "--format", "{{.Repository}}", "--filter", "before=app:1"}), "base\n");
  // Different keys must all hold; one key's values are alternatives.
  EXPECT_EQ(Ok({"images", "--format", "{{.Repository}}", "--filter", "since=base", "--filter",
                "dangling=false"}),
            "app\n");
  EXPECT_EQ(Ok({"images", "--format", "{{.Repository}}", "--filter", "reference=app",
                "--filter", "reference=ba*"}),
            "app\nbase\n");
  const std::string dangling = Ok({"images", "-q", "--filter", "dangling=true"});
  EXPECT_EQ(dangling, dangling_id_.substr(7, 12) + "\n");
  EXPECT_EQ(Ok({"images", "--format", "{{.Repository}}:{{.Tag}}", "-f", "dangling=true"}),
            "<none>:<none>\n");
  nlohmann::json row = nlohmann::json::parse(Ok({"images", "--format", "json", "-f", "reference=app"}));
  EXPECT_EQ(row["Repository"], "app");
  EXPECT_EQ(row["Tag"], "1");
  ExpectFailure({"images", "--filter", "foo=bar"}, "Error response from daemon: invalid filter 'foo'\n");
  ExpectFailure({"images", "--filter", "dangling=maybe"},
                "Error response from daemon: invalid filter 'dangling=[maybe]'\n");
  ExpectFailure({"images", "--format", "{{.Nope}}"},
                "template parsing error: template: :1:2: executing \"\" at <.Nope>: can't "
                "evaluate field Nope in type *formatter.imageContext\n");
}

TEST_F(FormatsTest, PsAndHistoryFormatAndFilters) {
  EXPECT_EQ(Ok({"ps", "--filter", "status=exited", "--filter", "name=^/src$", "--format",
                "{{.Names}} {{.State}} {{.Image}} {{.Command}}"}),
            "src exited base \"sh -c echo hi > /f\"\n");
  const std::string id = Ok({"ps", "-q", "--filter", "status=exited", "--filter", "name=src"});
  EXPECT_EQ(id.size(), 13u) << id;
  EXPECT_EQ(Ok({"ps", "-a", "--filter", "ancestor=base", "--format", "{{.Names}}"}), "src\n");
  EXPECT_EQ(Ok({"ps", "-a", "--filter", "ancestor=app:1", "--format", "{{.Names}}"}), "");
  EXPECT_EQ(Ok({"ps", "--filter", "status=running", "--format", "table {{.Names}}"}), "NAMES\n");
  ExpectFailure({"ps", "--filter", "nope=1"}, "Error response from daemon: invalid filter 'nope'\n");

  // docs: docker history --format "{{.ID}}: {{.CreatedBy}}"
  const std::vector<std::string> lines =
      absl::StrSplit(Ok({"history", "--format", "{{.ID}}: {{.CreatedBy}}", "app:1"}), '\n');
  ASSERT_GE(lines.size(), 2u);
  EXPECT_TRUE(absl::EndsWith(lines[0], ": sh -c echo hi > /f")) << lines[0];
  const std::string table = Ok({"history", "--format", "table {{.ID}}\\t{{.Comment}}", "app:1"});
  EXPECT_TRUE(absl::StartsWith(table, "IMAGE          COMMENT\n")) << table;
}

// docker ps -s: SIZE is the writable layer's bytes (a hard link counted once), then "virtual"
// with the image's size added.
TEST_F(FormatsTest, PsSizeAsDocker) {
  ASSERT_EQ(stack_->Strata({"run", "--name", "sized", "base", "sh", "-c",
                            "head -c 3000 /dev/zero > /a && ln /a /b && mkdir /d"})
                .exit_code,
            0);
  const std::string size =
      Ok({"ps", "-a", "--filter", "name=sized", "--format", "{{.Size}}"});
  EXPECT_TRUE(absl::StartsWith(size, "3kB (virtual ")) << size;
  const std::string table = Ok({"ps", "-a", "-s", "--filter", "name=sized"});
  const std::vector<std::string> lines = absl::StrSplit(table, '\n');
  ASSERT_GE(lines.size(), 2u) << table;
  EXPECT_TRUE(absl::StrContains(lines[0], "NAMES") && absl::EndsWith(lines[0], "SIZE")) << table;
  EXPECT_TRUE(absl::StrContains(lines[1], "sized") && absl::StrContains(lines[1], "3kB (virtual "))
      << table;
  // Without -s (and no .Size in a template) nothing is walked: docker's N/A.
  EXPECT_EQ(Ok({"ps", "-a", "--filter", "name=sized", "--format", "{{.Names}}"}), "sized\n");
  Ok({"rm", "sized"});
}

TEST_F(FormatsTest, DockersWordsAndExitCodes) {
  ExpectFailure({"rmi", "nope"}, "Error response from daemon: No such image: nope:latest\n");
  ExpectFailure({"tag", "nope:2", "x:1"}, "Error response from daemon: No such image: nope:2\n");
  ExpectFailure({"rm", "nope"}, "Error response from daemon: No such container: nope\n");
  ExpectFailure({"history", "nope"}, "Error response from daemon: No such image: nope:latest\n");
  const std::string hex(64, 'e');
  ExpectFailure({"tag", "app:1", hex},
                "Error parsing reference: \"" + hex + "\" is not a valid repository/tag: invalid "
                "repository name (" + hex + "), cannot specify 64-byte hexadecimal strings\n");
  ExpectFailure({"tag", "app:1", "sha256:v1"},
                "Error response from daemon: refusing to create an ambiguous tag using digest "
                "algorithm as name\n");
  CommandResult empty = stack_->Strata({"rm", ""});
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(empty.error_output, "invalid container name or ID: value is empty"))
      << empty.error_output;
  empty = stack_->Strata({"rmi", ""});
  EXPECT_TRUE(absl::StrContains(empty.error_output, "invalid image name or ID: value is empty"))
      << empty.error_output;

  // rmi's conflicts, in docker's words.
  ASSERT_EQ(stack_->Strata({"tag", "app:1", "app:2"}).exit_code, 0);
  const std::string id = Ok({"inspect", "-f", "{{.Id}}", "app:1"}).substr(7, 12);
  ExpectFailure({"rmi", id}, "Error response from daemon: conflict: unable to delete " + id +
                                 " (must be forced) - image is referenced in multiple "
                                 "repositories\n");
  const std::string base = Ok({"inspect", "-f", "{{.Id}}", "base"}).substr(7, 12);
  ASSERT_EQ(stack_->Strata({"rmi", "app:2"}).exit_code, 0);
  ExpectFailure({"rmi", base}, "Error response from daemon: conflict: unable to delete " + base +
                                   " (cannot be forced) - image has dependent child images\n");

  // A command that is not there is 127, one that cannot run 126, a daemon error 125 (run).
  EXPECT_EQ(stack_->Strata({"run", "--rm", "base", "no-such-command"}).exit_code, 127);
  EXPECT_EQ(stack_->Strata({"run", "--rm", "base", "/etc"}).exit_code, 126);
  EXPECT_EQ(stack_->Strata({"run", "no-such-image"}).exit_code, 125);
}

TEST_F(FormatsTest, EnvFileWorkdirAndUser) {
  const std::string env_file = stack_->dir() + "/env.list";
  ASSERT_TRUE(WriteFileAtomically(env_file, "# a comment\n\nA=1\nB=two words\nC=from file\n").ok());
  EXPECT_EQ(Ok({"run", "--rm", "--env-file", env_file, "-e", "C=3", "-w", "/tmp", "-u",
                "1000:1000", "base", "sh", "-c", "echo \"$A|$B|$C|$(pwd)|$(id -u):$(id -g)\""}),
            "1|two words|3|/tmp|1000:1000\n");
  CommandResult missing = stack_->Strata({"run", "--rm", "--env-file", "/nonexistent", "base", "true"});
  EXPECT_EQ(missing.exit_code, 125);
  EXPECT_TRUE(absl::StrContains(missing.error_output, "open /nonexistent")) << missing.error_output;
}

}  // namespace
}  // namespace strata::e2e

// The workflow a user follows, end to end through the strata CLI against the real stack:
// import, run, diff, commit, history, tag, branch, revert, export and re-import, cp, 20
// stacked commits and the layer limit.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "lib/base/fs.h"
#include "tests/e2e/stack.h"

namespace strata::e2e {
namespace {

// Runs strata and expects success; returns stdout.
std::string Ok(Stack& stack, const std::vector<std::string>& args, const std::string& input = "") {
  CommandResult result = stack.Strata(args, input);
  EXPECT_EQ(result.exit_code, 0) << "strata " << absl::StrJoin(args, " ") << "\nstdout: "
                                 << result.output << "\nstderr: " << result.error_output;
  return result.output;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

class WorkflowTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto stack = Stack::Start(/*max_layers=*/21);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
    // The base image, imported from a gzip tarball.
    auto tarball = stack_->BusyboxTarball("gzip");
    ASSERT_TRUE(tarball.ok()) << tarball.status();
    base_id_ = std::string(absl::StripAsciiWhitespace(Ok(*stack_, {"import", *tarball, "base"})));
  }
  static void TearDownTestSuite() { delete stack_; }

  static Stack* stack_;
  static std::string base_id_;
};

Stack* WorkflowTest::stack_ = nullptr;
std::string WorkflowTest::base_id_;

TEST_F(WorkflowTest, ImportedLayersRecordTheirRealSizes) {
  // Once, imports recorded a compressed size of 0: inspect shows what layerstore holds.
  const nlohmann::json inspect =
      nlohmann::json::parse(Ok(*stack_, {"inspect", "--type", "image", "base"}));
  ASSERT_EQ(inspect.size(), 1u);
  const nlohmann::json& layers = inspect[0]["Strata"]["Layers"];
  ASSERT_EQ(layers.size(), 1u);
  const int64_t size = layers[0]["Size"].get<int64_t>();
  EXPECT_GT(size, 0) << layers.dump();
  EXPECT_GT(layers[0]["UncompressedSize"].get<int64_t>(), size) << layers.dump();
}

TEST_F(WorkflowTest, ImportsEveryCompressionByContent) {
  EXPECT_TRUE(absl::StartsWith(base_id_, "sha256:")) << base_id_;
  for (const char* compression : {"none", "bzip2", "xz", "zstd"}) {
    auto tarball = stack_->BusyboxTarball(compression);
    ASSERT_TRUE(tarball.ok());
    // Named without its extension: the compression comes from the bytes, not the name.
    const std::string renamed = stack_->dir() + "/tarball-" + compression;
    ASSERT_EQ(::rename(tarball->c_str(), renamed.c_str()), 0);
    Ok(*stack_, {"import", "-m", std::string("from ") + compression, renamed,
                 std::string("base:") + compression});
    EXPECT_EQ(Ok(*stack_, {"run", "--rm", std::string("base:") + compression, "cat", "/etc/keep"}),
              "keep\n");
  }
  // From standard input too.
  auto tarball = stack_->BusyboxTarball("xz");
  auto bytes = ReadFile(*tarball);
  ASSERT_TRUE(bytes.ok());
  Ok(*stack_, {"import", "-", "base:stdin"}, *bytes);
  const std::string history = Ok(*stack_, {"history", "--format", "{{.Comment}}", "base:stdin"});
  EXPECT_EQ(history, "Imported from -\n");
  const std::string images = Ok(*stack_, {"images", "base"});
  for (const char* tag : {"latest", "none", "bzip2", "xz", "zstd", "stdin"}) {
    EXPECT_TRUE(absl::StrContains(images, absl::StrCat("base         ", tag)) ||
                absl::StrContains(images, absl::StrCat(" ", tag, " ")))
        << tag << " missing in\n" << images;
  }
}

TEST_F(WorkflowTest, RunDiffCommitHistoryTagBranchRevert) {
  Ok(*stack_, {"run", "--name", "dev", "base", "sh", "-c",
               "echo added > /added && echo changed >> /etc/keep && rm /etc/del"});
  EXPECT_EQ(Ok(*stack_, {"diff", "dev"}), "A /added\nC /etc\nD /etc/del\nC /etc/keep\n");

  const std::string app_id = std::string(absl::StripAsciiWhitespace(
      Ok(*stack_, {"commit", "-a", "Ann <ann@example.com>", "-m", "add, change, delete", "-c",
                   "ENTRYPOINT [\"/bin/sh\",\"-c\"]", "dev", "app:1"})));
  ASSERT_TRUE(absl::StartsWith(app_id, "sha256:")) << app_id;

  // Both steps, newest first, with command, author and comment.
  const std::vector<std::string> history = Lines(Ok(
      *stack_, {"history", "--no-trunc", "--format",
                "{{.ID}}|{{.CreatedBy}}|{{.Author}}|{{.Comment}}", "app:1"}));
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0],
            absl::StrCat(app_id, "|sh -c echo added > /added && echo changed >> /etc/keep && "
                                 "rm /etc/del|Ann <ann@example.com>|add, change, delete"));
  EXPECT_TRUE(absl::StartsWith(history[1], base_id_ + "||")) << history[1];
  EXPECT_TRUE(absl::StrContains(history[1], "Imported from")) << history[1];
  // The default table: docker's columns.
  const std::string table = Ok(*stack_, {"history", "app:1"});
  EXPECT_TRUE(absl::StartsWith(table, "IMAGE          CREATED")) << table;
  EXPECT_TRUE(absl::StrContains(table, "CREATED BY")) << table;
  EXPECT_TRUE(absl::StrContains(table, "sh -c echo added > /added && echo changed >>…"))
      << "CREATED BY is cut to 45 characters:\n" << table;

  // The new image runs with the changed files and the new entrypoint.
  EXPECT_EQ(Ok(*stack_, {"run", "--rm", "app:1", "cat /added; cat /etc/keep"}),
            "added\nkeep\nchanged\n");
  CommandResult deleted = stack_->Strata({"run", "--rm", "app:1", "cat /etc/del"});
  EXPECT_EQ(deleted.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(deleted.error_output, "No such file")) << deleted.error_output;

  // Tags.
  Ok(*stack_, {"tag", "app:1", "app:stable"});
  const std::string images = Ok(*stack_, {"images", "app"});
  EXPECT_TRUE(absl::StrContains(images, "app          1 ")) << images;
  EXPECT_TRUE(absl::StrContains(images, "app          stable ")) << images;

  // A second branch from base knows nothing of the first.
  Ok(*stack_, {"run", "--name", "dev2", "base", "sh", "-c", "echo branch > /branch"});
  Ok(*stack_, {"commit", "dev2", "app:branch"});
  EXPECT_EQ(Ok(*stack_, {"run", "--rm", "app:branch", "sh", "-c", "cat /branch; ls /added || true"}),
            "branch\n");

  // Revert: the earlier image in app:1's history runs as it was.
  const std::string earlier = Lines(Ok(*stack_, {"history", "-q", "app:1"}))[1];
  EXPECT_EQ(Ok(*stack_, {"run", "--rm", earlier, "sh", "-c", "cat /etc/del; test ! -e /added"}),
            "del\n");

  // inspect shows the config the commit wrote.
  const std::string inspect = Ok(*stack_, {"inspect", "--type", "image", "app:1"});
  EXPECT_TRUE(absl::StrContains(inspect, "\"Author\": \"Ann <ann@example.com>\"")) << inspect;
  EXPECT_TRUE(absl::StrContains(inspect, "\"/bin/sh\",")) << inspect;

  // rmi: a tag goes, then the image once nothing uses it.
  Ok(*stack_, {"rmi", "app:stable"});
  const std::string user_id = Lines(Ok(*stack_, {"create", "--name", "user", "app:branch", "true"}))[0];
  CommandResult in_use = stack_->Strata({"rmi", "app:branch"});
  EXPECT_NE(in_use.exit_code, 0) << "a container uses app:branch";
  EXPECT_TRUE(absl::StrContains(in_use.error_output,
                                absl::StrCat("(must force) - container ", user_id.substr(0, 12),
                                             " is using its referenced image")))
      << in_use.error_output;
  CommandResult with_children = stack_->Strata({"rmi", base_id_});
  EXPECT_NE(with_children.exit_code, 0) << "base has child images";
  Ok(*stack_, {"rm", "user"});
  const std::string removed = Ok(*stack_, {"rmi", "app:branch"});
  EXPECT_TRUE(absl::StrContains(removed, "Untagged: app:branch")) << removed;
  EXPECT_TRUE(absl::StrContains(removed, "Deleted: sha256:")) << removed;
}

TEST_F(WorkflowTest, ExportReimportAndCopy) {
  Ok(*stack_, {"run", "--name", "exp", "base", "sh", "-c",
               "mkdir -p /data && echo payload > /data/file && ln -s /data/file /data/link"});
  const std::string tar = stack_->dir() + "/exp.tar";
  Ok(*stack_, {"export", "-o", tar, "exp"});
  Ok(*stack_, {"import", tar, "restored:1"});
  EXPECT_EQ(Ok(*stack_, {"run", "--rm", "restored:1", "cat", "/data/link"}), "payload\n");
  // The same files, listed by tar.
  auto list = [&](const std::string& container) {
    auto result = RunCommand({"/bin/sh", "-c",
                              absl::StrCat(stack_->StrataBinary(), " export ", container,
                                           " | tar -tvf - | awk '{print $1, $2, $6, $7, $8}' | sort")},
                             {.env = stack_->Env()});
    EXPECT_TRUE(result.ok());
    return result->output;
  };
  Ok(*stack_, {"create", "--name", "restored", "restored:1", "true"});
  EXPECT_EQ(list("restored"), list("exp"));

  // cp: a file, and a directory as a tar on stdout.
  const std::string out = stack_->dir() + "/copied";
  Ok(*stack_, {"cp", "exp:/data/file", out});
  EXPECT_EQ(*ReadFile(out), "payload\n");
  auto tar_listing = RunCommand(
      {"/bin/sh", "-c", absl::StrCat(stack_->StrataBinary(), " cp exp:/data - | tar -tf -")},
      {.env = stack_->Env()});
  ASSERT_TRUE(tar_listing.ok());
  EXPECT_EQ(tar_listing->output, "data/\ndata/file\ndata/link\n");
  // Into an existing directory, under the source's name.
  ASSERT_TRUE(MakeDirs(stack_->dir() + "/into").ok());
  Ok(*stack_, {"cp", "exp:/data", stack_->dir() + "/into"});
  EXPECT_EQ(*ReadFile(stack_->dir() + "/into/data/file"), "payload\n");
}

TEST_F(WorkflowTest, TwentyStackedCommitsRunAndTheLimitIsClear) {
  std::string image = "base";
  for (int i = 1; i <= 20; ++i) {
    const std::string name = absl::StrCat("s", i);
    Ok(*stack_, {"run", "--name", name, image, "sh", "-c", absl::StrCat("echo ", i, " >> /count")});
    image = absl::StrCat("stack:", i);
    Ok(*stack_, {"commit", name, image});
    Ok(*stack_, {"rm", name});
  }
  EXPECT_EQ(Ok(*stack_, {"run", "--name", "s21", image, "sh", "-c", "wc -l < /count; echo 21 >> /count"}),
            "20\n");
  Ok(*stack_, {"commit", "s21", "stack:21"});
  CommandResult refused = stack_->Strata({"run", "--rm", "stack:21", "true"});
  EXPECT_EQ(refused.exit_code, 125);
  EXPECT_TRUE(absl::StrContains(refused.error_output, "22 layers")) << refused.error_output;
  EXPECT_TRUE(absl::StrContains(refused.error_output, "squash")) << refused.error_output;
  // 21 steps of history, newest first.
  EXPECT_EQ(Lines(Ok(*stack_, {"history", "-q", "stack:21"})).size(), 22u);
}

TEST_F(WorkflowTest, ContainersLifecycle) {
  const std::string id = std::string(absl::StripAsciiWhitespace(
      Ok(*stack_, {"run", "-d", "--name", "bg", "base", "sh", "-c", "echo started; sleep 1000"})));
  EXPECT_EQ(id.size(), 64u);
  EXPECT_TRUE(absl::StrContains(Ok(*stack_, {"ps"}), "bg")) << "running containers are listed";
  EXPECT_EQ(Ok(*stack_, {"exec", "bg", "sh", "-c", "echo in-exec; exit 0"}), "in-exec\n");
  CommandResult failing = stack_->Strata({"exec", "bg", "sh", "-c", "exit 7"});
  EXPECT_EQ(failing.exit_code, 7);
  EXPECT_EQ(Ok(*stack_, {"exec", "-i", "bg", "cat"}, "piped\n"), "piped\n");
  Ok(*stack_, {"pause", "bg"});
  EXPECT_TRUE(absl::StrContains(Ok(*stack_, {"ps"}), "(Paused)"));
  Ok(*stack_, {"unpause", "bg"});
  Ok(*stack_, {"stop", "-t", "1", "bg"});
  EXPECT_EQ(Ok(*stack_, {"wait", "bg"}), "137\n");
  EXPECT_FALSE(absl::StrContains(Ok(*stack_, {"ps"}), " bg\n"));
  EXPECT_TRUE(absl::StrContains(Ok(*stack_, {"ps", "-a"}), "Exited (137)"));
  EXPECT_EQ(Ok(*stack_, {"logs", "bg"}), "started\n");
  // start -a runs it again and reports its exit code.
  Ok(*stack_, {"create", "--name", "again", "base", "sh", "-c", "echo run; exit 4"});
  CommandResult started = stack_->Strata({"start", "-a", "again"});
  EXPECT_EQ(started.exit_code, 4);
  EXPECT_EQ(started.output, "run\n");
  // stdin through run -i, and exit codes.
  EXPECT_EQ(Ok(*stack_, {"run", "--rm", "-i", "base", "tr", "a-z", "A-Z"}, "shout\n"), "SHOUT\n");
  EXPECT_EQ(stack_->Strata({"run", "--rm", "base", "sh", "-c", "exit 3"}).exit_code, 3);
  Ok(*stack_, {"rm", "bg", "again"});
}

}  // namespace
}  // namespace strata::e2e

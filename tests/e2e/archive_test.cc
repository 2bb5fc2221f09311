// save and load end to end: strata's archives read by podman, skopeo and umoci, and theirs by
// strata; round trips keep image ids, tags and history; two images share their base once; and
// every bad archive (neither format, a missing layer, a digest or diff id that does not match,
// path traversal, an oversized or sparse "manifest.json", truncation) is refused with a clear
// error, leaving no image and no blob behind.

#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/base/subprocess.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/stack.h"

namespace strata::e2e {
namespace {

class ArchiveTest : public BaseImageSuite {
 protected:
  static void SetUpTestSuite() {
    BaseImageSuite::SetUpTestSuite();
    ASSERT_EQ(
        stack_
            ->Strata({"run", "--name", "maker", "base", "sh", "-c", "echo hello-archive > /hello"})
            .exit_code,
        0);
    ASSERT_EQ(stack_->Strata({"commit", "-m", "added hello", "maker", "child:1"}).exit_code, 0);
    ASSERT_EQ(stack_->Strata({"rm", "maker"}).exit_code, 0);
  }

  std::string Ok(const std::vector<std::string>& args) {
    CommandResult result = stack_->Strata(args);
    EXPECT_EQ(result.exit_code, 0)
        << "strata " << absl::StrJoin(args, " ") << "\nstdout: " << result.output
        << "\nstderr: " << result.error_output;
    return result.output;
  }
  std::string Id(const std::string& ref) {
    nlohmann::json doc = nlohmann::json::parse(Ok({"inspect", ref}), nullptr, false);
    if (doc.is_array() && !doc.empty()) doc = doc[0];
    return doc.is_object() ? doc.value("Id", "") : "";
  }
  std::string Path(const std::string& name) { return stack_->dir() + "/" + name; }
  static std::string Sh(const std::string& script) {
    auto result = RunCommand({"sh", "-c", script}, {.separate_stderr = true});
    EXPECT_TRUE(result.ok() && result->exit_code == 0)
        << script << "\n"
        << (result.ok() ? result->error_output : result.status().ToString());
    return result.ok() ? result->output : "";
  }
  int BlobCount() {
    return std::stoi(Sh(absl::StrCat("find ", Path("layerstore"), " -type f | wc -l")));
  }
  static std::vector<std::string> Podman(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"podman", "--runtime", "runc"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  static std::string PodmanRun(const std::string& image, const std::string& file) {
    auto run =
        RunCommand(Podman({"run", "--rm", "--network", "host", "--ulimit", "nofile=1024:1024",
                           "--ulimit", "nproc=1024:1024", image, "cat", file}),
                   {.separate_stderr = true});
    EXPECT_TRUE(run.ok());
    return run.ok() ? run->output + run->error_output : "";
  }
  // Loading `archive` fails with exit 1 naming `expected`, and leaves no image or blob.
  void ExpectRefused(const std::string& archive, const std::string& expected) {
    const std::string images = Ok({"images", "-a", "-q"});
    const int blobs = BlobCount();
    CommandResult result = stack_->Strata({"load", "-i", archive});
    EXPECT_EQ(result.exit_code, 1) << archive << ": " << result.output;
    EXPECT_TRUE(absl::StrContains(result.error_output, expected))
        << archive << ": wanted \"" << expected << "\" in: " << result.error_output;
    EXPECT_EQ(Ok({"images", "-a", "-q"}), images) << archive;
    EXPECT_EQ(BlobCount(), blobs) << archive << " left a blob behind";
  }
};

TEST_F(ArchiveTest, RoundTripsKeepIdsTagsAndHistoryAndShareTheBaseOnce) {
  const std::string child = Id("child:1");
  const std::string base = Id("base");
  const std::vector<std::string> history_args = {"history", "--no-trunc", "--format",
                                                 "{{.ID}} {{.CreatedBy}} {{.Comment}}", "child:1"};
  const std::string history = Ok(history_args);
  for (const std::string format : {"docker-archive", "oci-archive", "oci-zstd"}) {
    SCOPED_TRACE(format);
    const std::string file = Path(format + ".tar");
    std::vector<std::string> save = {"save", "-o", file, "child:1", "base"};
    if (format == "oci-zstd") {
      save.insert(save.begin() + 1, {"--format", "oci-archive", "--compression-format", "zstd"});
    } else {
      save.insert(save.begin() + 1, {"--format", format});
    }
    Ok(save);
    const std::string members = Sh("tar -tf " + file);
    if (format == "docker-archive") {
      // Two images, two distinct layers: the base's once.
      EXPECT_EQ(Sh("tar -tf " + file + " | grep -c '/layer.tar$'"), "2\n") << members;
      EXPECT_TRUE(absl::StrContains(members, "manifest.json")) << members;
      EXPECT_TRUE(absl::StrContains(members, child.substr(7) + ".json")) << members;
    } else {
      // 2 layers + 2 configs + 2 manifests.
      EXPECT_EQ(Sh("tar -tf " + file + " | grep -c '^blobs/sha256/.'"), "6\n") << members;
      nlohmann::json index = nlohmann::json::parse(Sh("tar -xOf " + file + " index.json"));
      ASSERT_EQ(index["manifests"].size(), 2u) << index.dump();
      EXPECT_EQ(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"], "1");
      EXPECT_EQ(index["manifests"][0]["annotations"]["io.containerd.image.name"],
                "docker.io/library/child:1");
      const std::string manifest_hex = index["manifests"][0]["digest"].get<std::string>().substr(7);
      nlohmann::json manifest =
          nlohmann::json::parse(Sh("tar -xOf " + file + " blobs/sha256/" + manifest_hex));
      EXPECT_EQ(manifest["layers"][0]["mediaType"],
                format == "oci-zstd" ? "application/vnd.oci.image.layer.v1.tar+zstd"
                                     : "application/vnd.oci.image.layer.v1.tar+gzip");
    }
    Ok({"rmi", "child:1"});
    // Compressed on the way, as a user might keep it.
    Sh("gzip -c " + file + " > " + file + ".gz");
    const std::string loaded = Ok({"load", "-i", file + ".gz"});
    EXPECT_EQ(loaded, "Loaded image: child:1\nLoaded image: base:latest\n");
    EXPECT_EQ(Id("child:1"), child);
    EXPECT_EQ(Id("base"), base);
    EXPECT_EQ(Ok(history_args), history);
    EXPECT_EQ(Ok({"run", "--rm", "child:1", "cat", "/hello"}), "hello-archive\n");
  }
  // From stdin, untagged when saved by id.
  const std::string by_id = Path("by-id.tar");
  Ok({"save", "-o", by_id, child.substr(7, 12)});
  CommandResult loaded = stack_->Strata({"load", "-q"}, *ReadFile(by_id));
  EXPECT_EQ(loaded.output, "Loaded image ID: " + child + "\n") << loaded.error_output;
  // docker's refusal on a terminal is tested by hand; stdout to a pipe works.
  CommandResult piped = stack_->Strata({"save", "child:1"});
  EXPECT_EQ(piped.exit_code, 0);
  EXPECT_GT(piped.output.size(), 10000u);
  EXPECT_EQ(stack_->Strata({"save", "-o", Path("none.tar"), "no-such:image"}).exit_code, 1);
  EXPECT_FALSE(PathExists(Path("none.tar")));
}

TEST_F(ArchiveTest, PodmanLoadsAndRunsWhatStrataSaved) {
  for (const std::string format : {"docker-archive", "oci-archive"}) {
    SCOPED_TRACE(format);
    const std::string file = Path("for-podman-" + format + ".tar");
    Ok({"save", "--format", format, "-o", file, "child:1"});
    auto loaded = RunCommand(Podman({"load", "-i", file}));
    ASSERT_TRUE(loaded.ok() && loaded->exit_code == 0) << loaded->output;
    // podman names docker-archive's short "child:1" localhost/child:1, the OCI one by its
    // full name annotation.
    const size_t at = loaded->output.find("Loaded image: ");
    ASSERT_NE(at, std::string::npos) << loaded->output;
    std::string name = loaded->output.substr(at + 14);
    name = name.substr(0, name.find('\n'));
    EXPECT_TRUE(absl::EndsWith(name, "/child:1")) << loaded->output;
    EXPECT_EQ(PodmanRun(name, "/hello"), "hello-archive\n");
    auto history = RunCommand(Podman({"history", "--format", "{{.Comment}}", name}));
    EXPECT_TRUE(absl::StrContains(history->output, "added hello")) << history->output;
    (void)RunCommand(Podman({"rmi", "-f", name}));
  }
}

TEST_F(ArchiveTest, StrataLoadsAndRunsWhatPodmanSaved) {
  const std::string tarball = *stack_->BusyboxTarball("gzip");
  auto imported = RunCommand(Podman({"import", tarball, "localhost/podman-made:1"}));
  ASSERT_TRUE(imported.ok() && imported->exit_code == 0) << imported->output;
  for (const std::string format : {"docker-archive", "oci-archive"}) {
    SCOPED_TRACE(format);
    const std::string file = Path("from-podman-" + format + ".tar");
    auto saved =
        RunCommand(Podman({"save", "--format", format, "-o", file, "localhost/podman-made:1"}));
    ASSERT_TRUE(saved.ok() && saved->exit_code == 0) << saved->output;
    const std::string loaded = Ok({"load", "-i", file});
    EXPECT_TRUE(absl::StrContains(loaded, "Loaded image: localhost/podman-made:1")) << loaded;
    EXPECT_EQ(Ok({"run", "--rm", "localhost/podman-made:1", "cat", "/etc/keep"}), "keep\n");
    Ok({"rmi", "localhost/podman-made:1"});
  }
  (void)RunCommand(Podman({"rmi", "-f", "localhost/podman-made:1"}));
}

TEST_F(ArchiveTest, SkopeoAndUmociReadTheOciLayoutAndSkopeoConvertsBothWays) {
  const std::string dir = Path("layout");
  Ok({"save", "--format", "oci-dir", "-o", dir, "child:1"});
  auto inspected = RunCommand({"skopeo", "inspect", "oci:" + dir}, {.separate_stderr = true});
  ASSERT_TRUE(inspected.ok() && inspected->exit_code == 0) << inspected->error_output;
  nlohmann::json doc = nlohmann::json::parse(inspected->output, nullptr, false);
  EXPECT_EQ(doc["Layers"].size(), 2u) << inspected->output;
  auto unpacked = RunCommand({"umoci", "unpack", "--image", dir + ":1", Path("bundle")});
  ASSERT_TRUE(unpacked.ok() && unpacked->exit_code == 0) << unpacked->output;
  EXPECT_EQ(*ReadFile(Path("bundle/rootfs/hello")), "hello-archive\n");
  // The directory loads back as it is.
  EXPECT_EQ(Ok({"load", "-i", dir}), "Loaded image: child:1\n");

  const std::string child = Id("child:1");
  const std::string oci = Path("skopeo-src.tar");
  Ok({"save", "--format", "oci-archive", "-o", oci, "child:1"});
  const std::string docker = Path("skopeo-docker.tar");
  const std::string back = Path("skopeo-oci.tar");
  ASSERT_TRUE(RunCommandOk({"skopeo", "copy", "oci-archive:" + oci,
                            "docker-archive:" + docker + ":skopeo/child:2"})
                  .ok());
  ASSERT_TRUE(RunCommandOk({"skopeo", "copy", "docker-archive:" + docker,
                            "oci-archive:" + back + ":skopeo/child:3"})
                  .ok());
  EXPECT_EQ(Ok({"load", "-i", docker}), "Loaded image: skopeo/child:2\n");
  EXPECT_EQ(Id("skopeo/child:2"), child);
  EXPECT_EQ(Ok({"load", "-i", back}), "Loaded image: skopeo/child:3\n");
  EXPECT_EQ(Ok({"run", "--rm", "skopeo/child:3", "cat", "/hello"}), "hello-archive\n");
}

TEST_F(ArchiveTest, BadArchivesAreRefusedAndLeaveNothingBehind) {
  const std::string good = Path("good.tar");
  const std::string good_oci = Path("good-oci.tar");
  Ok({"save", "-o", good, "child:1"});
  Ok({"save", "--format", "oci-archive", "-o", good_oci, "child:1"});
  Ok({"rmi", "child:1"});
  // Rewrites an archive with python's tarfile: `edit` gets (member, data) and returns the
  // pair to write, or None to drop the member.
  auto rewrite = [&](const std::string& from, const std::string& to, const std::string& edit) {
    Sh("/usr/bin/python3 - <<'EOF'\nimport io, tarfile\n"
       "src = tarfile.open('" +
       from + "')\ndst = tarfile.open('" + to +
       "', 'w')\n"
       "def edit(m, d):\n" +
       edit +
       "\n"
       "for m in src.getmembers():\n"
       "    d = src.extractfile(m).read() if m.isfile() else None\n"
       "    r = edit(m, d)\n"
       "    if r is None: continue\n"
       "    m, d = r\n"
       "    if d is not None: m.size = len(d)\n"
       "    dst.addfile(m, io.BytesIO(d) if d is not None else None)\n"
       "dst.close()\nEOF");
  };
  const std::string child_layer =
      Sh("tar -xOf " + good +
         " manifest.json | /usr/bin/python3 -c "
         "'import json,sys; print(json.load(sys.stdin)[0][\"Layers\"][1])'");
  const std::string layer = std::string(absl::StripTrailingAsciiWhitespace(child_layer));

  // Neither format.
  Sh("cd " + stack_->dir() + " && seq 1000 > note.txt && tar -cf neither.tar note.txt");
  ExpectRefused(Path("neither.tar"), "neither a docker-archive");
  ExpectRefused(Path("note.txt"), "not a tar archive");
  // manifest.json names a layer the archive does not hold.
  rewrite(good, Path("missing.tar"), "    return None if m.name == '" + layer + "' else (m, d)");
  ExpectRefused(Path("missing.tar"), "which the archive does not hold");
  // A layer whose bytes are not what the config's diff id says.
  rewrite(good, Path("tampered.tar"),
          "    if m.name != '" + layer +
              "': return (m, d)\n"
              "    return (m, d[:600] + bytes([d[600] ^ 1]) + d[601:])");
  ExpectRefused(Path("tampered.tar"), "has diff id");
  // An OCI blob whose bytes do not have the digest its name promises.
  rewrite(good_oci, Path("bad-digest.tar"),
          "    if not m.name.startswith('blobs/') or m.isdir() or len(d) < 1000: return (m, d)\n"
          "    return (m, d[:-100] + bytes(100))");
  ExpectRefused(Path("bad-digest.tar"), "has digest");
  // Path traversal.
  rewrite(good, Path("traversal.tar"),
          "    if m.name == 'manifest.json': m.name = '../manifest.json'\n    return (m, d)");
  ExpectRefused(Path("traversal.tar"), "path traversal");
  // A member claiming 10 GB as manifest.json (the header only: the rest never comes), a
  // 5 MiB one, and a GNU sparse one.
  Sh("/usr/bin/python3 - <<'EOF'\nimport tarfile\n"
     "t = tarfile.TarInfo('manifest.json'); t.size = 10 << 30\n"
     "open('" +
     Path("huge.tar") +
     "', 'wb').write(t.tobuf(tarfile.GNU_FORMAT) + bytes(4096))\n"
     "EOF");
  ExpectRefused(Path("huge.tar"), "more than the 4 MiB");
  rewrite(good, Path("big-manifest.tar"),
          "    if m.name == 'manifest.json': d = d + b' ' * (5 << 20)\n    return (m, d)");
  ExpectRefused(Path("big-manifest.tar"), "more than the 4 MiB");
  Sh("cd " + stack_->dir() +
     " && mkdir -p sparse && truncate -s 10G sparse/manifest.json && "
     "tar -C sparse -S -cf sparse.tar manifest.json");
  ExpectRefused(Path("sparse.tar"), "sparse");
  // Truncated, compressed or not.
  const int64_t size = static_cast<int64_t>(ReadFile(good)->size());
  Sh(absl::StrCat("head -c ", size / 2, " ", good, " > ", Path("truncated.tar")));
  ExpectRefused(Path("truncated.tar"), "truncated");
  Sh(absl::StrCat("gzip -c ", good, " | head -c ", size / 4, " > ", Path("truncated.tar.gz")));
  ExpectRefused(Path("truncated.tar.gz"), "truncated");
  Sh(absl::StrCat("head -c ", size - 1024, " ", good, " > ", Path("no-end.tar")));
  ExpectRefused(Path("no-end.tar"), "truncated");
  // And the good one still loads.
  EXPECT_EQ(Ok({"load", "-i", good}), "Loaded image: child:1\n");
}

TEST_F(ArchiveTest, ImportFetchesHttpUrlsStreamed) {
  const std::string tarball = *stack_->BusyboxTarball("gzip");
  const std::string served = Path("served");
  Sh("mkdir -p " + served + " && cp " + tarball + " " + served + "/rootfs.tar.gz");
  // A web server on a port of its own, which it writes down.
  const std::string port_file = Path("http.port");
  const std::string script =
      "import http.server, functools, sys\n"
      "h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])\n"
      "s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), h)\n"
      "open(sys.argv[2] + '.tmp', 'w').write(str(s.server_address[1]))\n"
      "import os; os.rename(sys.argv[2] + '.tmp', sys.argv[2])\n"
      "s.serve_forever()\n";
  ASSERT_TRUE(WriteFileAtomically(Path("serve.py"), script).ok());
  Sh("(/usr/bin/python3 " + Path("serve.py") + " " + served + " " + port_file +
     " >/dev/null 2>&1 & echo $! > " + Path("http.pid") + ")");
  for (int i = 0; i < 100 && !PathExists(port_file); ++i) usleep(50000);
  const std::string port = *ReadFile(port_file);
  const std::string url = "http://127.0.0.1:" + port;
  const std::string id = Ok({"import", url + "/rootfs.tar.gz", "from-url:1"});
  EXPECT_TRUE(absl::StartsWith(id, "sha256:")) << id;
  EXPECT_EQ(Ok({"run", "--rm", "from-url:1", "cat", "/etc/keep"}), "keep\n");
  EXPECT_EQ(Ok({"history", "--format", "{{.Comment}}", "from-url:1"}),
            "Imported from " + url + "/rootfs.tar.gz\n");
  CommandResult missing = stack_->Strata({"import", url + "/no-such.tar", "never:1"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(missing.error_output, "404")) << missing.error_output;
  CommandResult ftp = stack_->Strata({"import", "ftp://127.0.0.1/x.tar"});
  EXPECT_EQ(ftp.exit_code, 1);
  Sh("kill $(cat " + Path("http.pid") + ")");
}

}  // namespace
}  // namespace strata::e2e

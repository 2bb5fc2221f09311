// Commands that talk to registries: pull, push, login, logout. Output as docker prints it on
// a pipe: one line per layer as it finishes, then the digest lines.

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "cli/commands.h"
#include "cli/core/gateway.h"
#include "cli/util.h"
#include "lib/distribution/credentials.h"
#include "lib/reference/reference.h"

namespace strata::cli {
namespace {

namespace gw = ::strata::gateway::v1;

// docker's plain progress: "ID: Pull complete" lines for what finished.
class LineProgress : public gateway::ProgressObserver {
 public:
  explicit LineProgress(bool quiet) : quiet_(quiet) {}
  void OnProgress(const gw::Progress& progress) override {
    if (quiet_) return;
    const std::string& action = progress.action();
    std::string line;
    if (action == "Pulling from") {
      line = absl::StrCat("Pulling from ", progress.id());
    } else if (action == "Already exists" || action == "Layer already exists" ||
               action == "Pushed" || action == "Preparing" ||
               absl::StartsWith(action, "Mounted from ")) {
      line = absl::StrCat(progress.id(), ": ", action);
    } else if (action == "Download complete") {
      line = absl::StrCat(progress.id(), ": Pull complete");
    } else {
      return;
    }
    absl::MutexLock lock(&mutex_);
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }

 private:
  const bool quiet_;
  absl::Mutex mutex_;
};

struct AccessFlags {
  bool tls_verify = true;
  bool tls_verify_set = false;
  void Apply(gw::RegistryAccess* access) const {
    if (tls_verify_set) access->set_tls_verify(tls_verify);
  }
};

void AddAccessFlags(CLI::App* command, std::shared_ptr<AccessFlags> flags) {
  command
      ->add_option_function<bool>(
          "--tls-verify",
          [flags](bool value) {
            flags->tls_verify = value;
            flags->tls_verify_set = true;
          },
          "Require HTTPS and verify certificates (false: also allow plain HTTP)")
      ->default_str("true");
}

int Pull(Globals& globals, const gw::PullRequest& request, bool quiet) {
  gateway::Gateway gateway(globals.Endpoints());
  LineProgress progress(quiet);
  ASSIGN_OR_FAIL(gw::PullResult result, gateway.Pull(request, &progress));
  if (!quiet) {
    std::printf("Digest: %s\n", result.manifest_digest().c_str());
    std::printf("Status: Downloaded image for %s\n", request.reference().c_str());
  }
  std::printf("%s\n", result.reference().c_str());
  return 0;
}

int Push(Globals& globals, const gw::PushRequest& request, bool quiet) {
  gateway::Gateway gateway(globals.Endpoints());
  LineProgress progress(quiet);
  ASSIGN_OR_FAIL(gw::PushResult result, gateway.Push(request, &progress));
  std::printf("%s: digest: %s size: %lld\n", result.tag().c_str(), result.digest().c_str(),
              static_cast<long long>(result.size()));
  return 0;
}

// "https://index.docker.io/v1/" -> "docker.io"; "localhost:5000" as it is.
std::string ServerDomain(std::string server) {
  absl::string_view text = server;
  absl::ConsumePrefix(&text, "https://");
  absl::ConsumePrefix(&text, "http://");
  text = text.substr(0, text.find('/'));
  if (text.empty() || text == "index.docker.io" || text == "registry-1.docker.io") {
    return kDefaultDomain;
  }
  return std::string(text);
}

int Login(Globals& globals, const std::string& server, std::string username, std::string password,
          bool password_stdin) {
  const std::string domain = ServerDomain(server);
  if (!password.empty()) {
    std::fprintf(stderr,
                 "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
  }
  if (password_stdin) {
    if (!password.empty()) return Fail("--password and --password-stdin are mutually exclusive");
    if (username.empty()) return Fail("Must provide --username with --password-stdin");
    std::getline(std::cin, password);
    absl::StripTrailingAsciiWhitespace(&password);
  }
  if (username.empty() || password.empty()) {
    if (!::isatty(STDIN_FILENO)) {
      return Fail("Cannot perform an interactive login from a non TTY device");
    }
    if (username.empty()) {
      std::fprintf(stderr, "Username: ");
      std::getline(std::cin, username);
    }
    if (password.empty()) {
      const char* typed = ::getpass("Password: ");
      password = typed != nullptr ? typed : "";
    }
  }
  gateway::Gateway gateway(globals.Endpoints());
  gw::LoginRequest request;
  request.set_server(domain);
  request.mutable_access()->mutable_credentials()->set_username(username);
  request.mutable_access()->mutable_credentials()->set_password(password);
  absl::Status checked = gateway.Login(request);
  if (!checked.ok()) return Fail(checked);
  absl::Status stored = distribution::StoreCredentials(domain, {username, password});
  if (!stored.ok()) return Fail(stored);
  std::printf("Login Succeeded\n");
  return 0;
}

int Logout(const std::string& server) {
  const std::string domain = ServerDomain(server);
  absl::Status erased = distribution::EraseCredentials(domain);
  if (absl::IsNotFound(erased)) {
    std::printf("Not logged in to %s\n", domain.c_str());
    return 0;
  }
  if (!erased.ok()) return Fail(erased);
  std::printf("Removing login credentials for %s\n", domain.c_str());
  return 0;
}

}  // namespace

void RegisterRegistryCommands(CLI::App& app, Globals& globals, int* exit_code) {
  {
    CLI::App* command = app.add_subcommand("pull", "Download an image from a registry");
    auto request = std::make_shared<gw::PullRequest>();
    auto quiet = std::make_shared<bool>(false);
    auto access = std::make_shared<AccessFlags>();
    command->add_option("--platform", *request->mutable_platform(),
                        "Pull this platform (os/arch[/variant]) of a multi-platform image");
    command->add_flag("-q,--quiet", *quiet, "Suppress verbose output");
    AddAccessFlags(command, access);
    command->add_option("name", *request->mutable_reference(), "NAME[:TAG|@DIGEST]")->required();
    command->callback([=, &globals] {
      access->Apply(request->mutable_access());
      *exit_code = Pull(globals, *request, *quiet);
    });
  }
  {
    CLI::App* command = app.add_subcommand("push", "Upload an image to a registry");
    auto request = std::make_shared<gw::PushRequest>();
    auto quiet = std::make_shared<bool>(false);
    auto compression = std::make_shared<std::string>("gzip");
    auto access = std::make_shared<AccessFlags>();
    command->add_option("--format", *request->mutable_format(),
                        "Manifest format: oci (default) or v2s2 (docker schema 2)");
    command->add_option("--compression-format", *compression, "Layer compression: gzip or zstd")
        ->check(CLI::IsMember({"gzip", "zstd"}));
    command->add_flag("-q,--quiet", *quiet, "Suppress verbose output");
    AddAccessFlags(command, access);
    command->add_option("name", *request->mutable_reference(), "NAME[:TAG]")->required();
    command->callback([=, &globals] {
      access->Apply(request->mutable_access());
      request->set_compression(*compression == "zstd" ? types::v1::COMPRESSION_ZSTD
                                                      : types::v1::COMPRESSION_GZIP);
      *exit_code = Push(globals, *request, *quiet);
    });
  }
  {
    CLI::App* command = app.add_subcommand("login", "Log in to a registry");
    auto username = std::make_shared<std::string>();
    auto password = std::make_shared<std::string>();
    auto password_stdin = std::make_shared<bool>(false);
    auto server = std::make_shared<std::string>();
    command->add_option("-u,--username", *username, "Username");
    command->add_option("-p,--password", *password, "Password");
    command->add_flag("--password-stdin", *password_stdin, "Take the password from stdin");
    command->add_option("server", *server, "SERVER");
    command->callback([=, &globals] {
      *exit_code = Login(globals, *server, *username, *password, *password_stdin);
    });
  }
  {
    CLI::App* command = app.add_subcommand("logout", "Log out from a registry");
    auto server = std::make_shared<std::string>();
    command->add_option("server", *server, "SERVER");
    command->callback([=] { *exit_code = Logout(*server); });
  }
}

}  // namespace strata::cli

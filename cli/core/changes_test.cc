#include "cli/core/changes.h"

#include "gtest/gtest.h"

namespace strata::gateway {
namespace {

using Strings = std::vector<std::string>;

TEST(ChangesTest, CmdAndEntrypointInBothForms) {
  oci::RunConfig config;
  config.cmd = Strings{"old"};
  ASSERT_TRUE(ApplyChanges({"CMD [\"/bin/app\", \"--flag\"]"}, config).ok());
  EXPECT_EQ(*config.cmd, (Strings{"/bin/app", "--flag"}));
  ASSERT_TRUE(ApplyChanges({"CMD echo hi there"}, config).ok());
  EXPECT_EQ(*config.cmd, (Strings{"/bin/sh", "-c", "echo hi there"}));
  ASSERT_TRUE(ApplyChanges({"ENTRYPOINT [\"/bin/sh\",\"-c\"]"}, config).ok());
  EXPECT_EQ(*config.entrypoint, (Strings{"/bin/sh", "-c"}));
  EXPECT_FALSE(config.cmd.has_value()) << "ENTRYPOINT resets CMD, as in a Dockerfile";
  ASSERT_TRUE(ApplyChanges({"CMD [\"x\"]", "ENTRYPOINT top"}, config).ok());
  EXPECT_EQ(*config.entrypoint, (Strings{"/bin/sh", "-c", "top"}));
  EXPECT_EQ(*config.cmd, Strings{"x"}) << "a CMD in the same commit stays";
}

TEST(ChangesTest, EnvLabelWorkdirUserExposeStopsignalVolume) {
  oci::RunConfig config;
  config.env = {"A=1"};
  ASSERT_TRUE(ApplyChanges({"ENV A=2 B=\"two words\"", "ENV LEGACY some value",
                            "LABEL version=1.0 \"with space\"=yes", "WORKDIR /app", "WORKDIR sub",
                            "USER app:app", "EXPOSE 80 53/udp", "STOPSIGNAL SIGINT",
                            "VOLUME [\"/data\"]", "VOLUME /logs /cache"},
                           config)
                  .ok());
  EXPECT_EQ(config.env, (Strings{"A=2", "B=two words", "LEGACY=some value"}));
  EXPECT_EQ(config.labels.at("version"), "1.0");
  EXPECT_EQ(config.labels.at("with space"), "yes");
  EXPECT_EQ(config.working_dir, "/app/sub");
  EXPECT_EQ(config.user, "app:app");
  EXPECT_EQ(config.exposed_ports, (Strings{"80/tcp", "53/udp"}));
  EXPECT_EQ(config.stop_signal, "SIGINT");
  EXPECT_EQ(config.volumes, (Strings{"/data", "/logs", "/cache"}));
}

TEST(ChangesTest, ExpandsVariablesFromTheEnvironmentLikeDocker) {
  oci::RunConfig config;
  config.env = {"PATH=/usr/bin:/bin", "HOME=/root"};
  ASSERT_TRUE(ApplyChanges({"ENV PATH=/opt/bin:$PATH", "WORKDIR ${HOME}/app",
                            "LABEL literal='$HOME' escaped=\\$HOME", "CMD echo $HOME"},
                           config)
                  .ok());
  EXPECT_EQ(config.env[0], "PATH=/opt/bin:/usr/bin:/bin");
  EXPECT_EQ(config.working_dir, "/root/app");
  EXPECT_EQ(config.labels.at("literal"), "$HOME");
  EXPECT_EQ(config.labels.at("escaped"), "$HOME");
  EXPECT_EQ(config.cmd->back(), "echo $HOME") << "CMD is left for the shell";
}

TEST(ChangesTest, OnbuildKeepsTheTriggerAsWritten) {
  oci::RunConfig config;
  ASSERT_TRUE(ApplyChanges({"ONBUILD RUN echo $HOME", "onbuild ADD . /app/src"}, config).ok());
  EXPECT_EQ(config.on_build, (Strings{"RUN echo $HOME", "ADD . /app/src"}));
  EXPECT_EQ(ApplyChanges({"ONBUILD ONBUILD RUN x"}, config).message(),
            "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  EXPECT_EQ(ApplyChanges({"ONBUILD from scratch"}, config).message(),
            "FROM isn't allowed as an ONBUILD trigger");
  EXPECT_EQ(ApplyChanges({"RUN true"}, config).message(), "run is not a valid change command");
  // It survives the image config.
  oci::ImageConfig image;
  image.set_run_config(config);
  absl::StatusOr<oci::ImageConfig> parsed = oci::ImageConfig::Parse(image.Serialize());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->run_config().on_build, config.on_build);
  EXPECT_NE(image.Serialize().find(R"("OnBuild":["RUN echo $HOME","ADD . /app/src"])"),
            std::string::npos)
      << image.Serialize();
}

TEST(ChangesTest, RejectsWhatDockerRejects) {
  oci::RunConfig config;
  for (const char* bad : {"RUN rm -rf /", "CMD", "ENV", "ENV =x", "EXPOSE http", "EXPOSE 99999",
                          "LABEL \"unterminated=1", "FROM scratch"}) {
    absl::Status status = ApplyChanges({bad}, config);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace strata::gateway

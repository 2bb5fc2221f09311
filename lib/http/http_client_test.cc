#include "lib/http/http_client.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/testing/service_process.h"
#include "lib/testing/subprocess.h"

namespace strata::http {
namespace {

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = strata::testing::ServiceProcess::Start(
        strata::testing::RunfilePath("lib/http/testdata/http_test_server.py"), {});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  std::string Url(const std::string& path) {
    return absl::StrCat("http://", server_->address(), path);
  }

  std::unique_ptr<strata::testing::ServiceProcess> server_;
  HttpSession session_;
};

TEST_F(HttpClientTest, StreamsABodyToTheWriter) {
  HttpClient client(&session_);
  std::string received;
  int chunks = 0;
  auto response = client.Perform({.url = Url("/bytes/3000000")}, [&](absl::string_view chunk) {
    received.append(chunk.data(), chunk.size());
    ++chunks;
    return absl::OkStatus();
  });
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("x-test"), "yes");
  EXPECT_EQ(response->Header("Content-Length"), "3000000");
  EXPECT_EQ(received.size(), 3000000u);
  EXPECT_EQ(received.substr(0, 12), "012345678901");
  EXPECT_GT(chunks, 1);
  EXPECT_TRUE(response->body.empty());
}

TEST_F(HttpClientTest, CollectsSmallBodiesAndCapsThem) {
  HttpClient client(&session_);
  auto small = client.Perform({.url = Url("/bytes/25")});
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(small->body, "0123456789012345678901234");
  auto big = client.Perform({.url = Url("/bytes/5000")}, {}, 1000);
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted) << big.status();
}

TEST_F(HttpClientTest, ErrorStatusesAreResponsesWithTheirDocument) {
  HttpClient client(&session_);
  bool writer_called = false;
  auto response = client.Perform({.url = Url("/status/404")}, [&](absl::string_view) {
    writer_called = true;
    return absl::OkStatus();
  });
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body, "status 404");
  EXPECT_FALSE(writer_called);
}

TEST_F(HttpClientTest, RedirectsAreFollowedOnlyWhenAsked) {
  HttpClient client(&session_);
  auto kept = client.Perform({.url = Url("/redirect")});
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->status, 302);
  EXPECT_EQ(kept->Header("location"), "/bytes/10");
  auto followed = client.Perform({.url = Url("/redirect"), .follow_redirects = true});
  ASSERT_TRUE(followed.ok());
  EXPECT_EQ(followed->status, 200);
  EXPECT_EQ(followed->body, "0123456789");
  EXPECT_EQ(followed->effective_url, Url("/bytes/10"));
}

TEST_F(HttpClientTest, UploadsFromAStringAndFromAReader) {
  HttpClient client(&session_);
  auto put = client.Perform({.method = "PUT", .url = Url("/sha256"), .body = "hello"});
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(put->status, 201);
  // sha256("hello")
  EXPECT_EQ(put->body, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 5");

  for (int64_t declared : {int64_t{2500000}, int64_t{-1}}) {
    size_t sent = 0;
    HttpRequest request{.method = "POST", .url = Url("/sha256")};
    request.body_size = declared;
    request.body_reader = [&](char* buffer, size_t size) -> absl::StatusOr<size_t> {
      const size_t n = std::min<size_t>(size, 2500000 - sent);
      for (size_t i = 0; i < n; ++i) buffer[i] = 'a';
      sent += n;
      return n;
    };
    auto posted = client.Perform(request);
    ASSERT_TRUE(posted.ok()) << posted.status();
    EXPECT_EQ(posted->body.substr(65), "2500000") << "declared " << declared;
  }
}

TEST_F(HttpClientTest, CallbackErrorsEndTheRequestWithThem) {
  HttpClient client(&session_);
  auto read = client.Perform({.url = Url("/bytes/3000000")}, [](absl::string_view) {
    return absl::DataLossError("digest mismatch");
  });
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(read.status().message(), "digest mismatch");

  HttpRequest request{.method = "PUT", .url = Url("/sha256")};
  request.body_size = 100;
  request.body_reader = [](char*, size_t) -> absl::StatusOr<size_t> {
    return absl::NotFoundError("source gone");
  };
  auto write = client.Perform(request);
  EXPECT_EQ(write.status().code(), absl::StatusCode::kNotFound) << write.status();
  // The handle works again afterwards.
  auto again = client.Perform({.url = Url("/bytes/3")});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->body, "012");
}

TEST_F(HttpClientTest, HeadersAreSent) {
  HttpClient client(&session_);
  auto response = client.Perform({.url = Url("/headers"), .headers = {"X-One: 1", "Accept: a/b"}});
  ASSERT_TRUE(response.ok());
  EXPECT_NE(response->body.find("x-one: 1\n"), std::string::npos) << response->body;
  EXPECT_NE(response->body.find("accept: a/b\n"), std::string::npos) << response->body;
}

TEST_F(HttpClientTest, NetworkFailuresAreUnavailable) {
  HttpClient client;
  server_->Stop();
  auto refused = client.Perform({.url = Url("/bytes/1")});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
  EXPECT_NE(refused.status().message().find("GET http://"), std::string::npos);
  auto malformed = client.Perform({.url = "ftp://127.0.0.1/x"});
  EXPECT_EQ(malformed.status().code(), absl::StatusCode::kInvalidArgument) << malformed.status();
}

TEST_F(HttpClientTest, AStalledServerTimesOutAndCancelStops) {
  HttpClient client(&session_);
  auto stalled = client.Perform(
      {.url = Url("/stall"), .low_speed_bytes = 1, .low_speed_time = absl::Seconds(1)},
      [](absl::string_view) { return absl::OkStatus(); });
  EXPECT_EQ(stalled.status().code(), absl::StatusCode::kUnavailable) << stalled.status();

  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  auto cancelled = client.Perform({.url = Url("/stall"), .cancel = &cancel},
                                  [](absl::string_view) { return absl::OkStatus(); });
  canceller.join();
  EXPECT_EQ(cancelled.status().code(), absl::StatusCode::kCancelled) << cancelled.status();
}

TEST(RedactUrlTest, DropsQueryAndUserInfo) {
  EXPECT_EQ(RedactUrl("https://u:p@host:5000/v2/x?X-Amz-Signature=abc"), "https://host:5000/v2/x");
  EXPECT_EQ(RedactUrl("http://host/a#frag"), "http://host/a");
  EXPECT_EQ(RedactUrl("http://host/a@b"), "http://host/a@b");
  EXPECT_EQ(UrlEncode("a b/c~"), "a%20b%2Fc~");
}

}  // namespace
}  // namespace strata::http

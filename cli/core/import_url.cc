// Gateway: `docker import URL` — an http(s) GET streamed into ImportImage: libcurl writes the
// body into a pipe on its own thread while import reads it, so nothing is held whole.

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/core/gateway.h"
#include "cli/core/registry_access.h"
#include "lib/base/errors.h"
#include "lib/http/http_client.h"

namespace strata::gateway {

absl::StatusOr<ig::Image> Gateway::ImportImageFromUrl(const gw::ImportOptions& options,
                                                      const std::string& url,
                                                      ProgressObserver* progress) {
  if (!absl::StartsWith(url, "http://") && !absl::StartsWith(url, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("import from ", http::RedactUrl(url), ": only http and https URLs"));
  }
  internal::BytePipe pipe;
  std::atomic<bool> cancel{false};
  std::thread fetch([&]() {
    http::HttpClient client;
    http::HttpRequest request;
    request.url = url;
    // No credentials go with it, so following a redirect anywhere is safe (docker does).
    request.follow_redirects = true;
    request.cancel = &cancel;
    absl::StatusOr<http::HttpResponse> response =
        client.Perform(request, [&](absl::string_view chunk) { return pipe.Write(chunk); });
    const std::string shown = http::RedactUrl(url);
    if (!response.ok()) {
      pipe.Fail(response.status());
    } else if (response->status == 404) {
      pipe.Fail(absl::NotFoundError(absl::StrCat("GET ", shown, ": 404 Not Found")));
    } else if (response->status >= 300) {
      pipe.Fail(
          absl::UnavailableError(absl::StrCat("GET ", shown, ": HTTP status ", response->status)));
    } else {
      (void)pipe.Close();
    }
  });
  gw::ImportOptions with_source = options;
  with_source.set_source(http::RedactUrl(url));
  absl::StatusOr<ig::Image> image = ImportImage(with_source, &pipe, progress);
  if (!image.ok()) {
    cancel = true;
    pipe.Fail(image.status());
  } else {
    pipe.Drain();
  }
  fetch.join();
  return image;
}

}  // namespace strata::gateway

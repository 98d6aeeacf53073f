#include "server/web_routes.h"

#include <cstdio>
#include <filesystem>

#include "json_api/json_api.h"
#include "qr/base64.h"
#include "qr/qr_image.h"

namespace tapstack::server {

namespace {

constexpr std::size_t kQrImageBodyBytesMax = 4 * 1024;
// A decode request carries the picture's luminance in base64: 2048 x 2048 pixels fit.
constexpr std::size_t kQrDecodeBodyBytesMax = 6 * 1024 * 1024;

Result<int> SideMember(const nlohmann::json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end() || !it->is_number_integer() || it->get<std::int64_t>() < 1 ||
      it->get<std::int64_t>() > qr::kQrImageSidePxMax) {
    return InvalidArgument(std::string(name) + ": expected an integer 1-" +
                           std::to_string(qr::kQrImageSidePxMax));
  }
  return static_cast<int>(it->get<std::int64_t>());
}

}  // namespace

Status InstallWebRoutes(httplib::Server& server, const std::string& web_dir) {
  const std::filesystem::path root(web_dir);
  if (!std::filesystem::exists(root / "app" / "index.html")) {
    return NotFound("http.web_dir: " + web_dir +
                    " has no app/index.html (point it at the web/ folder of a tapstack checkout)");
  }
  // Static files: httplib maps the path under the mount point, refuses "..", and sets the type by
  // extension (.mjs/.js as text/javascript: ES modules load).
  server.set_mount_point("/app", (root / "app").string());
  server.set_mount_point("/console", (root / "console").string());
  server.set_mount_point("/shared", (root / "shared").string());  // modules both import
  const std::filesystem::path chart = root / "node_modules" / "chart.js" / "dist" / "chart.umd.js";
  server.Get("/vendor/chart.umd.js", [chart](const httplib::Request&, httplib::Response& res) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(chart, ec);
    if (ec) {
      return json_api::ReplyError(
          res, 404, "not_found",
          "chart.js is not installed: run scripts/bootstrap (npm ci in web/)");
    }
    std::string body(size, '\0');
    std::FILE* f = std::fopen(chart.c_str(), "rb");
    const bool read = f != nullptr && std::fread(body.data(), 1, body.size(), f) == body.size();
    if (f != nullptr) std::fclose(f);
    if (!read) return json_api::ReplyError(res, 500, "internal", "cannot read chart.js");
    res.set_content(body, "text/javascript");
  });
  server.Get("/",
             [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/app/"); });
  server.Post("/v1/qr-images", [](const httplib::Request& req, httplib::Response& res) {
    JSON_API_ASSIGN_OR_REPLY(const nlohmann::json body,
                             json_api::ParseBody(req, {"text"}, kQrImageBodyBytesMax));
    JSON_API_ASSIGN_OR_REPLY(const std::string text, json_api::StringMember(body, "text", true));
    JSON_API_ASSIGN_OR_REPLY(const std::string svg, qr::QrImageSvg(text));
    res.set_header("Cache-Control", "no-store");  // a payment code is single use
    res.set_content(svg, "image/svg+xml");
  });
  server.Post("/v1/qr-images/decode", [](const httplib::Request& req, httplib::Response& res) {
    JSON_API_ASSIGN_OR_REPLY(
        const nlohmann::json body,
        json_api::ParseBody(req, {"width", "height", "gray"}, kQrDecodeBodyBytesMax));
    JSON_API_ASSIGN_OR_REPLY(const int width, SideMember(body, "width"));
    JSON_API_ASSIGN_OR_REPLY(const int height, SideMember(body, "height"));
    JSON_API_ASSIGN_OR_REPLY(const std::string gray64, json_api::StringMember(body, "gray", true));
    // Exactly width*height bytes: 4 characters per 3 bytes, rounded up to a padded quantum.
    const std::size_t pixels_max =
        static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
    Result<Bytes> gray = qr::Base64Decode(gray64, (pixels_max + 2) / 3 * 4);
    if (!gray.ok()) {
      return json_api::ReplyError(res, 400, "invalid_argument", "gray: " + gray.status().message(),
                                  "gray");
    }
    const std::string_view pixels(reinterpret_cast<const char*>(gray->data()), gray->size());
    Result<std::string> text = qr::ReadQrImage(width, height, pixels);
    if (!text.ok() && text.status().code() == ErrorCode::kNotFound) {
      return json_api::ReplyError(res, 422, "no_qr_code",
                                  "image: no readable QR code (try a sharper or larger picture)",
                                  "image");
    }
    JSON_API_ASSIGN_OR_REPLY(const std::string decoded, std::move(text));
    json_api::ReplyJson(res, 200, {{"text", decoded}});
  });
  return Status::Ok();
}

}  // namespace tapstack::server

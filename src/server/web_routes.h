// The web side of `tapstack serve`: the wallet web app (web/app at /app/, `/` redirects there),
// the operations console (web/console at /console/), the modules both use (web/shared at
// /shared/), chart.js from web/node_modules (installed by
// scripts/bootstrap from web/package-lock.json) at /vendor/chart.umd.js, and QR images of payment
// codes (POST /v1/qr-images {"text"} → image/svg+xml, libqrencode), and reading a QR code from an
// uploaded picture (POST /v1/qr-images/decode {"width","height","gray": base64 of 8-bit luminance}
// → {"text"}, zbar; 422 no_qr_code when none is readable).
#pragma once

#include <httplib.h>

#include <string>

#include "core/status.h"

namespace tapstack::server {

// Serves the files under `web_dir`. Errors: kNotFound when `web_dir` has no app/index.html (the
// message says how to point http.web_dir at a checkout's web/).
Status InstallWebRoutes(httplib::Server& server, const std::string& web_dir);

}  // namespace tapstack::server

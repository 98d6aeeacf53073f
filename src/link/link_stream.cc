#include "link/link_stream.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace tapstack::link {

LinkStream::LinkStream(asio::io_context& io, asio::ssl::context* tls) {
  if (tls != nullptr) {
    ssl_ = std::make_unique<SslStream>(io, *tls);
  } else {
    plain_.emplace(io);
  }
}

LinkStream::LinkStream(asio::ip::tcp::socket socket, asio::ssl::context* tls) {
  if (tls != nullptr) {
    ssl_ = std::make_unique<SslStream>(std::move(socket), *tls);
  } else {
    plain_.emplace(std::move(socket));
  }
}

bool LinkStream::ExpectServerName(const std::string& name) {
  if (!ssl_) return true;
  SSL* ssl = ssl_->native_handle();
  asio::error_code ec;
  asio::ip::make_address(name, ec);
  if (!ec) return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1;
  // SSL_set_tlsext_host_name is a macro over SSL_ctrl with a C cast; call SSL_ctrl directly.
  if (SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(name.c_str())) != 1) {
    return false;
  }
  return SSL_set1_host(ssl, name.c_str()) == 1;
}

void LinkStream::Close() {
  asio::error_code ec;
  socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket().close(ec);
}

}  // namespace tapstack::link

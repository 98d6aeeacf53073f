// A throw-away PKI for TLS tests: a CA and the leaf certificates it signs, generated at run time
// with OpenSSL's C API (P-256 keys, valid for an hour) and written as PEM files to a directory.
// No key material is kept in the repository.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <filesystem>
#include <memory>
#include <string>

namespace tapstack::link::testing {

struct CertFiles {
  std::string cert_file;
  std::string key_file;
};

class TestCa {
 public:
  // Generates the CA "<name> test CA" and writes <dir>/<name>-ca.crt.
  TestCa(const std::filesystem::path& dir, const std::string& name);

  const std::string& cert_file() const { return cert_file_; }
  // A leaf certificate for `subject_alt_names` (OpenSSL syntax: "IP:127.0.0.1,DNS:localhost"),
  // usable by servers and clients; <dir>/<name>.crt and .key.
  CertFiles Issue(const std::string& name, const std::string& subject_alt_names) const;

 private:
  std::filesystem::path dir_;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_;
  std::unique_ptr<X509, decltype(&X509_free)> cert_;
  std::string cert_file_;
};

// A fresh, empty directory under the system's temporary directory.
std::filesystem::path FreshTestDir(const std::string& what);

}  // namespace tapstack::link::testing

#include "link/test_pki.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <utility>
#include <vector>

namespace tapstack::link::testing {

namespace {

constexpr long kValiditySeconds = 3600;

std::unique_ptr<X509, decltype(&X509_free)> NewCert(EVP_PKEY* key, const std::string& common_name) {
  static std::atomic<long> serial{1};
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  EXPECT_TRUE(cert);
  X509_set_version(cert.get(), 2);  // v3
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds);
  X509_set_pubkey(cert.get(), key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  return cert;
}

void AddExtensions(X509* cert, X509* issuer, const std::vector<std::pair<int, std::string>>& extensions) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    ASSERT_NE(ext, nullptr) << value;
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
}

void WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  if (cert != nullptr) {
    EXPECT_EQ(PEM_write_X509(f, cert), 1);
  }
  if (key != nullptr) {
    EXPECT_EQ(PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr), 1);
  }
  std::fclose(f);
}

// A fresh P-256 key. EVP_PKEY_Q_keygen directly: the EVP_EC_gen macro casts the curve name's
// const away, which clang's -Wcast-qual refuses.
EVP_PKEY* NewP256Key() { return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); }

}  // namespace

TestCa::TestCa(const std::filesystem::path& dir, const std::string& name)
    : dir_(dir), key_(NewP256Key(), &EVP_PKEY_free), cert_(nullptr, &X509_free) {
  EXPECT_TRUE(key_);
  cert_ = NewCert(key_.get(), name + " test CA");
  X509_set_issuer_name(cert_.get(), X509_get_subject_name(cert_.get()));
  AddExtensions(cert_.get(), cert_.get(),
                {{NID_basic_constraints, "critical,CA:TRUE"},
                 {NID_key_usage, "critical,keyCertSign,cRLSign"},
                 {NID_subject_key_identifier, "hash"}});
  EXPECT_GT(X509_sign(cert_.get(), key_.get(), EVP_sha256()), 0);
  cert_file_ = (dir_ / (name + "-ca.crt")).string();
  WritePem(cert_file_, cert_.get(), nullptr);
}

CertFiles TestCa::Issue(const std::string& name, const std::string& subject_alt_names) const {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(NewP256Key(), &EVP_PKEY_free);
  EXPECT_TRUE(key);
  auto cert = NewCert(key.get(), name);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert_.get()));
  AddExtensions(cert.get(), cert_.get(),
                {{NID_basic_constraints, "critical,CA:FALSE"},
                 {NID_key_usage, "critical,digitalSignature"},
                 {NID_ext_key_usage, "serverAuth,clientAuth"},
                 {NID_authority_key_identifier, "keyid"},
                 {NID_subject_alt_name, subject_alt_names}});
  EXPECT_GT(X509_sign(cert.get(), key_.get(), EVP_sha256()), 0);
  CertFiles out{(dir_ / (name + ".crt")).string(), (dir_ / (name + ".key")).string()};
  WritePem(out.cert_file, cert.get(), nullptr);
  WritePem(out.key_file, nullptr, key.get());
  return out;
}

std::filesystem::path FreshTestDir(const std::string& what) {
  auto dir = std::filesystem::temp_directory_path() /
             ("tapstack-link-" + std::to_string(::getpid()) + "-" + what);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace tapstack::link::testing

#include "ledger/checksum.h"

#include <openssl/evp.h>

#include <cstring>
#include <memory>
#include <stdexcept>

namespace tapstack::ledger {

namespace {

// SHA-256 fetched once for the process (EVP_MD_fetch is not free; the object is shareable).
const EVP_MD* Sha256() {
  static EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr) throw std::runtime_error("OpenSSL: SHA256 is not available");
    return fetched;
  }();
  return md;
}

struct ContextDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

EVP_MD_CTX* NewContext() {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) throw std::runtime_error("OpenSSL: EVP_MD_CTX_new failed");
  return ctx;
}

void DigestInit(EVP_MD_CTX* ctx) {
  if (EVP_DigestInit_ex2(ctx, Sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL: EVP_DigestInit_ex2(SHA256) failed");
  }
}

void DigestUpdate(EVP_MD_CTX* ctx, std::span<const std::uint8_t> data) {
  if (!data.empty() && EVP_DigestUpdate(ctx, data.data(), data.size()) != 1) {
    throw std::runtime_error("OpenSSL: EVP_DigestUpdate failed");
  }
}

Checksum DigestFinal(EVP_MD_CTX* ctx) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx, digest, &length) != 1 || length < 16) {
    throw std::runtime_error("OpenSSL: EVP_DigestFinal_ex failed");
  }
  Checksum out;
  std::memcpy(out.data(), digest, out.size());
  return out;
}

}  // namespace

Checksum ComputeChecksum(std::span<const std::uint8_t> data) {
  thread_local std::unique_ptr<EVP_MD_CTX, ContextDeleter> ctx(NewContext());
  DigestInit(ctx.get());
  DigestUpdate(ctx.get(), data);
  return DigestFinal(ctx.get());
}

ChecksumBuilder::ChecksumBuilder() : ctx_(NewContext()) {
  DigestInit(static_cast<EVP_MD_CTX*>(ctx_));
}

ChecksumBuilder::~ChecksumBuilder() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void ChecksumBuilder::Update(std::span<const std::uint8_t> data) {
  DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data);
}

Checksum ChecksumBuilder::Finish() { return DigestFinal(static_cast<EVP_MD_CTX*>(ctx_)); }

}  // namespace tapstack::ledger

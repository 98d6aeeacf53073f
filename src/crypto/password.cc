#include "crypto/password.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>

#include <array>
#include <charconv>

#include "core/hex.h"
#include "crypto/internal/openssl.h"

namespace tapstack::crypto {

namespace {

constexpr std::string_view kPrefix = "$scrypt$";

Status CheckParams(const ScryptParams& params) {
  if (params.log2_n < kScryptLog2NMin || params.log2_n > kScryptLog2NMax) {
    return InvalidArgument("scrypt ln must be " + std::to_string(kScryptLog2NMin) + "-" +
                           std::to_string(kScryptLog2NMax) + "; got " +
                           std::to_string(params.log2_n));
  }
  if (params.r == 0 || params.r > kScryptRMax) {
    return InvalidArgument("scrypt r must be 1-" + std::to_string(kScryptRMax) + "; got " +
                           std::to_string(params.r));
  }
  if (params.p == 0 || params.p > kScryptPMax) {
    return InvalidArgument("scrypt p must be 1-" + std::to_string(kScryptPMax) + "; got " +
                           std::to_string(params.p));
  }
  const std::uint64_t memory =
      std::uint64_t{128} * params.r * ((std::uint64_t{1} << params.log2_n) + params.p + 2);
  if (memory > kScryptMemoryBytesMax) {
    return InvalidArgument("scrypt parameters need " + std::to_string(memory) +
                           " bytes of memory; the limit is " +
                           std::to_string(kScryptMemoryBytesMax));
  }
  return Status::Ok();
}

Status CheckPassword(std::string_view password) {
  if (password.empty()) return InvalidArgument("password must not be empty");
  if (password.size() > kPasswordBytesMax) {
    return InvalidArgument("password exceeds " + std::to_string(kPasswordBytesMax) + " bytes");
  }
  return Status::Ok();
}

Status Derive(std::string_view password, ByteView salt, const ScryptParams& params,
              std::span<std::uint8_t> out) {
  // Fetched per call: scrypt costs milliseconds, so a fetch is noise here.
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "SCRYPT", nullptr);
  if (kdf == nullptr) return internal::OpenSslError("scrypt is unavailable");
  internal::EvpKdfCtxPtr ctx(EVP_KDF_CTX_new(kdf));
  EVP_KDF_free(kdf);
  if (!ctx) return internal::OpenSslError("scrypt context allocation failed");
  std::uint64_t n = std::uint64_t{1} << params.log2_n;
  std::uint32_t r = params.r;
  std::uint32_t p = params.p;
  std::uint64_t maxmem = kScryptMemoryBytesMax;
  // OSSL_PARAM takes non-const pointers; OpenSSL only reads these buffers.
  const OSSL_PARAM ossl_params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.data()),
                                        password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), ossl_params) != 1) {
    return internal::OpenSslError("scrypt derivation failed");
  }
  return Status::Ok();
}

// Parses a decimal field "<name>=<digits>" from the front of `text`, consuming it.
Result<std::uint32_t> ParseField(std::string_view& text, std::string_view name) {
  if (text.substr(0, name.size() + 1) != std::string(name) + "=") {
    return InvalidArgument("encoded password hash: expected '" + std::string(name) + "='");
  }
  text.remove_prefix(name.size() + 1);
  std::uint32_t value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin) {
    return InvalidArgument("encoded password hash: '" + std::string(name) +
                           "' is not a decimal number in range");
  }
  text.remove_prefix(static_cast<std::size_t>(ptr - begin));
  return value;
}

struct Decoded {
  ScryptParams params;
  Bytes salt;
  Bytes hash;
};

Result<Decoded> Decode(std::string_view encoded) {
  if (encoded.substr(0, kPrefix.size()) != kPrefix) {
    return InvalidArgument("encoded password hash must start with \"$scrypt$\"");
  }
  std::string_view rest = encoded.substr(kPrefix.size());
  Decoded out;
  TS_ASSIGN_OR_RETURN(out.params.log2_n, ParseField(rest, "ln"));
  if (rest.substr(0, 1) != ",") return InvalidArgument("encoded password hash: expected ',r='");
  rest.remove_prefix(1);
  TS_ASSIGN_OR_RETURN(out.params.r, ParseField(rest, "r"));
  if (rest.substr(0, 1) != ",") return InvalidArgument("encoded password hash: expected ',p='");
  rest.remove_prefix(1);
  TS_ASSIGN_OR_RETURN(out.params.p, ParseField(rest, "p"));
  TS_RETURN_IF_ERROR(CheckParams(out.params));
  if (rest.substr(0, 1) != "$") return InvalidArgument("encoded password hash: expected '$salt'");
  rest.remove_prefix(1);
  const std::size_t dollar = rest.find('$');
  if (dollar == std::string_view::npos) {
    return InvalidArgument("encoded password hash: expected '$hash' after the salt");
  }
  Result<Bytes> salt = HexDecode(rest.substr(0, dollar));
  if (!salt.ok() || salt->size() < kPasswordSaltBytesMin || salt->size() > kPasswordSaltBytesMax) {
    return InvalidArgument("encoded password hash: salt must be 8-64 bytes of hex");
  }
  Result<Bytes> hash = HexDecode(rest.substr(dollar + 1));
  if (!hash.ok() || hash->size() != kPasswordHashBytes) {
    return InvalidArgument("encoded password hash: hash must be 64 hex digits");
  }
  out.salt = std::move(salt).value();
  out.hash = std::move(hash).value();
  return out;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password, RandomSource& random,
                                 const ScryptParams& params) {
  TS_RETURN_IF_ERROR(CheckPassword(password));
  TS_RETURN_IF_ERROR(CheckParams(params));
  std::array<std::uint8_t, kPasswordSaltBytes> salt{};
  TS_RETURN_IF_ERROR(random.Fill(salt));
  internal::WipedArray<kPasswordHashBytes> hash;
  TS_RETURN_IF_ERROR(Derive(password, salt, params, hash.span()));
  return std::string(kPrefix) + "ln=" + std::to_string(params.log2_n) +
         ",r=" + std::to_string(params.r) + ",p=" + std::to_string(params.p) + "$" +
         HexEncode(salt) + "$" + HexEncode(hash.view());
}

Status VerifyPassword(std::string_view password, std::string_view encoded) {
  TS_RETURN_IF_ERROR(CheckPassword(password));
  TS_ASSIGN_OR_RETURN(Decoded decoded, Decode(encoded));
  internal::WipedArray<kPasswordHashBytes> hash;
  TS_RETURN_IF_ERROR(Derive(password, decoded.salt, decoded.params, hash.span()));
  if (CRYPTO_memcmp(hash.data(), decoded.hash.data(), kPasswordHashBytes) != 0) {
    return CryptoFailure("password does not match");
  }
  return Status::Ok();
}

}  // namespace tapstack::crypto

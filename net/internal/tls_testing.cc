// Test certificates: a small certificate authority written with OpenSSL's
// X509 API (what `openssl req -x509` and `openssl x509 -req` do), so tests
// never depend on files that expire or on the openssl command being installed.
#include "net/internal/tls_testing.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "async/errors.h"

namespace aio::testing {
namespace {

[[noreturn]] void fail(const std::string& what) {
  std::string reasons;
  while (unsigned long error = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(error, buffer, sizeof buffer);
    reasons += std::string(reasons.empty() ? "" : "; ") + buffer;
  }
  throw aio::RuntimeError("test certificates: " + what + (reasons.empty() ? "" : ": " + reasons));
}

struct KeyDeleter {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct CertificateDeleter {
  void operator()(X509* certificate) const noexcept { X509_free(certificate); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using Certificate = std::unique_ptr<X509, CertificateDeleter>;

Key make_key() {
  // P-256: generated in microseconds, unlike RSA keys.
  Key key(EVP_EC_gen("P-256"));
  if (!key) fail("EVP_EC_gen(P-256)");
  return key;
}

void add_extension(X509* certificate, X509V3_CTX* context, int nid, const char* value) {
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, context, nid, value);
  if (extension == nullptr) fail(std::string("extension ") + OBJ_nid2sn(nid) + "=" + value);
  const int added = X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
  if (added != 1) fail(std::string("X509_add_ext ") + OBJ_nid2sn(nid));
}

struct CertificateRequest {
  std::string common_name;
  // Empty: self-signed.
  X509* issuer = nullptr;
  EVP_PKEY* issuer_key = nullptr;
  bool is_ca = false;
  // Leave out keyUsage (a self-signed leaf then counts as self-signed for
  // OpenSSL, which wants keyCertSign on anything that signs a certificate).
  bool key_usage = true;
  std::string subject_alt_name;    // e.g. "DNS:localhost,IP:127.0.0.1"
  std::string extended_key_usage;  // "serverAuth" / "clientAuth"
};

Certificate make_certificate(EVP_PKEY* key, const CertificateRequest& request) {
  Certificate certificate(X509_new());
  if (!certificate) fail("X509_new");
  X509* cert = certificate.get();
  X509_set_version(cert, X509_VERSION_3);
  // A random serial: two runs never make two certificates a client could mix up.
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(BN_new(), &BN_free);
  if (!serial || BN_rand(serial.get(), 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr) {
    fail("serial number");
  }
  X509_gmtime_adj(X509_getm_notBefore(cert), -60 * 60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 30L * 24 * 60 * 60);
  if (X509_set_pubkey(cert, key) != 1) fail("X509_set_pubkey");
  X509_NAME* subject = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("aio tests"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(request.common_name.c_str()), -1, -1, 0);
  X509* issuer = request.issuer ? request.issuer : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(issuer));

  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  add_extension(cert, &context, NID_basic_constraints, request.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  if (request.key_usage) {
    add_extension(cert, &context, NID_key_usage,
                  request.is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  }
  add_extension(cert, &context, NID_subject_key_identifier, "hash");
  if (request.issuer) add_extension(cert, &context, NID_authority_key_identifier, "keyid:always");
  if (!request.subject_alt_name.empty()) {
    add_extension(cert, &context, NID_subject_alt_name, request.subject_alt_name.c_str());
  }
  if (!request.extended_key_usage.empty()) {
    add_extension(cert, &context, NID_ext_key_usage, request.extended_key_usage.c_str());
  }
  EVP_PKEY* signing_key = request.issuer_key ? request.issuer_key : key;
  if (X509_sign(cert, signing_key, EVP_sha256()) == 0) fail("X509_sign " + request.common_name);
  return certificate;
}

std::FILE* open_for_writing(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) throw std::system_error(errno, std::system_category(), "test certificates: " + path);
  return file;
}

// Writes the certificates (then the key, if any) to `path`, PEM.
void write_pem(const std::string& path, const std::vector<X509*>& certificates, EVP_PKEY* key = nullptr) {
  std::FILE* file = open_for_writing(path);
  bool ok = true;
  for (X509* certificate : certificates) ok = ok && PEM_write_X509(file, certificate) == 1;
  if (key) ok = ok && PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  ok = std::fclose(file) == 0 && ok;
  if (!ok) fail("writing " + path);
}

std::string to_pem(X509* certificate) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1) fail("PEM_write_bio_X509");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string temporary_parent() {
  for (const char* variable : {"TEST_TMPDIR", "TMPDIR"}) {
    if (const char* value = std::getenv(variable); value != nullptr && *value != '\0') return value;
  }
  return "/tmp";
}

// A leaf certificate issued by `ca`, written with its new key to <stem>.pem
// and <stem>.key, whose paths go to `cert_file` and `key_file`.
void issue_leaf(const std::string& stem, CertificateRequest request, X509* ca, EVP_PKEY* ca_key,
                std::string& cert_file, std::string& key_file) {
  request.issuer = ca;
  request.issuer_key = ca_key;
  Key key = make_key();
  Certificate certificate = make_certificate(key.get(), request);
  cert_file = stem + ".pem";
  key_file = stem + ".key";
  write_pem(cert_file, {certificate.get()});
  write_pem(key_file, {}, key.get());
}

}  // namespace

TestCertificates::TestCertificates(const std::string& parent) {
  std::string pattern = (parent.empty() ? temporary_parent() : parent) + "/aio-tls-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::system_category(), "test certificates: mkdtemp " + pattern);
  }
  directory = pattern;
  try {
    const std::string localhost = "DNS:localhost,IP:127.0.0.1,IP:::1";

    Key ca_key = make_key();
    Certificate ca = make_certificate(ca_key.get(), {.common_name = "aio test CA", .is_ca = true});
    ca_file = directory + "/ca.pem";
    write_pem(ca_file, {ca.get()});
    ca_pem = to_pem(ca.get());

    const CertificateRequest server{
        .common_name = "localhost", .subject_alt_name = localhost, .extended_key_usage = "serverAuth"};
    issue_leaf(directory + "/server", server, ca.get(), ca_key.get(), server_cert_file, server_key_file);
    const CertificateRequest client{.common_name = "aio test client", .extended_key_usage = "clientAuth"};
    issue_leaf(directory + "/client", client, ca.get(), ca_key.get(), client_cert_file, client_key_file);

    Key self_signed_key = make_key();
    Certificate self_signed = make_certificate(
        self_signed_key.get(), {.common_name = "localhost", .key_usage = false, .subject_alt_name = localhost});
    self_signed_cert_file = directory + "/self_signed.pem";
    write_pem(self_signed_cert_file, {self_signed.get()}, self_signed_key.get());

    Key other_ca_key = make_key();
    Certificate other_ca = make_certificate(other_ca_key.get(), {.common_name = "aio other CA", .is_ca = true});
    other_ca_file = directory + "/other_ca.pem";
    write_pem(other_ca_file, {other_ca.get()});
    issue_leaf(directory + "/other_server", server, other_ca.get(), other_ca_key.get(), other_server_cert_file,
               other_server_key_file);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove_all(directory, ignored);
    throw;
  }
}

TestCertificates::~TestCertificates() {
  std::error_code ignored;
  std::filesystem::remove_all(directory, ignored);
}

}  // namespace aio::testing

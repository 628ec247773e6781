// Certificates for TLS tests and examples, made at run time with OpenSSL (no
// key or certificate is checked into the repository, none expires).
//
//   aio::testing::TestCertificates certificates;  // a fresh temporary directory
//   server_context->load_cert_chain(certificates.server_cert_file, certificates.server_key_file);
//   client_context->load_verify_locations({.cafile = certificates.ca_file});
//
// What it makes (EC P-256 keys, valid from an hour ago for 30 days):
// - a CA ("aio test CA") that clients trust;
// - a server certificate signed by the CA, for DNS:localhost, IP:127.0.0.1 and
//   IP:::1, usable for serverAuth;
// - a client certificate signed by the CA ("aio test client"), for clientAuth
//   (mutual TLS);
// - a self-signed certificate for localhost that no CA vouches for;
// - a second CA ("aio other CA") and a localhost certificate it signed: trusted
//   by nobody unless a test loads other_ca_file.
// The directory and its files are removed when the object is destroyed.
// Throws aio::RuntimeError (with OpenSSL's reason) if OpenSSL fails, and
// std::system_error if the files cannot be written.
#ifndef AIO_NET_INTERNAL_TLS_TESTING_H_
#define AIO_NET_INTERNAL_TLS_TESTING_H_

#include <string>

namespace aio::testing {

class TestCertificates {
 public:
  // Makes a new directory under `parent` (default: $TEST_TMPDIR, else $TMPDIR,
  // else /tmp) and writes the files there.
  explicit TestCertificates(const std::string& parent = {});
  ~TestCertificates();
  TestCertificates(const TestCertificates&) = delete;
  TestCertificates& operator=(const TestCertificates&) = delete;

  std::string directory;
  std::string ca_file;  // PEM certificate of the CA
  std::string ca_pem;   // the same certificate, in memory
  std::string server_cert_file;
  std::string server_key_file;
  std::string client_cert_file;
  std::string client_key_file;
  std::string self_signed_cert_file;  // the certificate and its key in one PEM file
  std::string other_ca_file;
  std::string other_server_cert_file;  // localhost, signed by the other CA
  std::string other_server_key_file;
};

}  // namespace aio::testing

#endif  // AIO_NET_INTERNAL_TLS_TESTING_H_

// Certificates for the local control plane: a CA and the leaf certificates the components
// present to each other, all made in memory with OpenSSL. Keys are ECDSA P-256.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace aic::local {

struct KeyPair {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8 PEM; never logged
};

struct CertSpec {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool server = false;  // extendedKeyUsage serverAuth
  bool client = false;  // extendedKeyUsage clientAuth
  int valid_days = 365;
};

// A self-signed CA certificate valid for ten years.
Result<KeyPair> CreateCA(const std::string& common_name);

// A certificate for `spec` signed by `ca`.
Result<KeyPair> IssueCert(const KeyPair& ca, const CertSpec& spec);

// A bare key pair (the service-account signing key): private key PEM and public key PEM.
struct PublicKeyPair {
  std::string private_pem;
  std::string public_pem;
};
Result<PublicKeyPair> CreateSigningKey();

// Facts read back from a PEM certificate, for checks and tests.
struct CertInfo {
  std::string subject_cn;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool is_ca = false;
  long seconds_until_expiry = 0;
};
Result<CertInfo> InspectCert(const std::string& cert_pem);

// Ok when `cert_pem` chains to `ca_pem` and is valid now.
Status VerifyCert(const std::string& ca_pem, const std::string& cert_pem);

// Base64 of `data` without line breaks, as kubeconfig's *-data fields hold it.
std::string Base64(const std::string& data);

}  // namespace aic::local

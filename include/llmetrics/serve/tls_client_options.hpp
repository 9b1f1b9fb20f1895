#pragma once
// How a client of llmetrics (remote write) checks the server of an https:// URL
// and, optionally, proves who it is (mutual TLS). OpenSSL through Asio.

#include <string>

namespace llmetrics {

struct tls_client_options {
    std::string ca_file;      // PEM bundle of the CAs to trust; empty: the system's default paths
    std::string cert_file;    // client certificate chain (PEM), for servers that ask for one
    std::string key_file;     // its private key (PEM); with cert_file
    std::string server_name;  // name the certificate must carry (and SNI); empty: the URL's host
    bool insecure_skip_verify = false;  // accept any certificate (tests only: no protection at all)
};

}  // namespace llmetrics

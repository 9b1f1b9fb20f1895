#pragma once
// A blocking TCP client speaking raw bytes to an exposer on 127.0.0.1, and a
// minimal reading of HTTP/1.1 responses: what the exposer's tests (test_serve,
// test_serve_flood, test_serve_hostile) need to send bytes no HTTP library would.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace raw_http {

// No Catch assertions here: clients also run on helper threads.
class client {
public:
    // receive_buffer > 0: SO_RCVBUF set before connect() (a client that reads slowly or never).
    explicit client(std::uint16_t port, std::chrono::milliseconds recv_timeout = std::chrono::milliseconds(3000),
                    int receive_buffer = 0) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) throw std::runtime_error("socket() failed");
        set_timeout(SO_RCVTIMEO, recv_timeout);
        set_timeout(SO_SNDTIMEO, std::chrono::milliseconds(3000));  // a peer that stops reading cannot block us
        if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(fd_);
            throw std::runtime_error("connect() failed");
        }
    }
    client(const client&) = delete;
    client& operator=(const client&) = delete;
    ~client() {
        if (fd_ >= 0) ::close(fd_);
    }

    // False once the peer is gone or the send timed out.
    bool send(std::string_view bytes) {
        while (!bytes.empty()) {
            const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) return false;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
    // Reads until the peer closes or the receive timeout; `closed`: it closed (FIN or reset).
    std::string read_all(bool* closed = nullptr) {
        std::string out;
        char buf[16384];
        for (;;) {
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n > 0) {
                out.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            if (closed) *closed = n == 0 || (n < 0 && errno == ECONNRESET);
            return out;
        }
    }
    // Whatever arrives within the receive timeout, at most `max` bytes ("" on timeout).
    std::string read_some(std::size_t max = 4096) {
        std::string buf(max, '\0');
        const ssize_t n = ::recv(fd_, buf.data(), max, 0);
        buf.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        return buf;
    }
    // Reads one response (head + Content-Length body), or what arrived before the
    // peer closed or the receive timeout.
    std::string read_response() {
        std::string out;
        char buf[4096];
        for (;;) {
            const std::size_t end = out.find("\r\n\r\n");
            if (end != std::string::npos) {
                std::size_t length = 0;
                const std::size_t cl = find_header(out.substr(0, end), "content-length");
                if (cl != std::string::npos) length = std::stoul(out.substr(cl));
                if (out.size() >= end + 4 + length) return out;
            }
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) return out;
            out.append(buf, static_cast<std::size_t>(n));
        }
    }
    // The status of one response read within `timeout`; 0 if none came whole.
    unsigned read_status(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
        const auto end = std::chrono::steady_clock::now() + timeout;
        std::string got;
        char buf[65536];
        while (std::chrono::steady_clock::now() < end) {
            const std::size_t head = got.find("\r\n\r\n");
            if (head != std::string::npos) {
                const std::size_t cl = find_header(got.substr(0, head), "content-length");
                const std::size_t length = cl != std::string::npos ? std::stoul(got.substr(cl)) : 0;
                if (got.size() >= head + 4 + length) return static_cast<unsigned>(std::stoul(got.substr(9, 3)));
            }
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) break;
            got.append(buf, static_cast<std::size_t>(n));
        }
        return 0;
    }
    // Reads (keeping what arrives in `got`) until the server closes or `timeout`
    // passes; true if it closed.
    bool wait_closed(std::chrono::milliseconds timeout, std::string* got = nullptr) {
        const auto end = std::chrono::steady_clock::now() + timeout;
        char buf[65536];
        for (;;) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
            if (n > 0 && got) got->append(buf, static_cast<std::size_t>(n));
        }
    }
    int fd() const noexcept { return fd_; }

    // Where the value of header `name` starts in a response head (npos: absent).
    static std::size_t find_header(const std::string& head, std::string_view name) {
        std::string lower = head;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const std::size_t at = lower.find("\r\n" + std::string(name) + ":");
        if (at == std::string::npos) return at;
        std::size_t v = at + 3 + name.size();
        while (v < head.size() && head[v] == ' ') ++v;
        return v;
    }

private:
    void set_timeout(int option, std::chrono::milliseconds t) {
        timeval tv{};
        tv.tv_sec = static_cast<long>(t.count() / 1000);
        tv.tv_usec = static_cast<long>((t.count() % 1000) * 1000);
        ::setsockopt(fd_, SOL_SOCKET, option, &tv, sizeof tv);
    }
    int fd_ = -1;
};

struct response {
    unsigned status = 0;
    std::string head;
    std::string body;
};

// Splits a byte stream into the responses in it (each framed by Content-Length;
// 1xx responses have no body). Stops at the first incomplete one.
inline std::vector<response> parse_responses(std::string_view raw) {
    std::vector<response> out;
    for (;;) {
        const std::size_t end = raw.find("\r\n\r\n");
        if (end == std::string_view::npos || end < 12 || !raw.starts_with("HTTP/1.")) return out;
        response r;
        r.head = std::string(raw.substr(0, end));
        r.status = static_cast<unsigned>(std::stoul(r.head.substr(9, 3)));
        std::string lower = r.head;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::size_t length = 0;
        if (const std::size_t cl = lower.find("\r\ncontent-length:"); cl != std::string::npos)
            length = std::stoul(r.head.substr(cl + 17));
        if (raw.size() < end + 4 + length) return out;
        r.body = std::string(raw.substr(end + 4, length));
        raw.remove_prefix(end + 4 + length);
        out.push_back(std::move(r));
    }
}

}  // namespace raw_http

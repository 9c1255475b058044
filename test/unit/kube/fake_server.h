// A scripted plain-HTTP server on 127.0.0.1 for client unit tests: it answers requests, one
// per connection, with the queued responses in order and records what it received.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace aic::kube::testing {

struct Recorded {
  std::string method;
  std::string target;  // path and query
  std::string head;    // request line and headers
  std::string body;
};

// A socket listening on 127.0.0.1 at a port the kernel picks; `*port` receives it.
inline int ListenOnLoopback(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  listen(fd, 16);
  return fd;
}

class FakeServer {
 public:
  FakeServer() {
    fd_ = ListenOnLoopback(&port_);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Queues an answer; `extra_headers` lines end with "\r\n".
  void Reply(int status, const std::string& body, const std::string& extra_headers = "") {
    std::lock_guard lock(mu_);
    replies_.push_back("HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " +
                       "application/json\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body);
  }

  std::vector<Recorded> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void Serve() {
    for (;;) {
      int conn = accept(fd_, nullptr, nullptr);
      if (conn < 0) return;
      Recorded r = ReadRequest(conn);
      std::string reply;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(r);
        reply = replies_.empty() ? "HTTP/1.1 500 X\r\nContent-Length: 0\r\n\r\n" : replies_.front();
        if (!replies_.empty()) replies_.pop_front();
      }
      (void)!write(conn, reply.data(), reply.size());
      close(conn);
    }
  }

  static Recorded ReadRequest(int conn) {
    std::string data;
    char buf[4096];
    size_t header_end = std::string::npos;
    while (header_end == std::string::npos) {
      ssize_t n = read(conn, buf, sizeof buf);
      if (n <= 0) return {};
      data.append(buf, static_cast<size_t>(n));
      header_end = data.find("\r\n\r\n");
    }
    Recorded r;
    r.head = data.substr(0, header_end);
    size_t length = 0;
    auto cl = r.head.find("Content-Length: ");
    if (cl != std::string::npos) length = std::stoul(r.head.substr(cl + 16));
    while (data.size() < header_end + 4 + length) {
      ssize_t n = read(conn, buf, sizeof buf);
      if (n <= 0) break;
      data.append(buf, static_cast<size_t>(n));
    }
    r.body = data.substr(header_end + 4);
    auto sp1 = r.head.find(' '), sp2 = r.head.find(' ', sp1 + 1);
    r.method = r.head.substr(0, sp1);
    r.target = r.head.substr(sp1 + 1, sp2 - sp1 - 1);
    return r;
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::deque<std::string> replies_;
  std::vector<Recorded> requests_;
};

}  // namespace aic::kube::testing

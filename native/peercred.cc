// The kernel's word on who is at the other end of a connection, and the process's descriptor limit:
// - peerCred(fd): the credentials recorded for the peer of a connected Unix socket (SO_PEERCRED);
//   anything that is not a Unix-domain socket is refused, because SO_PEERCRED on TCP yields nothing.
// - tcpSocketOwner(src, sport, dst, dport): the owner of the TCP socket whose local end is src:sport
//   and remote end dst:dport, by one NETLINK_SOCK_DIAG query for that exact 4-tuple (no table scan).
// - raiseOpenFileLimit(): RLIMIT_NOFILE's soft limit set to its hard limit.
#include <napi.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <string>

static Napi::Value Fail(Napi::Env env, const std::string& what) {
  Napi::Error::New(env, what + ": " + std::strerror(errno)).ThrowAsJavaScriptException();
  return env.Undefined();
}

static Napi::Value PeerCred(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "peerCred(fd): fd must be a number").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();

  struct sockaddr_storage addr;
  socklen_t addrLen = sizeof(addr);
  std::memset(&addr, 0, sizeof(addr));
  if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&addr), &addrLen) != 0) return Fail(env, "getsockname");
  if (addr.ss_family != AF_UNIX) {
    Napi::Error::New(env, "peerCred: not a Unix-domain socket").ThrowAsJavaScriptException();
    return env.Undefined();
  }

  struct ucred cred;
  socklen_t credLen = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credLen) != 0) return Fail(env, "SO_PEERCRED");
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, cred.pid));
  result.Set("uid", Napi::Number::New(env, cred.uid));
  result.Set("gid", Napi::Number::New(env, cred.gid));
  return result;
}

// Parses an IPv4 or IPv6 address into `out` (16 bytes); returns its family, or 0.
static int ParseAddress(const std::string& text, unsigned char* out) {
  std::memset(out, 0, 16);
  if (inet_pton(AF_INET, text.c_str(), out) == 1) return AF_INET;
  if (inet_pton(AF_INET6, text.c_str(), out) == 1) return AF_INET6;
  return 0;
}

static Napi::Value TcpSocketOwner(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsString() || !info[3].IsNumber()) {
    Napi::TypeError::New(env, "tcpSocketOwner(localAddress, localPort, remoteAddress, remotePort)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  struct {
    struct nlmsghdr header;
    struct inet_diag_req_v2 request;
  } query;
  std::memset(&query, 0, sizeof(query));
  int family = ParseAddress(info[0].As<Napi::String>().Utf8Value(), reinterpret_cast<unsigned char*>(query.request.id.idiag_src));
  int remoteFamily = ParseAddress(info[2].As<Napi::String>().Utf8Value(), reinterpret_cast<unsigned char*>(query.request.id.idiag_dst));
  if (family == 0 || family != remoteFamily) {
    Napi::TypeError::New(env, "tcpSocketOwner: the addresses must be IP addresses of one family").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  query.header.nlmsg_len = sizeof(query);
  query.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  query.header.nlmsg_flags = NLM_F_REQUEST;  // one socket, not a dump
  query.request.sdiag_family = family;
  query.request.sdiag_protocol = IPPROTO_TCP;
  query.request.idiag_states = ~0U;
  query.request.id.idiag_sport = htons(info[1].As<Napi::Number>().Uint32Value());
  query.request.id.idiag_dport = htons(info[3].As<Napi::Number>().Uint32Value());
  query.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  query.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return Fail(env, "socket(NETLINK_SOCK_DIAG)");
  struct sockaddr_nl kernel;
  std::memset(&kernel, 0, sizeof(kernel));
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd, &query, sizeof(query), 0, reinterpret_cast<struct sockaddr*>(&kernel), sizeof(kernel)) < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return Fail(env, "sock_diag send");
  }
  alignas(struct nlmsghdr) char reply[8192];
  ssize_t length;
  do {
    length = recv(fd, reply, sizeof(reply), 0);
  } while (length < 0 && errno == EINTR);
  int saved = errno;
  close(fd);
  errno = saved;
  if (length < 0) return Fail(env, "sock_diag receive");

  for (struct nlmsghdr* message = reinterpret_cast<struct nlmsghdr*>(reply); NLMSG_OK(message, static_cast<unsigned>(length));
       message = NLMSG_NEXT(message, length)) {
    if (message->nlmsg_type == NLMSG_ERROR) {
      const struct nlmsgerr* error = static_cast<const struct nlmsgerr*>(NLMSG_DATA(message));
      if (error->error == -ENOENT) return env.Null();  // no such connection
      errno = -error->error;
      return Fail(env, "sock_diag");
    }
    if (message->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
      const struct inet_diag_msg* socket = static_cast<const struct inet_diag_msg*>(NLMSG_DATA(message));
      Napi::Object result = Napi::Object::New(env);
      result.Set("uid", Napi::Number::New(env, socket->idiag_uid));
      result.Set("inode", Napi::Number::New(env, socket->idiag_inode));
      return result;
    }
  }
  return env.Null();
}

static Napi::Value RaiseOpenFileLimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return Fail(env, "getrlimit(RLIMIT_NOFILE)");
  if (limit.rlim_cur != limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return Fail(env, "setrlimit(RLIMIT_NOFILE)");
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("soft", Napi::Number::New(env, static_cast<double>(limit.rlim_cur)));
  result.Set("hard", Napi::Number::New(env, static_cast<double>(limit.rlim_max)));
  return result;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("peerCred", Napi::Function::New(env, PeerCred));
  exports.Set("tcpSocketOwner", Napi::Function::New(env, TcpSocketOwner));
  exports.Set("raiseOpenFileLimit", Napi::Function::New(env, RaiseOpenFileLimit));
  return exports;
}

NODE_API_MODULE(peercred, Init)

// Returns the credentials the kernel recorded for the peer of a connected Unix socket
// (SO_PEERCRED). The caller passes the socket's file descriptor; anything that is not a
// Unix-domain socket is refused, because SO_PEERCRED on TCP yields no identity.
#include <napi.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cerrno>
#include <cstring>
#include <string>

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
  if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&addr), &addrLen) != 0) {
    Napi::Error::New(env, std::string("getsockname: ") + std::strerror(errno)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (addr.ss_family != AF_UNIX) {
    Napi::Error::New(env, "peerCred: not a Unix-domain socket").ThrowAsJavaScriptException();
    return env.Undefined();
  }

  struct ucred cred;
  socklen_t credLen = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credLen) != 0) {
    Napi::Error::New(env, std::string("SO_PEERCRED: ") + std::strerror(errno)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, cred.pid));
  result.Set("uid", Napi::Number::New(env, cred.uid));
  result.Set("gid", Napi::Number::New(env, cred.gid));
  return result;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("peerCred", Napi::Function::New(env, PeerCred));
  return exports;
}

NODE_API_MODULE(peercred, Init)

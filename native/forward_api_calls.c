/*
 * forward_api_calls: the login shell of delegate accounts (docs/behaviour.md §7).
 *
 * `ssh delegate@node < call.xml` runs this program as the delegate's uid. It reads one XML-RPC
 * request from stdin (to EOF), POSTs it to the node API's Unix socket, and writes the XML body of
 * the reply to stdout. The API learns the caller's uid from the socket (SO_PEERCRED), so the ssh
 * login is the authentication.
 *
 * Before sending anything it checks, with SO_PEERCRED, that the server holding the socket runs as
 * root (SERVER_UID): a socket in a directory others can write could be anyone's, and the call
 * carries the delegate's request.
 *
 * Any failure prints an XML-RPC fault (faultCode 1, the failing call and its error text) on stdout
 * and exits 1. Nothing is truncated silently: a request over MAX_REQUEST_BYTES is refused with a
 * fault, and the reply is written only once it has been read completely.
 *
 * Build options: -DSOCKET_PATH='"/path"' (default /run/slv/sliver_mgr.api), -DSERVER_UID=N (default 0),
 * -DMAX_REQUEST_BYTES=N, -DMAX_REPLY_BYTES=N, -DTIMEOUT_SECONDS=N. At run time SLV_API_SOCKET overrides the socket path
 * (sshd passes few variables to a login shell, so the build-time default must be right).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SOCKET_PATH
#define SOCKET_PATH "/run/slv/sliver_mgr.api"
#endif
#ifndef SERVER_UID
#define SERVER_UID 0
#endif
#ifndef MAX_REQUEST_BYTES
#define MAX_REQUEST_BYTES (1024 * 1024)
#endif
#ifndef MAX_REPLY_BYTES
#define MAX_REPLY_BYTES (64 * 1024 * 1024)
#endif
#ifndef TIMEOUT_SECONDS
#define TIMEOUT_SECONDS 30
#endif
#define SOCKET_ENV "SLV_API_SOCKET"
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

#define FAULT_HEAD                                                                         \
  "<?xml version=\"1.0\"?>\n<methodResponse><fault><value><struct>"                     \
  "<member><name>faultCode</name><value><int>1</int></value></member>"                    \
  "<member><name>faultString</name><value><string>"
#define FAULT_TAIL "</string></value></member></struct></value></fault></methodResponse>\n"

static const char timeout_fault[] =
    FAULT_HEAD "forward_api_calls: no complete reply within " STRINGIFY(TIMEOUT_SECONDS) " s" FAULT_TAIL;

/* A growable byte buffer with a hard limit. */
struct buffer {
  char *data;
  size_t length;
  size_t capacity;
};

static int write_all(int fd, const char *data, size_t length) {
  while (length > 0) {
    ssize_t n = write(fd, data, length);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    data += n;
    length -= (size_t)n;
  }
  return 0;
}

/* Prints the fault for `format` (XML-escaped) on stdout and exits 1. */
__attribute__((noreturn, format(printf, 1, 2))) static void fail(const char *format, ...) {
  char text[1024];
  va_list args;
  va_start(args, format);
  vsnprintf(text, sizeof text, format, args);
  va_end(args);

  char escaped[sizeof text * 6];
  size_t out = 0;
  for (const char *p = text; *p; p++) {
    const char *entity = *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : *p == '&' ? "&amp;" : NULL;
    /* Control characters are not allowed in XML 1.0 text. */
    char plain[2] = {(unsigned char)*p < 0x20 && *p != '\t' && *p != '\n' ? '?' : *p, '\0'};
    const char *piece = entity ? entity : plain;
    size_t piece_length = strlen(piece);
    memcpy(escaped + out, piece, piece_length);
    out += piece_length;
  }
  escaped[out] = '\0';

  fputs(FAULT_HEAD, stdout);
  fputs(escaped, stdout);
  fputs(FAULT_TAIL, stdout);
  fflush(stdout);
  exit(1);
}

static void on_timeout(int signal_number) {
  (void)signal_number;
  /* Only async-signal-safe calls here: one prebuilt message, then _exit. */
  ssize_t ignored = write(STDOUT_FILENO, timeout_fault, sizeof timeout_fault - 1);
  (void)ignored;
  _exit(1);
}

/* Appends up to `limit` bytes read from fd until EOF; returns 1 if there was more than `limit`. */
static int read_to_eof(int fd, struct buffer *buffer, size_t limit, const char *what) {
  for (;;) {
    if (buffer->length == buffer->capacity) {
      size_t capacity = buffer->capacity ? buffer->capacity * 2 : 65536;
      if (capacity > limit + 1) capacity = limit + 1;
      if (capacity <= buffer->length) return 1;
      char *grown = realloc(buffer->data, capacity);
      if (!grown) fail("forward_api_calls: reading %s: out of memory", what);
      buffer->data = grown;
      buffer->capacity = capacity;
    }
    ssize_t n = read(fd, buffer->data + buffer->length, buffer->capacity - buffer->length);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("forward_api_calls: read(%s): %s", what, strerror(errno));
    }
    if (n == 0) return buffer->length > limit;
    buffer->length += (size_t)n;
    if (buffer->length > limit) return 1;
  }
}

static int connect_api(const char *path) {
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof address.sun_path) fail("forward_api_calls: socket path too long: %s", path);
  strcpy(address.sun_path, path);

  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) fail("forward_api_calls: socket(): %s", strerror(errno));
  while (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
    if (errno != EINTR) fail("forward_api_calls: connect(%s): %s", path, strerror(errno));
  }
  struct ucred server;
  socklen_t length = sizeof server;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &server, &length) != 0) fail("forward_api_calls: SO_PEERCRED(%s): %s", path, strerror(errno));
  if (server.uid != (uid_t)SERVER_UID) {
    fail("forward_api_calls: the server on %s runs as uid %u, not %u: refusing to send the call", path, (unsigned)server.uid, (unsigned)SERVER_UID);
  }
  return fd;
}

/* The body after the header's first empty line; fails unless the status is 200. */
static const char *reply_body(struct buffer *reply, size_t *body_length) {
  const char *end = reply->data + reply->length;
  const char *line = reply->data;
  int first = 1;
  while (line < end) {
    const char *newline = memchr(line, '\n', (size_t)(end - line));
    if (!newline) break;
    size_t length = (size_t)(newline - line);
    if (length > 0 && line[length - 1] == '\r') length--;
    if (first) {
      if (length < 12 || strncmp(line, "HTTP/1.", 7) != 0) fail("forward_api_calls: the API did not answer with HTTP");
      if (strncmp(line + 8, " 200", 4) != 0) fail("forward_api_calls: the API answered %.*s", (int)(length < 200 ? length : 200), line);
      first = 0;
    } else if (length == 0) {
      *body_length = (size_t)(end - newline - 1);
      return newline + 1;
    }
    line = newline + 1;
  }
  fail("forward_api_calls: the API closed the connection before the end of the reply header");
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  signal(SIGALRM, on_timeout);
  alarm(TIMEOUT_SECONDS);

  const char *path = getenv(SOCKET_ENV);
  if (!path || !*path) path = SOCKET_PATH;

  struct buffer request = {0};
  if (read_to_eof(STDIN_FILENO, &request, MAX_REQUEST_BYTES, "stdin")) {
    fail("forward_api_calls: request larger than %d bytes refused", MAX_REQUEST_BYTES);
  }

  int fd = connect_api(path);
  char header[128];
  int header_length = snprintf(header, sizeof header, "POST / HTTP/1.0\r\nContent-Type: text/xml\r\nContent-Length: %zu\r\n\r\n", request.length);
  if (write_all(fd, header, (size_t)header_length) != 0 || write_all(fd, request.data, request.length) != 0) {
    fail("forward_api_calls: write(%s): %s", path, strerror(errno));
  }
  if (shutdown(fd, SHUT_WR) != 0) fail("forward_api_calls: shutdown(%s): %s", path, strerror(errno));

  struct buffer reply = {0};
  if (read_to_eof(fd, &reply, MAX_REPLY_BYTES, path)) fail("forward_api_calls: reply larger than %d bytes refused", MAX_REPLY_BYTES);
  close(fd);

  size_t body_length = 0;
  const char *body = reply_body(&reply, &body_length);
  if (write_all(STDOUT_FILENO, body, body_length) != 0) {
    /* stdout itself failed: stderr is the only place left to say so. */
    fprintf(stderr, "forward_api_calls: write(stdout): %s\n", strerror(errno));
    return 1;
  }
  return 0;
}

// Passing listening sockets between proxy processes (the listener handover, src/handover/): node
// has no API for SCM_RIGHTS, so these calls do it on a unix socket node already connected.
//   send(sockFd, text, fds)  one sendmsg: the text with the descriptors attached
//   recv(sockFd)             one non-blocking recvmsg: null when nothing arrived yet, else
//                            { text, fds } (text "" at end of stream); received descriptors are
//                            close-on-exec
//   dup(fd)                  a close-on-exec copy of a descriptor (a cluster primary keeps its own
//                            copy of each listening socket: node's cluster closes the ones it opens)
// Errors are thrown as Error with .code set to the errno name (EBADF, EAGAIN, EMFILE…).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 8
#define MAX_TEXT 1024

static napi_value throw_errno(napi_env env, int err) {
  const char *code = err == EBADF ? "EBADF" : err == EAGAIN ? "EAGAIN" : err == EPIPE ? "EPIPE"
    : err == ENOTSOCK ? "ENOTSOCK" : err == EINVAL ? "EINVAL" : err == ECONNRESET ? "ECONNRESET" : err == EMFILE ? "EMFILE" : "EIO";
  napi_throw_error(env, code, strerror(err));
  return NULL;
}

/* The only argument of recv/dup: a descriptor (a non-negative integer), else -1 with a TypeError thrown. */
static int32_t fd_arg(napi_env env, napi_callback_info info, const char *usage) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "EINVAL", usage);
    return -1;
  }
  return fd;
}

static napi_value int_value(napi_env env, int32_t v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

static napi_value send_fds(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t sock;
  char text[MAX_TEXT];
  size_t len = 0;
  uint32_t count = 0;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &sock) != napi_ok
      || napi_get_value_string_utf8(env, argv[1], text, sizeof text, &len) != napi_ok || len == 0
      || napi_get_array_length(env, argv[2], &count) != napi_ok || count > MAX_FDS) {
    napi_throw_type_error(env, "EINVAL", "send(sockFd, text, fds): a socket, 1-1023 bytes of text and at most 8 descriptors");
    return NULL;
  }
  int fds[MAX_FDS];
  for (uint32_t i = 0; i < count; i++) {
    napi_value v;
    napi_get_element(env, argv[2], i, &v);
    if (napi_get_value_int32(env, v, &fds[i]) != napi_ok || fds[i] < 0) {
      napi_throw_type_error(env, "EINVAL", "send(): every descriptor must be a non-negative integer");
      return NULL;
    }
  }
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)]; } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct iovec iov = { .iov_base = text, .iov_len = len };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  if (count > 0) {
    msg.msg_control = ctl.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * count);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * count);
  }
  ssize_t n;
  do n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT); while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, errno);
  // A short write would split the text from a reader expecting one line: the caller sees it.
  return int_value(env, (int32_t)n);
}

static napi_value recv_fds(napi_env env, napi_callback_info info) {
  int32_t sock = fd_arg(env, info, "recv(sockFd): a socket descriptor");
  if (sock < 0) return NULL;
  char text[MAX_TEXT];
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)]; } ctl;
  struct iovec iov = { .iov_base = text, .iov_len = sizeof text };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  napi_value out;
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) { napi_get_null(env, &out); return out; }
    return throw_errno(env, errno);
  }
  napi_value fds;
  napi_create_array(env, &fds);
  uint32_t k = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t m = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int got[MAX_FDS];
    memcpy(got, CMSG_DATA(c), sizeof(int) * (m > MAX_FDS ? MAX_FDS : m));
    for (size_t i = 0; i < m && i < MAX_FDS; i++) {
      napi_set_element(env, fds, k++, int_value(env, got[i]));
    }
  }
  // Truncated descriptors (more than MAX_FDS) were closed by the kernel; the caller sees fewer.
  napi_value str;
  napi_create_string_utf8(env, text, (size_t)n, &str);
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "text", str);
  napi_set_named_property(env, out, "fds", fds);
  return out;
}

static napi_value dup_fd(napi_env env, napi_callback_info info) {
  int32_t fd = fd_arg(env, info, "dup(fd): a descriptor");
  if (fd < 0) return NULL;
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) return throw_errno(env, errno);
  return int_value(env, copy);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value f;
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, send_fds, NULL, &f);
  napi_set_named_property(env, exports, "send", f);
  napi_create_function(env, "recv", NAPI_AUTO_LENGTH, recv_fds, NULL, &f);
  napi_set_named_property(env, exports, "recv", f);
  napi_create_function(env, "dup", NAPI_AUTO_LENGTH, dup_fd, NULL, &f);
  napi_set_named_property(env, exports, "dup", f);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

/*
 * idmap_mount SOURCE TARGET FIRST COUNT: bind-mount SOURCE on TARGET read-only with ids 0..COUNT-1
 * shown as FIRST..FIRST+COUNT-1 (an idmapped mount, Linux >= 5.12). The LXC adapter makes one per
 * sliver over the shared image, so files the image's root owns belong to the container's root
 * through this mount while the image on disk stays root's and unchanged. util-linux learned this
 * only in 2.39 (X-mount.idmap); Debian 12 has 2.38. Run by slvd as root; not setuid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what) {
  fprintf(stderr, "idmap_mount: %s: %s\n", what, strerror(errno));
  exit(1);
}

static unsigned long parse_id(const char *text, const char *what) {
  char *end;
  errno = 0;
  unsigned long value = strtoul(text, &end, 10);
  if (errno || *text == '\0' || *end != '\0' || value > 4294967294UL) {
    fprintf(stderr, "idmap_mount: %s must be an integer id, got \"%s\"\n", what, text);
    exit(2);
  }
  return value;
}

static void write_map(pid_t pid, const char *file, unsigned long first, unsigned long count) {
  char path[64], line[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  int len = snprintf(line, sizeof line, "0 %lu %lu\n", first, count);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, line, (size_t)len) != len) die(path);
  close(fd);
}

/* A user namespace with the mapping: a child unshares one and waits to be killed; we keep its fd. */
static int userns_with_mapping(unsigned long first, unsigned long count) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0) die("pipe");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (unshare(CLONE_NEWUSER) < 0) _exit(1);
    if (write(ready[1], "x", 1) != 1) _exit(1);
    for (;;) pause();
  }
  close(ready[1]);
  char byte;
  if (read(ready[0], &byte, 1) != 1) die("the user namespace child failed");
  write_map(pid, "uid_map", first, count);
  write_map(pid, "gid_map", first, count);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die(path);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return fd;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: idmap_mount SOURCE TARGET FIRST COUNT\n");
    return 2;
  }
  unsigned long first = parse_id(argv[3], "FIRST"), count = parse_id(argv[4], "COUNT");
  if (count == 0 || first + count - 1 > 4294967294UL) {
    fprintf(stderr, "idmap_mount: FIRST + COUNT must stay below 4294967295\n");
    return 2;
  }
  int userns = userns_with_mapping(first, count);
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, argv[1], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) die(argv[1]);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY, .userns_fd = (unsigned long long)userns};
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) die("mount_setattr");
  if (syscall(SYS_move_mount, tree, "", AT_FDCWD, argv[2], MOVE_MOUNT_F_EMPTY_PATH) < 0) die(argv[2]);
  return 0;
}

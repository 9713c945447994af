/*
 * lxc-vsh: the login shell of slivers on the lxc adapter (PlanetLab's vsh). Installed setuid root;
 * `ssh sliver@node` runs it as the sliver's account and it puts the caller in a shell inside the
 * container of the same name, as that container's root (an unprivileged id range on the host).
 *
 * Trust boundary (docs/adapters.md): the only input trusted is the kernel's real uid. The account
 * name comes from the passwd entry of that uid; the container must be LXC_PATH/<name>, a directory
 * and config owned by root and writable by nobody else, whose config names the uid as its owner
 * (written by slvd). The environment is discarded, and the only arguments taken are sshd's
 * `-c COMMAND`, passed as one argument to /bin/sh inside the container. Then it becomes root
 * entirely and execs lxc-attach; nothing else runs with privilege.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef LXC_PATH
#define LXC_PATH "/var/lib/slv/lxc"
#endif
#define LXC_ATTACH "/usr/bin/lxc-attach"
#define CONFIG_MAX 65536

static void refuse(const char *message) {
  fprintf(stderr, "lxc-vsh: %s\n", message);
  exit(1);
}

static int valid_name(const char *name) {
  size_t len = strlen(name);
  if (len == 0 || len > 32 || !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_')) return 0;
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return 0;
  }
  return 1;
}

static int root_only(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && st.st_uid == 0 && (st.st_mode & 022) == 0;
}

/* The container belongs to `uid`: its directory and config are root's alone and name the uid. */
static void check_owner(const char *name, uid_t uid) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", LXC_PATH, name);
  int dir = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0 || !root_only(dir)) refuse("this account has no container on this node");
  int config = openat(dir, "config", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (config < 0 || !root_only(config)) refuse("the container has no configuration written by slv");
  static char text[CONFIG_MAX + 1];
  ssize_t total = 0, got;
  while (total < CONFIG_MAX && (got = read(config, text + total, CONFIG_MAX - (size_t)total)) > 0) total += got;
  text[total] = '\0';
  char expected[64];
  snprintf(expected, sizeof expected, "\n# slv-owner-uid: %u\n", (unsigned)uid);
  if (!strstr(text, expected)) refuse("the container does not belong to this account");
  close(config);
  close(dir);
}

int main(int argc, char **argv) {
  uid_t uid = getuid();
  if (uid == 0) refuse("root has no sliver container");
  struct passwd *pw = getpwuid(uid);
  if (!pw || !valid_name(pw->pw_name)) refuse("the calling account has no valid name");
  char name[33];
  snprintf(name, sizeof name, "%s", pw->pw_name);
  const char *command = NULL;
  if (argc == 3 && strcmp(argv[1], "-c") == 0) command = argv[2];
  else if (argc != 1) refuse("usage: lxc-vsh [-c COMMAND]");
  check_owner(name, uid);

  if (setgroups(0, NULL) < 0 || setgid(0) < 0 || setuid(0) < 0) refuse("cannot become root: is lxc-vsh installed setuid root?");
  clearenv();
  setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
  char *args[] = {"lxc-attach", "-P", LXC_PATH, "-n", name, "--clear-env", "--set-var", "HOME=/root", "--", "/bin/sh",
                  command ? "-c" : "-l", (char *)command, NULL};
  execv(LXC_ATTACH, args);
  refuse("cannot run " LXC_ATTACH);
}

/* probe: a native hostile program for agentbox's confinement tests (compiled with
 * the host's gcc by `cargo xtask guests`). It plays a guest that escaped wasm and
 * runs native code in the worker. Each operation prints one line:
 *   "<op> <arg>: ok[ detail]" or "<op> <arg>: error <errno name>"
 * Forbidden system calls are expected to kill the whole process (SIGSYS). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void res(const char *op, const char *arg, long rc) {
    if (rc >= 0) printf("%s %s: ok\n", op, arg);
    else printf("%s %s: error %s\n", op, arg, strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
    fflush(stdout);
}

static long sys_by_name(const char *n) {
    if (!strcmp(n, "ptrace")) return ptrace(PTRACE_TRACEME, 0, 0, 0);
    if (!strcmp(n, "mount")) return mount("none", "/tmp", "tmpfs", 0, 0);
    if (!strcmp(n, "unshare")) return unshare(CLONE_NEWUSER);
    if (!strcmp(n, "setns")) return syscall(SYS_setns, 0, 0);
    if (!strcmp(n, "bpf")) return syscall(SYS_bpf, 0, 0, 0);
    if (!strcmp(n, "io_uring_setup")) return syscall(SYS_io_uring_setup, 1, 0);
    if (!strcmp(n, "keyctl")) return syscall(SYS_keyctl, 0, 0);
    if (!strcmp(n, "perf_event_open")) return syscall(SYS_perf_event_open, 0, 0, -1, -1, 0);
    if (!strcmp(n, "userfaultfd")) return syscall(SYS_userfaultfd, 0);
    if (!strcmp(n, "inet")) return socket(AF_INET, SOCK_STREAM, 0);
    if (!strcmp(n, "inet6")) return socket(AF_INET6, SOCK_DGRAM, 0);
    if (!strcmp(n, "netlink")) return socket(AF_NETLINK, SOCK_RAW, 0);
    if (!strcmp(n, "packet")) return socket(AF_PACKET, SOCK_RAW, 0);
    if (!strcmp(n, "alg")) return socket(AF_ALG, SOCK_SEQPACKET, 0);
    if (!strcmp(n, "clone-newuser")) return syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (!strcmp(n, "mknod")) return syscall(SYS_mknodat, AT_FDCWD, "/tmp/x", 0020666, 0x0101);
    if (!strcmp(n, "chroot")) return syscall(SYS_chroot, "/");
    if (!strcmp(n, "x32-getpid")) return syscall(0x40000000 | 39);
    errno = ENOSYS;
    return -2;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *op = argv[i];
        const char *a = i + 1 < argc ? argv[i + 1] : "";
        const char *b = i + 2 < argc ? argv[i + 2] : "";
        if (!strcmp(op, "read")) {
            i++;
            int fd = open(a, O_RDONLY);
            if (fd < 0) { res(op, a, -1); continue; }
            char buf[32];
            long n = read(fd, buf, sizeof buf);
            res(op, a, n);
            close(fd);
        } else if (!strcmp(op, "write")) {
            i++;
            int fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0) { res(op, a, -1); continue; }
            res(op, a, write(fd, "pwned\n", 6));
            close(fd);
        } else if (!strcmp(op, "connect")) {
            i += 2;
            int s = socket(AF_INET, SOCK_STREAM, 0);
            if (s < 0) { res(op, a, -1); continue; }
            struct sockaddr_in sa = {0};
            sa.sin_family = AF_INET;
            sa.sin_port = htons((unsigned short)atoi(b));
            inet_pton(AF_INET, a, &sa.sin_addr);
            res(op, a, connect(s, (struct sockaddr *)&sa, sizeof sa));
            close(s);
        } else if (!strcmp(op, "kill")) {
            i++;
            res(op, a, kill(atoi(a), SIGKILL));
        } else if (!strcmp(op, "syscall")) {
            i++;
            long rc = sys_by_name(a);
            res(op, a, rc);
        } else if (!strcmp(op, "fds")) {
            DIR *d = opendir("/proc/self/fd");
            if (!d) { res(op, "", -1); continue; }
            int dfd = dirfd(d);
            printf("fds: ok");
            struct dirent *e;
            while ((e = readdir(d))) {
                if (e->d_name[0] == '.' || atoi(e->d_name) == dfd) continue;
                printf(" %s", e->d_name);
            }
            printf("\n");
            fflush(stdout);
            closedir(d);
        } else if (!strcmp(op, "plant")) {
            /* a copy of /usr/bin/true at a, mode 0755: a program the tool wrote */
            i++;
            int in = open("/usr/bin/true", O_RDONLY);
            int out = in < 0 ? -1 : open(a, O_WRONLY | O_CREAT | O_TRUNC, 0755);
            if (in < 0 || out < 0) { res(op, a, -1); if (in >= 0) close(in); continue; }
            char buf[65536];
            long n, rc = 0;
            while ((n = read(in, buf, sizeof buf)) > 0)
                if (write(out, buf, n) != n) { rc = -1; break; }
            if (rc == 0) rc = fchmod(out, 0755);
            res(op, a, rc);
            close(in);
            close(out);
        } else if (!strcmp(op, "exec")) {
            /* execve(a) in a child: ok when the program ran (exit 0) */
            i++;
            int pfd[2];
            if (pipe2(pfd, O_CLOEXEC) < 0) { res(op, a, -1); continue; }
            pid_t p = fork();
            if (p == 0) {
                char *av[] = {(char *)a, 0}, *ev[] = {0};
                execve(a, av, ev);
                int e = errno;
                if (write(pfd[1], &e, sizeof e) < 0) _exit(126);
                _exit(127);
            }
            close(pfd[1]);
            int e = 0, st = 0;
            long n = read(pfd[0], &e, sizeof e);
            close(pfd[0]);
            waitpid(p, &st, 0);
            if (n == (long)sizeof e) { errno = e; res(op, a, -1); }
            else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) res(op, a, 0);
            else { errno = ECHILD; res(op, a, -1); }
        } else if (!strcmp(op, "tiocsti")) {
            char c = 'x';
            res(op, "0", ioctl(0, TIOCSTI, &c));
        } else if (!strcmp(op, "forkbomb")) {
            int n = 0;
            for (;;) {
                pid_t p = fork();
                if (p == 0) { pause(); _exit(0); }
                if (p < 0) break;
                n++;
                if (n > 100000) break;
            }
            printf("forkbomb: stopped after %d children (%s)\n", n, strerrorname_np(errno));
            fflush(stdout);
            kill(0, SIGKILL);
        } else if (!strcmp(op, "membomb")) {
            for (;;) {
                char *p = mmap(0, 16 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED) { res(op, "", -1); break; }
                memset(p, 1, 16 << 20);
            }
        } else if (!strcmp(op, "spin")) {
            volatile unsigned long x = 0;
            for (;;) x++;
        } else {
            printf("%s: error unknown-op\n", op);
        }
    }
    return 0;
}

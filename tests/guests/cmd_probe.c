/* cmd_probe: a hostile command guest for agentbox's tests.
 * Each argument group is one operation; each prints one line:
 *   "<op> <arg>: ok[ <data>]"  or  "<op> <arg>: error <ERRNO>"
 * Operations: read P, write P, append P, trunc-open P (O_TRUNC with read rights),
 * truncate P, mkdir P, rmdir P, unlink P, rename A B, link A B, symlink T L,
 * readlink P, stat P, ls P, utimes P, env, args, cwd, stdin, sleep S, spin, flood N,
 * exit N. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *ename(int e) {
    switch (e) {
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ENOTCAPABLE: return "ENOTCAPABLE";
    case EEXIST: return "EEXIST";
    case ELOOP: return "ELOOP";
    case EXDEV: return "EXDEV";
    case EROFS: return "EROFS";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ENOSYS: return "ENOSYS";
    case ENOTSUP: return "ENOTSUP";
    default: return "EOTHER";
    }
}

static void res(const char *op, const char *arg, int rc) {
    if (rc == 0) printf("%s %s: ok\n", op, arg);
    else printf("%s %s: error %s\n", op, arg, ename(errno));
}

static void show(const char *op, const char *arg, const char *data, size_t n) {
    printf("%s %s: ok ", op, arg);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c >= 0x20 && c < 0x7f) putchar(c); else printf("\\x%02x", c);
    }
    putchar('\n');
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
            char buf[64];
            ssize_t n = read(fd, buf, sizeof buf);
            if (n < 0) res(op, a, -1); else show(op, a, buf, (size_t)n);
            close(fd);
        } else if (!strcmp(op, "write") || !strcmp(op, "append")) {
            i++;
            int flags = O_WRONLY | O_CREAT | (!strcmp(op, "append") ? O_APPEND : O_TRUNC);
            int fd = open(a, flags, 0644);
            if (fd < 0) { res(op, a, -1); continue; }
            ssize_t n = write(fd, "pwned\n", 6);
            res(op, a, n == 6 ? 0 : -1);
            close(fd);
        } else if (!strcmp(op, "trunc-open")) {
            i++;
            int fd = open(a, O_RDONLY | O_TRUNC);
            res(op, a, fd < 0 ? -1 : 0);
            if (fd >= 0) close(fd);
        } else if (!strcmp(op, "truncate")) {
            i++; res(op, a, truncate(a, 0));
        } else if (!strcmp(op, "mkdir")) {
            i++; res(op, a, mkdir(a, 0755));
        } else if (!strcmp(op, "rmdir")) {
            i++; res(op, a, rmdir(a));
        } else if (!strcmp(op, "unlink")) {
            i++; res(op, a, unlink(a));
        } else if (!strcmp(op, "rename")) {
            i += 2; res(op, a, rename(a, b));
        } else if (!strcmp(op, "link")) {
            i += 2; res(op, a, link(a, b));
        } else if (!strcmp(op, "symlink")) {
            i += 2; res(op, b, symlink(a, b));
        } else if (!strcmp(op, "readlink")) {
            i++;
            char buf[256];
            ssize_t n = readlink(a, buf, sizeof buf);
            if (n < 0) res(op, a, -1); else show(op, a, buf, (size_t)n);
        } else if (!strcmp(op, "stat")) {
            i++;
            struct stat st;
            if (stat(a, &st) < 0) res(op, a, -1);
            else printf("stat %s: ok size=%lld\n", a, (long long)st.st_size);
        } else if (!strcmp(op, "ls")) {
            i++;
            DIR *d = opendir(a);
            if (!d) { res(op, a, -1); continue; }
            printf("ls %s: ok", a);
            struct dirent *e;
            while ((e = readdir(d))) if (e->d_name[0] != '.') printf(" %s", e->d_name);
            putchar('\n');
            closedir(d);
        } else if (!strcmp(op, "utimes")) {
            i++;
            struct timeval tv[2] = {{1, 0}, {1, 0}};
            res(op, a, utimes(a, tv));
        } else if (!strcmp(op, "env")) {
            printf("env: ok");
            for (char **e = environ; e && *e; e++) printf(" %s", *e);
            putchar('\n');
        } else if (!strcmp(op, "args")) {
            printf("args: ok argc=%d", argc);
            for (int k = 0; k < argc; k++) printf(" [%s]", argv[k]);
            putchar('\n');
        } else if (!strcmp(op, "cwd")) {
            char buf[512];
            if (getcwd(buf, sizeof buf)) printf("cwd: ok %s\n", buf); else res(op, "", -1);
        } else if (!strcmp(op, "stdin")) {
            char buf[4096];
            size_t total = 0;
            ssize_t n;
            while ((n = read(0, buf, sizeof buf)) > 0) total += (size_t)n;
            printf("stdin: ok bytes=%zu\n", total);
        } else if (!strcmp(op, "sleep")) {
            i++;
            fflush(stdout);
            sleep((unsigned)atoi(a));
            printf("sleep %s: ok\n", a);
        } else if (!strcmp(op, "spin")) {
            fflush(stdout);
            volatile unsigned long x = 0;
            for (;;) x++;
        } else if (!strcmp(op, "flood")) {
            i++;
            long n = atol(a);
            static char chunk[65536];
            memset(chunk, 'A', sizeof chunk);
            while (n > 0) {
                size_t k = n > (long)sizeof chunk ? sizeof chunk : (size_t)n;
                if (fwrite(chunk, 1, k, stdout) != k) break;
                n -= (long)k;
            }
            fflush(stdout);
        } else if (!strcmp(op, "exit")) {
            fflush(stdout);
            exit(atoi(a));
        } else {
            printf("%s: error unknown-op\n", op);
        }
        fflush(stdout);
    }
    return 0;
}

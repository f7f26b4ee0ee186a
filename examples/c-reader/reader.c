/* c-reader: a command tool that prints the files it was granted, read-only.
 * Usage: agentbox run examples/c-reader/agentbox.toml -- [FILE...]
 * Without arguments it lists /data; with arguments it prints each /data/FILE. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int print_file(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "/data/%s", name);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "reader: %s: %s\n", path, strerror(errno));
        return 1;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
    fclose(f);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        DIR *d = opendir("/data");
        if (!d) {
            fprintf(stderr, "reader: /data: %s\n", strerror(errno));
            return 1;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] != '.') printf("%s\n", e->d_name);
        }
        closedir(d);
        return 0;
    }
    int rc = 0;
    for (int i = 1; i < argc; i++) rc |= print_file(argv[i]);
    /* Writing is refused: the grant is read-only. */
    FILE *w = fopen("/data/written-by-tool.txt", "w");
    if (w) {
        fprintf(stderr, "reader: unexpectedly allowed to write /data\n");
        fclose(w);
        return 3;
    }
    return rc;
}
